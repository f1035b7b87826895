// The fuzzer's limits attack and lying device: each finds nothing in the reference, and each finds
// the bugs of its class planted on purpose in a copy of it (evidence that finding nothing means
// something).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fuzzCampaign,
  fuzzSession,
  loadCorpus,
  type FuzzFailure,
} from '../../../src/harness/fuzz/hostile-guest.js';
import { LIES, lyingCampaign, type LyingFailure } from '../../../src/harness/fuzz/lying-device.js';
import { RESOURCE_BOUNDS } from '../../../src/harness/fuzz/limits-attack.js';
import { DEVICE_BUGS, DRIVER_BUGS, plant } from '../../../scripts/planted-bugs.js';

test('a limits-attack session finds nothing and stays within the heap bound [dev-resource-bounded] [dev-caps-enforced]', async () => {
  const report = await fuzzSession(7, 6000, loadCorpus(), { mode: 'limits' });
  assert.equal(report.failure, undefined, report.failure?.detail);
  assert.equal(report.messages, 6000);
  assert.ok(report.heapPeak !== undefined && report.heapPeak < RESOURCE_BOUNDS.heapConstant + 32 * 2 ** 20);
  // The attack reaches the limits: maps full (E2BIG) and memory exhausted or entries refused.
  assert.ok((report.statuses.E2BIG ?? 0) > 0, JSON.stringify(report.statuses));
});

test('a lying-device campaign finds nothing: every lie fails its call with EIO, every call ends [drv-wire-check-result] [drv-caps-check] [drv-map-handle-unique] [drv-map-iterate-bounded] [drv-query-check]', () => {
  const report = lyingCampaign({ seed: 1, calls: 20_000 });
  assert.deepEqual(report.failures, []);
  assert.equal(report.calls, 20_000);
  for (const lie of LIES) assert.ok((report.lies[lie] ?? 0) > 0, `the lie ${lie} was never told`);
});

const found = (f: FuzzFailure | LyingFailure | undefined) =>
  f === undefined ? 'nothing' : `${f.check}: ${f.detail}`;

for (const [name, bug] of Object.entries(DEVICE_BUGS)) {
  test(`the ${bug.mode} campaign finds the planted device bug ${name} (${bug.rule})`, async () => {
    const url = plant(name, bug, 'harness/fuzz/hostile-guest.ts');
    const planted = (await import(url)) as typeof import('../../../src/harness/fuzz/hostile-guest.js');
    const report = await planted.fuzzCampaign({ seed: 1, mode: bug.mode, messages: 30_000 });
    const failure = report.failures[0];
    assert.ok(failure !== undefined, `not found in ${report.messages} messages`);
    // Values kept past their element show as heap held, or, once the collector labours under
    // them on a loaded machine, first as commands slower than the bound: either is the resource
    // bound of [dev-resource-bounded] failing, which an honest device never does (the test above).
    const expected = {
      'values-retained': ['heap', 'command-time'],
      'next-key-scans': ['command-time'],
      'insn-cnt-after-decode': ['prog-limit'],
      'refused-slot-filled': ['reject-unchanged'],
    }[name];
    assert.ok(expected?.includes(failure.check), found(failure));
  });
}

for (const [name, bug] of Object.entries(DRIVER_BUGS)) {
  test(`the lying-device campaign finds the planted driver bug ${name} (${bug.rule})`, async () => {
    const url = plant(name, bug, 'harness/fuzz/lying-device.ts');
    const planted = (await import(url)) as typeof import('../../../src/harness/fuzz/lying-device.js');
    const report = planted.lyingCampaign({ seed: 1, calls: 20_000 });
    const failure = report.failures[0];
    assert.ok(failure !== undefined, `not found in ${report.calls} calls`);
    assert.ok(['unbounded', 'lie-accepted'].includes(failure.check), found(failure));
  });
}

test('the mixed campaign is unchanged by the modes: its default sessions still run 500 messages', async () => {
  const report = await fuzzCampaign({ seed: 3, messages: 1000 });
  assert.equal(report.sessions, 2);
  assert.equal(report.heapPeak, undefined);
});
