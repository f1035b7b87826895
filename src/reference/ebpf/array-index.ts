/**
 * The keys of the array-like maps (the arrays, the program array): a 4-byte little-endian index,
 * and their iteration order, every index below `max_entries`.
 *
 * @module
 */
import { Errno } from '../../codec/index.js';

/** The index a 4-byte little-endian key at `bytes[at]` names. */
export function indexAt(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] as number) |
      ((bytes[at + 1] as number) << 8) |
      ((bytes[at + 2] as number) << 16) |
      ((bytes[at + 3] as number) << 24)) >>>
    0
  );
}

/** The key of index `i`. */
export function indexKey(i: number): Uint8Array {
  return Uint8Array.of(i & 0xff, (i >>> 8) & 0xff, (i >>> 16) & 0xff, i >>> 24);
}

/** An array's get-next-key: the index after `key`, from 0 when `key` is null or out of range. */
export function nextIndexKey(key: Uint8Array | null, maxEntries: number): Uint8Array | number {
  const i = key === null ? maxEntries : indexAt(key, 0);
  const next = i >= maxEntries ? 0 : i + 1;
  return next >= maxEntries ? Errno.ENOENT : indexKey(next);
}
