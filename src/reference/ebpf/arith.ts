/**
 * 64-bit arithmetic on (hi, lo) pairs of 32-bit words, exact, without floating-point shortcuts. The
 * common operations stay on 32-bit integers; 64-bit division and remainder, which XDP programs rarely
 * execute, go through bigint.
 *
 * @module
 */

/** A 64-bit result, written into a reusable pair to avoid allocation. */
export interface Pair {
  /** Upper 32 bits. */
  hi: number;
  /** Lower 32 bits. */
  lo: number;
}

/** Low 64 bits of a × b. */
export function mul64(ahi: number, alo: number, bhi: number, blo: number, out: Pair): void {
  const a0 = alo & 0xffff;
  const a1 = alo >>> 16;
  const b0 = blo & 0xffff;
  const b1 = blo >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  out.lo = ((mid & 0xffff) << 16) | (p00 & 0xffff);
  const carry = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  out.hi = (carry + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
}

const MASK64 = (1n << 64n) - 1n;

/** The unsigned 64-bit value of a pair. */
export function toU64(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** The signed 64-bit value of a pair. */
export function toS64(hi: number, lo: number): bigint {
  return BigInt.asIntN(64, toU64(hi, lo));
}

/** Writes a bigint (taken modulo 2^64) into a pair. */
export function fromBig(v: bigint, out: Pair): void {
  const u = v & MASK64;
  out.hi = Number(u >> 32n) | 0;
  out.lo = Number(u & 0xffffffffn) | 0;
}

/**
 * RFC 9669 division and remainder, 64-bit. Unsigned: x / 0 = 0, x % 0 = x. Signed (SDIV/SMOD):
 * truncating, x / 0 = 0, x % 0 = x, and INT64_MIN / -1 = INT64_MIN (wraps), INT64_MIN % -1 = 0.
 */
export function divmod64(
  ahi: number,
  alo: number,
  bhi: number,
  blo: number,
  signed: boolean,
  mod: boolean,
  out: Pair,
): void {
  if (bhi === 0 && blo === 0) {
    if (mod) {
      out.hi = ahi;
      out.lo = alo;
    } else {
      out.hi = 0;
      out.lo = 0;
    }
    return;
  }
  if (!signed && ahi === 0 && bhi === 0) {
    const a = alo >>> 0;
    const b = blo >>> 0;
    out.hi = 0;
    out.lo = (mod ? a % b : Math.floor(a / b)) | 0;
    return;
  }
  const a = signed ? toS64(ahi, alo) : toU64(ahi, alo);
  const b = signed ? toS64(bhi, blo) : toU64(bhi, blo);
  fromBig(mod ? a % b : a / b, out); // bigint division truncates, as the RFC requires
}

/** RFC 9669 division and remainder, 32-bit (results are zero-extended by the caller). */
export function divmod32(a: number, b: number, signed: boolean, mod: boolean): number {
  if (b === 0) return mod ? a : 0;
  if (!signed) {
    const ua = a >>> 0;
    const ub = b >>> 0;
    return (mod ? ua % ub : Math.floor(ua / ub)) | 0;
  }
  const sa = a | 0;
  const sb = b | 0;
  if (sb === -1) return mod ? 0 : -sa | 0;
  return (mod ? sa % sb : Math.trunc(sa / sb)) | 0;
}

/** 64-bit shifts by n (already masked to 0..63). */
export function shl64(hi: number, lo: number, n: number, out: Pair): void {
  if (n === 0) {
    out.hi = hi;
    out.lo = lo;
  } else if (n < 32) {
    out.hi = (hi << n) | (lo >>> (32 - n));
    out.lo = lo << n;
  } else {
    out.hi = lo << (n - 32);
    out.lo = 0;
  }
}

/** Logical right shift. */
export function shr64(hi: number, lo: number, n: number, out: Pair): void {
  if (n === 0) {
    out.hi = hi;
    out.lo = lo;
  } else if (n < 32) {
    out.lo = (lo >>> n) | (hi << (32 - n));
    out.hi = hi >>> n;
  } else {
    out.lo = hi >>> (n - 32);
    out.hi = 0;
  }
  out.hi |= 0;
  out.lo |= 0;
}

/** Arithmetic right shift. */
export function sar64(hi: number, lo: number, n: number, out: Pair): void {
  if (n === 0) {
    out.hi = hi;
    out.lo = lo;
  } else if (n < 32) {
    out.lo = (lo >>> n) | (hi << (32 - n)) | 0;
    out.hi = hi >> n;
  } else {
    out.lo = hi >> (n - 32);
    out.hi = hi >> 31;
  }
}

/** Reverses the byte order of a 16-bit value. */
export function bswap16(v: number): number {
  return ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
}

/** Reverses the byte order of a 32-bit value. */
export function bswap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | ((v >>> 24) & 0xff) | 0;
}

/** Unsigned comparison of two pairs: negative, zero or positive. */
export function cmpU64(ahi: number, alo: number, bhi: number, blo: number): number {
  const h = (ahi >>> 0) - (bhi >>> 0);
  return h !== 0 ? h : (alo >>> 0) - (blo >>> 0);
}

/** Signed comparison of two pairs. */
export function cmpS64(ahi: number, alo: number, bhi: number, blo: number): number {
  const h = (ahi | 0) - (bhi | 0);
  return h !== 0 ? h : (alo >>> 0) - (blo >>> 0);
}
