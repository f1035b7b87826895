/**
 * The verifier's abstract domain of scalars, for any register width: a tracked number (known bits)
 * and unsigned and signed bounds, kept consistent with each other as Linux's `__update_reg_bounds`,
 * `__reg_deduce_bounds` and `__reg_bound_offset` do, with the ALU transfer functions and branch
 * refinement at Linux 6.1's precision. Every operation over-approximates: it may lose precision,
 * never soundness.
 *
 * The verifier uses the 64-bit instance (with 32-bit subregister operations at half width). The
 * same code at 8 bits (4-bit "subregisters") is small enough to check exhaustively against
 * concrete arithmetic, after "Verifying the Verifier: eBPF Range Analysis Verification" (CAV 2023).
 *
 * @module
 */
import { Alu, Jmp } from '../ebpf/opcodes.js';

/** A scalar's known bits and bounds (unsigned bounds as unsigned, signed as signed, of the width). */
export interface Scalar {
  /** Bits known to be 1. */
  readonly value: bigint;
  /** Bits not known (1 = unknown). */
  readonly mask: bigint;
  /** Smallest value, unsigned. */
  readonly umin: bigint;
  /** Largest value, unsigned. */
  readonly umax: bigint;
  /** Smallest value, signed. */
  readonly smin: bigint;
  /** Largest value, signed. */
  readonly smax: bigint;
}

/** Bounds a branch may teach. */
export type Bounds = Partial<Pick<Scalar, 'umin' | 'umax' | 'smin' | 'smax'>>;

/** What a comparison leaves on each side: the refined pair, or undefined when the side cannot run. */
export type Refinement = [[Scalar, Scalar] | undefined, [Scalar, Scalar] | undefined];

/** The domain at one width. */
export interface ScalarDomain {
  /** The width in bits. */
  readonly bits: number;
  /** A known constant (taken modulo 2^bits). */
  readonly known: (v: bigint) => Scalar;
  /** Nothing known. */
  readonly unknown: () => Scalar;
  /** Any value in [0, max] (max unsigned). */
  readonly upTo: (max: bigint) => Scalar;
  /** Whether the scalar is a single known value. */
  readonly isConst: (s: Scalar) => boolean;
  /** The low half, zero-extended (what a subregister result or a half-width load leaves). */
  readonly zextHalf: (s: Scalar) => Scalar;
  /** a + b. */
  readonly add: (a: Scalar, b: Scalar) => Scalar;
  /** a - b. */
  readonly sub: (a: Scalar, b: Scalar) => Scalar;
  /** A binary ALU operation (BPF op code) on scalars, full width or (`wide` false) half width. */
  readonly alu: (op: number, a: Scalar, b: Scalar, wide: boolean) => Scalar;
  /** The ALU result with Linux 6.1's precision (what the verifier uses for scalar ALU instructions). */
  readonly transfer: (op: number, dst: Scalar, src: Scalar, wide: boolean) => Scalar;
  /** -a. */
  readonly neg: (a: Scalar, wide: boolean) => Scalar;
  /** Bounds meet. */
  readonly meet: (s: Scalar, bounds: Bounds) => Scalar;
  /** Whether the bounds are contradictory. */
  readonly empty: (s: Scalar) => boolean;
  /** Linux's test for an operand from a dead branch (contradictory bounds, or bits and bounds disagree). */
  readonly invalidBounds: (s: Scalar) => boolean;
  /** Whether every value `b` can take, `a` can take too. */
  readonly includes: (a: Scalar, b: Scalar) => boolean;
  /** Whether nothing at all is known. */
  readonly isUnbounded: (s: Scalar) => boolean;
  /** The value a load of `size` bytes leaves: the low bytes, zero-extended. */
  readonly coerce: (s: Scalar, size: number) => Scalar;
  /** A conditional jump (BPF op code) of `a` against `b`, full or half width: what each side learns. */
  readonly refine: (op: number, a: Scalar, b: Scalar, wide: boolean) => Refinement;
  /** Whether the concrete value `x` (unsigned, of the width) is one the scalar describes. */
  readonly contains: (s: Scalar, x: bigint) => boolean;
}

/** Bounds of a low half: unsigned min and max, signed min and max. */
type LowBounds = [bigint, bigint, bigint, bigint];

const minB = (a: bigint, b: bigint) => (a < b ? a : b);
const maxB = (a: bigint, b: bigint) => (a > b ? a : b);

/** The number of significant bits of a non-negative value below 2^64 (0 for 0). */
function bitLength(x: bigint): number {
  const hi = Number(x >> 32n);
  return hi !== 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(Number(x & 0xffffffffn));
}

/** The domain at `bits` bits (an even width up to 64). */
export function scalarDomain(bits: number): ScalarDomain {
  const B = BigInt(bits);
  const HB = B / 2n;
  const U = (1n << B) - 1n;
  const SIGN = 1n << (B - 1n);
  const SMIN = -SIGN;
  const SMAX = SIGN - 1n;
  const H = (1n << HB) - 1n;
  const HSMAX = (1n << (HB - 1n)) - 1n;
  const s = (v: bigint) => BigInt.asIntN(bits, v);
  const u = (v: bigint) => BigInt.asUintN(bits, v);

  /** Tightens bounds from bits and bits from bounds, then bounds from the bits learned. */
  function normalize(x: Scalar): Scalar {
    let { value, mask, umin, umax, smin, smax } = x;
    umin = maxB(umin, value);
    umax = minB(umax, value | mask);
    smin = maxB(smin, s(value | (mask & SIGN)));
    smax = minB(smax, s(value | (mask & ~SIGN & U)));
    // signed from unsigned when the sign is known
    if (umax <= SMAX) {
      smin = maxB(smin, umin);
      smax = minB(smax, umax);
    } else if (umin > SMAX) {
      smin = maxB(smin, s(umin));
      smax = minB(smax, s(umax));
    }
    // unsigned from signed when the sign is known
    if (smin >= 0n) {
      umin = maxB(umin, smin);
      umax = minB(umax, smax);
    } else if (smax < 0n) {
      umin = maxB(umin, u(smin));
      umax = minB(umax, u(smax));
    }
    // known bits from a bounded unsigned range: the common high bits of umin and umax
    if (umin === umax) {
      value = umin;
      mask = 0n;
    } else {
      const top = BigInt(bitLength(u(umin ^ umax)));
      const high = U & ~((1n << top) - 1n);
      const knownHigh = umin & high;
      const newMask = mask & ~high;
      if ((value & high) === knownHigh || (mask & high) !== 0n) {
        value = (value & ~high) | knownHigh;
        mask = newMask;
      }
    }
    // bounds from the bits just learned (the last __update_reg_bounds of Linux's reg_bounds_sync)
    umin = maxB(umin, value);
    umax = minB(umax, value | mask);
    smin = maxB(smin, s(value | (mask & SIGN)));
    smax = minB(smax, s(value | (mask & ~SIGN & U)));
    return { value, mask, umin, umax, smin, smax };
  }

  function known(v: bigint): Scalar {
    const x = u(v);
    return { value: x, mask: 0n, umin: x, umax: x, smin: s(x), smax: s(x) };
  }

  function unknown(): Scalar {
    return { value: 0n, mask: U, umin: 0n, umax: U, smin: SMIN, smax: SMAX };
  }

  function upTo(max: bigint): Scalar {
    const width = BigInt(bitLength(max));
    // a range reaching the sign bit includes values whose sign bit is set: nothing is known of the sign
    const signed = max > SMAX ? { smin: SMIN, smax: SMAX } : { smin: 0n, smax: max };
    return normalize({ value: 0n, mask: (1n << width) - 1n, umin: 0n, umax: max, ...signed });
  }

  function isConst(x: Scalar): boolean {
    return x.mask === 0n;
  }

  function zextHalf(x: Scalar): Scalar {
    if (x.umax <= H) return x;
    if (isConst(x)) return known(x.value & H);
    return normalize({ value: x.value & H, mask: x.mask & H, umin: 0n, umax: H, smin: 0n, smax: H });
  }

  function fromTnum(value: bigint, mask: bigint): Scalar {
    return normalize({ value: value & ~mask, mask, umin: 0n, umax: U, smin: SMIN, smax: SMAX });
  }

  function add(a: Scalar, b: Scalar): Scalar {
    if (isConst(a) && isConst(b)) return known(a.value + b.value);
    const sm = u(a.mask + b.mask);
    const sv = u(a.value + b.value);
    const mu = (u(sm + sv) ^ sv) | a.mask | b.mask;
    const umax = a.umax + b.umax;
    return withRanges(sv & ~mu, mu, umax <= U, a.umin + b.umin, umax, a.smin + b.smin, a.smax + b.smax);
  }

  function sub(a: Scalar, b: Scalar): Scalar {
    if (isConst(a) && isConst(b)) return known(a.value - b.value);
    const dv = u(a.value - b.value);
    const mu = (u(dv + a.mask) ^ u(dv - b.mask)) | a.mask | b.mask;
    const uok = a.umin >= b.umax;
    return withRanges(dv & ~mu, mu, uok, a.umin - b.umax, a.umax - b.umin, a.smin - b.smax, a.smax - b.smin);
  }

  /**
   * The result of add or sub: its known bits, and the ranges computed without wrapping, each kept
   * only when it did not wrap (unsigned when `uok`, signed when inside the signed range); the one
   * normalisation derives the rest from the bits.
   */
  function withRanges(
    value: bigint,
    mask: bigint,
    uok: boolean,
    umin: bigint,
    umax: bigint,
    smin: bigint,
    smax: bigint,
  ): Scalar {
    const sok = smin >= SMIN && smax <= SMAX;
    return normalize({
      value,
      mask,
      umin: uok ? maxB(0n, umin) : 0n,
      umax: uok ? minB(U, umax) : U,
      smin: sok ? maxB(SMIN, smin) : SMIN,
      smax: sok ? minB(SMAX, smax) : SMAX,
    });
  }

  function constAlu(op: number, x: bigint, y: bigint, wide: boolean): Scalar | undefined {
    const w = wide ? bits : bits / 2;
    const width = BigInt(w);
    switch (op) {
      case Alu.ADD:
        return known(BigInt.asUintN(w, x + y));
      case Alu.SUB:
        return known(BigInt.asUintN(w, x - y));
      case Alu.MUL:
        return known(BigInt.asUintN(w, x * y));
      case Alu.DIV:
        return known(y === 0n ? 0n : BigInt.asUintN(w, x) / BigInt.asUintN(w, y));
      case Alu.OR:
        return known(x | y);
      case Alu.AND:
        return known(x & y);
      case Alu.LSH:
        return known(BigInt.asUintN(w, x << (y & (width - 1n))));
      case Alu.RSH:
        return known(BigInt.asUintN(w, x) >> (y & (width - 1n)));
      case Alu.MOD:
        return known(y === 0n ? BigInt.asUintN(w, x) : BigInt.asUintN(w, x) % BigInt.asUintN(w, y));
      case Alu.XOR:
        return known(x ^ y);
      case Alu.MOV:
        return known(BigInt.asUintN(w, y));
      case Alu.ARSH:
        return known(BigInt.asUintN(w, BigInt.asIntN(w, x) >> (y & (width - 1n))));
    }
    return undefined;
  }

  /**
   * Known bits of a product (the tnum multiplication of Vishwanathan et al., as Linux's tnum_mul):
   * the product of the known parts, plus, for each bit of `a` that is 1 or unknown, `b` shifted
   * there counted as unknown; `top` masks to the operation's width.
   */
  function tnumMul(a: Scalar, b: Scalar, top: bigint): [bigint, bigint] {
    const product = (a.value * b.value) & top;
    let accValue = 0n;
    let accMask = 0n;
    let av = a.value;
    let am = a.mask;
    let bv = b.value;
    let bm = b.mask;
    while (av !== 0n || am !== 0n) {
      const add = (av & 1n) !== 0n ? bm : (am & 1n) !== 0n ? bv | bm : -1n;
      if (add >= 0n) [accValue, accMask] = tnumAddRaw(accValue, accMask, 0n, add, top);
      av >>= 1n;
      am >>= 1n;
      bv = (bv << 1n) & top;
      bm = (bm << 1n) & top;
    }
    return tnumAddRaw(product, 0n, accValue, accMask, top);
  }

  /** tnum addition of (av, am) and (bv, bm) at the width `top` masks to. */
  function tnumAddRaw(av: bigint, am: bigint, bv: bigint, bm: bigint, top: bigint): [bigint, bigint] {
    const sm = (am + bm) & top;
    const sv = (av + bv) & top;
    const mu = (((sm + sv) & top) ^ sv) | am | bm;
    return [sv & ~mu, mu];
  }

  /** The result as the operation's width leaves it (zero-extended for half width). */
  function truncTo(wide: boolean, x: Scalar): Scalar {
    return wide ? x : zextHalf(x);
  }

  function alu(op: number, a0: Scalar, b0: Scalar, wide: boolean): Scalar {
    const a = wide ? a0 : zextHalf(a0);
    const b = wide ? b0 : zextHalf(b0);
    const top = wide ? U : H;
    const width = wide ? B : HB;
    if (isConst(a) && isConst(b)) {
      const c = constAlu(op, a.value, b.value, wide);
      if (c !== undefined) return c;
    }
    switch (op) {
      case Alu.ADD:
        return truncTo(wide, add(a, b));
      case Alu.SUB:
        return truncTo(wide, sub(a, b));
      case Alu.AND: {
        const value = a.value & b.value;
        const mask = (a.mask | a.value) & (b.mask | b.value) & ~value;
        const r = fromTnum(value, mask);
        return truncTo(wide, normalize({ ...r, umax: minB(r.umax, minB(a.umax, b.umax)) }));
      }
      case Alu.MUL: {
        // known bits by tnum multiplication; Linux's scalar_min_max_mul: bounds only for
        // non-negative factors that cannot overflow
        const [value, mask] = tnumMul(a, b, top);
        const r = fromTnum(value, mask);
        const limit = wide ? H : (1n << (HB / 2n)) - 1n;
        if (a.smin < 0n || b.smin < 0n || a.umax > limit || b.umax > limit) return truncTo(wide, r);
        return truncTo(wide, meet(r, { umin: a.umin * b.umin, umax: a.umax * b.umax }));
      }
      case Alu.OR: {
        const value = a.value | b.value;
        return truncTo(wide, fromTnum(value, (a.mask | b.mask) & ~value));
      }
      case Alu.XOR: {
        const mask = a.mask | b.mask;
        return truncTo(wide, fromTnum((a.value ^ b.value) & ~mask, mask));
      }
      case Alu.LSH:
        if (isConst(b)) {
          const n = b.value & (width - 1n);
          const r = fromTnum(u(a.value << n) & top, u(a.mask << n) & top);
          if (a.umax << n <= top)
            return truncTo(
              wide,
              normalize({ ...r, umin: maxB(r.umin, a.umin << n), umax: minB(r.umax, a.umax << n) }),
            );
          return truncTo(wide, r);
        }
        return wide ? unknown() : upTo(H);
      case Alu.RSH:
        if (isConst(b)) {
          const n = b.value & (width - 1n);
          const r = fromTnum(a.value >> n, a.mask >> n);
          return truncTo(
            wide,
            normalize({ ...r, umin: maxB(r.umin, a.umin >> n), umax: minB(r.umax, a.umax >> n) }),
          );
        }
        return upTo(minB(a.umax, top));
      case Alu.DIV:
      case Alu.MOD:
        return upTo(minB(a.umax, top));
      case Alu.MOV:
        return truncTo(wide, b);
      case Alu.ARSH:
        if (isConst(b)) {
          // Linux's scalar_min_max_arsh: signed bounds and known bits shift, with the sign
          const w = wide ? bits : bits / 2;
          const n = b.value & (width - 1n);
          const mask = BigInt.asUintN(w, BigInt.asIntN(w, a.mask) >> n);
          const value = BigInt.asUintN(w, BigInt.asIntN(w, a.value) >> n) & ~mask;
          const low = lowBounds(a);
          const [s0, s1] = wide ? [a.smin, a.smax] : a.umax <= HSMAX ? [a.umin, a.umax] : [low[2], low[3]];
          const lo = s0 >> n;
          const hi = s1 >> n;
          const r = fromTnum(value, mask);
          if (wide) return meet(r, { smin: lo, smax: hi });
          if (lo >= 0n) return meet(r, { umin: lo, umax: hi });
          if (hi < 0n) return meet(r, { umin: BigInt.asUintN(w, lo), umax: BigInt.asUintN(w, hi) });
          return r;
        }
        return wide ? unknown() : upTo(H);
      default:
        return wide ? unknown() : upTo(H);
    }
  }

  function invalidBounds(x: Scalar): boolean {
    return x.umin > x.umax || x.smin > x.smax || (isConst(x) && (x.umin !== x.umax || x.smin !== x.smax));
  }

  function transfer(op: number, dst: Scalar, src: Scalar, wide: boolean): Scalar {
    // a source with contradictory bounds comes from a dead branch: Linux taints the result
    // (half-width bounds are not tracked, so only full-width operations see it)
    if (wide && invalidBounds(src)) return unknown();
    // 6.1 tracks a register operand that is not a constant only through add, sub and and
    // (anything else makes the destination unknown, all of it, as adjust_scalar_min_max_vals
    // returns before zero-extending); division and modulo are never tracked
    const srcKnown = isConst(wide ? src : zextHalf(src));
    if (!srcKnown && op !== Alu.ADD && op !== Alu.SUB && op !== Alu.AND) return unknown();
    if (op === Alu.DIV || op === Alu.MOD) return wide ? unknown() : zextHalf(unknown());
    return alu(op, dst, src, wide);
  }

  function neg(a: Scalar, wide: boolean): Scalar {
    const r = sub(known(0n), wide ? a : zextHalf(a));
    return wide ? r : zextHalf(r);
  }

  function meet(x: Scalar, bounds: Bounds): Scalar {
    return normalize({
      ...x,
      umin: bounds.umin === undefined ? x.umin : maxB(x.umin, bounds.umin),
      umax: bounds.umax === undefined ? x.umax : minB(x.umax, bounds.umax),
      smin: bounds.smin === undefined ? x.smin : maxB(x.smin, bounds.smin),
      smax: bounds.smax === undefined ? x.smax : minB(x.smax, bounds.smax),
    });
  }

  function empty(x: Scalar): boolean {
    return x.umin > x.umax || x.smin > x.smax;
  }

  function includes(a: Scalar, b: Scalar): boolean {
    return (
      a.umin <= b.umin &&
      a.umax >= b.umax &&
      a.smin <= b.smin &&
      a.smax >= b.smax &&
      (b.mask & ~a.mask) === 0n &&
      (b.value & ~a.mask) === (a.value & ~a.mask)
    );
  }

  function isUnbounded(x: Scalar): boolean {
    return x.umin === 0n && x.umax === U && x.smin === SMIN && x.smax === SMAX;
  }

  function coerce(x: Scalar, size: number): Scalar {
    if (size * 8 >= bits) return x;
    const mask = (1n << BigInt(size * 8)) - 1n;
    const sameHigh = (x.umin & ~mask) === (x.umax & ~mask);
    const umin = sameHigh ? x.umin & mask : 0n;
    const umax = sameHigh ? x.umax & mask : mask;
    return normalize({ value: x.value & mask, mask: x.mask & mask, umin, umax, smin: umin, smax: umax });
  }

  function compareHalf(op: number, a: bigint, b: bigint): boolean {
    const sa = BigInt.asIntN(bits / 2, a);
    const sb = BigInt.asIntN(bits / 2, b);
    switch (op) {
      case Jmp.JEQ:
        return a === b;
      case Jmp.JNE:
        return a !== b;
      case Jmp.JGT:
        return a > b;
      case Jmp.JGE:
        return a >= b;
      case Jmp.JLT:
        return a < b;
      case Jmp.JLE:
        return a <= b;
      case Jmp.JSGT:
        return sa > sb;
      case Jmp.JSGE:
        return sa >= sb;
      case Jmp.JSLT:
        return sa < sb;
      case Jmp.JSLE:
        return sa <= sb;
      default:
        return (a & b) !== 0n;
    }
  }

  function refine(op: number, a0: Scalar, b0: Scalar, wide: boolean): Refinement {
    const sides = refineFull(op, a0, b0, wide);
    if (wide) return sides;
    // a half-width comparison compares b's low half only: b itself learns nothing
    const [t, f] = sides;
    return [t === undefined ? undefined : [t[0], b0], f === undefined ? undefined : [f[0], b0]];
  }

  /** BPF_JSET against a constant: decided by known bits; the fall-through learns the bits are clear. */
  function jset(a: Scalar, b: Scalar, wide: boolean): Refinement {
    if (!isConst(b))
      return [
        [a, b],
        [a, b],
      ];
    const v = wide ? b.value : b.value & H;
    if ((a.value & ~a.mask & v) !== 0n) return [[a, b], undefined];
    if (((a.mask | a.value) & v) === 0n) return [undefined, [a, b]];
    const fall = meet({ ...a, value: a.value & ~v, mask: a.mask & ~v }, {});
    // one bit tested and set: that bit is known (Linux learns it only for a power of two)
    const single = (v & (v - 1n)) === 0n;
    const taken = single ? meet({ ...a, value: a.value | v, mask: a.mask & ~v }, {}) : a;
    return [
      [taken, b],
      [fall, b],
    ];
  }

  /** The low half's bounds that its known bits alone give (unsigned, signed). */
  function lowBounds(a: Scalar): [bigint, bigint, bigint, bigint] {
    const sign = 1n << (HB - 1n);
    const value = a.value & H;
    const mask = a.mask & H;
    const sh = (v: bigint) => BigInt.asIntN(bits / 2, v);
    return [value, value | mask, sh(value | (mask & sign)), sh(value | (mask & ~sign))];
  }

  /**
   * Linux's `is_branch32_taken` for a constant: whether a half-width comparison always (true) or
   * never (false) holds, from the low half's known bits; undefined when both can happen.
   */
  function decideHalf(op: number, a: Scalar, v: bigint): boolean | undefined {
    if ((a.mask & H) === 0n) return compareHalf(op, a.value & H, v);
    const [umin, umax, smin, smax] = lowBounds(a);
    const sv = BigInt.asIntN(bits / 2, v);
    switch (op) {
      case Jmp.JGT:
        return umin > v ? true : umax <= v ? false : undefined;
      case Jmp.JGE:
        return umin >= v ? true : umax < v ? false : undefined;
      case Jmp.JLT:
        return umax < v ? true : umin >= v ? false : undefined;
      case Jmp.JLE:
        return umax <= v ? true : umin > v ? false : undefined;
      case Jmp.JSGT:
        return smin > sv ? true : smax <= sv ? false : undefined;
      case Jmp.JSGE:
        return smin >= sv ? true : smax < sv ? false : undefined;
      case Jmp.JSLT:
        return smax < sv ? true : smin >= sv ? false : undefined;
      case Jmp.JSLE:
        return smax <= sv ? true : smin > sv ? false : undefined;
      default:
        return undefined;
    }
  }

  /** Low-half bounds [umin, umax, smin, smax] on each side of a half-width comparison with `v`. */
  function lowSides(op: number, a: Scalar, v: bigint): [LowBounds, LowBounds] {
    const [umin, umax, smin, smax] = lowBounds(a);
    const sv = BigInt.asIntN(bits / 2, v);
    const side = (u0: bigint, u1: bigint, s0: bigint, s1: bigint): LowBounds => [
      maxB(umin, u0),
      minB(umax, u1),
      maxB(smin, s0),
      minB(smax, s1),
    ];
    const all = side(0n, H, -HSMAX - 1n, HSMAX);
    switch (op) {
      case Jmp.JGT:
        return [side(v + 1n, H, -HSMAX - 1n, HSMAX), side(0n, v, -HSMAX - 1n, HSMAX)];
      case Jmp.JGE:
        return [side(v, H, -HSMAX - 1n, HSMAX), side(0n, v - 1n, -HSMAX - 1n, HSMAX)];
      case Jmp.JLT:
        return [side(0n, v - 1n, -HSMAX - 1n, HSMAX), side(v, H, -HSMAX - 1n, HSMAX)];
      case Jmp.JLE:
        return [side(0n, v, -HSMAX - 1n, HSMAX), side(v + 1n, H, -HSMAX - 1n, HSMAX)];
      case Jmp.JSGT:
        return [side(0n, H, sv + 1n, HSMAX), side(0n, H, -HSMAX - 1n, sv)];
      case Jmp.JSGE:
        return [side(0n, H, sv, HSMAX), side(0n, H, -HSMAX - 1n, sv - 1n)];
      case Jmp.JSLT:
        return [side(0n, H, -HSMAX - 1n, sv - 1n), side(0n, H, sv, HSMAX)];
      case Jmp.JSLE:
        return [side(0n, H, -HSMAX - 1n, sv), side(0n, H, sv + 1n, HSMAX)];
      default:
        return [all, all];
    }
  }

  /**
   * `a` with its low half's known bits intersected with what low-half bounds say (Linux's
   * __reg32_deduce_bounds, then __reg_bound_offset's tnum_range for the subregister).
   */
  function withLow(a: Scalar, low: LowBounds): Scalar {
    let [umin, umax] = low;
    const [, , smin, smax] = low;
    // signed bounds that do not cross the sign give unsigned ones
    if (smin >= 0n || smax < 0n) {
      umin = maxB(umin, BigInt.asUintN(bits / 2, smin));
      umax = minB(umax, BigInt.asUintN(bits / 2, smax));
    }
    if (umin > umax) return meet(a, { umin: 1n, umax: 0n }); // a dead side: contradictory, as Linux leaves it
    const span = BigInt(bitLength(umin ^ umax));
    const rangeMask = (1n << span) - 1n;
    const rangeValue = umin & ~rangeMask;
    const lowValue = a.value & H;
    const lowMask = a.mask & H;
    const mask = lowMask & rangeMask;
    const value = (lowValue | rangeValue) & ~mask;
    // with the upper half zero the whole value is its low half: its bounds hold for all of it
    // (Linux's __reg_combine_32_into_64)
    const whole = a.umax <= H ? { umin, umax } : {};
    return meet({ ...a, value: (a.value & ~H) | value, mask: (a.mask & ~H) | mask }, whole);
  }

  /** A side that learns `bounds` (contradictory bounds stay, as in Linux: the side is dead). */
  function keep(b: Scalar, x: Scalar, bounds: Bounds): [Scalar, Scalar] {
    return [meet(x, bounds), b];
  }

  /** A comparison whose outcome is known. */
  function decided(a: Scalar, b: Scalar, t: boolean): Refinement {
    return t ? [[a, b], undefined] : [undefined, [a, b]];
  }

  function refineFull(op: number, a0: Scalar, b0: Scalar, wide: boolean): Refinement {
    const both: Refinement = [
      [a0, b0],
      [a0, b0],
    ];
    if (op === Jmp.JSET) return jset(a0, b0, wide);
    const a = a0;
    let b = b0;
    if (!wide) {
      if (isConst(a0) && isConst(b0)) {
        const t = compareHalf(op, a0.value & H, b0.value & H);
        return t ? [[a0, b0], undefined] : [undefined, [a0, b0]];
      }
      if (!isConst(b0)) return both;
      const signedOp = op === Jmp.JSGT || op === Jmp.JSGE || op === Jmp.JSLT || op === Jmp.JSLE;
      if (a0.umax > H || (signedOp && a0.umax > HSMAX)) {
        // the upper half may be set, or the low half's sign: the low half's known bits decide,
        // and each side learns known bits of the low half only (Linux's 32-bit bounds, as far as
        // its tnum keeps them)
        const v = b0.value & H;
        const t = decideHalf(op, a0, v);
        if (t !== undefined) return t ? [[a0, b0], undefined] : [undefined, [a0, b0]];
        if (op === Jmp.JEQ || op === Jmp.JNE) {
          // equality sets the low half, whatever its known bits said (__mark_reg32_known)
          const eq = meet({ ...a0, value: (a0.value & ~H) | v, mask: a0.mask & ~H }, {});
          return op === Jmp.JEQ ? [[eq, b0], both[1]] : [both[0], [eq, b0]];
        }
        const [takenLow, fallLow] = lowSides(op, a0, v);
        return [
          [withLow(a0, takenLow), b0],
          [withLow(a0, fallLow), b0],
        ];
      }
      b = known(signedOp ? BigInt.asIntN(bits / 2, b0.value & H) : b0.value & H);
    }
    if (!isConst(b)) {
      // no constant on the right: only equality teaches something (reg_combine_min_max)
      if (isConst(a) || (op !== Jmp.JEQ && op !== Jmp.JNE)) return both;
      const lo = maxB(a.umin, b.umin);
      const hi = minB(a.umax, b.umax);
      const eqA = meet(a, { umin: lo, umax: hi });
      const eqB = meet(b, { umin: lo, umax: hi });
      const eq: [Scalar, Scalar] = empty(eqA) || empty(eqB) ? [a, b] : [eqA, eqB];
      return op === Jmp.JEQ ? [eq, [a, b]] : [[a, b], eq];
    }
    const v = b.value;
    const sv = s(v);
    // contradictory bounds stay, as in Linux: the branch is dead, and arithmetic with them taints
    switch (op) {
      case Jmp.JEQ: // ==
      case Jmp.JNE: {
        if (isConst(a)) return decided(a, b, (a.value === v) === (op === Jmp.JEQ));
        const eq: [Scalar, Scalar] = [known(v), b];
        return op === Jmp.JEQ ? [eq, [a, b]] : [[a, b], eq];
      }
      case Jmp.JGT: // >
        if (a.umin > v) return decided(a, b, true);
        if (a.umax <= v) return decided(a, b, false);
        return [keep(b, a, { umin: v + 1n }), keep(b, a, { umax: v })];
      case Jmp.JGE: // >=
        if (a.umin >= v) return decided(a, b, true);
        if (a.umax < v) return decided(a, b, false);
        return [keep(b, a, { umin: v }), keep(b, a, { umax: v - 1n })];
      case Jmp.JLT: // <
        if (a.umax < v) return decided(a, b, true);
        if (a.umin >= v) return decided(a, b, false);
        return [keep(b, a, { umax: v - 1n }), keep(b, a, { umin: v })];
      case Jmp.JLE: // <=
        if (a.umax <= v) return decided(a, b, true);
        if (a.umin > v) return decided(a, b, false);
        return [keep(b, a, { umax: v }), keep(b, a, { umin: v + 1n })];
      case Jmp.JSGT: // s>
        if (a.smin > sv) return decided(a, b, true);
        if (a.smax <= sv) return decided(a, b, false);
        return [keep(b, a, { smin: sv + 1n }), keep(b, a, { smax: sv })];
      case Jmp.JSGE: // s>=
        if (a.smin >= sv) return decided(a, b, true);
        if (a.smax < sv) return decided(a, b, false);
        return [keep(b, a, { smin: sv }), keep(b, a, { smax: sv - 1n })];
      case Jmp.JSLT: // s<
        if (a.smax < sv) return decided(a, b, true);
        if (a.smin >= sv) return decided(a, b, false);
        return [keep(b, a, { smax: sv - 1n }), keep(b, a, { smin: sv })];
      case Jmp.JSLE: // s<=
        if (a.smax <= sv) return decided(a, b, true);
        if (a.smin > sv) return decided(a, b, false);
        return [keep(b, a, { smax: sv }), keep(b, a, { smin: sv + 1n })];
    }
    return both;
  }

  function contains(x: Scalar, c: bigint): boolean {
    return (c & ~x.mask) === x.value && c >= x.umin && c <= x.umax && s(c) >= x.smin && s(c) <= x.smax;
  }

  return {
    bits,
    known,
    unknown,
    upTo,
    isConst,
    zextHalf,
    add,
    sub,
    alu,
    transfer,
    neg,
    meet,
    empty,
    invalidBounds,
    includes,
    isUnbounded,
    coerce,
    refine,
    contains,
  };
}
