// The engine's subcommands: run (samples, files, inline hex, maps, refusals) and bpf-plugin (the
// suite's plugin protocol through a real process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/run.js';
import { toHex } from '../../src/codec/index.js';
import { udpFrame } from '../../src/reference/ebpf/samples.js';

function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = main(argv, { stdout: (t) => (stdout += t + '\n'), stderr: (t) => (stderr += t + '\n') });
  return { code, stdout, stderr };
}
const frame = toHex(udpFrame());

test('run xdp2 --json: XDP_TX, MACs swapped, the UDP counter in map 1', () => {
  const r = cli('run', '--prog', 'xdp2', '--packet', frame, '--repeat', '2', '--json');
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as {
    action: string;
    output: string;
    maps: { handle: number; entries: { key: string; value: string }[] }[];
  };
  assert.equal(doc.action, 'XDP_TX');
  assert.equal(doc.output.slice(0, 24), frame.slice(12, 24) + frame.slice(0, 12));
  assert.deepEqual(doc.maps, [{ handle: 1, entries: [{ key: '11000000', value: '0200000000000000' }] }]);
});

test('run takes assembler files, instruction hex and --map definitions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xdp-run-'));
  const asm = join(dir, 'p.s');
  writeFileSync(
    asm,
    'stw [%r10-4], 0\nlddw %r1, map[1]\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, out\nstdw [%r0+0], 7\nout:\nmov %r0, 2\nexit\n',
  );
  const r = cli('run', '--prog', asm, '--map', 'hash:4:8:16', '--packet', frame, '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { action: string }).action, 'XDP_PASS');
  const hex = cli('run', '--insns-hex', 'b7000000010000009500000000000000', '--packet', frame);
  assert.match(hex.stdout, /^verdict: XDP_DROP \(retval 1\)/);
});

test('run refuses bad input with exit 2 and one line', () => {
  const cases: [string[], RegExp][] = [
    [['run', '--prog', 'xdp1', '--packet', '0011'], /errno 22/],
    [['run', '--prog', 'nosuch', '--packet', frame], /no sample or file/],
    [['run', '--insns-hex', 'b70000000100', '--packet', frame], /truncated: insns/],
    [
      ['run', '--insns-hex', '95000000000000009500000000000000', '--packet', frame, '--map', 'array:8'],
      /--map array:8/,
    ],
    [['run', '--prog', 'xdp1'], /--packet is required/],
  ];
  for (const [argv, message] of cases) {
    const r = cli(...argv);
    assert.equal(r.code, 2, r.stdout);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, message);
  }
});

test('bpf-plugin speaks the suite protocol through a real process', () => {
  const plugin = (stdin: string, ...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'bpf-plugin', ...args], {
      input: stdin,
      encoding: 'utf8',
    });
  const ok = plugin('61 10 04 00 00 00 00 00 95 00 00 00 00 00 00 00', '0102030405060708', '--interpret');
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, '8070605\n');
  const fault = plugin('61 10 40 00 00 00 00 00 95 00 00 00 00 00 00 00', '0102');
  assert.equal(fault.status, 1);
  assert.match(fault.stderr, /out-of-bounds at instruction 0/);
  // --json: the same answers as one object each, errors of input too
  const json = plugin('61 10 04 00 00 00 00 00 95 00 00 00 00 00 00 00', '0102030405060708', '--json');
  assert.deepEqual(JSON.parse(json.stdout), { r0: '8070605' });
  const faultJson = plugin('61 10 40 00 00 00 00 00 95 00 00 00 00 00 00 00', '0102', '--json');
  assert.equal(faultJson.status, 1);
  assert.deepEqual(
    (JSON.parse(faultJson.stdout) as { fault: { kind: string; pc: number } }).fault.kind,
    'out-of-bounds',
  );
  const bad = plugin('95 00', '--json');
  assert.equal(bad.status, 2);
  assert.equal((JSON.parse(bad.stdout) as { error: { field: string } }).error.field, 'insns');
});
