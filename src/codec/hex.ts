/**
 * Hex strings, the form bytes take in vectors, JSON and on the command line.
 *
 * @module
 */

/** Lowercase hex of a byte string, no separators. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/**
 * Parses hex (either case; spaces, tabs, newlines and colons between bytes are ignored). Returns
 * undefined when the text is not an even number of hex digits, so callers can report it their way.
 *
 * @example
 * ```ts
 * parseHex('0a:02 07'); // Uint8Array [ 10, 2, 7 ]
 * parseHex('0a0'); // undefined
 * ```
 */
export function parseHex(text: string): Uint8Array | undefined {
  const clean = text.replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) return undefined;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}
