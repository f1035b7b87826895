/**
 * The interpreter: executes a pre-decoded program over an address space of bounded regions, with an
 * instruction budget, bpf-to-bpf call frames and helper calls. Registers are pairs of 32-bit words, so
 * no bigint and no allocation happen per instruction.
 *
 * The loop dispatches on the opcode byte; each class's semantics follows RFC 9669 (and the Linux
 * extensions listed in the engine's documentation). A compiling tier can later replace `execute`
 * without touching the semantics modules (`arith`, `memory`, helpers, maps).
 *
 * @module
 */
import {
  bswap16,
  bswap32,
  cmpS64,
  cmpU64,
  divmod32,
  divmod64,
  mul64,
  sar64,
  shl64,
  shr64,
  type Pair,
} from './arith.js';
import { EngineFault } from './fault.js';
import { AddressSpace, type Region } from './memory.js';
import {
  Alu,
  Atomic,
  Cls,
  Jmp,
  MAX_CALL_FRAMES,
  Mode,
  Op,
  OPCODE_MASK,
  STACK_SIZE,
  sizeBytes,
} from './opcodes.js';
import type { DecodedProgram } from './program.js';

// A module-local binding of the opcode table: V8 folds its constant loads in the dispatch switch.
const OPC = Op;

/** A helper: reads its arguments from r1-r5 of `vm` and writes its result into r0. */
export type Helper = (vm: Vm, pc: number) => void;

/** Answers loads from a context region (Linux rewrites them into loads of real fields). */
export interface ContextReader {
  /** Writes the loaded value into `out`; faults on an access the context does not allow. */
  load(offset: number, size: number, pc: number, out: Pair): void;
}

/** The fault of an instruction the interpreter cannot execute: the decoder's reason, or its opcode. */
function invalidInstruction(program: DecodedProgram, pc: number, code: number): EngineFault {
  const reason = program.invalid.get(pc) ?? `opcode 0x${code.toString(16).padStart(2, '0')} is not defined`;
  return new EngineFault('invalid-instruction', pc, reason);
}

/** Default instruction budget of a run (Linux's verifier limit on processed instructions). */
export const DEFAULT_BUDGET = 1_000_000;

interface Frame {
  returnPc: number;
  /** The program the caller runs (a tail call in the callee may leave for another). */
  program: DecodedProgram | undefined;
  saved: Int32Array; // r6-r9 and r10, hi and lo
}

/** One engine instance: registers, memory, helpers. Not re-entrant. */
export class Vm {
  /** Lower words of r0-r10 (r11-r15 exist only so that a bad index cannot throw). */
  readonly lo = new Int32Array(16);
  /** Upper words of r0-r10. */
  readonly hi = new Int32Array(16);
  /** The regions the program can reach. */
  readonly space: AddressSpace;
  /** Helpers by id. */
  readonly helpers: (Helper | undefined)[] = [];
  /** The reader of context regions, when the program has one. */
  context: ContextReader | undefined;
  /** Instructions executed by the last run. */
  steps = 0;
  /** Tail calls the current run has made (at most 33, Linux's `MAX_TAIL_CALL_CNT`). */
  tailCalls = 0;
  /** The program a `bpf_tail_call` helper chose, which the run continues in after the call. */
  pendingTail: DecodedProgram | undefined;
  private readonly stacks: Region[] = [];
  private readonly frames: Frame[] = [];
  private readonly tmp: Pair = { hi: 0, lo: 0 };

  constructor(space = new AddressSpace()) {
    this.space = space;
    for (let i = 0; i < MAX_CALL_FRAMES; i++)
      this.stacks.push(space.alloc('stack', new Uint8Array(STACK_SIZE)));
    for (let i = 0; i < MAX_CALL_FRAMES; i++)
      this.frames.push({ returnPc: 0, program: undefined, saved: new Int32Array(10) });
  }

  /** Sets register `r` to a 64-bit value given as a bigint. */
  setReg(r: number, value: bigint): void {
    const u = BigInt.asUintN(64, value);
    this.hi[r] = Number(u >> 32n) | 0;
    this.lo[r] = Number(u & 0xffffffffn) | 0;
  }

  /** Register `r` as an unsigned bigint. */
  reg(r: number): bigint {
    return (BigInt((this.hi[r] as number) >>> 0) << 32n) | BigInt((this.lo[r] as number) >>> 0);
  }

  /** Points r10 at the top of a fresh (zeroed) frame-0 stack. */
  private enterFrame(depth: number): void {
    const stack = this.stacks[depth] as Region;
    stack.bytes.fill(0);
    this.hi[10] = this.space.hiOf(stack);
    this.lo[10] = this.space.loOf(STACK_SIZE);
  }

  /**
   * Runs a program from slot 0 with the registers as the caller set them (r1-r5); r10 is set here.
   * Returns when the outermost frame exits, leaving the result in r0. Throws {@link EngineFault}.
   */
  execute(program: DecodedProgram, budget = DEFAULT_BUDGET): void {
    // a tail call replaces the program the loop runs, so its arrays are variables
    let current = program;
    let { code, dst, src, off, imm, wideHi, wideLo } = program;
    const L = this.lo;
    const H = this.hi;
    const space = this.space;
    const tmp = this.tmp;
    let depth = 0;
    let pc = 0;
    let left = budget;
    this.tailCalls = 0;
    this.pendingTail = undefined;
    this.enterFrame(0);
    for (;;) {
      if (--left < 0) {
        this.steps = budget;
        throw new EngineFault('budget', pc, `more than ${budget} instructions`);
      }
      const c = code[pc] as number;
      const d = dst[pc] as number;
      switch (c) {
        // ---- ALU64 -------------------------------------------------------------------------
        case OPC.ADD64_IMM:
        case OPC.ADD64_REG: {
          const blo = c & 8 ? (L[src[pc] as number] as number) : (imm[pc] as number);
          const bhi = c & 8 ? (H[src[pc] as number] as number) : blo >> 31;
          const alo = L[d] as number;
          const lo = (alo + blo) | 0;
          H[d] = ((H[d] as number) + bhi + (lo >>> 0 < alo >>> 0 ? 1 : 0)) | 0;
          L[d] = lo;
          break;
        }
        case OPC.SUB64_IMM:
        case OPC.SUB64_REG: {
          const blo = c & 8 ? (L[src[pc] as number] as number) : (imm[pc] as number);
          const bhi = c & 8 ? (H[src[pc] as number] as number) : blo >> 31;
          const alo = L[d] as number;
          H[d] = ((H[d] as number) - bhi - (alo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
          L[d] = (alo - blo) | 0;
          break;
        }
        case OPC.MUL64_IMM:
        case OPC.MUL64_REG: {
          const blo = c & 8 ? (L[src[pc] as number] as number) : (imm[pc] as number);
          const bhi = c & 8 ? (H[src[pc] as number] as number) : blo >> 31;
          mul64(H[d] as number, L[d] as number, bhi, blo, tmp);
          H[d] = tmp.hi;
          L[d] = tmp.lo;
          break;
        }
        case OPC.DIV64_IMM:
        case OPC.DIV64_REG:
        case OPC.MOD64_IMM:
        case OPC.MOD64_REG: {
          const blo = c & 8 ? (L[src[pc] as number] as number) : (imm[pc] as number);
          const bhi = c & 8 ? (H[src[pc] as number] as number) : blo >> 31;
          divmod64(
            H[d] as number,
            L[d] as number,
            bhi,
            blo,
            off[pc] === 1,
            (c & OPCODE_MASK.OPERATION) === Alu.MOD,
            tmp,
          );
          H[d] = tmp.hi;
          L[d] = tmp.lo;
          break;
        }
        case OPC.OR64_IMM:
        case OPC.OR64_REG:
          if (c & 8) {
            L[d] = (L[d] as number) | (L[src[pc] as number] as number);
            H[d] = (H[d] as number) | (H[src[pc] as number] as number);
          } else {
            L[d] = (L[d] as number) | (imm[pc] as number);
            H[d] = (H[d] as number) | ((imm[pc] as number) >> 31);
          }
          break;
        case OPC.AND64_IMM:
        case OPC.AND64_REG:
          if (c & 8) {
            L[d] = (L[d] as number) & (L[src[pc] as number] as number);
            H[d] = (H[d] as number) & (H[src[pc] as number] as number);
          } else {
            L[d] = (L[d] as number) & (imm[pc] as number);
            H[d] = (H[d] as number) & ((imm[pc] as number) >> 31);
          }
          break;
        case OPC.XOR64_IMM:
        case OPC.XOR64_REG:
          if (c & 8) {
            L[d] = (L[d] as number) ^ (L[src[pc] as number] as number);
            H[d] = (H[d] as number) ^ (H[src[pc] as number] as number);
          } else {
            L[d] = (L[d] as number) ^ (imm[pc] as number);
            H[d] = (H[d] as number) ^ ((imm[pc] as number) >> 31);
          }
          break;
        case OPC.LSH64_IMM:
        case OPC.LSH64_REG:
        case OPC.RSH64_IMM:
        case OPC.RSH64_REG:
        case OPC.ARSH64_IMM:
        case OPC.ARSH64_REG: {
          const n = (c & 8 ? (L[src[pc] as number] as number) : (imm[pc] as number)) & 63;
          const op = c & OPCODE_MASK.OPERATION;
          if (op === Alu.LSH) shl64(H[d] as number, L[d] as number, n, tmp);
          else if (op === Alu.RSH) shr64(H[d] as number, L[d] as number, n, tmp);
          else sar64(H[d] as number, L[d] as number, n, tmp);
          H[d] = tmp.hi;
          L[d] = tmp.lo;
          break;
        }
        case OPC.NEG64: {
          const lo = L[d] as number;
          L[d] = -lo | 0;
          H[d] = (~(H[d] as number) + (lo === 0 ? 1 : 0)) | 0;
          break;
        }
        case OPC.MOV64_IMM:
          L[d] = imm[pc] as number;
          H[d] = (imm[pc] as number) >> 31;
          break;
        case OPC.MOV64_REG: {
          const s = src[pc] as number;
          const o = off[pc] as number;
          if (o === 0) {
            L[d] = L[s] as number;
            H[d] = H[s] as number;
          } else {
            const v = L[s] as number;
            const x = o === 8 ? (v << 24) >> 24 : o === 16 ? (v << 16) >> 16 : v;
            L[d] = x;
            H[d] = x >> 31;
          }
          break;
        }
        // ---- ALU (32-bit; results zero-extended) -------------------------------------------
        case OPC.ADD32_IMM:
        case OPC.ADD32_REG:
          L[d] = ((L[d] as number) + (c & 8 ? (L[src[pc] as number] as number) : (imm[pc] as number))) | 0;
          H[d] = 0;
          break;
        case OPC.SUB32_IMM:
        case OPC.SUB32_REG:
          L[d] = ((L[d] as number) - (c & 8 ? (L[src[pc] as number] as number) : (imm[pc] as number))) | 0;
          H[d] = 0;
          break;
        case OPC.MUL32_IMM:
        case OPC.MUL32_REG:
          L[d] = Math.imul(L[d] as number, c & 8 ? (L[src[pc] as number] as number) : (imm[pc] as number));
          H[d] = 0;
          break;
        case OPC.DIV32_IMM:
        case OPC.DIV32_REG:
        case OPC.MOD32_IMM:
        case OPC.MOD32_REG:
          L[d] = divmod32(
            L[d] as number,
            c & 8 ? (L[src[pc] as number] as number) : (imm[pc] as number),
            off[pc] === 1,
            (c & OPCODE_MASK.OPERATION) === Alu.MOD,
          );
          H[d] = 0;
          break;
        case OPC.OR32_IMM:
        case OPC.OR32_REG:
          L[d] = (L[d] as number) | (c & 8 ? (L[src[pc] as number] as number) : (imm[pc] as number));
          H[d] = 0;
          break;
        case OPC.AND32_IMM:
        case OPC.AND32_REG:
          L[d] = (L[d] as number) & (c & 8 ? (L[src[pc] as number] as number) : (imm[pc] as number));
          H[d] = 0;
          break;
        case OPC.XOR32_IMM:
        case OPC.XOR32_REG:
          L[d] = (L[d] as number) ^ (c & 8 ? (L[src[pc] as number] as number) : (imm[pc] as number));
          H[d] = 0;
          break;
        case OPC.LSH32_IMM:
        case OPC.LSH32_REG:
          L[d] = (L[d] as number) << ((c & 8 ? (L[src[pc] as number] as number) : (imm[pc] as number)) & 31);
          H[d] = 0;
          break;
        case OPC.RSH32_IMM:
        case OPC.RSH32_REG:
          L[d] =
            ((L[d] as number) >>> ((c & 8 ? (L[src[pc] as number] as number) : (imm[pc] as number)) & 31)) |
            0;
          H[d] = 0;
          break;
        case OPC.ARSH32_IMM:
        case OPC.ARSH32_REG:
          L[d] = (L[d] as number) >> ((c & 8 ? (L[src[pc] as number] as number) : (imm[pc] as number)) & 31);
          H[d] = 0;
          break;
        case OPC.NEG32:
          L[d] = -(L[d] as number) | 0;
          H[d] = 0;
          break;
        case OPC.MOV32_IMM:
          L[d] = imm[pc] as number;
          H[d] = 0;
          break;
        case OPC.MOV32_REG: {
          const v = L[src[pc] as number] as number;
          const o = off[pc] as number;
          L[d] = o === 8 ? (v << 24) >> 24 : o === 16 ? (v << 16) >> 16 : v;
          H[d] = 0;
          break;
        }
        case OPC.TO_LE: // to little-endian: on this little-endian machine, truncation only
        case OPC.TO_BE: // to big-endian: byte reversal of the low imm bits, zero-extended
        case OPC.BSWAP: {
          // bswap (ALU64 END): byte reversal whatever the machine's order, as to big-endian here
          const w = imm[pc] as number;
          const be = c !== OPC.TO_LE;
          if (w === 16) {
            L[d] = be ? bswap16(L[d] as number) : (L[d] as number) & 0xffff;
            H[d] = 0;
          } else if (w === 32) {
            if (be) L[d] = bswap32(L[d] as number);
            H[d] = 0;
          } else if (be) {
            const h = H[d] as number;
            H[d] = bswap32(L[d] as number);
            L[d] = bswap32(h);
          }
          break;
        }
        // ---- loads ----------------------------------------------------------------------------
        case OPC.LDDW:
          L[d] = wideLo[pc] as number;
          H[d] = wideHi[pc] as number;
          pc++;
          break;
        case OPC.LDXW:
        case OPC.LDXH:
        case OPC.LDXB:
        case OPC.LDXDW:
        case OPC.LDXSW:
        case OPC.LDXSH:
        case OPC.LDXSB: {
          const s = src[pc] as number;
          const size = sizeBytes(c);
          const o = off[pc] as number;
          const plo = ((L[s] as number) + o) | 0;
          const phi = ((H[s] as number) + (o >> 31) + carryOf(L[s] as number, plo)) | 0;
          this.load(phi, plo, size, (c & OPCODE_MASK.MODE) === Mode.MEMSX, pc, tmp);
          L[d] = tmp.lo;
          H[d] = tmp.hi;
          break;
        }
        // ---- stores ---------------------------------------------------------------------------
        case OPC.STW:
        case OPC.STH:
        case OPC.STB:
        case OPC.STDW:
        case OPC.STXW:
        case OPC.STXH:
        case OPC.STXB:
        case OPC.STXDW: {
          const size = sizeBytes(c);
          const o = off[pc] as number;
          const plo = ((L[d] as number) + o) | 0;
          const phi = ((H[d] as number) + (o >> 31) + carryOf(L[d] as number, plo)) | 0;
          const region = space.check(phi, plo, size, true, pc);
          if (region.kind === 'ctx')
            throw new EngineFault('bad-context-access', pc, 'the context is read-only');
          const at = space.offsetOf(plo);
          let vlo: number;
          let vhi: number;
          if ((c & OPCODE_MASK.CLASS) === Cls.ST) {
            vlo = imm[pc] as number;
            vhi = vlo >> 31;
          } else {
            vlo = L[src[pc] as number] as number;
            vhi = H[src[pc] as number] as number;
          }
          const view = region.view;
          if (size === 1) view.setUint8(at, vlo & 0xff);
          else if (size === 2) view.setUint16(at, vlo & 0xffff, true);
          else if (size === 4) view.setInt32(at, vlo, true);
          else {
            view.setInt32(at, vlo, true);
            view.setInt32(at + 4, vhi, true);
          }
          break;
        }
        case OPC.ATOMIC32:
        case OPC.ATOMIC64:
          this.atomic(c === OPC.ATOMIC64, d, src[pc] as number, off[pc] as number, imm[pc] as number, pc);
          break;
        // ---- jumps ----------------------------------------------------------------------------
        case OPC.JA:
          pc += off[pc] as number;
          break;
        case OPC.JA32:
          pc += imm[pc] as number;
          break;
        case OPC.CALL:
        case OPC.CALLX: {
          // callx: a helper whose id is in the destination register
          const s = c === OPC.CALLX ? 0 : (src[pc] as number);
          if (s === 0) {
            this.callHelper(c === OPC.CALLX ? (L[d] as number) : (imm[pc] as number), pc);
            const tail = this.pendingTail;
            if (tail !== undefined) {
              // a tail call: the run goes on in the slot's program with the registers and the
              // stack frame as they are; from a bpf-to-bpf callee only the callee's frame is
              // replaced, and the target's exit returns to the caller (Linux's x86-64 JIT)
              this.pendingTail = undefined;
              current = tail;
              ({ code, dst, src, off, imm, wideHi, wideLo } = tail);
              pc = -1; // the increment below starts the target at its first slot
            }
          } else if (s === 1) {
            if (depth + 1 >= MAX_CALL_FRAMES)
              throw new EngineFault('call-depth', pc, `more than ${MAX_CALL_FRAMES} frames`);
            const frame = this.frames[depth] as Frame;
            frame.returnPc = pc;
            frame.program = current;
            const saved = frame.saved;
            for (let r = 6; r <= 10; r++) {
              saved[(r - 6) * 2] = H[r] as number;
              saved[(r - 6) * 2 + 1] = L[r] as number;
            }
            depth++;
            this.enterFrame(depth);
            pc += imm[pc] as number;
          } else {
            throw new EngineFault(
              'invalid-instruction',
              pc,
              `call with src_reg ${s} (kfunc calls are not supported)`,
            );
          }
          break;
        }
        case OPC.EXIT:
          if (depth === 0) {
            this.steps = budget - left;
            return;
          } else {
            depth--;
            const frame = this.frames[depth] as Frame;
            const saved = frame.saved;
            for (let r = 6; r <= 10; r++) {
              H[r] = saved[(r - 6) * 2] as number;
              L[r] = saved[(r - 6) * 2 + 1] as number;
            }
            pc = frame.returnPc;
            if (frame.program !== current) {
              // the callee tail-called: its exit returns into the caller's program (Linux's JIT)
              current = frame.program as DecodedProgram;
              ({ code, dst, src, off, imm, wideHi, wideLo } = current);
            }
          }
          break;
        // the common 64-bit conditional jumps, inline; the rest go through `branch`
        case OPC.JEQ_IMM:
          if (L[d] === imm[pc] && H[d] === (imm[pc] as number) >> 31) pc += off[pc] as number;
          break;
        case OPC.JNE_IMM:
          if (L[d] !== imm[pc] || H[d] !== (imm[pc] as number) >> 31) pc += off[pc] as number;
          break;
        case OPC.JGT_REG:
          if (
            cmpU64(
              H[d] as number,
              L[d] as number,
              H[src[pc] as number] as number,
              L[src[pc] as number] as number,
            ) > 0
          ) {
            pc += off[pc] as number;
          }
          break;
        default: {
          const cls = c & OPCODE_MASK.CLASS;
          if ((cls === Cls.JMP || cls === Cls.JMP32) && c !== OPC.JA32) {
            if (this.branch(c, d, pc, program)) pc += off[pc] as number;
            break;
          }
          throw invalidInstruction(program, pc, c);
        }
      }
      pc++;
    }
  }

  /** Evaluates a conditional jump; faults on an undefined jump opcode. */
  private branch(c: number, d: number, pc: number, program: DecodedProgram): boolean {
    const L = this.lo;
    const H = this.hi;
    const x = (c & 8) !== 0;
    const s = program.src[pc] as number;
    const k = program.imm[pc] as number;
    const alo = L[d] as number;
    const blo = x ? (L[s] as number) : k;
    if ((c & OPCODE_MASK.CLASS) === Cls.JMP32) {
      switch (c & OPCODE_MASK.OPERATION) {
        case Jmp.JEQ:
          return alo === blo;
        case Jmp.JNE:
          return alo !== blo;
        case Jmp.JGT:
          return alo >>> 0 > blo >>> 0;
        case Jmp.JGE:
          return alo >>> 0 >= blo >>> 0;
        case Jmp.JLT:
          return alo >>> 0 < blo >>> 0;
        case Jmp.JLE:
          return alo >>> 0 <= blo >>> 0;
        case Jmp.JSGT:
          return alo > blo;
        case Jmp.JSGE:
          return alo >= blo;
        case Jmp.JSLT:
          return alo < blo;
        case Jmp.JSLE:
          return alo <= blo;
        case Jmp.JSET:
          return (alo & blo) !== 0;
      }
    } else {
      const ahi = H[d] as number;
      const bhi = x ? (H[s] as number) : k >> 31;
      switch (c & OPCODE_MASK.OPERATION) {
        case Jmp.JEQ:
          return alo === blo && ahi === bhi;
        case Jmp.JNE:
          return alo !== blo || ahi !== bhi;
        case Jmp.JGT:
          return cmpU64(ahi, alo, bhi, blo) > 0;
        case Jmp.JGE:
          return cmpU64(ahi, alo, bhi, blo) >= 0;
        case Jmp.JLT:
          return cmpU64(ahi, alo, bhi, blo) < 0;
        case Jmp.JLE:
          return cmpU64(ahi, alo, bhi, blo) <= 0;
        case Jmp.JSGT:
          return cmpS64(ahi, alo, bhi, blo) > 0;
        case Jmp.JSGE:
          return cmpS64(ahi, alo, bhi, blo) >= 0;
        case Jmp.JSLT:
          return cmpS64(ahi, alo, bhi, blo) < 0;
        case Jmp.JSLE:
          return cmpS64(ahi, alo, bhi, blo) <= 0;
        case Jmp.JSET:
          return (alo & blo) !== 0 || (ahi & bhi) !== 0;
      }
    }
    throw invalidInstruction(program, pc, c);
  }

  private callHelper(id: number, pc: number): void {
    const helper = id >= 0 ? this.helpers[id] : undefined;
    if (helper === undefined) throw new EngineFault('unknown-helper', pc, `helper ${id} is not available`);
    helper(this, pc);
  }

  /** Loads `size` bytes at (hi, lo) into `out`, zero- or sign-extended. */
  load(hi: number, lo: number, size: number, signed: boolean, pc: number, out: Pair): void {
    const region = this.space.check(hi, lo, size, false, pc);
    if (region.kind === 'ctx') {
      if (this.context === undefined) throw new EngineFault('bad-context-access', pc, 'no context');
      this.context.load(this.space.offsetOf(lo), size, pc, out);
      return;
    }
    const view = region.view;
    const at = this.space.offsetOf(lo);
    if (size === 1) {
      const v = view.getUint8(at);
      out.lo = signed ? (v << 24) >> 24 : v;
    } else if (size === 2) {
      const v = view.getUint16(at, true);
      out.lo = signed ? (v << 16) >> 16 : v;
    } else if (size === 4) {
      out.lo = view.getInt32(at, true);
      out.hi = signed ? out.lo >> 31 : 0;
      return;
    } else {
      out.lo = view.getInt32(at, true);
      out.hi = view.getInt32(at + 4, true);
      return;
    }
    out.hi = signed ? out.lo >> 31 : 0;
  }

  private atomic(wide: boolean, d: number, s: number, o: number, op: number, pc: number): void {
    const L = this.lo;
    const H = this.hi;
    const size = wide ? 8 : 4;
    const plo = ((L[d] as number) + o) | 0;
    const phi = ((H[d] as number) + (o >> 31) + carryOf(L[d] as number, plo)) | 0;
    const region = this.space.check(phi, plo, size, true, pc);
    if (region.kind === 'ctx' || region.kind === 'packet') {
      throw new EngineFault('bad-pointer', pc, `atomic operation on ${region.kind} memory`);
    }
    const view = region.view;
    const at = this.space.offsetOf(plo);
    const oldLo = view.getInt32(at, true);
    const oldHi = wide ? view.getInt32(at + 4, true) : 0;
    const vlo = L[s] as number;
    const vhi = wide ? (H[s] as number) : 0;
    let nlo: number;
    let nhi: number;
    switch (op) {
      case Atomic.ADD:
      case Atomic.ADD | Atomic.FETCH: {
        nlo = (oldLo + vlo) | 0;
        nhi = wide ? (oldHi + vhi + (nlo >>> 0 < oldLo >>> 0 ? 1 : 0)) | 0 : 0;
        break;
      }
      case Atomic.OR:
      case Atomic.OR | Atomic.FETCH:
        nlo = oldLo | vlo;
        nhi = oldHi | vhi;
        break;
      case Atomic.AND:
      case Atomic.AND | Atomic.FETCH:
        nlo = oldLo & vlo;
        nhi = oldHi & vhi;
        break;
      case Atomic.XOR:
      case Atomic.XOR | Atomic.FETCH:
        nlo = oldLo ^ vlo;
        nhi = oldHi ^ vhi;
        break;
      case Atomic.XCHG:
        nlo = vlo;
        nhi = vhi;
        break;
      case Atomic.CMPXCHG: {
        // compares r0 with memory; stores src when equal; r0 receives the old value
        const eq = wide
          ? oldLo === (L[0] as number) && oldHi === (H[0] as number)
          : oldLo === (L[0] as number);
        nlo = eq ? vlo : oldLo;
        nhi = eq ? vhi : oldHi;
        L[0] = oldLo;
        H[0] = oldHi;
        break;
      }
      default:
        throw new EngineFault(
          'invalid-instruction',
          pc,
          `atomic operation 0x${op.toString(16)} is not defined`,
        );
    }
    view.setInt32(at, nlo, true);
    if (wide) view.setInt32(at + 4, nhi, true);
    if (op & Atomic.FETCH && op !== Atomic.CMPXCHG) {
      L[s] = oldLo;
      H[s] = oldHi;
    }
  }
}

/**
 * Carry out of the lower word when a sign-extended offset is added to a pointer: the offset's lower
 * word (as unsigned) is added, so the sum wrapped exactly when it is below the base.
 */
function carryOf(baseLo: number, sumLo: number): number {
  return sumLo >>> 0 < baseLo >>> 0 ? 1 : 0;
}
