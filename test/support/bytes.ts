// Byte helpers shared by tests.

/** `n` as the 4 little-endian bytes of an array index or a u32 hash key. */
export const le32Bytes = (n: number): Uint8Array =>
  Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
