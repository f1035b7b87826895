// Scenario vectors: they replay through the full path, they are what the writer produces today,
// they cover every command and every status, and a changed byte makes a replay fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { XdpCommand, XdpStatus, parseHex, toHex } from '../../src/codec/index.js';
import {
  replayScenarioFile,
  type ControlExpect,
  type ScenarioFile,
} from '../../src/vectors/scenario-vectors.js';

const FILES = ['rfc-experiments', 'errors', 'lifecycle'].map((n) => `vectors/scenarios/${n}.json`);
const load = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as ScenarioFile;

test('every scenario replays through driver-visible bytes, tap and guest [dev-wire-no-readable-write]', () => {
  for (const path of FILES) {
    for (const outcome of replayScenarioFile(load(path)))
      assert.ok(outcome.passed, `${path} ${outcome.name}: ${outcome.detail}`);
  }
});

test('the committed scenarios are what the writer produces', () => {
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/scenarios.ts', '--check'], { stdio: 'pipe' });
});

test('every command succeeds and fails somewhere, and every status a guest can cause appears', () => {
  const seen = new Map<string, Set<string>>();
  const statuses = new Set<string>();
  for (const path of FILES)
    for (const scenario of load(path).scenarios)
      for (const step of scenario.steps) {
        if (step.do !== 'control' || step.expect.status === null) continue;
        statuses.add(step.expect.status);
        if (step.expect.command === null) continue;
        const set = seen.get(step.expect.command) ?? new Set<string>();
        set.add(step.expect.status);
        seen.set(step.expect.command, set);
      }
  for (const command of Object.keys(XdpCommand)) {
    const s = seen.get(command);
    assert.ok(s?.has('OK'), `${command} never succeeds`);
    // CAPS_GET and QUERY cannot fail once framed well; their failure is a framing one.
    if (command !== 'CAPS_GET' && command !== 'QUERY')
      assert.ok(
        [...(s ?? [])].some((x) => x !== 'OK'),
        `${command} never fails`,
      );
  }
  assert.ok(seen.get('CAPS_GET')?.has('EINVAL'), 'CAPS_GET with a short result area');
  // EIO answers a failure of the host, which no scenario can cause from the guest (the device test
  // makes a tap refuse an attach for it).
  for (const status of Object.keys(XdpStatus).filter((s) => s !== 'EIO'))
    assert.ok(statuses.has(status), `status ${status} never appears`);
});

test('a changed answer byte or verdict fails the replay', () => {
  const file = load(FILES[0] as string);
  const first = file.scenarios[0];
  assert.ok(first !== undefined);
  const tamper = (index: number, change: (step: Record<string, unknown>) => void) => {
    const copy = structuredClone(first) as unknown as { steps: Record<string, unknown>[] };
    change(copy.steps[index] as Record<string, unknown>);
    return replayScenarioFile({ ...file, scenarios: [copy] })[0];
  };
  const answerFlip = tamper(1, (s) => {
    const e = s.expect as { answer: string };
    e.answer = e.answer.replace(/^00/, '01');
  });
  assert.equal(answerFlip?.passed, false);
  assert.match(answerFlip?.detail ?? '', /step 1/);
  const verdict = tamper(3, (s) => ((s.expect as { offload: string }).offload = 'pass'));
  assert.equal(verdict?.passed, false);
  const schema = replayScenarioFile({
    ...file,
    scenarios: [{ ...first, steps: [{ do: 'fly', note: '', expect: {} }] }],
  });
  assert.equal(schema[0]?.name, 'schema');
});

test('an unfixed field is compared by the spec’s rule: another log and insns_processed pass, a whole hash in another order passes, another element fails', () => {
  const file = load('vectors/scenarios/errors.json');
  const replayWith = (name: string, change: (steps: Record<string, unknown>[]) => void) => {
    const scenario = structuredClone(file.scenarios.find((s) => s.name === name)) as unknown as {
      steps: Record<string, unknown>[];
    };
    change(scenario.steps);
    return replayScenarioFile({ ...file, scenarios: [scenario] as unknown as ScenarioFile['scenarios'] })[0];
  };
  const expectOf = (steps: Record<string, unknown>[], unfixed: string) => {
    const step = steps.find((s) => ((s.expect as ControlExpect).unfixed ?? []).includes(unfixed as never));
    assert.ok(step !== undefined, `a step with ${unfixed} unfixed`);
    return step.expect as { answer: string; unfixed: string[] };
  };
  // A stated log of other printable text, as long, and another insns_processed: the same verdict.
  const otherLog = replayWith('prog-load-errors', (steps) => {
    const e = expectOf(steps, 'log');
    const bytes = parseHex(e.answer) as Uint8Array;
    bytes[9] = (bytes[9] as number) ^ 0x5a; // insns_processed
    for (let i = 21; i < bytes.length; i++) bytes[i] = 0x41; // 'A'
    e.answer = toHex(bytes);
  });
  assert.equal(otherLog?.passed, true, otherLog?.detail);
  // The whole hash with its two elements stated in the other order: the same set.
  const swapped = replayWith('map-batches', (steps) => {
    const e = expectOf(steps, 'order');
    const bytes = parseHex(e.answer) as Uint8Array;
    const head = 9 + 8;
    const stride = (bytes.length - head) / 2;
    const a = bytes.slice(head, head + stride);
    bytes.copyWithin(head, head + stride);
    bytes.set(a, head + stride);
    e.answer = toHex(bytes);
  });
  assert.equal(swapped?.passed, true, swapped?.detail);
  // Another element is another set, in any order.
  const changed = replayWith('map-batches', (steps) => {
    const e = expectOf(steps, 'order');
    const bytes = parseHex(e.answer) as Uint8Array;
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    e.answer = toHex(bytes);
  });
  assert.equal(changed?.passed, false);
  assert.match(changed?.detail ?? '', /in any order/);
});
