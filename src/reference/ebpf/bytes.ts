/**
 * Programs as raw bytes: 8-byte little-endian `struct bpf_insn` slots, through the codec.
 *
 * @module
 */
import { bpfInsn, CodecError, type BpfInsn } from '../../codec/index.js';

/**
 * Decodes a byte string of whole instruction slots.
 *
 * @throws CodecError (`truncated`) for a partial slot.
 */
export function slotsFromBytes(bytes: Uint8Array): BpfInsn[] {
  if (bytes.length % 8 !== 0) {
    throw new CodecError(
      'truncated',
      'insns',
      bytes.length - (bytes.length % 8),
      'a program is a whole number of 8-byte slots',
    );
  }
  // The layout of `bpf_insn` read directly (a test checks it against the codec's decoder on random
  // slots): objects files can hold a million slots, and the generic decoder costs microseconds each.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: BpfInsn[] = new Array<BpfInsn>(bytes.length / 8);
  for (let i = 0, at = 0; at < bytes.length; i++, at += 8) {
    const regs = bytes[at + 1] as number;
    out[i] = {
      code: bytes[at] as number,
      dst_reg: regs & 0x0f,
      src_reg: regs >>> 4,
      off: view.getInt16(at + 2, true),
      imm: view.getInt32(at + 4, true),
    };
  }
  return out;
}

/** Encodes instruction slots as bytes. */
export function slotsToBytes(insns: readonly BpfInsn[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  insns.forEach((insn, i) => out.set(bpfInsn.encode(insn), i * 8));
  return out;
}
