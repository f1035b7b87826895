/**
 * The eBPF instruction encoding (RFC 9669 section 3 and 4, plus the Linux extensions the engine
 * runs): instruction classes, operation codes, sizes and modes.
 *
 * @module
 */

/** Instruction classes (the low three bits of the opcode). */
export const Cls = {
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  JMP32: 0x06,
  ALU64: 0x07,
} as const;

/** Source bit of ALU and JMP opcodes: K uses `imm`, X uses `src_reg`. */
export const Src = { K: 0x00, X: 0x08 } as const;

/** ALU operations (the high four bits). */
export const Alu = {
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  MOD: 0x90,
  XOR: 0xa0,
  MOV: 0xb0,
  ARSH: 0xc0,
  END: 0xd0,
} as const;

/** How LLVM's assembly and the verifier's log write each two-operand ALU operation (`r1 += r2`). */
export const ALU_SYMBOLS: Readonly<Record<number, string>> = {
  [Alu.ADD]: '+=',
  [Alu.SUB]: '-=',
  [Alu.MUL]: '*=',
  [Alu.DIV]: '/=',
  [Alu.OR]: '|=',
  [Alu.AND]: '&=',
  [Alu.LSH]: '<<=',
  [Alu.RSH]: '>>=',
  [Alu.MOD]: '%=',
  [Alu.XOR]: '^=',
  [Alu.ARSH]: 's>>=',
};

/** JMP operations (the high four bits). */
export const Jmp = {
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  JNE: 0x50,
  JSGT: 0x60,
  JSGE: 0x70,
  CALL: 0x80,
  EXIT: 0x90,
  JLT: 0xa0,
  JLE: 0xb0,
  JSLT: 0xc0,
  JSLE: 0xd0,
} as const;

/** Load/store sizes. */
export const Size = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;

/** Load/store modes. */
export const Mode = { IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, MEMSX: 0x80, ATOMIC: 0xc0 } as const;

/** Atomic operations (in `imm`). */
export const Atomic = {
  ADD: 0x00,
  OR: 0x40,
  AND: 0x50,
  XOR: 0xa0,
  FETCH: 0x01,
  XCHG: 0xe1,
  CMPXCHG: 0xf1,
} as const;

/** Bytes moved by each size code. */
export function sizeBytes(code: number): 1 | 2 | 4 | 8 {
  switch (code & 0x18) {
    case Size.B:
      return 1;
    case Size.H:
      return 2;
    case Size.W:
      return 4;
    default:
      return 8;
  }
}

/** Maximum number of nested bpf-to-bpf call frames (Linux `MAX_CALL_FRAMES`). */
export const MAX_CALL_FRAMES = 8;

/** Bytes of stack per frame (Linux `MAX_BPF_STACK`). */
export const STACK_SIZE = 512;
