/**
 * Programs as raw bytes: 8-byte little-endian `struct bpf_insn` slots, through the codec.
 *
 * @module
 */
import { bpfInsn, CodecError, newDecodeStream, type BpfInsn } from '../../codec/index.js';

/** Decodes a byte string of whole instruction slots; a partial slot is a {@link CodecError}. */
export function slotsFromBytes(bytes: Uint8Array): BpfInsn[] {
  if (bytes.length % 8 !== 0) {
    throw new CodecError(
      'truncated',
      'insns',
      bytes.length - (bytes.length % 8),
      'a program is a whole number of 8-byte slots',
    );
  }
  const stream = newDecodeStream(bytes);
  const out: BpfInsn[] = [];
  while (stream.pos < bytes.length) out.push(bpfInsn.decodeAt(stream));
  return out;
}

/** Encodes instruction slots as bytes. */
export function slotsToBytes(insns: readonly BpfInsn[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  insns.forEach((insn, i) => out.set(bpfInsn.encode(insn), i * 8));
  return out;
}
