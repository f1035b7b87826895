/**
 * Mechanical soundness checks of the verifier's abstract domain (see {@link scalarDomain}), after
 * "Verifying the Verifier: eBPF Range Analysis Verification" (CAV 2023): for abstract inputs and
 * every pair of concrete values inside them, the concrete result of an ALU operation must lie
 * inside the abstract result, and a comparison's concrete outcome must be a side the refinement
 * keeps, with both values inside that side's refined pair.
 *
 * At 8 bits the concrete values of an abstract input are enumerated, so a check over a set of
 * abstract inputs is exhaustive for them; at 64 bits values are sampled.
 *
 * @module
 */
import type { Scalar, ScalarDomain } from '../../reference/verifier/domain.js';
import { Rng } from '../rng.js';

/** The ALU operations the domain transfers (BPF op codes). */
export const ALU_OPS = {
  add: 0x00,
  sub: 0x10,
  mul: 0x20,
  div: 0x30,
  or: 0x40,
  and: 0x50,
  lsh: 0x60,
  rsh: 0x70,
  mod: 0x90,
  xor: 0xa0,
  mov: 0xb0,
  arsh: 0xc0,
} as const;

/** The conditional jumps the domain refines (BPF op codes). */
export const JMP_OPS = {
  jeq: 0x10,
  jgt: 0x20,
  jge: 0x30,
  jset: 0x40,
  jne: 0x50,
  jsgt: 0x60,
  jsge: 0x70,
  jlt: 0xa0,
  jle: 0xb0,
  jslt: 0xc0,
  jsle: 0xd0,
} as const;

/** A concrete input that the abstract result does not cover. */
export interface Counterexample {
  /** The operation (`add`, `add32`, `jsgt`, `jsgt32`, `neg`, ...). */
  readonly op: string;
  /** The abstract inputs. */
  readonly a: Scalar;
  readonly b: Scalar;
  /** The concrete inputs. */
  readonly x: bigint;
  readonly y: bigint;
  /** What went wrong. */
  readonly detail: string;
}

/** The concrete result of an ALU operation at `bits` (or half of it), as the engine computes it. */
export function concreteAlu(bits: number, op: number, x: bigint, y: bigint, wide: boolean): bigint {
  const w = wide ? bits : bits / 2;
  const W = (v: bigint) => BigInt.asUintN(w, v);
  const S = (v: bigint) => BigInt.asIntN(w, v);
  const a = W(x);
  const b = W(y);
  const shift = b & BigInt(w - 1);
  switch (op) {
    case 0x00:
      return W(a + b);
    case 0x10:
      return W(a - b);
    case 0x20:
      return W(a * b);
    case 0x30:
      return b === 0n ? 0n : a / b;
    case 0x40:
      return a | b;
    case 0x50:
      return a & b;
    case 0x60:
      return W(a << shift);
    case 0x70:
      return a >> shift;
    case 0x90:
      return b === 0n ? a : a % b;
    case 0xa0:
      return a ^ b;
    case 0xb0:
      return b;
    case 0xc0:
      return W(S(a) >> shift);
    default:
      throw new RangeError(`no ALU operation 0x${op.toString(16)}`);
  }
}

// jscpd:ignore-start: the checker's concrete semantics are written apart from the domain they judge
// (whose constant folding compares the same way), so that one mistake cannot hide in both.
/** The concrete outcome of a conditional jump at `bits` (or half of it). */
export function concreteJump(bits: number, op: number, x: bigint, y: bigint, wide: boolean): boolean {
  const w = wide ? bits : bits / 2;
  const a = BigInt.asUintN(w, x);
  const b = BigInt.asUintN(w, y);
  const sa = BigInt.asIntN(w, x);
  const sb = BigInt.asIntN(w, y);
  switch (op) {
    case 0x10:
      return a === b;
    case 0x50:
      return a !== b;
    case 0x20:
      return a > b;
    case 0x30:
      return a >= b;
    case 0xa0:
      return a < b;
    case 0xb0:
      return a <= b;
    case 0x40:
      return (a & b) !== 0n;
    case 0x60:
      return sa > sb;
    case 0x70:
      return sa >= sb;
    case 0xc0:
      return sa < sb;
    case 0xd0:
      return sa <= sb;
    default:
      throw new RangeError(`no jump 0x${op.toString(16)}`);
  }
}
// jscpd:ignore-end

/**
 * Abstract inputs at a small width: every tnum (each bit 0, 1 or unknown) and every unsigned and
 * signed interval, each normalised by the domain; duplicates removed.
 */
export function smallAbstractValues(D: ScalarDomain): Scalar[] {
  const n = 1n << BigInt(D.bits);
  const out = new Map<string, Scalar>();
  const add = (s: Scalar) => {
    if (D.empty(s)) return;
    out.set(`${s.value},${s.mask},${s.umin},${s.umax},${s.smin},${s.smax}`, s);
  };
  const top = D.unknown();
  for (let mask = 0n; mask < n; mask++) {
    // every value whose bits avoid the mask
    for (let value = 0n; value < n; value++) {
      if ((value & mask) !== 0n) continue;
      add(D.meet({ ...top, value, mask }, {}));
    }
  }
  for (let lo = 0n; lo < n; lo++)
    for (let hi = lo; hi < n; hi++) {
      add(D.meet(top, { umin: lo, umax: hi }));
      add(D.meet(top, { smin: BigInt.asIntN(D.bits, lo), smax: BigInt.asIntN(D.bits, hi) }));
    }
  return [...out.values()];
}

/**
 * The concrete side of a small width, in tables: every ALU result and jump outcome for every pair
 * of values (computed once from {@link concreteAlu} and {@link concreteJump}), so the exhaustive
 * loops compare plain numbers.
 */
export class SmallModel {
  /** 2^bits. */
  readonly size: number;
  // concrete tables depend on the width only: shared by every model (and every planted domain)
  private static readonly alu = new Map<string, Uint32Array>();
  private static readonly jump = new Map<string, Uint8Array>();

  constructor(readonly D: ScalarDomain) {
    if (D.bits > 12) throw new RangeError('a small model enumerates every pair of values: at most 12 bits');
    this.size = 1 << D.bits;
  }

  /** Results of `op` for x * size + y. */
  aluTable(op: number, wide: boolean): Uint32Array {
    const key = `${this.D.bits},${op},${wide}`;
    let t = SmallModel.alu.get(key);
    if (t === undefined) {
      t = new Uint32Array(this.size * this.size);
      for (let x = 0; x < this.size; x++)
        for (let y = 0; y < this.size; y++)
          t[x * this.size + y] = Number(concreteAlu(this.D.bits, op, BigInt(x), BigInt(y), wide));
      SmallModel.alu.set(key, t);
    }
    return t;
  }

  /** Outcomes (1 taken) of jump `op` for x * size + y. */
  jumpTable(op: number, wide: boolean): Uint8Array {
    const key = `${this.D.bits},${op},${wide}`;
    let t = SmallModel.jump.get(key);
    if (t === undefined) {
      t = new Uint8Array(this.size * this.size);
      for (let x = 0; x < this.size; x++)
        for (let y = 0; y < this.size; y++)
          t[x * this.size + y] = concreteJump(this.D.bits, op, BigInt(x), BigInt(y), wide) ? 1 : 0;
      SmallModel.jump.set(key, t);
    }
    return t;
  }

  /** The concrete values (unsigned) of an abstract value. */
  members(s: Scalar): Uint32Array {
    const out: number[] = [];
    for (let x = s.umin; x <= s.umax; x++) if (this.D.contains(s, x)) out.push(Number(x));
    return Uint32Array.from(out);
  }

  /** A membership test in numbers, the same as the domain's `contains`. */
  inside(s: Scalar): (x: number) => boolean {
    const value = Number(s.value);
    const mask = Number(s.mask);
    const umin = Number(s.umin);
    const umax = Number(s.umax);
    const smin = Number(s.smin);
    const smax = Number(s.smax);
    const half = this.size / 2;
    const size = this.size;
    return (x) => {
      const sx = x >= half ? x - size : x;
      return (x & ~mask) === value && x >= umin && x <= umax && sx >= smin && sx <= smax;
    };
  }
}

/** What an exhaustive run covered. */
export interface ExhaustiveReport {
  /** Abstract input pairs checked. */
  readonly pairs: number;
  /** Concrete input pairs checked. */
  readonly concrete: number;
  /** The first counterexample, if any. */
  readonly counterexample?: Counterexample;
}

/**
 * Checks every ALU transfer and every branch refinement on every pair (a from `as`, b from `bs`)
 * and every pair of their concrete values, at a small width. `members` gives the concrete values;
 * `only` restricts the operations (negation is checked whenever refinement is).
 */
export function checkExhaustive(
  model: SmallModel,
  as: readonly Scalar[],
  bs: readonly Scalar[],
  members: (s: Scalar) => Uint32Array,
  transfer: 'alu' | 'transfer' = 'transfer',
  only?: { readonly alu: readonly number[]; readonly refine: boolean },
): ExhaustiveReport {
  const D = model.D;
  const size = model.size;
  const alus = atBothWidths(
    ALU_OPS,
    (op) => only === undefined || only.alu.includes(op),
    (op, wide) => model.aluTable(op, wide),
  );
  const jumps = atBothWidths(
    JMP_OPS,
    () => only === undefined || only.refine,
    (op, wide) => model.jumpTable(op, wide),
  );
  let pairs = 0;
  let concrete = 0;
  const found = (
    op: string,
    a: Scalar,
    b: Scalar,
    x: number,
    y: number,
    detail: string,
  ): ExhaustiveReport => ({
    pairs,
    concrete,
    counterexample: { op, a, b, x: BigInt(x), y: BigInt(y), detail },
  });
  // abstract inputs outermost, so a bug in any operation shows up as early as any other
  for (const a of as) {
    const xs = members(a);
    for (const wide of only === undefined || only.refine ? [true, false] : []) {
      const inside = model.inside(D.neg(a, wide));
      const table = model.aluTable(0x10, wide);
      pairs++;
      for (const x of xs) {
        concrete++;
        const c = table[x] as number; // 0 - x
        if (!inside(c)) return found(wide ? 'neg' : 'neg32', a, a, x, 0, `-${x} = ${c}`);
      }
    }
    for (const b of bs) {
      const ys = members(b);
      for (const { name, op, wide, table } of alus) {
        const r = D[transfer](op, a, b, wide);
        const inside = model.inside(r);
        pairs++;
        for (const x of xs)
          for (const y of ys) {
            concrete++;
            const c = table[x * size + y] as number;
            if (!inside(c))
              return found(
                name,
                a,
                b,
                x,
                y,
                `${x} ${name} ${y} = ${c}, outside ${show(r)} (a ${show(a)}, b ${show(b)})`,
              );
          }
      }
      for (const { name, op, wide, table } of jumps) {
        const [t, f] = D.refine(op, a, b, wide);
        const sides = [
          f === undefined ? undefined : [model.inside(f[0]), model.inside(f[1])],
          t === undefined ? undefined : [model.inside(t[0]), model.inside(t[1])],
        ] as const;
        pairs++;
        for (const x of xs)
          for (const y of ys) {
            concrete++;
            const taken = table[x * size + y] as number;
            const side = sides[taken];
            const where = taken === 1 ? 'taken' : 'fall-through';
            if (side === undefined)
              return found(name, a, b, x, y, `${x} ${name} ${y} goes ${where}, a side known not to run`);
            if (!(side[0] as (v: number) => boolean)(x) || !(side[1] as (v: number) => boolean)(y))
              return found(
                name,
                a,
                b,
                x,
                y,
                `${x} ${name} ${y} (${where}): a value outside its refined pair (a ${show(a)}, b ${show(b)})`,
              );
          }
      }
    }
  }
  return { pairs, concrete };
}

function show(s: Scalar): string {
  return `{value ${s.value}, mask ${s.mask}, u [${s.umin}, ${s.umax}], s [${s.smin}, ${s.smax}]}`;
}

/** An abstract value with some of its concrete values. */
interface Sampled {
  readonly s: Scalar;
  readonly xs: readonly bigint[];
}

/** A random full-width abstract value, built around a concrete value biased to edges, with members. */
function sample(D: ScalarDomain, next: () => number): Sampled {
  const bits = BigInt(D.bits);
  const rand = (): bigint => {
    let v = 0n;
    for (let i = 0n; i < bits; i += 32n) v = (v << 32n) | BigInt(next() >>> 0);
    return BigInt.asUintN(D.bits, v);
  };
  const sign = 1n << (bits - 1n);
  const edges = [0n, 1n, sign - 1n, sign, (1n << bits) - 1n, 0xffffffffn, 0x80000000n, 0x7fffffffn];
  const near = (): bigint => {
    const base = edges[next() % edges.length] as bigint;
    return BigInt.asUintN(D.bits, base + BigInt((next() % 33) - 16));
  };
  const x0 = next() % 3 === 0 ? rand() : near();
  const top = D.unknown();
  let s: Scalar;
  switch (next() % 4) {
    case 0:
      s = D.known(x0);
      break;
    case 1: {
      const mask = rand() & rand() & (next() % 2 === 0 ? 0xffffffffn : (1n << bits) - 1n);
      s = D.meet({ ...top, value: x0 & ~mask, mask }, {});
      break;
    }
    case 2: {
      const span = rand() >> BigInt(next() % D.bits);
      const lo = x0 > span ? x0 - span : 0n;
      const hi = x0 + span > (1n << bits) - 1n ? (1n << bits) - 1n : x0 + span;
      s = D.meet(top, { umin: lo, umax: hi });
      break;
    }
    default: {
      const sx = BigInt.asIntN(D.bits, x0);
      const span = rand() >> BigInt(1 + (next() % (D.bits - 1)));
      const lo = sx - span < -sign ? -sign : sx - span;
      const hi = sx + span > sign - 1n ? sign - 1n : sx + span;
      s = D.meet(top, { smin: lo, smax: hi });
    }
  }
  const xs = [x0];
  for (let i = 0; i < 12 && xs.length < 6; i++) {
    const c =
      next() % 2 === 0
        ? s.value | (rand() & s.mask)
        : s.umin + (s.umax > s.umin ? rand() % (s.umax - s.umin + 1n) : 0n);
    if (D.contains(s, c)) xs.push(c);
  }
  return { s, xs };
}

function constant(D: ScalarDomain, c: bigint): Sampled {
  return { s: D.known(c), xs: [c] };
}

/** Every operation of a table that `keep` keeps, at 64 and at 32 bits, with what `tableOf` gives. */
function atBothWidths<T>(
  ops: Readonly<Record<string, number>>,
  keep: (op: number) => boolean,
  tableOf: (op: number, wide: boolean) => T,
): { name: string; op: number; wide: boolean; table: T }[] {
  return Object.entries(ops)
    .filter(([, op]) => keep(op))
    .flatMap(([name, op]) =>
      [true, false].map((wide) => ({ name: wide ? name : `${name}32`, op, wide, table: tableOf(op, wide) })),
    );
}

/** A counterexample of operation `name` (named `name32` at 32 bits). */
function counterexample(
  name: string,
  wide: boolean,
  a: Scalar,
  b: Scalar,
  x: bigint,
  y: bigint,
  detail: string,
): Counterexample {
  return { op: wide ? name : `${name}32`, a, b, x, y, detail };
}

/**
 * Checks every ALU transfer, negation and branch refinement at full width on `count` random pairs
 * of abstract values, each with a few of its concrete values. Returns the first counterexample.
 */
export function checkRandom(D: ScalarDomain, seed: number, count: number): Counterexample | undefined {
  const rng = new Rng(seed);
  const next = () => rng.next();
  for (let i = 0; i < count; i++) {
    const a = sample(D, next);
    // b is an abstract value or, half the time, one constant (what a BPF_K operand is)
    const b = next() % 2 === 0 ? sample(D, next) : constant(D, sample(D, next).xs[0] as bigint);
    for (const wide of [true, false]) {
      for (const [name, op] of Object.entries(ALU_OPS)) {
        const r = D.transfer(op, a.s, b.s, wide);
        for (const x of a.xs)
          for (const y of b.xs) {
            const c = concreteAlu(D.bits, op, x, y, wide);
            if (!D.contains(r, c))
              return counterexample(
                name,
                wide,
                a.s,
                b.s,
                x,
                y,
                `${x} ${name} ${y} = ${c}, outside ${show(r)}`,
              );
          }
      }
      const n = D.neg(a.s, wide);
      for (const x of a.xs) {
        const c = concreteAlu(D.bits, 0x10, 0n, x, wide);
        if (!D.contains(n, c)) return counterexample('neg', wide, a.s, a.s, x, 0n, `-${x} = ${c}`);
      }
      for (const [name, op] of Object.entries(JMP_OPS)) {
        const sides = D.refine(op, a.s, b.s, wide);
        for (const x of a.xs)
          for (const y of b.xs) {
            const taken = concreteJump(D.bits, op, x, y, wide);
            const side = sides[taken ? 0 : 1];
            if (side === undefined || !D.contains(side[0], x) || !D.contains(side[1], y))
              return counterexample(
                name,
                wide,
                a.s,
                b.s,
                x,
                y,
                `${x} ${name} ${y} goes ${taken ? 'taken' : 'fall-through'}: ${side === undefined ? 'a side known not to run' : 'outside its refined pair'}`,
              );
          }
      }
    }
  }
  return undefined;
}
