/**
 * Pre-decoded programs: instruction slots split into typed arrays once, so the interpreter's hot
 * loop reads plain array elements. Anything the interpreter cannot run (a register above 10, a write
 * to r10, a jump out of the program, a malformed `ld_imm64`) is turned into an invalid slot whose
 * reason is kept; executing it faults, so dead code costs nothing and live code cannot escape.
 *
 * @module
 */
import { isLdImm64SecondSlot, type BpfInsn } from '../../codec/index.js';
import { Alu, Cls, Jmp, Mode, OPCODE_MASK, Size } from './opcodes.js';
import type { Pair } from './arith.js';

/** Resolves a `ld_imm64` pseudo source (map handle or map value) to the 64-bit value it loads. */
export type PseudoResolver = (srcReg: number, imm: number, nextImm: number) => Pair | string;

/** A program ready to run. */
export interface DecodedProgram {
  /** Number of slots (a sentinel invalid slot follows them). */
  readonly length: number;
  /** Opcodes (0 for invalid slots). */
  readonly code: Uint8Array;
  /** Destination registers. */
  readonly dst: Uint8Array;
  /** Source registers. */
  readonly src: Uint8Array;
  /** Offsets. */
  readonly off: Int16Array;
  /** Immediates. */
  readonly imm: Int32Array;
  /** For `ld_imm64`: the upper and lower words of the value loaded. */
  readonly wideHi: Int32Array;
  /** See `wideHi`. */
  readonly wideLo: Int32Array;
  /** Why a slot is invalid (its code is rewritten to 0), by slot index. */
  readonly invalid: ReadonlyMap<number, string>;
  /** The slots as given. */
  readonly insns: readonly BpfInsn[];
}

/** Opcode 0 (`LD | IMM | W`) is undefined in eBPF; invalid slots are rewritten to it. */
export const INVALID_OPCODE = 0;

function writesDst(code: number): boolean {
  const cls = code & OPCODE_MASK.CLASS;
  if (cls === Cls.ALU || cls === Cls.ALU64 || cls === Cls.LDX) return true;
  return code === (Cls.LD | Mode.IMM | Size.DW);
}

function readsDst(code: number): boolean {
  const cls = code & OPCODE_MASK.CLASS;
  return (
    cls === Cls.ST ||
    cls === Cls.STX ||
    cls === Cls.JMP ||
    cls === Cls.JMP32 ||
    cls === Cls.ALU ||
    cls === Cls.ALU64
  );
}

/** The reason a slot cannot run, or undefined when it can. */
function slotProblem(insns: readonly BpfInsn[], pc: number): string | undefined {
  const insn = insns[pc] as BpfInsn;
  const { code, dst_reg: dst, src_reg: src, off, imm } = insn;
  const cls = code & OPCODE_MASK.CLASS;
  if (dst > 10) return `register r${dst} does not exist`;
  if (src > 10 && !(code === (Cls.LD | Mode.IMM | Size.DW) || code === (Cls.JMP | Jmp.CALL))) {
    return `register r${src} does not exist`;
  }
  if (dst === 10 && writesDst(code)) return 'r10 is read-only';
  if (
    (cls === Cls.JMP || cls === Cls.JMP32) &&
    (code & OPCODE_MASK.OPERATION) !== Jmp.CALL &&
    (code & OPCODE_MASK.OPERATION) !== Jmp.EXIT
  ) {
    const rel = code === (Cls.JMP32 | Jmp.JA) ? imm : off;
    const target = pc + rel + 1;
    if (target < 0 || target >= insns.length) return `jump to ${target} leaves the program`;
  }
  if (code === (Cls.JMP | Jmp.CALL) && src === 1) {
    const target = pc + imm + 1;
    if (target < 0 || target >= insns.length) return `call to ${target} leaves the program`;
  }
  if (cls === Cls.ALU || cls === Cls.ALU64) {
    const op = code & OPCODE_MASK.OPERATION;
    if (op === Alu.DIV || op === Alu.MOD) {
      if (off !== 0 && off !== 1) return 'division offset must be 0 or 1';
    } else if (op === Alu.MOV && (code & 8) !== 0) {
      const allowed = cls === Cls.ALU64 ? [0, 8, 16, 32] : [0, 8, 16];
      if (!allowed.includes(off)) return `mov offset ${off} is not defined`;
    } else if (op === Alu.END) {
      if (imm !== 16 && imm !== 32 && imm !== 64) return `byte swap width ${imm} is not defined`;
      if (cls === Cls.ALU64 && (code & 8) !== 0) return 'bswap has no register form';
    } else if (op > Alu.END) {
      return `ALU operation 0x${op.toString(16)} is not defined`;
    }
  }
  if (readsDst(code) && dst > 10) return `register r${dst} does not exist`;
  return undefined;
}

/** Pre-decodes instruction slots; `resolve` gives the value of each pseudo `ld_imm64`. */
export function decodeProgram(insns: readonly BpfInsn[], resolve?: PseudoResolver): DecodedProgram {
  const n = insns.length;
  const code = new Uint8Array(n + 1);
  const dst = new Uint8Array(n + 1);
  const src = new Uint8Array(n + 1);
  const off = new Int16Array(n + 1);
  const imm = new Int32Array(n + 1);
  const wideHi = new Int32Array(n + 1);
  const wideLo = new Int32Array(n + 1);
  const invalid = new Map<number, string>();
  for (let pc = 0; pc < n; pc++) {
    const insn = insns[pc] as BpfInsn;
    code[pc] = insn.code;
    dst[pc] = insn.dst_reg;
    src[pc] = insn.src_reg;
    off[pc] = insn.off;
    imm[pc] = insn.imm;
    let problem = slotProblem(insns, pc);
    if (problem === undefined && insn.code === (Cls.LD | Mode.IMM | Size.DW)) {
      const next = insns[pc + 1];
      if (next === undefined || !isLdImm64SecondSlot(next)) {
        problem = 'ld_imm64 needs a second slot with only imm set';
      } else if (insn.src_reg === 0) {
        wideHi[pc] = next.imm;
        wideLo[pc] = insn.imm;
      } else {
        const value =
          resolve === undefined
            ? `ld_imm64 pseudo source ${insn.src_reg} has no resolver`
            : resolve(insn.src_reg, insn.imm, next.imm);
        if (typeof value === 'string') problem = value;
        else {
          wideHi[pc] = value.hi;
          wideLo[pc] = value.lo;
        }
      }
      if (problem === undefined) {
        pc++; // the second slot is data; reaching it by a jump faults (its code stays 0)
        invalid.set(pc, 'jump into the second slot of ld_imm64');
        continue;
      }
    }
    if (problem !== undefined) {
      code[pc] = INVALID_OPCODE;
      invalid.set(pc, problem);
    }
  }
  invalid.set(n, 'execution fell off the end of the program');
  return { length: n, code, dst, src, off, imm, wideHi, wideLo, invalid, insns };
}
