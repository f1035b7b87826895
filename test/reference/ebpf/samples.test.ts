// The C samples of samples/: they rebuild byte for byte with the committed command, load with their
// BTF maps, global data and calls, disassemble exactly as llvm-objdump does, went through the kernel
// oracle, and offload from the guest (or are refused, and run in driver mode).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/run.js';
import { ElfError, loadElfProgram } from '../../../src/reference/ebpf/index.js';
import { ipv4Frame, negotiated } from '../../support/offload.js';

const SAMPLES = [
  'conntrack',
  'flow_stats',
  'lpm_filter',
  'mac_swap',
  'multi_prog',
  'percpu_stats',
  'proto_counter',
  'rate_limit',
  'tail_dispatch',
  'trim_tail',
  'vlan_encap',
  'vlan_ipv6',
];
const sample = (name: string) => new Uint8Array(readFileSync(`samples/${name}.o`));

function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = main(argv, { stdout: (s) => (stdout += `${s}\n`), stderr: (s) => (stderr += `${s}\n`) });
  return { code, stdout, stderr };
}

test('samples/build.sh rebuilds every committed object byte for byte', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xdp-samples-'));
  for (const f of readdirSync('samples')) if (!f.endsWith('.o')) cpSync(join('samples', f), join(dir, f));
  execFileSync('sh', [join(dir, 'build.sh')], { stdio: 'pipe' });
  assert.deepEqual(
    readdirSync('samples')
      .filter((f) => f.endsWith('.o'))
      .sort(),
    SAMPLES.map((s) => `${s}.o`),
  );
  for (const name of SAMPLES)
    assert.ok(
      Buffer.from(sample(name)).equals(readFileSync(join(dir, `${name}.o`))),
      `${name}.o differs from a rebuild`,
    );
});

test('BTF-defined maps, global data and calls into .text load as Linux loads them', () => {
  const counter = loadElfProgram(sample('proto_counter'));
  assert.deepEqual(counter.mapNames, ['proto_counts', '.bss']);
  assert.deepEqual(counter.maps, [
    { type: 2, keySize: 4, valueSize: 8, maxEntries: 256 },
    { type: 2, keySize: 4, valueSize: 8, maxEntries: 1 },
  ]);
  assert.deepEqual(counter.mapData[1], new Uint8Array(8));
  // frames_seen is reached through a map value address: src_reg 2, handle 2, offset 0
  const valueRef = counter.insns.findIndex((i) => i.code === 0x18 && i.src_reg === 2);
  assert.deepEqual([counter.insns[valueRef]?.imm, counter.insns[valueRef + 1]?.imm], [2, 0]);
  const swap = loadElfProgram(sample('mac_swap'));
  assert.equal(swap.section, 'xdp/tx');
  assert.deepEqual(swap.maps, [{ type: 2, keySize: 4, valueSize: 8, maxEntries: 1 }]); // key_size/value_size form
  assert.deepEqual(loadElfProgram(sample('rate_limit')).mapData[1], Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 0));
  assert.deepEqual(loadElfProgram(sample('vlan_encap')).mapData[0], Uint8Array.of(42, 0));
  const v6 = loadElfProgram(sample('vlan_ipv6'));
  const call = v6.insns.findIndex((i) => i.code === 0x85 && i.src_reg === 1);
  const target = call + 1 + (v6.insns[call]?.imm ?? 0);
  assert.ok(target > call && target < v6.insns.length, 'the call reaches the appended function');
  assert.equal(v6.insns.at(-1)?.code, 0x95, 'the appended function ends with exit');
});

test('malformed objects name the section and offset', () => {
  const bytes = sample('proto_counter');
  // The .BTF section starts with magic 0xeb9f, version 1 (9f eb 01 00); .BTF.ext, after it, too.
  const at = Buffer.from(bytes).indexOf(Buffer.from([0x9f, 0xeb, 0x01, 0x00]));
  assert.ok(at > 0);
  const broken = bytes.slice();
  broken[at] = 0;
  assert.throws(
    () => loadElfProgram(broken),
    (e: unknown) =>
      e instanceof ElfError && e.section === '.BTF' && /magic/.test(e.message) && e.offset === at,
  );
  const r = cli('run', '--prog', 'samples/trim_tail.o', '--section', 'nosuch', '--packet', '00'.repeat(20));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no program or program section named nosuch \(have: (\w+ \()?xdp\)?\)/);
});

test('xdp-offload disasm prints exactly what llvm-objdump -d prints, for every committed object', () => {
  const objects = [
    ...SAMPLES.map((s) => `samples/${s}.o`),
    ...readdirSync('oracle/c')
      .filter((f) => f.endsWith('.o'))
      .map((f) => `oracle/c/${f}`),
  ];
  for (const path of objects) {
    const ours = cli('disasm', path);
    assert.equal(ours.code, 0, ours.stderr);
    assert.equal(ours.stdout, execFileSync('llvm-objdump', ['-d', path], { encoding: 'utf8' }), path);
  }
  const section = cli('disasm', 'samples/vlan_ipv6.o', '--section', 'xdp');
  assert.equal(
    section.stdout,
    execFileSync('llvm-objdump', ['-d', '--section=xdp', 'samples/vlan_ipv6.o'], { encoding: 'utf8' }),
  );
  assert.match(
    cli('disasm', 'b700000002000000' + '9500000000000000').stdout,
    /^ +0:\tb7 00 00 00 02 00 00 00\tr0 = 2\n +1:\t95 00 00 00 00 00 00 00\texit\n$/,
  );
});

test('every sample went through the kernel oracle: runs and verdicts are committed vectors', () => {
  const verdicts = JSON.parse(readFileSync('vectors/verifier/linux-6.1.json', 'utf8')) as {
    programs: { name: string; privileged: { accepted: boolean }; unprivileged: { accepted: boolean } }[];
  };
  for (const name of SAMPLES) {
    const runs = JSON.parse(readFileSync(`vectors/xdp/sample_${name}.json`, 'utf8')) as {
      runs: unknown[];
      load: { accepted: boolean };
    };
    assert.ok(runs.load.accepted && runs.runs.length > 50, name);
    const v = verdicts.programs.find((p) => p.name === `sample_${name}`);
    assert.ok(v?.privileged.accepted, name);
    // trim_tail and percpu_stats subtract packet pointers and lpm_filter spills a pointer over
    // its key's bytes: Linux 6.1 accepts them only from a privileged loader (a TRUSTED device).
    assert.equal(v.unprivileged.accepted, !['trim_tail', 'percpu_stats', 'lpm_filter'].includes(name), name);
  }
});

test('the guest offloads an object: maps on the device, global data written, same result as driver mode [drv-prog-maps-first]', () => {
  const frames = [ipv4Frame(17), ipv4Frame(6), ipv4Frame(17), ipv4Frame(1)];
  const run = (mode: 'offload' | 'driver') => {
    const t = negotiated();
    const attached = t.driver.attachObject(sample('proto_counter'), mode);
    assert.equal(attached.errno, 0, attached.log);
    for (const f of frames) t.fromHost(f);
    return attached.fds.map((fd) => t.driver.mapDump(fd));
  };
  const offloaded = run('offload');
  assert.deepEqual(offloaded, run('driver'));
  const bss = offloaded[1];
  assert.ok(Array.isArray(bss));
  assert.deepEqual(bss[0]?.value, Uint8Array.of(4, 0, 0, 0, 0, 0, 0, 0)); // frames_seen
  const t = negotiated();
  const refused = t.driver.attachObject(sample('trim_tail'), 'offload');
  assert.equal(refused.errno, 13);
  assert.match(refused.log ?? '', /pointer -= pointer prohibited/);
  assert.equal(t.driver.attachObject(sample('trim_tail'), 'driver').errno, 0);
});

test("a program array's declared slots load as libbpf reads them, and a bad one is named", () => {
  const bytes = sample('tail_dispatch');
  const dispatch = loadElfProgram(bytes, 'xdp_dispatch');
  assert.deepEqual(dispatch.mapNames, ['jmp_table', 'hits']);
  assert.deepEqual(dispatch.maps[0], { type: 3, keySize: 4, valueSize: 4, maxEntries: 4 });
  assert.deepEqual(dispatch.slots, [
    { map: 0, index: 0, program: 'xdp_ipv4' },
    { map: 0, index: 1, program: 'xdp_ipv6' },
    { map: 0, index: 2, program: 'xdp_ipv6' },
  ]);
  assert.throws(
    () => loadElfProgram(bytes, 'xdp_dispatch', { mapSizes: { jmp_table: 2 } }),
    (e: unknown) => e instanceof ElfError && /map jmp_table: slot 2 is beyond max_entries 2/.test(e.message),
  );
  // The first relocation of .rel.maps: r_offset 0x18 (slot 0 of jmp_table's values), type 2.
  const rel = Buffer.from(bytes).indexOf(Buffer.from([0x18, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0]));
  assert.ok(rel > 0);
  const halfway = bytes.slice();
  halfway[rel] = 0x1c;
  assert.throws(
    () => loadElfProgram(halfway, 'xdp_dispatch'),
    (e: unknown) => e instanceof ElfError && e.section === '.rel.maps' && /not a whole slot/.test(e.message),
  );
  const retyped = bytes.slice();
  retyped[rel + 8] = 1;
  assert.throws(
    () => loadElfProgram(retyped, 'xdp_dispatch'),
    (e: unknown) => e instanceof ElfError && /map jmp_table: relocation type 1 in its values/.test(e.message),
  );
});

test('the guest offloads a tail-call dispatcher: its slots go in with PROG_ARRAY_LOAD, 33 tail calls and no more [dev-prog-array-load] [dev-prog-tail-call]', () => {
  const ipv6 = Uint8Array.from([...ipv4Frame(17).slice(0, 12), 0x86, 0xdd, ...new Array<number>(54).fill(0)]);
  const run = (mode: 'offload' | 'driver') => {
    const t = negotiated();
    const attached = t.driver.attachObject(sample('tail_dispatch'), mode, { section: 'xdp_dispatch' });
    assert.equal(attached.errno, 0, attached.log);
    const fates = [ipv4Frame(17), ipv4Frame(6), ipv6].map((f) => t.fromHost(f).offload);
    return { fates, hits: t.driver.mapDump(attached.fds[1] as number) };
  };
  const offloaded = run('offload');
  assert.deepEqual(offloaded.fates, ['drop', 'pass', 'tx']);
  // hits[0]: three dispatches; hits[1]: one UDP drop; hits[2]: xdp_ipv6 ran 33 times (1 + 32 self-calls).
  const hits = offloaded.hits;
  assert.ok(Array.isArray(hits));
  assert.deepEqual(
    hits.map((e) => new DataView(e.value.buffer, e.value.byteOffset).getBigUint64(0, true)),
    [3n, 1n, 33n],
  );
  assert.deepEqual(run('driver').hits, hits);
});
