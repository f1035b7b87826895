// Instruction arbitraries shared by the engine's property tests.
import fc from 'fast-check';
import type { BpfInsn } from '../../src/codec/index.js';

export const reg = fc.integer({ min: 0, max: 10 });
export const wreg = fc.integer({ min: 0, max: 9 });
export const off = fc.integer({ min: -32768, max: 32767 });
export const imm = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
export const I = (code: number, dst_reg: number, src_reg: number, o: number, i: number): BpfInsn => ({
  code,
  dst_reg,
  src_reg,
  off: o,
  imm: i,
});

const aluOps = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0, 0xb0, 0xc0];
const jmpOps = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0];

/** Every canonical instruction form, with `offs` controlling jump and memory offsets. */
export function formWith(
  offs: fc.Arbitrary<number>,
  imms: fc.Arbitrary<number> = imm,
): fc.Arbitrary<BpfInsn[]> {
  return fc.oneof(
    fc
      .tuple(fc.constantFrom(0x04, 0x07), fc.constantFrom(...aluOps), wreg, imms)
      .map(([c, op, d, i]) => [I(c | op, d, 0, 0, i)]),
    fc
      .tuple(fc.constantFrom(0x0c, 0x0f), fc.constantFrom(...aluOps), wreg, reg)
      .map(([c, op, d, s]) => [I(c | op, d, s, 0, 0)]),
    fc
      .tuple(fc.constantFrom(0x34, 0x3c, 0x94, 0x9c, 0x37, 0x3f, 0x97, 0x9f), wreg, reg, imms)
      .map(([c, d, s, i]) => [I(c, d, c & 8 ? s : 0, 1, c & 8 ? 0 : i)]),
    fc.tuple(fc.constantFrom(0x84, 0x87), wreg).map(([c, d]) => [I(c, d, 0, 0, 0)]),
    fc
      .tuple(fc.constantFrom(0xd4, 0xdc, 0xd7), wreg, fc.constantFrom(16, 32, 64))
      .map(([c, d, w]) => [I(c, d, 0, 0, w)]),
    fc
      .tuple(fc.constantFrom([0xbc, 8], [0xbc, 16], [0xbf, 8], [0xbf, 16], [0xbf, 32]), wreg, reg)
      .map(([[c, o], d, s]) => [I(c as number, d, s, o as number, 0)]),
    fc
      .tuple(fc.constantFrom(0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91), wreg, reg, offs)
      .map(([c, d, s, o]) => [I(c, d, s, o, 0)]),
    fc
      .tuple(fc.constantFrom(0x62, 0x6a, 0x72, 0x7a), reg, offs, imms)
      .map(([c, d, o, i]) => [I(c, d, 0, o, i)]),
    fc
      .tuple(fc.constantFrom(0x63, 0x6b, 0x73, 0x7b), reg, reg, offs)
      .map(([c, d, s, o]) => [I(c, d, s, o, 0)]),
    fc
      .tuple(
        fc.constantFrom(0xc3, 0xdb),
        reg,
        reg,
        offs,
        fc.constantFrom(0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1),
      )
      .map(([c, d, s, o, i]) => [I(c, d, s, o, i)]),
    fc
      .tuple(fc.constantFrom(0x05, 0x06), fc.constantFrom(...jmpOps), reg, imms, offs)
      .map(([c, op, d, i, o]) => [I(c | op, d, 0, o, i)]),
    fc
      .tuple(fc.constantFrom(0x0d, 0x0e), fc.constantFrom(...jmpOps), reg, reg, offs)
      .map(([c, op, d, s, o]) => [I(c | op, d, s, o, 0)]),
    offs.map((o) => [I(0x05, 0, 0, o, 0)]),
    offs.map((i) => [I(0x06, 0, 0, 0, i)]),
    imms.map((i) => [I(0x85, 0, 0, 0, i)]),
    offs.map((i) => [I(0x85, 0, 1, 0, i)]),
    reg.map((d) => [I(0x8d, d, 0, 0, 0)]),
    fc.constant(0).map(() => [I(0x95, 0, 0, 0, 0)]),
    fc.tuple(wreg, imm, imm).map(([d, lo, hi]) => [I(0x18, d, 0, 0, lo), I(0, 0, 0, 0, hi)]),
    fc.tuple(wreg, fc.nat()).map(([d, h]) => [I(0x18, d, 1, 0, h), I(0, 0, 0, 0, 0)]),
    fc.tuple(wreg, fc.nat(), fc.nat()).map(([d, h, o]) => [I(0x18, d, 2, 0, h), I(0, 0, 0, 0, o)]),
  );
}

/** Every canonical form with full-range offsets and immediates. */
export const form = formWith(off);
