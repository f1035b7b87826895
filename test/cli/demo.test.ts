// xdp-offload demo: the RFC's experiments, offloaded beside driver mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/run.js';

function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = main(argv, { stdout: (s) => (stdout += `${s}\n`), stderr: (s) => (stderr += `${s}\n`) });
  return { code, stdout, stderr };
}

test('xdp1 offloaded drops on the host: nothing crosses into the guest, counters as in driver mode', () => {
  const { code, stdout } = run('demo', '--program', 'xdp1', '--frames', '400', '--json');
  assert.equal(code, 0);
  const report = JSON.parse(stdout) as {
    agree: boolean;
    results: { offloaded: Record<string, unknown>; native: Record<string, unknown> }[];
  };
  assert.equal(report.agree, true);
  const [r] = report.results;
  assert.ok(r !== undefined);
  assert.equal(r.offloaded.crossedIntoGuest, 0);
  assert.equal(r.native.crossedIntoGuest, 400);
  const protocols = r.offloaded.protocols as Record<string, number>;
  assert.equal(
    Object.values(protocols).reduce((a, b) => a + b, 0),
    400,
  );
  assert.deepEqual(r.offloaded.actions, { packets: 400, aborted: 0, drop: 400, pass: 0, tx: 0, redirect: 0 });
});

test('the text report shows both experiments side by side', () => {
  const { code, stdout } = run('demo', '--frames', '200');
  assert.equal(code, 0);
  assert.match(stdout, /^xdp1 \(count per IP protocol, drop\): 200 frames/m);
  assert.match(stdout, /^xdp2 .*XDP_TX/m);
  assert.match(stdout, /frames back toward the host\s+200\s+200/);
  assert.match(stdout, /agree on every counter$/m);
  assert.equal(run('demo', '--program', 'xdp9').code, 2);
});

test('a refused offload is no agreement: demo --object exits 1 and its JSON says refused, not agree', () => {
  // proto_count loads only for root (pointer arithmetic on the packet): the device refuses it.
  const { code, stdout } = run('demo', '--object', 'oracle/c/proto_count.o', '--frames', '20', '--json');
  assert.equal(code, 1);
  const doc = JSON.parse(stdout) as { refused: boolean; agree: boolean; offloaded: { errno: number } };
  assert.deepEqual([doc.refused, doc.agree], [true, false]);
  assert.notEqual(doc.offloaded.errno, 0);
  const loaded = run('demo', '--object', 'oracle/c/mac_swap_tx.o', '--frames', '20', '--json');
  assert.equal(loaded.code, 0);
  assert.deepEqual(
    [
      (JSON.parse(loaded.stdout) as { refused: boolean }).refused,
      (JSON.parse(loaded.stdout) as { agree: boolean }).agree,
    ],
    [false, true],
  );
});

test('--prog names the program as run and verify take it: a sample or an object; the older spellings still work', () => {
  const sample = run('demo', '--prog', 'xdp1', '--frames', '50', '--json');
  const older = run('demo', '--program', 'xdp1', '--frames', '50', '--json');
  assert.equal(sample.code, 0);
  assert.equal(sample.stdout, older.stdout);
  const object = run('demo', '--prog', 'oracle/c/mac_swap_tx.o', '--frames', '20', '--json');
  assert.equal(
    object.stdout,
    run('demo', '--object', 'oracle/c/mac_swap_tx.o', '--frames', '20', '--json').stdout,
  );
  assert.equal(object.code, 0);
  assert.equal(run('demo', '--prog', 'xdp1', '--object', 'oracle/c/mac_swap_tx.o').code, 2);
  const missing = run('demo', '--prog', 'absent.o');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--prog: no such file/);
  assert.equal(run('verify', '--prog', 'xdp1').code, 0);
  assert.equal(run('verify', '--prog', 'xdp1', 'xdp2').code, 2);
});
