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

/**
 * Every opcode the engine knows, by its full name (one name per opcode byte): the one table the
 * interpreter, the verifier, the assembler and the disassembler name opcodes from.
 */
export const Op = {
  // ALU64 and ALU (32-bit): `_IMM` takes imm, `_REG` takes src_reg
  ADD64_IMM: Cls.ALU64 | Alu.ADD | Src.K,
  ADD64_REG: Cls.ALU64 | Alu.ADD | Src.X,
  ADD32_IMM: Cls.ALU | Alu.ADD | Src.K,
  ADD32_REG: Cls.ALU | Alu.ADD | Src.X,
  SUB64_IMM: Cls.ALU64 | Alu.SUB | Src.K,
  SUB64_REG: Cls.ALU64 | Alu.SUB | Src.X,
  SUB32_IMM: Cls.ALU | Alu.SUB | Src.K,
  SUB32_REG: Cls.ALU | Alu.SUB | Src.X,
  MUL64_IMM: Cls.ALU64 | Alu.MUL | Src.K,
  MUL64_REG: Cls.ALU64 | Alu.MUL | Src.X,
  MUL32_IMM: Cls.ALU | Alu.MUL | Src.K,
  MUL32_REG: Cls.ALU | Alu.MUL | Src.X,
  DIV64_IMM: Cls.ALU64 | Alu.DIV | Src.K,
  DIV64_REG: Cls.ALU64 | Alu.DIV | Src.X,
  DIV32_IMM: Cls.ALU | Alu.DIV | Src.K,
  DIV32_REG: Cls.ALU | Alu.DIV | Src.X,
  OR64_IMM: Cls.ALU64 | Alu.OR | Src.K,
  OR64_REG: Cls.ALU64 | Alu.OR | Src.X,
  OR32_IMM: Cls.ALU | Alu.OR | Src.K,
  OR32_REG: Cls.ALU | Alu.OR | Src.X,
  AND64_IMM: Cls.ALU64 | Alu.AND | Src.K,
  AND64_REG: Cls.ALU64 | Alu.AND | Src.X,
  AND32_IMM: Cls.ALU | Alu.AND | Src.K,
  AND32_REG: Cls.ALU | Alu.AND | Src.X,
  LSH64_IMM: Cls.ALU64 | Alu.LSH | Src.K,
  LSH64_REG: Cls.ALU64 | Alu.LSH | Src.X,
  LSH32_IMM: Cls.ALU | Alu.LSH | Src.K,
  LSH32_REG: Cls.ALU | Alu.LSH | Src.X,
  RSH64_IMM: Cls.ALU64 | Alu.RSH | Src.K,
  RSH64_REG: Cls.ALU64 | Alu.RSH | Src.X,
  RSH32_IMM: Cls.ALU | Alu.RSH | Src.K,
  RSH32_REG: Cls.ALU | Alu.RSH | Src.X,
  MOD64_IMM: Cls.ALU64 | Alu.MOD | Src.K,
  MOD64_REG: Cls.ALU64 | Alu.MOD | Src.X,
  MOD32_IMM: Cls.ALU | Alu.MOD | Src.K,
  MOD32_REG: Cls.ALU | Alu.MOD | Src.X,
  XOR64_IMM: Cls.ALU64 | Alu.XOR | Src.K,
  XOR64_REG: Cls.ALU64 | Alu.XOR | Src.X,
  XOR32_IMM: Cls.ALU | Alu.XOR | Src.K,
  XOR32_REG: Cls.ALU | Alu.XOR | Src.X,
  MOV64_IMM: Cls.ALU64 | Alu.MOV | Src.K,
  MOV64_REG: Cls.ALU64 | Alu.MOV | Src.X,
  MOV32_IMM: Cls.ALU | Alu.MOV | Src.K,
  MOV32_REG: Cls.ALU | Alu.MOV | Src.X,
  ARSH64_IMM: Cls.ALU64 | Alu.ARSH | Src.K,
  ARSH64_REG: Cls.ALU64 | Alu.ARSH | Src.X,
  ARSH32_IMM: Cls.ALU | Alu.ARSH | Src.K,
  ARSH32_REG: Cls.ALU | Alu.ARSH | Src.X,
  NEG64: Cls.ALU64 | Alu.NEG,
  NEG32: Cls.ALU | Alu.NEG,
  /** `le16`/`le32`/`le64` (ALU END, source K): to little-endian. */
  TO_LE: Cls.ALU | Alu.END | Src.K,
  /** `be16`/`be32`/`be64` (ALU END, source X): to big-endian. */
  TO_BE: Cls.ALU | Alu.END | Src.X,
  /** `bswap16`/`bswap32`/`bswap64` (ALU64 END): unconditional byte swap. */
  BSWAP: Cls.ALU64 | Alu.END | Src.K,
  // JMP and JMP32
  JA: Cls.JMP | Jmp.JA,
  /** `gotol`: JA with a 32-bit offset in imm. */
  JA32: Cls.JMP32 | Jmp.JA,
  JEQ_IMM: Cls.JMP | Jmp.JEQ | Src.K,
  JEQ_REG: Cls.JMP | Jmp.JEQ | Src.X,
  JEQ32_IMM: Cls.JMP32 | Jmp.JEQ | Src.K,
  JEQ32_REG: Cls.JMP32 | Jmp.JEQ | Src.X,
  JGT_IMM: Cls.JMP | Jmp.JGT | Src.K,
  JGT_REG: Cls.JMP | Jmp.JGT | Src.X,
  JGT32_IMM: Cls.JMP32 | Jmp.JGT | Src.K,
  JGT32_REG: Cls.JMP32 | Jmp.JGT | Src.X,
  JGE_IMM: Cls.JMP | Jmp.JGE | Src.K,
  JGE_REG: Cls.JMP | Jmp.JGE | Src.X,
  JGE32_IMM: Cls.JMP32 | Jmp.JGE | Src.K,
  JGE32_REG: Cls.JMP32 | Jmp.JGE | Src.X,
  JSET_IMM: Cls.JMP | Jmp.JSET | Src.K,
  JSET_REG: Cls.JMP | Jmp.JSET | Src.X,
  JSET32_IMM: Cls.JMP32 | Jmp.JSET | Src.K,
  JSET32_REG: Cls.JMP32 | Jmp.JSET | Src.X,
  JNE_IMM: Cls.JMP | Jmp.JNE | Src.K,
  JNE_REG: Cls.JMP | Jmp.JNE | Src.X,
  JNE32_IMM: Cls.JMP32 | Jmp.JNE | Src.K,
  JNE32_REG: Cls.JMP32 | Jmp.JNE | Src.X,
  JSGT_IMM: Cls.JMP | Jmp.JSGT | Src.K,
  JSGT_REG: Cls.JMP | Jmp.JSGT | Src.X,
  JSGT32_IMM: Cls.JMP32 | Jmp.JSGT | Src.K,
  JSGT32_REG: Cls.JMP32 | Jmp.JSGT | Src.X,
  JSGE_IMM: Cls.JMP | Jmp.JSGE | Src.K,
  JSGE_REG: Cls.JMP | Jmp.JSGE | Src.X,
  JSGE32_IMM: Cls.JMP32 | Jmp.JSGE | Src.K,
  JSGE32_REG: Cls.JMP32 | Jmp.JSGE | Src.X,
  JLT_IMM: Cls.JMP | Jmp.JLT | Src.K,
  JLT_REG: Cls.JMP | Jmp.JLT | Src.X,
  JLT32_IMM: Cls.JMP32 | Jmp.JLT | Src.K,
  JLT32_REG: Cls.JMP32 | Jmp.JLT | Src.X,
  JLE_IMM: Cls.JMP | Jmp.JLE | Src.K,
  JLE_REG: Cls.JMP | Jmp.JLE | Src.X,
  JLE32_IMM: Cls.JMP32 | Jmp.JLE | Src.K,
  JLE32_REG: Cls.JMP32 | Jmp.JLE | Src.X,
  JSLT_IMM: Cls.JMP | Jmp.JSLT | Src.K,
  JSLT_REG: Cls.JMP | Jmp.JSLT | Src.X,
  JSLT32_IMM: Cls.JMP32 | Jmp.JSLT | Src.K,
  JSLT32_REG: Cls.JMP32 | Jmp.JSLT | Src.X,
  JSLE_IMM: Cls.JMP | Jmp.JSLE | Src.K,
  JSLE_REG: Cls.JMP | Jmp.JSLE | Src.X,
  JSLE32_IMM: Cls.JMP32 | Jmp.JSLE | Src.K,
  JSLE32_REG: Cls.JMP32 | Jmp.JSLE | Src.X,
  CALL: Cls.JMP | Jmp.CALL | Src.K,
  /** `callx`: call the address in dst_reg. */
  CALLX: Cls.JMP | Jmp.CALL | Src.X,
  EXIT: Cls.JMP | Jmp.EXIT,
  // loads and stores
  /** The wide `ld_imm64` (two slots). */
  LDDW: Cls.LD | Mode.IMM | Size.DW,
  LDABSW: Cls.LD | Mode.ABS | Size.W,
  LDABSH: Cls.LD | Mode.ABS | Size.H,
  LDABSB: Cls.LD | Mode.ABS | Size.B,
  LDABSDW: Cls.LD | Mode.ABS | Size.DW,
  LDINDW: Cls.LD | Mode.IND | Size.W,
  LDINDH: Cls.LD | Mode.IND | Size.H,
  LDINDB: Cls.LD | Mode.IND | Size.B,
  LDINDDW: Cls.LD | Mode.IND | Size.DW,
  LDXW: Cls.LDX | Mode.MEM | Size.W,
  LDXH: Cls.LDX | Mode.MEM | Size.H,
  LDXB: Cls.LDX | Mode.MEM | Size.B,
  LDXDW: Cls.LDX | Mode.MEM | Size.DW,
  LDXSW: Cls.LDX | Mode.MEMSX | Size.W,
  LDXSH: Cls.LDX | Mode.MEMSX | Size.H,
  LDXSB: Cls.LDX | Mode.MEMSX | Size.B,
  STW: Cls.ST | Mode.MEM | Size.W,
  STH: Cls.ST | Mode.MEM | Size.H,
  STB: Cls.ST | Mode.MEM | Size.B,
  STDW: Cls.ST | Mode.MEM | Size.DW,
  STXW: Cls.STX | Mode.MEM | Size.W,
  STXH: Cls.STX | Mode.MEM | Size.H,
  STXB: Cls.STX | Mode.MEM | Size.B,
  STXDW: Cls.STX | Mode.MEM | Size.DW,
  ATOMIC32: Cls.STX | Mode.ATOMIC | Size.W,
  ATOMIC64: Cls.STX | Mode.ATOMIC | Size.DW,
} as const;

/** A full opcode's name. */
export type OpName = keyof typeof Op;

/** Masks of the opcode byte's fields. */
export const OPCODE_MASK = {
  /** The class (low three bits). */
  CLASS: 0x07,
  /** The source bit of ALU and JMP. */
  SOURCE: 0x08,
  /** The operation of ALU and JMP (high four bits). */
  OPERATION: 0xf0,
  /** The size of loads and stores. */
  SIZE: 0x18,
  /** The mode of loads and stores (high three bits). */
  MODE: 0xe0,
} as const;

/** The `imm` values an atomic instruction may carry (each operation, with or without FETCH). */
export const ATOMIC_OPS: readonly number[] = [
  Atomic.ADD,
  Atomic.ADD | Atomic.FETCH,
  Atomic.OR,
  Atomic.OR | Atomic.FETCH,
  Atomic.AND,
  Atomic.AND | Atomic.FETCH,
  Atomic.XOR,
  Atomic.XOR | Atomic.FETCH,
  Atomic.XCHG,
  Atomic.CMPXCHG,
];

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
