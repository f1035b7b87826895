// BPF ELF objects as clang writes them: program sections, legacy map definitions, map relocations;
// malformed objects name the section and offset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ElfError, elfProgramSections, loadElfProgram } from '../../../src/reference/ebpf/index.js';
import { main } from '../../../src/cli/run.js';

const obj = (name: string) => new Uint8Array(readFileSync(`oracle/c/${name}.o`));

test('the committed objects load: sections, maps from the maps section, relocations as handles', () => {
  const p = loadElfProgram(obj('proto_count'));
  assert.equal(p.section, 'xdp');
  assert.deepEqual(p.maps, [{ type: 2, keySize: 4, valueSize: 8, maxEntries: 256 }]);
  assert.deepEqual(p.mapNames, ['counters']);
  assert.equal(p.license, 'GPL');
  const refs = p.insns.filter((i) => i.code === 0x18 && i.src_reg === 1);
  assert.ok(refs.length >= 1 && refs.every((i) => i.imm === 1), 'every map reference names handle 1');
  assert.deepEqual(elfProgramSections(obj('encap_trim')), ['xdp/encap']);
  assert.equal(loadElfProgram(obj('mac_swap_tx')).maps[0]?.type, 1);
});

test('malformed objects are ElfErrors naming the section and offset', () => {
  const good = obj('proto_count');
  const expect = (bytes: Uint8Array, section: string, message: RegExp, name?: string) =>
    assert.throws(
      () => loadElfProgram(bytes, name),
      (e: unknown) => e instanceof ElfError && e.section === section && message.test(e.message),
    );
  expect(good.slice(0, 40), '', /needs 64 bytes/);
  expect(Uint8Array.from([...good.slice(0, 18), 62, 0, ...good.slice(20)]), '', /machine 62 is not BPF/);
  expect(Uint8Array.from([0, ...good.slice(1)]), '', /not an ELF file/);
  expect(good.slice(0, good.length - 100), '', /needs \d+ bytes/);
  expect(good, '', /no program or program section named nosuch \(have: (\w+ \()?xdp\)?\)/, 'nosuch');
});

test('run loads an object and its maps', () => {
  let stdout = '';
  const frame = '0200000000010200000000020800' + '4500001c00000000401100000a0000010a000002' + '00'.repeat(30);
  const code = main(['run', '--prog', 'oracle/c/proto_count.o', '--packet', frame, '--json'], {
    stdout: (t) => (stdout += t),
    stderr: () => undefined,
  });
  assert.equal(code, 0);
  const doc = JSON.parse(stdout) as { action: string; maps: unknown };
  assert.equal(doc.action, 'XDP_DROP');
  assert.deepEqual(doc.maps, [{ handle: 1, entries: [{ key: '11000000', value: '0100000000000000' }] }]);
});
