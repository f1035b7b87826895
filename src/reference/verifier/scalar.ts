/**
 * What the verifier knows of a scalar: a tracked number (known bits) and unsigned and signed 64-bit
 * bounds, kept consistent with each other as Linux's `__update_reg_bounds` and
 * `__reg_deduce_bounds` do. Every operation over-approximates: it may lose precision, never soundness.
 *
 * @module
 */

const U64 = (1n << 64n) - 1n;
const S64_MIN = -(1n << 63n);
const S64_MAX = (1n << 63n) - 1n;
const U32 = 0xffffffffn;

/** A scalar's known bits and bounds (all values bigint, unsigned bounds as u64, signed as s64). */
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

const s64 = (v: bigint) => BigInt.asIntN(64, v);
const u64 = (v: bigint) => BigInt.asUintN(64, v);
const minB = (a: bigint, b: bigint) => (a < b ? a : b);
const maxB = (a: bigint, b: bigint) => (a > b ? a : b);

/** The number of significant bits of a u64 (0 for 0), from two 32-bit halves. */
function bitLength(x: bigint): number {
  const hi = Number(x >> 32n);
  return hi !== 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(Number(x & U32));
}

/** Tightens bounds from bits and bits from bounds (one round is enough for these uses). */
function normalize(s: Scalar): Scalar {
  let { value, mask, umin, umax, smin, smax } = s;
  // bounds from known bits
  umin = maxB(umin, value);
  umax = minB(umax, value | mask);
  const sminBits = s64(value | (mask & (1n << 63n)));
  const smaxBits = s64(value | (mask & ~(1n << 63n)));
  smin = maxB(smin, sminBits);
  smax = minB(smax, smaxBits);
  // signed from unsigned when the sign is known
  if (s64(umin) >= 0n && s64(umax) >= 0n) {
    smin = maxB(smin, umin);
    smax = minB(smax, umax);
  } else if (s64(umin) < 0n && s64(umax) < 0n) {
    smin = maxB(smin, s64(umin));
    smax = minB(smax, s64(umax));
  }
  // unsigned from signed when the sign is known
  if (smin >= 0n) {
    umin = maxB(umin, smin);
    umax = minB(umax, smax);
  } else if (smax < 0n) {
    umin = maxB(umin, u64(smin));
    umax = minB(umax, u64(smax));
  }
  // known bits from a bounded unsigned range: the common high bits of umin and umax
  if (umin === umax) {
    value = umin;
    mask = 0n;
  } else {
    const diff = umin ^ umax;
    const top = BigInt(bitLength(diff));
    const high = U64 & ~((1n << top) - 1n);
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
  smin = maxB(smin, s64(value | (mask & (1n << 63n))));
  smax = minB(smax, s64(value | (mask & ~(1n << 63n))));
  return { value, mask, umin, umax, smin, smax };
}

/** A known constant (taken modulo 2^64). */
export function known(v: bigint): Scalar {
  const u = u64(v);
  return { value: u, mask: 0n, umin: u, umax: u, smin: s64(u), smax: s64(u) };
}

/** Nothing known. */
export function unknown(): Scalar {
  return { value: 0n, mask: U64, umin: 0n, umax: U64, smin: S64_MIN, smax: S64_MAX };
}

/** Any value in [0, max] (max unsigned). */
export function upTo(max: bigint): Scalar {
  const bits = BigInt(bitLength(max));
  // a range reaching 2^63 includes values whose sign bit is set: nothing is known of the sign
  const signed = max > S64_MAX ? { smin: S64_MIN, smax: S64_MAX } : { smin: 0n, smax: max };
  return normalize({ value: 0n, mask: (1n << bits) - 1n, umin: 0n, umax: max, ...signed });
}

/** Whether the scalar is a single known value. */
export function isConst(s: Scalar): boolean {
  return s.mask === 0n;
}

/** The low 32 bits, zero-extended (what an ALU32 result or a 32-bit load leaves). */
export function zext32(s: Scalar): Scalar {
  if (s.umax <= U32) return s;
  if (isConst(s)) return known(s.value & U32);
  return normalize({ value: s.value & U32, mask: s.mask & U32, umin: 0n, umax: U32, smin: 0n, smax: U32 });
}

function fromTnum(value: bigint, mask: bigint): Scalar {
  return normalize({ value: value & ~mask, mask, umin: 0n, umax: U64, smin: S64_MIN, smax: S64_MAX });
}

/** tnum addition. */
function tnumAdd(a: Scalar, b: Scalar): [bigint, bigint] {
  const sm = u64(a.mask + b.mask);
  const sv = u64(a.value + b.value);
  const sigma = u64(sm + sv);
  const chi = sigma ^ sv;
  const mu = chi | a.mask | b.mask;
  return [sv & ~mu, mu];
}

function tnumSub(a: Scalar, b: Scalar): [bigint, bigint] {
  const dv = u64(a.value - b.value);
  const alpha = u64(dv + a.mask);
  const beta = u64(dv - b.mask);
  const chi = alpha ^ beta;
  const mu = chi | a.mask | b.mask;
  return [dv & ~mu, mu];
}

/** a + b over u64 with bounds when nothing overflows. */
export function add(a: Scalar, b: Scalar): Scalar {
  if (isConst(a) && isConst(b)) return known(a.value + b.value);
  const [v, m] = tnumAdd(a, b);
  const r = fromTnum(v, m);
  const umin = a.umin + b.umin;
  const umax = a.umax + b.umax;
  const smin = a.smin + b.smin;
  const smax = a.smax + b.smax;
  return normalize({
    ...r,
    umin: umax > U64 ? r.umin : maxB(r.umin, umin),
    umax: umax > U64 ? r.umax : minB(r.umax, umax),
    smin: smin < S64_MIN || smax > S64_MAX ? r.smin : maxB(r.smin, smin),
    smax: smin < S64_MIN || smax > S64_MAX ? r.smax : minB(r.smax, smax),
  });
}

/** a - b. */
export function sub(a: Scalar, b: Scalar): Scalar {
  if (isConst(a) && isConst(b)) return known(a.value - b.value);
  const [v, m] = tnumSub(a, b);
  const r = fromTnum(v, m);
  const uok = a.umin >= b.umax;
  const smin = a.smin - b.smax;
  const smax = a.smax - b.smin;
  const sok = smin >= S64_MIN && smax <= S64_MAX;
  return normalize({
    ...r,
    umin: uok ? maxB(r.umin, a.umin - b.umax) : r.umin,
    umax: uok ? minB(r.umax, a.umax - b.umin) : r.umax,
    smin: sok ? maxB(r.smin, smin) : r.smin,
    smax: sok ? minB(r.smax, smax) : r.smax,
  });
}

/** The result of a binary ALU operation on scalars (64-bit, or 32-bit with `wide` false). */
export function alu(op: number, a0: Scalar, b0: Scalar, wide: boolean): Scalar {
  const a = wide ? a0 : zext32(a0);
  const b = wide ? b0 : zext32(b0);
  const bits = wide ? 64n : 32n;
  const trunc = (s: Scalar) => (wide ? s : zext32(s));
  if (isConst(a) && isConst(b)) {
    const x = a.value;
    const y = b.value;
    const W = (v: bigint) => BigInt.asUintN(Number(bits), v);
    const S = (v: bigint) => BigInt.asIntN(Number(bits), v);
    switch (op) {
      case 0x00:
        return known(W(x + y));
      case 0x10:
        return known(W(x - y));
      case 0x20:
        return known(W(x * y));
      case 0x30:
        return known(y === 0n ? 0n : W(x) / W(y));
      case 0x40:
        return known(x | y);
      case 0x50:
        return known(x & y);
      case 0x60:
        return known(W(x << (y & (bits - 1n))));
      case 0x70:
        return known(W(x) >> (y & (bits - 1n)));
      case 0x90:
        return known(y === 0n ? W(x) : W(x) % W(y));
      case 0xa0:
        return known(x ^ y);
      case 0xb0:
        return known(W(y));
      case 0xc0:
        return known(W(S(x) >> (y & (bits - 1n))));
    }
  }
  switch (op) {
    case 0x00:
      return trunc(add(a, b));
    case 0x10:
      return trunc(sub(a, b));
    case 0x50: {
      const value = a.value & b.value;
      const mask = (a.mask | a.value) & (b.mask | b.value) & ~value;
      const r = fromTnum(value, mask);
      const umax = minB(a.umax, b.umax);
      return trunc(normalize({ ...r, umax: minB(r.umax, umax) }));
    }
    case 0x40: {
      const value = a.value | b.value;
      const mask = (a.mask | b.mask) & ~value;
      return trunc(fromTnum(value, mask));
    }
    case 0xa0: {
      const value = a.value ^ b.value;
      const mask = a.mask | b.mask;
      return trunc(fromTnum(value & ~mask, mask));
    }
    case 0x60:
      if (isConst(b)) {
        const n = b.value & (bits - 1n);
        const r = fromTnum(u64(a.value << n) & (wide ? U64 : U32), u64(a.mask << n) & (wide ? U64 : U32));
        if (a.umax << n <= (wide ? U64 : U32))
          return trunc(normalize({ ...r, umin: maxB(r.umin, a.umin << n), umax: minB(r.umax, a.umax << n) }));
        return trunc(r);
      }
      return wide ? unknown() : upTo(U32);
    case 0x70:
      if (isConst(b)) {
        const n = b.value & (bits - 1n);
        const r = fromTnum(a.value >> n, a.mask >> n);
        return trunc(normalize({ ...r, umin: maxB(r.umin, a.umin >> n), umax: minB(r.umax, a.umax >> n) }));
      }
      return wide ? upTo(a.umax) : upTo(minB(a.umax, U32));
    case 0x30:
      return wide ? upTo(a.umax) : upTo(minB(a.umax, U32));
    case 0x90:
      return wide ? upTo(a.umax) : upTo(minB(a.umax, U32));
    case 0xb0:
      return trunc(b);
    default:
      return wide ? unknown() : upTo(U32);
  }
}

/** -a. */
export function neg(a: Scalar, wide: boolean): Scalar {
  const r = sub(known(0n), wide ? a : zext32(a));
  return wide ? r : zext32(r);
}

/** Bounds meet (used when a branch teaches a range). */
export function meet(s: Scalar, bounds: Partial<Pick<Scalar, 'umin' | 'umax' | 'smin' | 'smax'>>): Scalar {
  return normalize({
    ...s,
    umin: bounds.umin === undefined ? s.umin : maxB(s.umin, bounds.umin),
    umax: bounds.umax === undefined ? s.umax : minB(s.umax, bounds.umax),
    smin: bounds.smin === undefined ? s.smin : maxB(s.smin, bounds.smin),
    smax: bounds.smax === undefined ? s.smax : minB(s.smax, bounds.smax),
  });
}

/**
 * Linux's test for an ALU operand from a dead branch: contradictory bounds, or known bits that
 * name one value while the bounds name several.
 */
export function invalidBounds(s: Scalar): boolean {
  return s.umin > s.umax || s.smin > s.smax || (isConst(s) && (s.umin !== s.umax || s.smin !== s.smax));
}

/** Whether the bounds are contradictory (an impossible branch). */
export function empty(s: Scalar): boolean {
  return s.umin > s.umax || s.smin > s.smax;
}

/** Whether every value `b` can take, `a` can take too (for state pruning). */
export function includes(a: Scalar, b: Scalar): boolean {
  return (
    a.umin <= b.umin &&
    a.umax >= b.umax &&
    a.smin <= b.smin &&
    a.smax >= b.smax &&
    (b.mask & ~a.mask) === 0n &&
    (b.value & ~a.mask) === (a.value & ~a.mask)
  );
}

/** A short text of the scalar for logs. */
export function describeScalar(s: Scalar): string {
  if (isConst(s)) return String(s64(s.value));
  return `scalar(umin=${s.umin},umax=${s.umax})`;
}

/** Whether nothing at all is known (Linux's `__is_scalar_unbounded`). */
export function isUnbounded(s: Scalar): boolean {
  return s.umin === 0n && s.umax === U64 && s.smin === S64_MIN && s.smax === S64_MAX;
}

/**
 * The value a load of `size` bytes leaves (Linux's `coerce_reg_to_size`): the low bytes,
 * zero-extended; bounds kept when the high bytes are the same across the range.
 */
export function coerce(s: Scalar, size: number): Scalar {
  if (size >= 8) return s;
  const mask = (1n << BigInt(size * 8)) - 1n;
  const sameHigh = (s.umin & ~mask) === (s.umax & ~mask);
  const umin = sameHigh ? s.umin & mask : 0n;
  const umax = sameHigh ? s.umax & mask : mask;
  return normalize({ value: s.value & mask, mask: s.mask & mask, umin, umax, smin: umin, smax: umax });
}
