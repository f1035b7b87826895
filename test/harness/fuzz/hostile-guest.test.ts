// The hostile-guest fuzzer: a short campaign in every test run, deterministic sessions (so a printed
// session seed replays), and checks that catch a device that misbehaves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../../src/cli/run.js';
import { fuzzCampaign, fuzzSession, loadCorpus } from '../../../src/harness/fuzz/hostile-guest.js';
import { sessionSeed } from '../../../src/harness/rng.js';
import { DeviceMaps } from '../../../src/reference/device/maps.js';
import { OffloadDevice } from '../../../src/reference/device/device.js';
import type { ControlElement } from '../../../src/reference/virtqueue/element.js';
import { encodeFailure, XdpStatus } from '../../../src/codec/index.js';

const FUZZ_MESSAGES = Number(process.env.FUZZ_MESSAGES ?? '20000');

test('a short hostile-guest campaign finds nothing [dev-wire-reject-unchanged] [dev-caps-enforced] [dev-map-handle]', async () => {
  const report = await fuzzCampaign({ seed: Number(process.env.FUZZ_SEED ?? '1'), messages: FUZZ_MESSAGES });
  assert.deepEqual(report.failures, []);
  assert.equal(report.messages, FUZZ_MESSAGES);
  // The campaign reaches the device's refusals, not only its decoder.
  for (const status of [
    'OK',
    'EINVAL',
    'EBADF',
    'E2BIG',
    'ENOENT',
    'EOPNOTSUPP',
    'EACCES',
    'EEXIST',
    'EBUSY',
  ])
    assert.ok((report.statuses[status] ?? 0) > 0, `no ${status} answer in the campaign`);
});

test('a session replays exactly from its seed', async () => {
  const corpus = loadCorpus();
  const seed = sessionSeed(42, 3);
  assert.deepEqual(await fuzzSession(seed, 300, corpus), await fuzzSession(seed, 300, corpus));
  assert.notEqual(sessionSeed(42, 3), sessionSeed(42, 4));
});

test('a device whose refusal changes state is caught, and the failure names a replayable session', async (t) => {
  // A table that consumes a handle when it refuses a map for the count limit.
  const original = Object.getOwnPropertyDescriptor(DeviceMaps.prototype, 'create');
  assert.ok(original?.value !== undefined);
  const create = original.value as DeviceMaps['create'];
  t.after(() => Object.defineProperty(DeviceMaps.prototype, 'create', original));
  Object.defineProperty(DeviceMaps.prototype, 'create', {
    ...original,
    value: function (this: DeviceMaps, ...args: Parameters<DeviceMaps['create']>) {
      const outcome = create.apply(this, args);
      if (outcome.status !== 0) create.call(this, { type: 2, keySize: 4, valueSize: 8, maxEntries: 1 });
      return outcome;
    },
  });
  const report = await fuzzCampaign({ seed: 5, messages: 20000 });
  const failure = report.failures[0];
  assert.ok(failure !== undefined, 'the broken device went unnoticed');
  assert.match(failure.check, /reject-unchanged|limits/);
  const replayed = await fuzzSession(failure.session, failure.message + 1, loadCorpus());
  assert.deepEqual(replayed.failure, failure);
});

test('xdp-offload fuzz prints the rate and "0 failures"', async () => {
  let stdout = '';
  const code = await main(['fuzz', '--messages', '1500', '--seed', '3'], {
    stdout: (s) => (stdout += `${s}\n`),
    stderr: () => undefined,
  });
  assert.equal(code, 0);
  assert.match(stdout, /^1500 messages \(\d+ frames, \d+ sessions\)\ntime: [\d.]+ s, \d+ messages\/s$/m);
  assert.match(stdout, /^0 failures$/m);
  assert.equal(main(['fuzz', '--seed', 'x'], { stdout: () => undefined, stderr: () => undefined }), 2);
});

test('a device that answers a broken element instead of needing a reset is caught [dev-wire-broken]', async (t) => {
  // The device as it was before [dev-wire-broken]: a readable buffer after a writable one is
  // answered EINVAL, like a malformed part.
  const original = Object.getOwnPropertyDescriptor(OffloadDevice.prototype, 'serve');
  assert.ok(original?.value !== undefined);
  const serve = original.value as OffloadDevice['serve'];
  t.after(() => Object.defineProperty(OffloadDevice.prototype, 'serve', original));
  Object.defineProperty(OffloadDevice.prototype, 'serve', {
    ...original,
    value: function (this: OffloadDevice, element: ControlElement) {
      const order = element.segments.map((s) => s.deviceWritable);
      if (order.lastIndexOf(false) > order.indexOf(true) && order.includes(true)) {
        const used = element.writeAnswer(encodeFailure(XdpStatus.EINVAL));
        return { used, executed: false, status: XdpStatus.EINVAL };
      }
      return serve.call(this, element);
    },
  });
  const report = await fuzzCampaign({ seed: 1, messages: 20000 });
  assert.equal(report.failures[0]?.check, 'broken-element');
});
