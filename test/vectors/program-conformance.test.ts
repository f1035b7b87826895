// The normative program corpus of section X.8.5: every program of must-accept.json loads on the
// reference device and every program of must-refuse.json is refused with its status, each sent as
// a driver sends it. The check can fail: a device whose verifier runs with the privileges that
// allow pointer leaks (a bug planted on purpose in a copy of the device) fails the refusal half.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { replayProgramConformanceFile, type ProgramConformanceFile } from '../../src/vectors/index.js';
import { plant } from '../../scripts/planted-bugs.js';

const read = (part: string) =>
  JSON.parse(readFileSync(`vectors/programs/must-${part}.json`, 'utf8')) as ProgramConformanceFile;
const accept = read('accept');
const refuse = read('refuse');

test('every must-accept program loads on the reference device [dev-prog-corpus-accept]', () => {
  assert.equal(accept.part, 'accept');
  assert.ok(accept.programs.length >= 100, `${accept.programs.length} programs`);
  const failed = replayProgramConformanceFile(accept).filter((o) => !o.passed);
  assert.deepEqual(failed, []);
});

test('every must-refuse program is refused with its status, EACCES or EINVAL [dev-prog-corpus-refuse] [dev-prog-contract]', () => {
  assert.equal(refuse.part, 'refuse');
  assert.ok(refuse.programs.length >= 250, `${refuse.programs.length} programs`);
  assert.ok(refuse.programs.every((p) => p.status === 'EACCES' || p.status === 'EINVAL'));
  const failed = replayProgramConformanceFile(refuse).filter((o) => !o.passed);
  assert.deepEqual(failed, []);
});

test('a vector whose status is changed no longer replays, in either half', () => {
  const flip = (file: ProgramConformanceFile, status: 'OK' | 'EACCES'): ProgramConformanceFile => ({
    ...file,
    programs: [{ ...(file.programs[0] as ProgramConformanceFile['programs'][number]), status }],
  });
  assert.equal(replayProgramConformanceFile(flip(accept, 'EACCES'))[0]?.passed, false);
  assert.equal(replayProgramConformanceFile(flip(refuse, 'OK'))[0]?.passed, false);
});

test('the refusal half finds a device whose verifier allows pointer leaks (a planted bug)', async () => {
  const url = plant(
    'device-verifies-privileged',
    {
      rule: '[dev-prog-verify-mode]: verified as the operator set, CAP_BPF only by default',
      file: 'reference/device/device.ts',
      find: 'const privileged = caps.verify_mode === VerifyMode.TRUSTED;',
      replace: 'const privileged = true;',
    },
    'vectors/index.ts',
  );
  const planted = (await import(url)) as typeof import('../../src/vectors/index.js');
  const failed = planted.replayProgramConformanceFile(refuse).filter((o) => !o.passed);
  assert.ok(failed.length > 0, 'the planted device passed the refusal half');
  assert.ok(
    failed.every((o) => /answered OK/.test(o.detail)),
    failed.map((o) => o.detail).join('; '),
  );
});
