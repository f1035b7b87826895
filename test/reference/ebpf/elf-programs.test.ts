// Several programs in one section, as libbpf 1.x loads them (every global function of a program
// section is its own program), compiled here with clang: each is listed, chosen by name with
// --prog-name, verified and run on its own, with the static function it calls placed after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/run.js';
import {
  elfCodeSections,
  ElfError,
  elfPrograms,
  loadElfProgram,
  XdpEngine,
} from '../../../src/reference/ebpf/index.js';
import { verify } from '../../../src/reference/verifier/index.js';
import type { MapDefinition } from '../../../src/codec/index.js';

function compile(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'elf-programs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const object = join(dir, 'programs_per_section.o');
  execFileSync('clang', [
    '-O2',
    '-g',
    '-target',
    'bpf',
    '-I/usr/include/x86_64-linux-gnu',
    '-c',
    'test/fixtures/programs_per_section.c',
    '-o',
    object,
  ]);
  return object;
}

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const code = main(args, { stdout: (s) => (stdout += `${s}\n`), stderr: (s) => (stderr += `${s}\n`) });
  if (typeof code !== 'number') throw new Error('an asynchronous subcommand: await its exit code');
  return { code, stdout, stderr };
}

test('every global function of a program section is a program: listed, chosen by name, verified and run alone', (t) => {
  const object = compile(t);
  const bytes = new Uint8Array(readFileSync(object));
  assert.deepEqual(
    elfPrograms(bytes).map((p) => [p.name, p.section]),
    [
      ['xdp_pass_counted', 'xdp'],
      ['xdp_drop_counted', 'xdp'],
      ['xdp_frags_tx', 'xdp.frags'],
    ],
  );
  const verdicts: Record<string, [number, number]> = {
    xdp_pass_counted: [2, 0],
    xdp_drop_counted: [1, 1],
    xdp_frags_tx: [3, 2],
  };
  for (const [name, [action, slot]] of Object.entries(verdicts)) {
    const program = loadElfProgram(bytes, name);
    assert.equal(program.name, name);
    const verdict = verify(program.insns, {
      maps: new Map([[1, program.maps[0] as MapDefinition]]),
      privileged: false,
    });
    assert.ok(verdict.accepted, `${name}: ${verdict.log.join('\n')}`);
    const engine = new XdpEngine();
    for (const def of program.maps) if (typeof def !== 'string') engine.createMap(def);
    assert.equal(engine.run(engine.load(program.insns), new Uint8Array(64)).action, action, name);
    const counts = [0, 1, 2].map((i) => (engine.map(1)?.lookup(Uint8Array.of(i, 0, 0, 0)) as Uint8Array)[0]);
    assert.deepEqual(
      counts,
      [0, 1, 2].map((i) => (i === slot ? 1 : 0)),
      `${name} counts in slot ${slot}`,
    );
  }
  // A section is still a selector: its first program.
  assert.equal(loadElfProgram(bytes, 'xdp').name, 'xdp_pass_counted');
  // The whole section as one program, as the loader took it before, is refused by the verifier.
  const whole = elfCodeSections(bytes).find((s) => s.name === 'xdp');
  assert.ok(whole !== undefined && whole.insns.length === 8);
  // The calls into .text become `r0 = 0`, so that only the layout can be at fault.
  const flat = whole.insns.map((i) =>
    i.code === 0x85 ? { code: 0xb7, dst_reg: 0, src_reg: 0, off: 0, imm: 0 } : i,
  );
  const verdict = verify(flat, { maps: new Map(), privileged: false });
  assert.equal(verdict.accepted, false);
  assert.match(verdict.log.join('\n'), /unreachable insn 4/);
});

test('--list shows the programs; --prog-name picks one on run, verify and demo; both selectors at once is a usage error', (t) => {
  const object = compile(t);
  const listed = cli(['verify', object, '--list']);
  assert.equal(listed.code, 0);
  assert.equal(
    listed.stdout,
    'xdp_pass_counted\txdp\t4 insns\nxdp_drop_counted\txdp\t4 insns\nxdp_frags_tx\txdp.frags\t4 insns\n',
  );
  const json = cli(['run', '--prog', object, '--list', '--json']);
  assert.deepEqual(JSON.parse(json.stdout), [
    { name: 'xdp_pass_counted', section: 'xdp', insns: 4 },
    { name: 'xdp_drop_counted', section: 'xdp', insns: 4 },
    { name: 'xdp_frags_tx', section: 'xdp.frags', insns: 4 },
  ]);
  const run = cli([
    'run',
    '--prog',
    object,
    '--prog-name',
    'xdp_drop_counted',
    '--packet',
    '00'.repeat(60),
    '--json',
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal((JSON.parse(run.stdout) as { action: string }).action, 'XDP_DROP');
  assert.equal(cli(['verify', object, '--prog-name', 'xdp_frags_tx']).code, 0);
  const demo = cli(['demo', '--object', object, '--prog-name', 'xdp_frags_tx', '--frames', '50']);
  assert.equal(demo.code, 0, demo.stderr);
  assert.match(demo.stdout, /\(program xdp_frags_tx, section xdp\.frags\)/);
  const both = cli(['verify', object, '--prog-name', 'xdp_frags_tx', '--section', 'xdp']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /give --prog-name or --section, not both/);
  const unknown = cli(['verify', object, '--prog-name', 'nope']);
  assert.equal(unknown.code, 2);
  assert.match(
    unknown.stderr,
    /no program or program section named nope \(have: xdp_pass_counted \(xdp\), xdp_drop_counted \(xdp\), xdp_frags_tx \(xdp\.frags\)\)/,
  );
});

test('map flags and sizes: BPF_F_NO_PREALLOC dropped, max_entries 0 needs --map-size, BPF_F_MMAPABLE refused by name', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'elf-maps-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const build = (name: string, ...defines: string[]) => {
    const object = join(dir, name);
    execFileSync('clang', [
      '-O2',
      '-g',
      '-target',
      'bpf',
      '-I/usr/include/x86_64-linux-gnu',
      ...defines,
      '-c',
      'test/fixtures/map_flags_sizes.c',
      '-o',
      object,
    ]);
    return object;
  };
  const plain = build('plain.o');
  const bytes = new Uint8Array(readFileSync(plain));
  assert.throws(
    () => loadElfProgram(bytes),
    (e: unknown) =>
      e instanceof ElfError &&
      e.section === '.maps' &&
      /map sized_by_loader: max_entries 0 is left to the loader/.test(e.message),
  );
  const program = loadElfProgram(bytes, undefined, { mapSizes: { sized_by_loader: 16 } });
  assert.deepEqual(program.mapNames, ['flows', 'sized_by_loader']);
  assert.deepEqual(
    program.maps.map((m) => (typeof m === 'string' ? m : [m.type, m.maxEntries])),
    [
      [1, 64],
      [2, 16],
    ],
  );
  assert.throws(
    () => loadElfProgram(bytes, undefined, { mapSizes: { sized_by_loader: 16, nothing: 4 } }),
    /no map named nothing to size \(maps: flows, sized_by_loader\)/,
  );
  // Offloaded end to end: the device gets plain definitions, and the program runs.
  const demo = cli(['demo', '--object', plain, '--map-size', 'sized_by_loader=16', '--frames', '20']);
  assert.equal(demo.code, 0, demo.stderr);
  assert.match(demo.stdout, /agree/);
  const refused = cli(['verify', build('mmap.o', '-DWITH_MMAPABLE'), '--map-size', 'sized_by_loader=16']);
  assert.equal(refused.code, 2);
  assert.match(
    refused.stderr,
    /mmap\.o: section \.maps at byte \d+: map shared: map_flags 0x400 \(BPF_F_MMAPABLE\) cannot be offloaded/,
  );
  const bad = cli(['verify', plain, '--map-size', 'sized_by_loader']);
  assert.match(bad.stderr, /--map-size sized_by_loader: expected NAME=N/);
});
