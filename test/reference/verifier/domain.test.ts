// The abstract domain's soundness, checked mechanically (npm run check:domain runs it in full):
// a slice of the exhaustive 8-bit check, random pairs at 64 bits, and each bug planted on purpose
// in a copy of the domain found by the same slice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scalarDomain, type Scalar, type ScalarDomain } from '../../../src/reference/verifier/domain.js';
import {
  SmallModel,
  checkExhaustive,
  checkRandom,
  concreteAlu,
  smallAbstractValues,
  type ExhaustiveReport,
} from '../../../src/harness/fuzz/domain-soundness.js';
import { DOMAIN_BUGS, plant } from '../../../scripts/planted-bugs.js';

/** Every 2,000th abstract value against every constant and against each other, in both transfers. */
function slice(D: ScalarDomain): ExhaustiveReport {
  const model = new SmallModel(D);
  const all = smallAbstractValues(D);
  const some = all.filter((_, i) => i % 2000 === 0);
  const consts = Array.from({ length: 256 }, (_, i) => D.known(BigInt(i)));
  const cache = new Map<Scalar, Uint32Array>();
  const members = (s: Scalar) => {
    let m = cache.get(s);
    if (m === undefined) cache.set(s, (m = model.members(s)));
    return m;
  };
  let pairs = 0;
  for (const transfer of ['alu', 'transfer'] as const)
    for (const bs of [consts, some]) {
      const r = checkExhaustive(model, some, bs, members, transfer);
      pairs += r.pairs;
      if (r.counterexample !== undefined) return r;
    }
  return { pairs, concrete: 0 };
}

test('the 8-bit model has every tnum and interval as an abstract input, each with exactly its values', () => {
  const D = scalarDomain(8);
  const all = smallAbstractValues(D);
  assert.ok(all.length > 30_000, `${all.length} abstract values`);
  const model = new SmallModel(D);
  const range = D.meet(D.unknown(), { umin: 3n, umax: 9n });
  assert.deepEqual([...model.members(range)], [3, 4, 5, 6, 7, 8, 9]);
  const tnum = D.meet({ ...D.unknown(), value: 0b1000_0001n, mask: 0b0000_0110n }, {});
  assert.deepEqual([...model.members(tnum)], [0x81, 0x83, 0x85, 0x87]);
  // the concrete model follows the ISA: 8-bit wrap, shifts masked to the width, x / 0 = 0, x % 0 = x
  assert.equal(concreteAlu(8, 0x00, 200n, 100n, true), 44n);
  assert.equal(concreteAlu(8, 0x60, 1n, 9n, true), 2n);
  assert.equal(concreteAlu(8, 0x30, 7n, 0n, true), 0n);
  assert.equal(concreteAlu(8, 0x90, 7n, 0n, true), 7n);
  assert.equal(concreteAlu(8, 0x00, 0x0fn, 0x01n, false), 0n);
  assert.equal(concreteAlu(8, 0xc0, 0x80n, 1n, true), 0xc0n);
});

test('a slice of the exhaustive 8-bit check: every transfer and refinement covers every concrete result', () => {
  const r = slice(scalarDomain(8));
  assert.equal(r.counterexample, undefined, r.counterexample?.detail);
  assert.ok(r.pairs > 100_000);
});

test('64-bit random pairs: every transfer and refinement covers every sampled concrete result', () => {
  const c = checkRandom(scalarDomain(64), 7, 400);
  assert.equal(c, undefined, c?.detail);
});

for (const [name, bug] of Object.entries(DOMAIN_BUGS)) {
  test(`the domain check finds the planted bug ${name} (${bug.rule})`, async () => {
    const url = plant(name, bug, 'reference/verifier/domain.ts');
    const { scalarDomain: planted } = (await import(url)) as { scalarDomain: typeof scalarDomain };
    const r = slice(planted(8));
    assert.ok(r.counterexample !== undefined, `not found after ${r.pairs} abstract pairs`);
  });
}
