// The C device of examples/c-device, built by its Makefile with gcc from the generated header alone:
// it passes every scenario step that needs neither a program nor a map type other than hash and
// array (its verifier is a stub that refuses every program), the kit lists each other step it
// fails, and it passes the hostile-guest fuzzer on the wire alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnDevice } from '../../../src/harness/kit/device-under-test.js';
import { replayPathsOn, vectorFiles } from '../../../src/vectors/replay.js';
import type { ScenarioFile, ScenarioOutcome, ScenarioStep } from '../../../src/vectors/scenario-vectors.js';
import { fuzzCampaign } from '../../../src/harness/fuzz/hostile-guest.js';
import { BpfMapType, decodeRequest, parseHex } from '../../../src/codec/index.js';

const binary = join(mkdtempSync(join(tmpdir(), 'c-device-')), 'xdp-device');
execFileSync('make', ['-s', '-C', 'examples/c-device', `OUT=${binary}`], { stdio: 'pipe' });

/** Whether a step needs what the C device does not have: a verifier, or a map type beyond hash and array. */
function beyondTheExample(step: ScenarioStep): boolean {
  if (step.do !== 'control' || step.request === undefined) return false;
  const bytes = parseHex(step.request);
  let request;
  try {
    request = decodeRequest(bytes ?? new Uint8Array(0));
  } catch {
    return false;
  }
  if (request.command === 'MAP_CREATE')
    return request.data.map_type !== BpfMapType.HASH && request.data.map_type !== BpfMapType.ARRAY;
  // a program the verifier judged (accepted, or refused with a result)
  return (
    (request.command === 'PROG_LOAD' || request.command === 'PROG_ARRAY_LOAD') &&
    step.expect.unfixed !== undefined
  );
}

test('the C device passes every scenario step it claims, and the kit lists each one it fails', async () => {
  const scenarios = new Map(
    vectorFiles('vectors/scenarios').flatMap((path) =>
      (JSON.parse(readFileSync(path, 'utf8')) as ScenarioFile).scenarios.map((s) => [s.name, s] as const),
    ),
  );
  const device = await spawnDevice(binary, { timeoutMs: 5000 });
  let outcomes: ScenarioOutcome[];
  try {
    assert.deepEqual(device.hello.extensions, ['introspect']);
    const summary = await replayPathsOn(['vectors/scenarios'], { device: device });
    outcomes = summary.files.flatMap((f) => f.outcomes as ScenarioOutcome[]);
  } finally {
    await device.close();
  }
  let claimed = 0;
  for (const outcome of outcomes) {
    const scenario = scenarios.get(outcome.name);
    assert.ok(scenario !== undefined && outcome.unsupported === undefined, outcome.detail);
    const first = scenario.steps.findIndex(beyondTheExample);
    const claim = first === -1 ? scenario.steps.length : first;
    claimed += claim;
    for (const failure of outcome.failures)
      assert.ok(
        failure.index >= claim,
        `${outcome.name} step ${failure.index} (${failure.note}) fails before the first step beyond the example (${claim}): ${failure.detail}`,
      );
  }
  // Most of the vectors' steps come before any program: framing, map errors, batches, order.
  assert.ok(claimed >= 90, `${claimed} steps claimed`);
  // Whole scenarios pass: framing, map-create-errors, map-batches, no-batches, check-order.
  assert.ok(
    outcomes.filter((o) => o.passed).length >= 5,
    outcomes.map((o) => `${o.name} ${o.passed}`).join(', '),
  );
});

test('the C device passes the hostile-guest fuzzer on the wire alone', async () => {
  const a = await spawnDevice(`${binary} --wire-only`, { timeoutMs: 5000 });
  const b = await spawnDevice(`${binary} --wire-only`, { timeoutMs: 5000 });
  try {
    const report = await fuzzCampaign({ seed: 3, messages: 6000, twins: { a, b, inProcess: false } });
    assert.deepEqual(report.failures, []);
    assert.equal(report.messages, 6000);
    // It answers far more than malformed input: its maps fill and its stub refuses programs.
    for (const status of ['OK', 'EBADF', 'E2BIG', 'ENOENT', 'EACCES'])
      assert.ok((report.statuses[status] ?? 0) > 0, `no ${status} in ${JSON.stringify(report.statuses)}`);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

/** Builds a copy of the C device with one textual edit (a bug planted on purpose). */
function plantedDevice(find: string, replace: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'c-device-planted-'));
  cpSync('examples/c-device', dir, { recursive: true, filter: (src) => !src.endsWith('xdp-device') });
  const file = join(dir, 'device.c');
  const text = readFileSync(file, 'utf8');
  assert.equal(text.split(find).length, 2, `the planted edit's text occurs once: ${find}`);
  writeFileSync(file, text.replace(find, replace));
  const out = join(dir, 'xdp-device');
  execFileSync('make', ['-s', '-C', dir, `OUT=${out}`, `SPEC=${join(process.cwd(), 'spec/include')}`], {
    stdio: 'pipe',
  });
  return out;
}

test('with its introspect extension the C device passes every check, and a refusal that changes state is caught only so [dev-wire-reject-unchanged]', async () => {
  const campaign = async (command: string) => {
    const a = await spawnDevice(command, { timeoutMs: 5000 });
    const b = await spawnDevice(command, { timeoutMs: 5000 });
    try {
      assert.deepEqual(a.hello.extensions, command.endsWith('--wire-only') ? [] : ['introspect']);
      return await fuzzCampaign({ seed: 4, messages: 4000, twins: { a, b, inProcess: false } });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  };
  assert.deepEqual((await campaign(binary)).failures, []);
  // A device that spends a handle before it refuses MAP_CREATE for the map count: nothing on the
  // wire shows it (handles are the device's to choose), the state does.
  const planted = plantedDevice(
    '\tif (d->map_count >= d->max_maps) {',
    '\td->next_handle++;\n\tif (d->map_count >= d->max_maps) {',
  );
  const caught = await campaign(planted);
  assert.equal(caught.failures[0]?.check, 'reject-unchanged', JSON.stringify(caught.failures[0]));
  assert.deepEqual(caught.failures[0]?.requirements, ['dev-wire-reject-unchanged']);
  assert.deepEqual((await campaign(`${planted} --wire-only`)).failures, []);
});
