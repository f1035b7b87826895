// The soundness campaign (npm run fuzz:verifier) finds each bug planted on purpose in a copy of
// the verifier, within a few thousand generated programs: evidence that a campaign which finds
// nothing in the real verifier could have.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzPrograms, type VerifyFunction } from '../../../src/harness/fuzz/verifier-fuzz.js';
import { VERIFIER_BUGS, plant } from '../../../scripts/planted-bugs.js';

const BUDGET = 20_000;

for (const [name, bug] of Object.entries(VERIFIER_BUGS)) {
  test(`the soundness campaign finds the planted bug ${name} (${bug.rule})`, async () => {
    const url = plant(name, bug, 'reference/verifier/index.ts');
    const { verify } = (await import(url)) as { verify: VerifyFunction };
    const report = fuzzPrograms(verify, { first: 0, count: BUDGET, maxFailures: 1 });
    const found = report.failures[0];
    assert.ok(found !== undefined, `not found in ${report.programs} programs`);
    assert.ok(found.failure !== undefined);
  });
}
