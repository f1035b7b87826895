// The golden XDP run vectors a real Linux kernel produced (npm run oracle) replay through the engine
// with identical verdicts, output bytes and map contents, without needing a kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BpfMapType } from '../../src/codec/index.js';
import { replayXdpRunFile, schemaErrors, vectorFiles, type XdpRunFile } from '../../src/vectors/index.js';

const files = vectorFiles('vectors/xdp').map((p) => JSON.parse(readFileSync(p, 'utf8')) as XdpRunFile);

test('at least 500 kernel runs over at least 6 programs, each file naming its kernel', () => {
  assert.ok(files.length >= 6, `${files.length} programs`);
  const runs = files.reduce((n, f) => n + f.runs.length, 0);
  assert.ok(runs >= 500, `${runs} runs`);
  for (const f of files) {
    assert.deepEqual(schemaErrors('xdp-runs.schema.json', f), [], f.program.name);
    assert.match(f.kernel, /^6\.1\.0-\d+-cloud-amd64$/);
    assert.equal(f.load.accepted, true, `${f.program.name} was accepted by the kernel`);
  }
  const used = new Set(files.flatMap((f) => f.maps.map((m) => m.type)));
  assert.deepEqual(
    [...used].sort((a, b) => a - b),
    Object.values(BpfMapType).sort((a, b) => a - b),
    'every offloadable map type',
  );
  const verdicts = new Set(files.flatMap((f) => f.runs.map((r) => r.retval)));
  for (const v of [0, 1, 2, 3]) assert.ok(verdicts.has(v), `verdict ${v} appears`);
});

for (const file of files) {
  test(`${file.program.name}: every run replays identically (${file.runs.length} runs)`, () => {
    const failures = replayXdpRunFile(file).filter((o) => !o.passed);
    assert.deepEqual(failures, []);
  });
}

test('the replay notices a changed answer', () => {
  const file = files.find((f) => f.program.name === 'xdp2') as XdpRunFile;
  const run = file.runs.find((r) => r.errno === 0) as XdpRunFile['runs'][number];
  const tampered = { ...file, runs: [{ ...run, output: (run.output ?? '').replace(/^../, 'ff') }] };
  assert.equal(replayXdpRunFile(tampered)[0]?.passed, false);
  const tamperedMap = { ...file, runs: [{ ...run, maps: [{ handle: 1, entries: [] }] }] };
  assert.equal(replayXdpRunFile(tamperedMap)[0]?.passed, false);
});

test('a dispatcher vector needs its slots: without them the runs differ from the kernel [dev-prog-tail-call]', () => {
  const file = files.find((f) => f.program.name === 'sample_tail_dispatch_xdp_dispatch');
  assert.ok(file?.slots !== undefined && file.slots.length === 3);
  assert.ok(replayXdpRunFile(file).every((o) => o.passed));
  const without = Object.fromEntries(Object.entries(file).filter(([key]) => key !== 'slots'));
  assert.ok(replayXdpRunFile(without).some((o) => !o.passed));
});
