/**
 * The verifier's interpretation phase, after Linux 6.1's `do_check`: every path of the program is
 * walked with abstract register and stack states (types, constant offsets, scalar bounds, packet
 * ranges learned from comparisons with data_end, null checks after map lookups), each instruction
 * checked as the kernel checks it. Paths are explored depth first, the fall-through of a branch
 * before its target, as the kernel does, so that the first error found is the kernel's.
 *
 * @module
 */
import { Errno, type BpfInsn } from '../../codec/index.js';
import type { MapDefinition } from '../ebpf/maps.js';
import { ALU_SYMBOLS, ATOMIC_OPS, Alu, Atomic, Cls, Jmp, Mode, Op, OPCODE_MASK } from '../ebpf/opcodes.js';
import {
  alu,
  coerce,
  describeScalar,
  invalidBounds,
  isUnbounded,
  includes,
  isConst,
  known,
  neg,
  refine,
  transfer,
  unknown,
  upTo,
  zext32,
  type Scalar,
} from './scalar.js';
import type { Rejection } from './structure.js';
import { HELPERS, helperName, MAP_TYPE_HELPERS, type ArgType } from './helpers.js';

/** Register types (Linux's `enum bpf_reg_type`, the ones XDP programs meet). */
export type RegType =
  | 'not_init'
  | 'scalar'
  | 'ctx'
  | 'pkt'
  | 'pkt_end'
  | 'pkt_meta'
  | 'fp'
  | 'map_ptr'
  | 'map_value'
  | 'map_value_or_null';

/** An abstract register. For pointers, `s` is the variable part of the offset. */
export interface Reg {
  /** What the register holds. */
  readonly type: RegType;
  /** A scalar's value, or a pointer's variable offset. */
  readonly s: Scalar;
  /** Fixed offset of a pointer. */
  readonly off: number;
  /** Packet pointers: bytes known to be inside the packet from this pointer. */
  readonly range: number;
  /** Packet pointers with the same id move together; map_value_or_null: the lookup. */
  readonly id: number;
  /** The map a map pointer or map value pointer belongs to. */
  readonly map?: MapDefinition;
  /** Stack pointers: the frame (0 = the main program) whose stack they point into. */
  readonly frameno?: number;
}

const NOT_INIT: Reg = { type: 'not_init', s: unknown(), off: 0, range: 0, id: 0 };
const scalarReg = (s: Scalar): Reg => ({ type: 'scalar', s, off: 0, range: 0, id: 0 });
const ptr = (type: RegType, extra: Partial<Reg> = {}): Reg => ({
  type,
  s: known(0n),
  off: 0,
  range: 0,
  id: 0,
  ...extra,
});

/** Per stack byte: never written, some scalar, part of a spilled register, zero. */
const Byte = { Invalid: 0, Misc: 1, Spill: 2, Zero: 3 } as const;

interface Frame {
  regs: Reg[];
  bytes: Uint8Array; // 512 byte types, index = 512 + offset
  spills: Map<number, Reg>; // by 8-byte slot start (offset from the frame pointer, e.g. -8)
  callsite: number;
  /** First instruction of the subprogram this frame runs. */
  subprog: number;
}

interface State {
  frames: Frame[];
  pc: number;
  /**
   * A path the CPU might take only by mispredicting a branch (Linux's `speculative`): explored
   * without CAP_PERFMON, never pruned by a state that was not speculative itself.
   */
  speculative: boolean;
  /** The helper being called (for argument messages). */
  helperId: number;
  /** The latest explored state on the way here. */
  node: Node | undefined;
}

/**
 * An explored state at a prune point. `branches` counts the paths still being explored through it
 * (Linux's `branches`): while it is above zero the state is an ancestor of the current path, and a
 * later state it includes means a loop without progress; at zero it is complete, and a later state
 * it includes can be pruned.
 */
interface Node {
  /** The state, while it is among the states kept for its instruction. */
  frames: Frame[] | undefined;
  /** Whether the state was speculative. */
  readonly speculative: boolean;
  readonly parent: Node | undefined;
  branches: number;
  /** Later states it pruned (Linux's `hit_cnt`). */
  hits: number;
  /** Later states it did not include (Linux's `miss_cnt`). */
  misses: number;
}

/** What the interpretation needs. */
export interface CheckOptions {
  /** Maps by handle. */
  readonly maps: ReadonlyMap<number, MapDefinition>;
  /** CAP_PERFMON: pointer leaks, uninitialised stack reads and unsanitised pointer arithmetic. */
  readonly privileged: boolean;
  /** Helper ids the device allows (undefined: every helper Linux gives XDP). */
  readonly helpers?: ReadonlySet<number>;
  /** Instructions to process before giving up with E2BIG (default Linux's 1,000,000). */
  readonly insnLimit?: number;
  /** BPF_F_STRICT_ALIGNMENT: packet and map value accesses must be aligned too. */
  readonly strictAlignment?: boolean;
}

/** The result of interpretation: a rejection, or the number of instructions processed. */
export type CheckResult =
  | {
      /** Why the program was refused. */
      readonly rejection: Rejection;
    }
  | {
      /** Instructions processed. */
      readonly processed: number;
    };

/** Linux's limit on processed instructions. */
export const PROCESSED_LIMIT = 1_000_000;

class Reject extends Error {
  constructor(readonly rejection: Rejection) {
    super(rejection.message);
  }
}

const fail = (errno: number, insn: number, message: string): never => {
  throw new Reject({ errno, insn, message });
};

function cloneFrame(f: Frame): Frame {
  return {
    regs: f.regs.slice(),
    bytes: f.bytes.slice(),
    spills: f.spills.size === 0 ? new Map<number, Reg>() : new Map(f.spills),
    callsite: f.callsite,
    subprog: f.subprog,
  };
}

function cloneState(s: State): State {
  return {
    frames: s.frames.map(cloneFrame),
    pc: s.pc,
    node: s.node,
    helperId: s.helperId,
    speculative: s.speculative,
  };
}

/**
 * Linux's `check_ids`: ids of the old state must map one to one onto ids of the new one, so that
 * two registers sharing a null check (or a packet range) in the old state share it in the new one.
 */
class IdMap {
  private readonly forward = new Map<number, number>();
  private readonly backward = new Map<number, number>();
  same(old: number, cur: number): boolean {
    const f = this.forward.get(old);
    const b = this.backward.get(cur);
    if (f === undefined && b === undefined) {
      this.forward.set(old, cur);
      this.backward.set(cur, old);
      return true;
    }
    return f === cur && b === old;
  }
}

/** Linux's `regsafe`: every value the new register can hold, the old one could too. */
function regIncludes(a: Reg, b: Reg, ids: IdMap): boolean {
  if (a.type === 'not_init') return true;
  if (a.type !== b.type) return false;
  if (a.type === 'scalar') return includes(a.s, b.s) && (a.id === 0 || ids.same(a.id, b.id));
  if (a.off !== b.off || a.map !== b.map || a.frameno !== b.frameno || !includes(a.s, b.s)) return false;
  if (a.type === 'pkt' || a.type === 'pkt_meta') return b.range >= a.range && ids.same(a.id, b.id);
  if (a.type === 'map_value_or_null') return ids.same(a.id, b.id);
  return true;
}

/** Forgets the spills of every slot touching [from, to); their bytes become plain data. */
function dropSpills(frame: Frame, from: number, to: number): void {
  for (let slot = Math.floor(from / 8) * 8; slot < to; slot += 8) {
    if (!frame.spills.delete(slot)) continue;
    for (let i = slot; i < slot + 8; i++)
      if (frame.bytes[512 + i] === Byte.Spill) frame.bytes[512 + i] = Byte.Misc;
  }
}

/** Linux's `stacksafe`: slot types equal wherever the old state had written anything. */
function frameIncludes(a: Frame, b: Frame, ids: IdMap): boolean {
  if (a.callsite !== b.callsite) return false;
  for (let r = 0; r <= 10; r++) if (!regIncludes(a.regs[r] as Reg, b.regs[r] as Reg, ids)) return false;
  for (let i = 0; i < 512; i++) {
    const x = a.bytes[i] as number;
    if (x !== Byte.Invalid && x !== (b.bytes[i] as number)) return false;
  }
  for (const [slot, reg] of a.spills) {
    const other = b.spills.get(slot);
    if (other === undefined || !regIncludes(reg, other, ids)) return false;
  }
  return true;
}

function stateIncludes(a: Frame[], b: Frame[]): boolean {
  const ids = new IdMap();
  return a.length === b.length && a.every((f, i) => frameIncludes(f, b[i] as Frame, ids));
}

/** Linux's `states_maybe_looping`: the current frame's registers are exactly the same. */
function sameRegisters(a: Frame, b: Frame): boolean {
  for (let r = 0; r <= 10; r++) {
    const x = a.regs[r] as Reg;
    const y = b.regs[r] as Reg;
    if (x === y) continue;
    if (
      x.type !== y.type ||
      x.off !== y.off ||
      x.range !== y.range ||
      x.map !== y.map ||
      x.frameno !== y.frameno ||
      x.id !== y.id ||
      !includes(x.s, y.s) ||
      !includes(y.s, x.s)
    )
      return false;
  }
  return true;
}

function isPointer(r: Reg): boolean {
  return r.type !== 'scalar' && r.type !== 'not_init';
}

const TYPE_NAME: Record<RegType, string> = {
  not_init: '?',
  scalar: 'scalar',
  ctx: 'ctx',
  pkt: 'pkt',
  pkt_end: 'pkt_end',
  pkt_meta: 'pkt_meta',
  fp: 'fp',
  map_ptr: 'map_ptr',
  map_value: 'map_value',
  map_value_or_null: 'map_value_or_null',
};

/** The interpreter of one program. */
class Checker {
  private idGen = 0;
  private processed = 0;
  /** Jump-class instructions processed (Linux's `jmps_processed`). */
  private jmps = 0;
  /** `jmps` and `processed` when the last state was added. */
  private lastJmps = 0;
  private lastProcessed = 0;
  private readonly explored = new Map<number, Node[]>();
  private readonly prunePoints = new Set<number>();
  /** Set while checking a helper's memory argument. */
  private helperAccess = false;
  /** Set while checking an atomic instruction's memory operand. */
  private atomicAccess = false;
  /** How each pointer-arithmetic instruction masks its offset, without CAP_PERFMON. */
  private readonly masking = new Map<number, string>();
  /** Deepest stack byte each subprogram touched (Linux's `stack_depth`), by its first instruction. */
  private readonly stackDepth = new Map<number, number>();

  constructor(
    private readonly insns: readonly BpfInsn[],
    private readonly options: CheckOptions,
  ) {
    insns.forEach((insn, i) => {
      if (insn.code === Op.CALL && insn.src_reg === 1) this.stackDepth.set(i + insn.imm + 1, 0);
      const cls = insn.code & OPCODE_MASK.CLASS;
      if ((cls === Cls.JMP || cls === Cls.JMP32) && insn.code !== Op.EXIT) {
        if (insn.code === Op.CALL) {
          this.prunePoints.add(i + 1);
          if (insn.src_reg === 1) this.prunePoints.add(i + insn.imm + 1);
        } else {
          this.prunePoints.add(i + insn.off + 1);
          if (insn.code !== Op.JA) this.prunePoints.add(i + 1);
        }
      }
    });
  }

  run(): number {
    const regs: Reg[] = Array.from({ length: 11 }, () => NOT_INIT);
    regs[1] = ptr('ctx');
    regs[10] = ptr('fp');
    regs[10] = ptr('fp', { frameno: 0 });
    this.stackDepth.set(0, 0);
    const pending: State[] = [
      {
        frames: [{ regs, bytes: new Uint8Array(512), spills: new Map(), callsite: -1, subprog: 0 }],
        pc: 0,
        node: undefined,
        helperId: 0,
        speculative: false,
      },
    ];
    while (pending.length > 0) {
      let state: State | undefined = pending.pop();
      while (state !== undefined) state = this.step(state, pending);
    }
    this.checkMaxStackDepth();
    return this.processed;
  }

  /**
   * Linux's `check_max_stack_depth`, after interpretation: walks every call instruction of every
   * subprogram reachable through calls (dead code included), summing each frame's stack rounded
   * up to 32 bytes; the sum must stay within 512 bytes and the chain within 8 frames.
   */
  private checkMaxStackDepth(): void {
    const starts = [...this.stackDepth.keys()].sort((a, b) => a - b);
    const endOf = (start: number) => starts.find((x) => x > start) ?? this.insns.length;
    const size = (start: number) => Math.ceil(Math.max(this.stackDepth.get(start) ?? 0, 1) / 32) * 32;
    const walk = (start: number, frame: number, depth: number): void => {
      const total = depth + size(start);
      if (total > 512)
        fail(Errno.EACCES, start, `combined stack size of ${frame + 1} calls is ${total}. Too large`);
      for (let i = start; i < endOf(start); i++) {
        const insn = this.insns[i] as BpfInsn;
        if (insn.code !== Op.CALL || insn.src_reg !== 1) continue;
        if (frame + 1 >= 8) fail(Errno.E2BIG, i, `the call stack of ${frame + 1} frames is too deep !`);
        walk(i + insn.imm + 1, frame + 1, total);
      }
    };
    walk(0, 0, 0);
  }

  /** Linux's `update_stack_depth`: remembers the deepest offset a frame's subprogram touched. */
  private touchStack(frame: Frame, at: number): void {
    if (-at > (this.stackDepth.get(frame.subprog) ?? 0)) this.stackDepth.set(frame.subprog, -at);
  }

  /** Executes one instruction; returns the state to continue with, or undefined when the path ends. */
  private step(state: State, pending: State[]): State | undefined {
    const pc = state.pc;
    if (++this.processed > (this.options.insnLimit ?? PROCESSED_LIMIT))
      fail(Errno.E2BIG, pc, `BPF program is too large. Processed ${this.processed} insn`);
    if (this.prunePoints.has(pc)) {
      const seen = this.explored.get(pc) ?? [];
      // Linux adds a state only after 2 jumps and 8 instructions since the last one it added
      let addState = this.jmps - this.lastJmps >= 2 && this.processed - this.lastProcessed >= 8;
      for (let i = 0; i < seen.length; i++) {
        const old = seen[i] as Node;
        const frames = old.frames as Frame[];
        if (old.branches > 0) {
          // In depth-first order every state still in progress is an ancestor of this one: the
          // path came back to it. Only a return to exactly the same registers that the old state
          // also includes is a loop without progress (Linux's states_maybe_looping + states_equal);
          // otherwise the loop goes on, and its iterations are told apart by their values.
          const a = frames[frames.length - 1] as Frame;
          const b = state.frames[state.frames.length - 1] as Frame;
          if (
            frames.length === state.frames.length &&
            sameRegisters(a, b) &&
            stateIncludes(frames, state.frames)
          )
            fail(Errno.EINVAL, pc, `infinite loop detected at insn ${pc}`);
          // inside a loop, a state every 20 jumps or 100 instructions (iterations differ anyway)
          if (this.jmps - this.lastJmps < 20 && this.processed - this.lastProcessed < 100) addState = false;
        } else if (!(old.speculative && !state.speculative) && stateIncludes(frames, state.frames)) {
          old.hits++;
          finish(state.node);
          return undefined;
        }
        // misses count only when a state is added, so a loop's iterations do not evict the
        // states of its first ones; a state that misses far more than it hits is dropped
        if (addState) old.misses++;
        if (old.misses > old.hits * 3 + 3) {
          old.frames = undefined;
          seen.splice(i--, 1);
        }
      }
      if (addState) {
        const node: Node = {
          frames: state.frames.map(cloneFrame),
          parent: state.node,
          branches: 1,
          speculative: state.speculative,
          hits: 0,
          misses: 0,
        };
        seen.push(node);
        this.explored.set(pc, seen);
        state.node = node;
        this.lastJmps = this.jmps;
        this.lastProcessed = this.processed;
      }
    }
    const insn = this.insns[pc] as BpfInsn;
    const cls = insn.code & OPCODE_MASK.CLASS;
    switch (cls) {
      case Cls.ALU:
      case Cls.ALU64:
        this.alu(state, insn);
        break;
      case Cls.LDX:
        this.ldx(state, insn);
        break;
      case Cls.ST:
      case Cls.STX:
        this.store(state, insn);
        break;
      case Cls.LD:
        this.ld(state, insn);
        state.pc += 2;
        return state;
      default:
        this.jmps++;
        return this.jmp(state, insn, pending);
    }
    state.pc++;
    return state;
  }

  private frame(state: State): Frame {
    return state.frames[state.frames.length - 1] as Frame;
  }

  private read(state: State, r: number): Reg {
    if (r > 10) fail(Errno.EINVAL, state.pc, `R${r} is invalid`);
    const reg = this.frame(state).regs[r] as Reg;
    if (reg.type === 'not_init') fail(Errno.EACCES, state.pc, `R${r} !read_ok`);
    return reg;
  }

  private writeCheck(state: State, r: number): void {
    if (r > 10) fail(Errno.EINVAL, state.pc, `R${r} is invalid`);
    if (r === 10) fail(Errno.EACCES, state.pc, 'frame pointer is read only');
  }

  private set(state: State, r: number, reg: Reg): void {
    this.frame(state).regs[r] = reg;
  }

  private alu(state: State, insn: BpfInsn): void {
    const pc = state.pc;
    const wide = (insn.code & OPCODE_MASK.CLASS) === Cls.ALU64;
    const op = insn.code & OPCODE_MASK.OPERATION;
    const x = (insn.code & 8) !== 0;
    const { dst_reg: d, src_reg: s, off, imm } = insn;
    if (op === Alu.NEG) {
      if (x || s !== 0 || off !== 0 || imm !== 0) fail(Errno.EINVAL, pc, 'BPF_NEG uses reserved fields');
      const v = this.read(state, d);
      this.writeCheck(state, d);
      if (isPointer(v)) fail(Errno.EACCES, pc, `R${d} pointer arithmetic prohibited`);
      // Linux 6.1 tracks nothing through BPF_NEG: the destination becomes unknown
      this.set(state, d, scalarReg(unknown()));
      return;
    }
    if (op === Alu.END) {
      if (s !== 0 || off !== 0 || (imm !== 16 && imm !== 32 && imm !== 64) || wide)
        fail(Errno.EINVAL, pc, 'BPF_END uses reserved fields');
      const v = this.read(state, d);
      this.writeCheck(state, d);
      if (isPointer(v)) fail(Errno.EACCES, pc, `R${d} pointer arithmetic prohibited`);
      // nor through byte swaps
      this.set(state, d, scalarReg(unknown()));
      return;
    }
    if (op === Alu.MOV) {
      if (x ? imm !== 0 || off !== 0 : s !== 0 || off !== 0)
        fail(Errno.EINVAL, pc, 'BPF_MOV uses reserved fields');
      const src = x ? this.read(state, s) : scalarReg(known(BigInt(imm)));
      this.writeCheck(state, d);
      if (!wide) {
        if (isPointer(src)) {
          if (!this.options.privileged) fail(Errno.EACCES, pc, `R${s} partial copy of pointer`);
          this.set(state, d, scalarReg(upTo(0xffffffffn)));
        } else this.set(state, d, scalarReg(zext32(src.s)));
      } else if (x && src.type === 'scalar') {
        // Linux gives copied scalars one id, so that what a branch learns of one holds for both
        // (find_equal_scalars)
        const linked = src.id !== 0 ? src : { ...src, id: ++this.idGen };
        this.set(state, s, linked);
        this.set(state, d, linked);
      } else {
        this.set(state, d, x ? src : scalarReg(known(BigInt(imm))));
      }
      return;
    }
    if (op > Alu.END) fail(Errno.EINVAL, pc, `invalid BPF_ALU opcode ${op.toString(16)}`);
    if (x ? imm !== 0 || off !== 0 : s !== 0 || off !== 0)
      fail(Errno.EINVAL, pc, 'BPF_ALU uses reserved fields');
    const src = x ? this.read(state, s) : scalarReg(known(BigInt(imm)));
    const dst = this.read(state, d);
    if ((op === Alu.MOD || op === Alu.DIV) && !x && imm === 0) fail(Errno.EINVAL, pc, 'div by zero');
    if ((op === Alu.LSH || op === Alu.RSH || op === Alu.ARSH) && !x && (imm < 0 || imm >= (wide ? 64 : 32)))
      fail(Errno.EINVAL, pc, `invalid shift ${imm}`);
    this.writeCheck(state, d);
    if (isPointer(dst) || isPointer(src)) {
      this.set(state, d, this.pointerAlu(state, insn, dst, src, wide));
      return;
    }
    this.set(state, d, scalarReg(transfer(op, dst.s, src.s, wide)));
  }

  /**
   * Pointer arithmetic, in the order of Linux's `adjust_ptr_min_max_vals`: which pointers and
   * operators are allowed, sane offsets (EINVAL), and without CAP_PERFMON the Spectre v1 rules:
   * only stack and map value pointers move by a register, the offset's signed bounds may not mix
   * signs, the same instruction must mask the same way on every path, and the result must stay
   * inside its object.
   */
  private pointerAlu(state: State, insn: BpfInsn, dst: Reg, src: Reg, wide: boolean): Reg {
    const pc = state.pc;
    const op = insn.code & OPCODE_MASK.OPERATION;
    const sym = ALU_SYMBOLS[op] ?? '?';
    const { dst_reg: d } = insn;
    const x = (insn.code & 8) !== 0;
    const privileged = this.options.privileged;
    if (isPointer(dst) && isPointer(src)) {
      if (op === Alu.SUB && privileged) return scalarReg(unknown());
      return fail(Errno.EACCES, pc, `R${d} pointer ${sym} pointer prohibited`);
    }
    const pointer = isPointer(dst) ? dst : src;
    const offset = isPointer(dst) ? src : dst;
    const offReg = isPointer(dst) ? insn.src_reg : d;
    // an offset with contradictory bounds comes from a dead branch: Linux taints the result
    if (invalidBounds(offset.s)) return scalarReg(unknown());
    if (!wide) {
      if (op === Alu.SUB && privileged) return scalarReg(unknown());
      return fail(Errno.EACCES, pc, `R${d} 32-bit pointer arithmetic prohibited`);
    }
    if (pointer.type === 'map_value_or_null')
      return fail(
        Errno.EACCES,
        pc,
        `R${d} pointer arithmetic on map_value_or_null prohibited, null-check it first`,
      );
    if (
      pointer.type === 'pkt_end' ||
      (pointer.type === 'map_ptr' && !(isConst(offset.s) && offset.s.value === 0n && op === Alu.ADD))
    ) {
      return fail(Errno.EACCES, pc, `R${d} pointer arithmetic on ${TYPE_NAME[pointer.type]} prohibited`);
    }
    const name = TYPE_NAME[pointer.type];
    this.saneOffset(offset.s, 0, name, pc);
    this.saneOffset(pointer.s, pointer.off, name, pc);
    const sanitize = !privileged && x && (op === Alu.ADD || op === Alu.SUB);
    let window = 0;
    if (sanitize) {
      const offIsImm = isConst(offset.s);
      if (!offIsImm && offset.s.smin < 0n !== offset.s.smax < 0n)
        fail(
          13,
          pc,
          `R${offReg} has unknown scalar with mixed signed bounds, pointer arithmetic with it prohibited for !root`,
        );
      window = this.pointerLimit(pointer, op, offset, d, pc);
    }
    let result: Reg;
    if (op === Alu.ADD || op === Alu.SUB) {
      if (op === Alu.SUB && !isPointer(dst))
        return fail(Errno.EACCES, pc, `R${d} tried to subtract pointer from scalar`);
      if (op === Alu.SUB && pointer.type === 'fp')
        return fail(Errno.EACCES, pc, `R${d} subtraction from stack pointer prohibited`);
      if (isConst(offset.s)) {
        const k = Number(BigInt.asIntN(64, offset.s.value));
        const fixed = op === Alu.SUB ? pointer.off - k : pointer.off + k;
        if (fixed === (fixed | 0)) {
          result = { ...pointer, off: fixed };
        } else result = this.variablePointer(pointer, op === Alu.SUB ? neg(offset.s, true) : offset.s);
      } else {
        result = this.variablePointer(pointer, op === Alu.SUB ? neg(offset.s, true) : offset.s);
      }
    } else if (op === Alu.AND || op === Alu.OR || op === Alu.XOR) {
      return fail(Errno.EACCES, pc, `R${d} bitwise operator ${sym} on pointer prohibited`);
    } else {
      return fail(Errno.EACCES, pc, `R${d} pointer arithmetic with ${sym} operator prohibited`);
    }
    this.saneOffset(result.s, result.off, name, pc);
    if (!privileged) this.checkBoundsForSpeculation(result, d, pc);
    if (sanitize) {
      const after = this.pointerLimit(result, op, offset, d, pc, true);
      this.recordMasking(pc, offset, isPointer(dst), Math.abs(window - after));
    }
    return result;
  }

  /** A pointer plus a variable offset: a new packet id, no range yet. */
  private variablePointer(pointer: Reg, delta: Scalar): Reg {
    const s = alu(Alu.ADD, pointer.s, delta, true);
    const isPacket = pointer.type === 'pkt' || pointer.type === 'pkt_meta';
    return { ...pointer, s, id: isPacket ? ++this.idGen : pointer.id, range: isPacket ? 0 : pointer.range };
  }

  /** Linux's `check_reg_sane_offset` (EINVAL): offsets beyond 2^29 are never meaningful. */
  private saneOffset(s: Scalar, off: number, name: string, pc: number): void {
    const limit = 1n << 29n;
    if (isConst(s)) {
      const v = BigInt.asIntN(64, s.value);
      if (v >= limit || v <= -limit)
        fail(Errno.EINVAL, pc, `math between ${name} pointer and ${v} is not allowed`);
    }
    if (off >= 1 << 29 || off <= -(1 << 29))
      fail(Errno.EINVAL, pc, `${name} pointer offset ${off} is not allowed`);
    if (s.smin === -(1n << 63n))
      fail(
        Errno.EINVAL,
        pc,
        `math between ${name} pointer and register with unbounded min value is not allowed`,
      );
    if (s.smin >= limit || s.smin <= -limit)
      fail(Errno.EINVAL, pc, `value ${s.smin} makes ${name} pointer be out of bounds`);
  }

  /**
   * Linux's `retrieve_ptr_limit`: how far the pointer may move in the direction the offset takes
   * it (EACCES for other pointer types, or when the pointer already sits at its object's end).
   */
  private pointerLimit(pointer: Reg, op: number, offset: Reg, d: number, pc: number, after = false): number {
    const toLeft = (op === Alu.ADD && offset.s.smin < 0n) || (op === Alu.SUB && offset.s.smin >= 0n);
    let limit: bigint;
    let max: bigint;
    if (pointer.type === 'fp') {
      max = 512n + (toLeft ? 1n : 0n);
      limit = -(BigInt.asIntN(64, pointer.s.value) + BigInt(pointer.off));
    } else if (pointer.type === 'map_value') {
      max = BigInt((pointer.map as MapDefinition).valueSize);
      limit = (toLeft ? pointer.s.smin : pointer.s.umax) + BigInt(pointer.off);
    } else {
      return fail(
        13,
        pc,
        `R${d} has pointer with unsupported alu operation, pointer arithmetic with it prohibited for !root`,
      );
    }
    if (limit >= max && !after)
      fail(
        13,
        pc,
        `R${d} tried to ${op === Alu.ADD ? 'add' : 'sub'} beyond pointer bounds, pointer arithmetic with it prohibited for !root`,
      );
    return Number(limit);
  }

  /**
   * Linux's `update_alu_sanitation_state`: one instruction must mask its pointer arithmetic the same
   * way on every path (direction, operand order and window), since the rewrite is per instruction.
   */
  private recordMasking(pc: number, offset: Reg, ptrIsDst: boolean, window: number): void {
    const mode = `${offset.s.smin < 0n ? 'neg' : 'pos'}/${isConst(offset.s) ? 'imm' : 'reg'}/${ptrIsDst ? 'src' : 'dst'}/${window}`;
    const seen = this.masking.get(pc);
    if (seen !== undefined && seen !== mode)
      fail(
        13,
        pc,
        `R${(this.insns[pc] as BpfInsn).dst_reg} tried to add from different maps, paths or scalars, pointer arithmetic with it prohibited for !root`,
      );
    this.masking.set(pc, mode);
  }

  /** Linux's `sanitize_check_bounds`: without CAP_PERFMON a moved pointer stays inside its object. */
  private checkBoundsForSpeculation(result: Reg, d: number, pc: number): void {
    if (result.type === 'fp') {
      if (!isConst(result.s))
        fail(Errno.EACCES, pc, `R${d} variable stack access prohibited for !root, off=${result.off}`);
      const off = result.off + Number(BigInt.asIntN(64, result.s.value));
      if (off >= 0 || off < -512)
        fail(
          Errno.EACCES,
          pc,
          `R${d} stack pointer arithmetic goes out of range, prohibited for !root; off=${off}`,
        );
    } else if (result.type === 'map_value') {
      const size = BigInt((result.map as MapDefinition).valueSize);
      const lo = BigInt(result.off) + result.s.smin;
      const hi = BigInt(result.off) + result.s.umax;
      if (result.s.smin < 0n || lo < 0n || hi + 1n > size)
        fail(
          Errno.EACCES,
          pc,
          `R${d} pointer arithmetic of map value goes out of range, prohibited for !root`,
        );
    }
  }

  private ld(state: State, insn: BpfInsn): void {
    const pc = state.pc;
    if (insn.code !== Op.LDDW)
      fail(Errno.EINVAL, pc, 'BPF_LD_[ABS|IND] instructions not allowed for this program type');
    const next = this.insns[pc + 1] as BpfInsn;
    this.writeCheck(state, insn.dst_reg);
    if (insn.src_reg === 0) {
      this.set(
        state,
        insn.dst_reg,
        scalarReg(known((BigInt(next.imm >>> 0) << 32n) | BigInt(insn.imm >>> 0))),
      );
    } else {
      const map = this.options.maps.get(insn.imm) as MapDefinition;
      this.set(
        state,
        insn.dst_reg,
        insn.src_reg === 1 ? ptr('map_ptr', { map }) : ptr('map_value', { map, off: next.imm }),
      );
    }
  }

  /** Checks a memory access through register `r` at `off` of `size` bytes; returns the loaded value. */
  private access(
    state: State,
    r: number,
    reg: Reg,
    off: number,
    size: number,
    write: boolean,
    value: Reg | undefined,
    pc: number,
  ): Reg {
    // helpers' memory arguments (size not a power of two) are not alignment-checked, as in Linux
    if ((size & (size - 1)) === 0 && size <= 8 && !this.helperAccess) this.alignment(reg, off, size, pc);
    const total = reg.off + off;
    switch (reg.type) {
      case 'ctx': {
        if (!isConst(reg.s) || reg.off !== 0)
          fail(Errno.EACCES, pc, `dereference of modified ctx ptr R${r} off=${reg.off} disallowed`);
        const ok = !write && total >= 0 && total < 24 && total % size === 0 && size === 4 && total !== 20;
        if (!ok) fail(Errno.EACCES, pc, `invalid bpf_context access off=${total} size=${size}`);
        if (total === 0) return ptr('pkt');
        if (total === 4) return ptr('pkt_end');
        if (total === 8) return ptr('pkt_meta');
        return scalarReg(upTo(0xffffffffn));
      }
      case 'pkt':
      case 'pkt_meta': {
        if (reg.s.smin < 0n)
          fail(
            13,
            pc,
            `R${r} min value is negative, either use unsigned index or do a if (index >=0) check.`,
          );
        if (total < 0 || total + size > reg.range) {
          fail(Errno.EACCES, pc, `R${r} offset is outside of the packet`);
        }
        if (write && value !== undefined && isPointer(value) && !this.options.privileged)
          fail(Errno.EACCES, pc, `R${value === reg ? r : '?'} leaks addr into packet`);
        return scalarReg(size === 8 ? unknown() : upTo((1n << BigInt(size * 8)) - 1n));
      }
      case 'map_value': {
        const map = reg.map as MapDefinition;
        const lo = BigInt(total) + reg.s.smin;
        const hi = BigInt(total) + reg.s.umax;
        if (reg.s.smin < 0n)
          fail(
            13,
            pc,
            `R${r} min value is negative, either use unsigned index or do a if (index >=0) check.`,
          );
        if (lo < 0n || lo + BigInt(size) > BigInt(map.valueSize))
          fail(Errno.EACCES, pc, `R${r} min value is outside of the allowed memory range`);
        if (hi + BigInt(size) > BigInt(map.valueSize))
          fail(Errno.EACCES, pc, `R${r} max value is outside of the allowed memory range`);
        if (write && value !== undefined && isPointer(value) && !this.options.privileged)
          fail(Errno.EACCES, pc, `R${this.regIndex(state, value)} leaks addr into map`);
        return scalarReg(size === 8 ? unknown() : upTo((1n << BigInt(size * 8)) - 1n));
      }
      case 'fp':
        return this.stackAccess(state, r, reg, off, size, write, value, pc);
      case 'scalar':
      case 'pkt_end':
      case 'map_ptr':
      case 'map_value_or_null':
        return fail(Errno.EACCES, pc, `R${r} invalid mem access '${TYPE_NAME[reg.type]}'`);
      default:
        return fail(Errno.EACCES, pc, `R${r} !read_ok`);
    }
  }

  /**
   * Linux's `check_ptr_alignment`, before any other check of an access: the stack always, packet
   * (2 bytes past an aligned address, NET_IP_ALIGN) and map values with strict alignment.
   */
  private alignment(reg: Reg, off: number, size: number, pc: number): void {
    // atomics are always checked strictly (Linux's strict_alignment_once)
    const strict = this.options.strictAlignment === true || this.atomicAccess;
    const packet = reg.type === 'pkt' || reg.type === 'pkt_meta';
    if (!(reg.type === 'fp' || (strict && (packet || reg.type === 'map_value')))) return;
    const base = (packet ? 2 : 0) + reg.off + off;
    const low = BigInt(size - 1);
    const aligned = (reg.s.mask & low) === 0n && ((reg.s.value + BigInt(base)) & low) === 0n;
    if (aligned) return;
    const tn = `(0x${reg.s.value.toString(16)}; 0x${reg.s.mask.toString(16)})`;
    if (packet) fail(Errno.EACCES, pc, `misaligned packet access off 2+${tn}+${reg.off}+${off} size ${size}`);
    const desc = reg.type === 'fp' ? 'stack ' : 'value ';
    fail(Errno.EACCES, pc, `misaligned ${desc}access off ${tn}+${reg.off}+${off} size ${size}`);
  }

  private regIndex(state: State, reg: Reg): number {
    return this.frame(state).regs.indexOf(reg);
  }

  /** The frame a stack pointer points into (Linux's `reg->frameno`). */
  private frameOf(state: State, reg: Reg): Frame {
    return state.frames[reg.frameno ?? state.frames.length - 1] as Frame;
  }

  /**
   * A load or store through a stack pointer, as Linux's `check_stack_read/write_fixed_off` and their
   * variable-offset twins. `value` is the stored register (undefined for a store of unknown
   * data: an immediate, an atomic result or a helper's byte).
   */
  private stackAccess(
    state: State,
    r: number,
    reg: Reg,
    off: number,
    size: number,
    write: boolean,
    value: Reg | undefined,
    pc: number,
  ): Reg {
    const frame = this.frameOf(state, reg);
    if (!isConst(reg.s)) return this.variableStackAccess(state, r, reg, off, size, write, value, pc);
    const at = reg.off + Number(BigInt.asIntN(64, reg.s.value)) + off;
    if (at < -512 || at + size > 0)
      fail(
        Errno.EACCES,
        pc,
        `invalid ${write ? 'write to' : 'read from'} stack R${r} off=${at} size=${size}`,
      );
    this.touchStack(frame, at);
    if (write) {
      this.stackWrite(state, frame, at, size, value, pc);
      return NOT_INIT;
    }
    return this.stackRead(frame, at, size, reg.off + off, off, pc);
  }

  /** Linux's `check_stack_write_fixed_off`. */
  private stackWrite(
    state: State,
    frame: Frame,
    at: number,
    size: number,
    value: Reg | undefined,
    pc: number,
  ): void {
    const slot = Math.floor(at / 8) * 8;
    const b = frame.bytes;
    // any spill in the slot, narrow ones included (checked against the pinned kernel)
    if (!this.options.privileged && b[512 + slot] === Byte.Spill && size !== 8)
      fail(Errno.EACCES, pc, 'attempt to corrupt spilled pointer on stack');
    if (
      value !== undefined &&
      value.type === 'scalar' &&
      at % 8 === 0 &&
      !isUnbounded(value.s) &&
      !(isConst(value.s) && value.s.value === 0n)
    ) {
      this.spill(frame, slot, value, size);
      return;
    }
    if (value !== undefined && isPointer(value)) {
      if (size !== 8) fail(Errno.EACCES, pc, 'invalid size of register spill');
      if (frame !== this.frame(state) && value.type === 'fp')
        fail(Errno.EINVAL, pc, 'cannot spill pointers to stack into stack frame of the caller');
      this.spill(frame, slot, value, 8);
      return;
    }
    // plain data destroys any spill in the slot; the rest of a spilled slot becomes plain data
    dropSpills(frame, slot, slot + 8);
    const zero = value !== undefined && value.type === 'scalar' && isConst(value.s) && value.s.value === 0n;
    b.fill(zero ? Byte.Zero : Byte.Misc, 512 + at, 512 + at + size);
  }

  /** Linux's `save_register_state`: the first `size` bytes of the slot hold the register. */
  private spill(frame: Frame, slot: number, value: Reg, size: number): void {
    const b = frame.bytes;
    frame.spills.set(slot, value);
    for (let i = slot; i < slot + 8; i++) {
      if (i < slot + size) b[512 + i] = Byte.Spill;
      else if (b[512 + i] !== Byte.Invalid) b[512 + i] = Byte.Misc;
    }
  }

  /** Linux's `check_stack_read_fixed_off`; narrow results are truncated as the load truncates. */
  private stackRead(frame: Frame, at: number, size: number, fixed: number, off: number, pc: number): Reg {
    const slot = Math.floor(at / 8) * 8;
    const b = frame.bytes;
    if (b[512 + slot] === Byte.Spill) {
      const spilled = frame.spills.get(slot) as Reg;
      let spillSize = 0;
      while (spillSize < 8 && b[512 + slot + spillSize] === Byte.Spill) spillSize++;
      if (size === 8 && spillSize === 8) return spilled;
      if (spilled.type !== 'scalar') fail(Errno.EACCES, pc, 'invalid size of register fill');
      if (at === slot && size === spillSize) return scalarReg(coerce(spilled.s, size));
      for (let i = at; i < at + size; i++) {
        const t = b[512 + i];
        if (t === Byte.Spill || t === Byte.Misc) continue;
        if (t === Byte.Invalid && this.options.privileged) continue;
        fail(Errno.EACCES, pc, `invalid read from stack off ${fixed - off}+${i - at} size ${size}`);
      }
      return scalarReg(coerce(unknown(), size));
    }
    let zero = true;
    for (let i = at; i < at + size; i++) {
      const t = b[512 + i];
      if (t === Byte.Zero) continue;
      zero = false;
      if (t === Byte.Misc) continue;
      if (t === Byte.Invalid && this.options.privileged) continue;
      fail(Errno.EACCES, pc, `invalid read from stack off ${fixed}+${i - at} size ${size}`);
    }
    return scalarReg(zero ? known(0n) : coerce(unknown(), size));
  }

  /**
   * A privileged access through a stack pointer with a variable offset: the whole range it may
   * touch must be inside the stack; a read needs every byte of it readable and gives an unknown
   * scalar, a write makes every byte of it plain data.
   */
  private variableStackAccess(
    state: State,
    r: number,
    reg: Reg,
    off: number,
    size: number,
    write: boolean,
    value: Reg | undefined,
    pc: number,
  ): Reg {
    const frame = this.frameOf(state, reg);
    const lo = BigInt(reg.off + off) + reg.s.smin;
    const hi = BigInt(reg.off + off) + reg.s.smax + BigInt(size);
    if (reg.s.smin <= -(1n << 29n) || reg.s.smax >= 1n << 29n)
      fail(
        Errno.EACCES,
        pc,
        `invalid unbounded variable-offset ${write ? 'write to' : 'read from'} stack R${r}`,
      );
    if (lo < -512n || hi > 0n)
      fail(
        Errno.EACCES,
        pc,
        `invalid variable-offset ${write ? 'write to' : 'read from'} stack R${r} size=${size}`,
      );
    const from = Number(lo);
    const to = Number(hi);
    this.touchStack(frame, from);
    if (write) {
      if (value !== undefined && isPointer(value)) fail(Errno.EACCES, pc, 'invalid size of register spill');
      dropSpills(frame, from, to);
      frame.bytes.fill(Byte.Misc, 512 + from, 512 + to);
      return NOT_INIT;
    }
    this.readableRange(frame, from, to, r, pc, false);
    return scalarReg(coerce(unknown(), size));
  }

  /**
   * Linux's `check_stack_range_initialized` for bytes a helper or a variable-offset load reads:
   * plain data, zeros and spilled scalars; spilled pointers and (without CAP_PERFMON) unwritten
   * bytes are refused.
   */
  private readableRange(
    frame: Frame,
    from: number,
    to: number,
    r: number,
    pc: number,
    helper: boolean,
  ): void {
    for (let i = from; i < to; i++) {
      const t = frame.bytes[512 + i];
      if (t === Byte.Misc || t === Byte.Zero) continue;
      if (t === Byte.Spill) {
        const slot = Math.floor(i / 8) * 8;
        const spilled = frame.spills.get(slot) as Reg;
        if (spilled.type === 'scalar' || this.options.privileged) continue;
      } else if (this.options.privileged) continue;
      fail(
        13,
        pc,
        `invalid ${helper ? 'indirect ' : ''}read from stack R${r} off ${from}+${i - from} size ${to - from}`,
      );
    }
  }

  private ldx(state: State, insn: BpfInsn): void {
    const { dst_reg: d, src_reg: s, off } = insn;
    const size = [4, 2, 1, 8][(insn.code >> 3) & 3] as number;
    const src = this.read(state, s);
    this.writeCheck(state, d);
    this.set(state, d, this.access(state, s, src, off, size, false, undefined, state.pc));
  }

  private store(state: State, insn: BpfInsn): void {
    const pc = state.pc;
    const { dst_reg: d, src_reg: s, off, imm } = insn;
    const size = [4, 2, 1, 8][(insn.code >> 3) & 3] as number;
    const mode = insn.code & OPCODE_MASK.MODE;
    if ((insn.code & OPCODE_MASK.CLASS) === Cls.ST) {
      if (mode !== Mode.MEM || s !== 0) fail(Errno.EINVAL, pc, 'BPF_ST uses reserved fields');
      const dst = this.read(state, d);
      if (dst.type === 'ctx') fail(Errno.EACCES, pc, `BPF_ST stores into R${d} ctx is not allowed`);
      // the pinned 6.1 kernel tracks BPF_ST immediates as it tracks stored scalars
      this.access(state, d, dst, off, size, true, scalarReg(known(BigInt(imm))), pc);
      return;
    }
    if (mode === Mode.ATOMIC) {
      if (!ATOMIC_OPS.includes(imm)) {
        fail(
          Errno.EINVAL,
          pc,
          `BPF_ATOMIC uses invalid atomic opcode ${(imm >>> 0).toString(16).padStart(2, '0')}`,
        );
      }
      if (size !== 4 && size !== 8) fail(Errno.EINVAL, pc, 'invalid atomic operand size');
      const src = this.read(state, s);
      const dst = this.read(state, d);
      if (imm === Atomic.CMPXCHG && isPointer(this.read(state, 0)) && !this.options.privileged)
        fail(Errno.EACCES, pc, 'R0 leaks addr into mem');
      if (isPointer(src) && !this.options.privileged) fail(Errno.EACCES, pc, `R${s} leaks addr into mem`);
      if (dst.type !== 'map_value' && dst.type !== 'fp')
        fail(Errno.EACCES, pc, `BPF_ATOMIC stores into R${d} ${TYPE_NAME[dst.type]} is not allowed`);
      // Linux's check_atomic: the old value is read as a scalar (a spilled pointer may not be
      // read so without CAP_PERFMON), then read into the fetch register, then overwritten.
      this.atomicAccess = true;
      try {
        const old = this.atomicOperand(state, d, dst, off, size, pc);
        this.access(state, d, dst, off, size, true, undefined, pc);
        if (imm & 1) this.set(state, imm === Atomic.CMPXCHG ? 0 : s, old);
      } finally {
        this.atomicAccess = false;
      }
      return;
    }
    if (mode !== Mode.MEM || imm !== 0) fail(Errno.EINVAL, pc, 'BPF_STX uses reserved fields');
    const src = this.read(state, s);
    const dst = this.read(state, d);
    this.access(state, d, dst, off, size, true, src, pc);
  }

  /** The memory operand of an atomic instruction, read as Linux reads it with no target register. */
  private atomicOperand(state: State, d: number, dst: Reg, off: number, size: number, pc: number): Reg {
    if (dst.type === 'fp' && isConst(dst.s)) {
      const frame = this.frameOf(state, dst);
      const at = dst.off + Number(BigInt.asIntN(64, dst.s.value)) + off;
      const slot = Math.floor(at / 8) * 8;
      const spilled = at >= -512 && at + size <= 0 ? frame.spills.get(slot) : undefined;
      if (spilled !== undefined && frame.bytes[512 + slot] === Byte.Spill && size === 8 && at === slot) {
        if (isPointer(spilled) && !this.options.privileged)
          fail(Errno.EACCES, pc, `leaking pointer from stack off ${at}`);
        return spilled;
      }
    }
    const v = this.access(state, d, dst, off, size, false, undefined, pc);
    return isPointer(v) ? v : scalarReg(coerce(v.s, size));
  }

  private jmp(state: State, insn: BpfInsn, pending: State[]): State | undefined {
    const pc = state.pc;
    const { code, dst_reg: d, src_reg: s, off, imm } = insn;
    const op = code & OPCODE_MASK.OPERATION;
    const x = (code & 8) !== 0;
    const wide = (code & OPCODE_MASK.CLASS) === Cls.JMP;
    if (op === Jmp.JA) {
      if (x || imm !== 0 || s !== 0 || d !== 0 || !wide)
        fail(Errno.EINVAL, pc, 'BPF_JA uses reserved fields');
      state.pc += off + 1;
      return state;
    }
    if (op === Jmp.CALL) {
      if (x || off !== 0 || (s !== 0 && s !== 1) || d !== 0 || !wide)
        fail(Errno.EINVAL, pc, 'BPF_CALL uses reserved fields');
      if (s === 1) {
        if (state.frames.length >= 8)
          fail(Errno.E2BIG, pc, `the call stack of ${state.frames.length + 1} frames is too deep`);
        const caller = this.frame(state);
        const regs: Reg[] = Array.from({ length: 11 }, (_, r) =>
          r >= 1 && r <= 5 ? (caller.regs[r] as Reg) : NOT_INIT,
        );
        regs[10] = ptr('fp', { frameno: state.frames.length });
        // Linux's clear_caller_saved_regs, at the call: r0-r5 of the caller are dead while it waits
        for (let r = 0; r <= 5; r++) caller.regs[r] = NOT_INIT;
        state.frames.push({
          regs,
          bytes: new Uint8Array(512),
          spills: new Map(),
          callsite: pc,
          subprog: pc + imm + 1,
        });
        state.pc += imm + 1;
        return state;
      }
      this.helperCall(state, imm);
      state.pc++;
      return state;
    }
    if (op === Jmp.EXIT) {
      if (x || imm !== 0 || s !== 0 || d !== 0 || !wide)
        fail(Errno.EINVAL, pc, 'BPF_EXIT uses reserved fields');
      if (state.frames.length > 1) {
        // Linux's prepare_func_exit: r0 goes back as it is (a subprogram need not set it)
        const r0 = this.frame(state).regs[0] as Reg;
        if (r0.type === 'fp') fail(Errno.EINVAL, pc, 'cannot return stack pointer to the caller');
        const callee = state.frames.pop() as Frame;
        const caller = this.frame(state);
        caller.regs[0] = r0;
        for (let r = 1; r <= 5; r++) caller.regs[r] = NOT_INIT;
        state.pc = callee.callsite + 1;
        return state;
      }
      const r0 = this.read(state, 0);
      if (isPointer(r0) && !this.options.privileged) fail(Errno.EACCES, pc, 'R0 leaks addr as return value');
      finish(state.node);
      return undefined;
    }
    if (op > Jmp.JSLE) fail(Errno.EINVAL, pc, `invalid BPF_JMP/JMP32 opcode ${op.toString(16)}`);
    if (x ? imm !== 0 : s !== 0) fail(Errno.EINVAL, pc, 'BPF_JMP/JMP32 uses reserved fields');
    const src = x ? this.read(state, s) : scalarReg(known(BigInt(imm)));
    const dst = this.read(state, d);
    return this.branch(state, insn, dst, src, wide, pending);
  }

  /** A conditional jump: refines both successors and explores the fall-through first. */
  private branch(
    state: State,
    insn: BpfInsn,
    dst: Reg,
    src: Reg,
    wide: boolean,
    pending: State[],
  ): State | undefined {
    const op = insn.code & OPCODE_MASK.OPERATION;
    const { dst_reg: d, src_reg: s } = insn;
    const x = (insn.code & 8) !== 0;
    const here = state.pc;
    const target = here + insn.off + 1;
    if (dst.type === 'scalar' && src.type === 'scalar') {
      // refine() takes whole registers for 32-bit comparisons too, and refines them only as far
      // as the comparison of their low halves tells about the whole (the domain check proves it)
      const [t, f] = refine(op, dst.s, src.s, wide);
      if (t !== undefined && f !== undefined) {
        const taken = cloneState(state);
        taken.pc = target;
        state.pc = here + 1;
        learn(taken, d, dst, t[0]);
        learn(state, d, dst, f[0]);
        if (x && wide) {
          learn(taken, s, src, t[1]);
          learn(state, s, src, f[1]);
        }
        if (state.node !== undefined) state.node.branches++;
        pushPending(pending, taken, here);
        return state;
      }
      // decided: one side runs (without CAP_PERFMON the other is walked speculatively too)
      if (!this.options.privileged)
        this.speculate(state, t === undefined ? target : here + 1, d, x ? s : -1, pending, here);
      state.pc = t === undefined ? here + 1 : target;
      return state;
    }
    const taken = cloneState(state);
    taken.pc = target;
    state.pc++;
    let takenOk = true;
    let fallOk = true;
    if (
      dst.type === 'map_value_or_null' &&
      src.type === 'scalar' &&
      isConst(src.s) &&
      src.s.value === 0n &&
      (op === Jmp.JEQ || op === Jmp.JNE) &&
      wide
    ) {
      const isNull = op === Jmp.JEQ ? taken : state;
      const notNull = op === Jmp.JEQ ? state : taken;
      markNullable(isNull, dst.id, false);
      markNullable(notNull, dst.id, true);
    } else if (
      isPointer(dst) &&
      src.type === 'scalar' &&
      isConst(src.s) &&
      src.s.value === 0n &&
      (op === Jmp.JEQ || op === Jmp.JNE) &&
      dst.type !== 'map_value_or_null' &&
      wide
    ) {
      // a valid pointer is never NULL: the comparison's outcome is known
      if (op === Jmp.JEQ) takenOk = false;
      else fallOk = false;
    } else if (wide && this.packetCompare(op, dst, src, state, taken)) {
      // ranges learned
    } else if (isPointer(dst) && !this.options.privileged) {
      fail(Errno.EACCES, taken.pc - insn.off - 1, `R${d} pointer comparison prohibited`);
    } else if (x && isPointer(src) && !this.options.privileged) {
      fail(Errno.EACCES, taken.pc - insn.off - 1, `R${s} pointer comparison prohibited`);
    }
    if (takenOk && fallOk) {
      if (state.node !== undefined) state.node.branches++;
      pushPending(pending, taken, taken.pc - insn.off - 1);
    } else if (takenOk !== fallOk && !this.options.privileged) {
      this.speculate(takenOk ? state : taken, takenOk ? here + 1 : target, d, x ? s : -1, pending, here);
    }
    if (takenOk && !fallOk) return taken;
    if (fallOk) return state;
    finish(state.node);
    return undefined;
  }

  /**
   * Without CAP_PERFMON Linux also walks the side of a decided branch the CPU might mispredict (its
   * Spectre v1 mitigation, sanitize_speculative_path): a copy of `state` at `pc`, as a speculative
   * path on which the compared registers (`d`, and `s` unless -1) are unknown.
   */
  private speculate(
    state: State,
    pc: number,
    d: number,
    s: number,
    pending: State[],
    branchPc: number,
  ): void {
    const speculative = cloneState(state);
    speculative.pc = pc;
    speculative.speculative = true;
    const regs = this.frame(speculative).regs;
    regs[d] = scalarReg(unknown());
    if (s >= 0) regs[s] = scalarReg(unknown());
    if (state.node !== undefined) state.node.branches++;
    pushPending(pending, speculative, branchPc);
  }

  /** Learns packet ranges from comparing a packet pointer with data_end (or data with data_meta). */
  private packetCompare(op: number, dst: Reg, src: Reg, fall: State, taken: State): boolean {
    // Linux's try_match_pkt_pointers: data_meta learns a range only against the unmodified data
    const initPacket = (r: Reg) => r.type === 'pkt' && r.off === 0 && isConst(r.s) && r.s.value === 0n;
    const match = (a: Reg, b: Reg) =>
      (a.type === 'pkt' && b.type === 'pkt_end') || (a.type === 'pkt_meta' && initPacket(b));
    const good = (st: State, reg: Reg, open: boolean) => {
      if (reg.off < 0 || (reg.off === 0 && open)) return;
      // MAX_PACKET_OFF: a pointer that may be far past the packet learns nothing (overflow risk).
      if (reg.s.umax > 0xffffn || reg.s.umax + BigInt(reg.off) > 0xffffn) return;
      const range = reg.off + (open ? 1 : 0);
      for (const frame of st.frames) {
        frame.regs = frame.regs.map((r) =>
          r.type === reg.type && r.id === reg.id ? { ...r, range: Math.max(r.range, range) } : r,
        );
        for (const [slot, r] of frame.spills) {
          if (r.type === reg.type && r.id === reg.id)
            frame.spills.set(slot, { ...r, range: Math.max(r.range, range) });
        }
      }
    };
    if (!match(dst, src) && !match(src, dst)) return false;
    if (match(dst, src)) {
      if (op === Jmp.JGT)
        good(fall, dst, false); // pkt > end: in range when not taken
      else if (op === Jmp.JLT)
        good(taken, dst, true); // pkt < end
      else if (op === Jmp.JGE)
        good(fall, dst, true); // pkt >= end
      else if (op === Jmp.JLE) good(taken, dst, false); // pkt <= end
    } else if (match(src, dst)) {
      if (op === Jmp.JGT)
        good(taken, src, true); // end > pkt
      else if (op === Jmp.JLT)
        good(fall, src, false); // end < pkt
      else if (op === Jmp.JGE)
        good(taken, src, false); // end >= pkt
      else if (op === Jmp.JLE) good(fall, src, true); // end <= pkt
    }
    return true;
  }

  private helperCall(state: State, id: number): void {
    const pc = state.pc;
    state.helperId = id;
    const proto = HELPERS.get(id);
    const name = helperName(id);
    if (id < 0 || id >= 212) fail(Errno.EINVAL, pc, `invalid func unknown#${id}`);
    const allowed =
      proto !== undefined &&
      (this.options.helpers === undefined || this.options.helpers.has(id)) &&
      (proto.privileged !== true || this.options.privileged);
    if (!allowed || proto === undefined) return fail(Errno.EINVAL, pc, `unknown func ${name}#${id}`);
    const frame = this.frame(state);
    const args = proto.args;
    let mapArg: MapDefinition | undefined;
    for (let i = 0; i < args.length; i++) {
      const r = i + 1;
      const want = args[i] as ArgType;
      const reg = frame.regs[r] as Reg;
      if (reg.type === 'not_init') fail(Errno.EACCES, pc, `R${r} !read_ok`);
      mapArg = this.checkArg(state, r, reg, want, args[i + 1], mapArg, pc) ?? mapArg;
    }
    if (proto.changesPacket) {
      for (const f of state.frames) {
        f.regs = f.regs.map((r) =>
          r.type === 'pkt' || r.type === 'pkt_end' || r.type === 'pkt_meta' ? scalarReg(unknown()) : r,
        );
        for (const [slot, r] of f.spills)
          if (r.type === 'pkt' || r.type === 'pkt_end' || r.type === 'pkt_meta')
            f.spills.set(slot, scalarReg(unknown()));
      }
    }
    for (let r = 1; r <= 5; r++) frame.regs[r] = NOT_INIT;
    frame.regs[0] =
      proto.ret === 'void'
        ? NOT_INIT
        : proto.ret === 'map_value_or_null'
          ? ptr('map_value_or_null', { map: mapArg as MapDefinition, id: ++this.idGen })
          : scalarReg(proto.ret === 'u32' ? upTo(0xffffffffn) : unknown());
  }

  /** One helper argument; returns the map when the argument is the map. */
  private checkArg(
    state: State,
    r: number,
    reg: Reg,
    want: ArgType,
    next: ArgType | undefined,
    map: MapDefinition | undefined,
    pc: number,
  ): MapDefinition | undefined {
    const expect = (types: RegType[], text: string) => {
      if (!types.includes(reg.type))
        fail(Errno.EACCES, pc, `R${r} type=${TYPE_NAME[reg.type]} expected=${text}`);
    };
    switch (want) {
      case 'anything':
        if (isPointer(reg) && !this.options.privileged)
          fail(Errno.EACCES, pc, `R${r} leaks addr into helper function`);
        return undefined;
      case 'ctx':
        expect(['ctx'], 'ctx');
        if (reg.off !== 0)
          fail(Errno.EACCES, pc, `dereference of modified ctx ptr R${r} off=${reg.off} disallowed`);
        return undefined;
      case 'map':
        expect(['map_ptr'], 'map_ptr');
        if (
          reg.map !== undefined &&
          (HELPERS.get(state.helperId)?.mapTypes?.includes(reg.map.type) === false ||
            MAP_TYPE_HELPERS.get(reg.map.type)?.includes(state.helperId) === false)
        ) {
          fail(
            22,
            pc,
            `cannot pass map_type ${reg.map.type} into func ${helperName(state.helperId)}#${state.helperId}`,
          );
        }
        return reg.map;
      case 'long': {
        expect(
          ['fp', 'pkt', 'pkt_meta', 'map_value'],
          'fp, pkt, pkt_meta, map_key, map_value, mem, alloc_mem, buf',
        );
        // Linux reads the long as helper memory, then the helper overwrites it: the bytes are
        // plain data afterwards (Linux 6.1 leaves the old slot state; the model does not)
        this.helperMemory(state, r, reg, 8, false, pc);
        if (reg.type === 'fp') this.helperMemory(state, r, reg, 8, true, pc);
        return undefined;
      }
      case 'scalar':
      case 'size':
      case 'size_or_zero':
        expect(['scalar'], 'scalar');
        if (want !== 'scalar' && reg.s.smin < 0n)
          fail(Errno.EACCES, pc, `R${r} min value is negative, either use unsigned or 'var &= const'`);
        if (want === 'size' && reg.s.umin === 0n) fail(Errno.EACCES, pc, `R${r} invalid zero-sized read`);
        return undefined;
      case 'key':
      case 'value':
      case 'mem':
      case 'mem_or_null':
      case 'uninit_mem': {
        if (want === 'mem_or_null' && reg.type === 'scalar' && isConst(reg.s) && reg.s.value === 0n) {
          // NULL is allowed only with a size of zero (Linux: "zero-byte read from NULL")
          if (this.sizeArg(state, r + 1, next) !== 0) fail(Errno.EACCES, pc, `R${r} type=scalar expected=fp`);
          return undefined;
        }
        expect(
          ['fp', 'pkt', 'pkt_meta', 'map_value'],
          'fp, pkt, pkt_meta, map_key, map_value, mem, alloc_mem, buf',
        );
        const size =
          want === 'key'
            ? (map as MapDefinition).keySize
            : want === 'value'
              ? (map as MapDefinition).valueSize
              : this.sizeArg(state, r + 1, next);
        if (size > 0) this.helperMemory(state, r, reg, size, want === 'uninit_mem', pc);
        return undefined;
      }
    }
  }

  /**
   * Memory a helper reads or (`write`, Linux's raw mode) fills through a pointer argument. On the
   * stack a read needs readable bytes and never a spilled pointer without CAP_PERFMON; a write is
   * done as Linux does it after the call, one byte store at a time (so it cannot overwrite part of
   * a spilled pointer without CAP_PERFMON, and it leaves plain data).
   */
  private helperMemory(state: State, r: number, reg: Reg, size: number, write: boolean, pc: number): void {
    if (reg.type !== 'fp') {
      this.helperAccess = true;
      try {
        this.access(state, r, reg, 0, size, write, undefined, pc);
      } finally {
        this.helperAccess = false;
      }
      return;
    }
    const frame = this.frameOf(state, reg);
    const fixed = isConst(reg.s);
    if (!fixed && !this.options.privileged)
      fail(Errno.EACCES, pc, `R${r} variable offset stack access prohibited for !root`);
    const lo = BigInt(reg.off) + (fixed ? BigInt.asIntN(64, reg.s.value) : reg.s.smin);
    const hi = BigInt(reg.off) + (fixed ? BigInt.asIntN(64, reg.s.value) : reg.s.smax) + BigInt(size);
    // Linux 6.1: a start outside the stack is EACCES, a start inside with an end past the top EINVAL
    if (lo < -512n || hi > 0n)
      fail(
        lo >= 0n || lo < -512n ? 13 : 22,
        pc,
        `invalid ${fixed ? '' : 'variable-offset '}indirect access to stack R${r} off=${lo} size=${size}`,
      );
    const from = Number(lo);
    const to = Number(hi);
    this.touchStack(frame, from);
    if (write && fixed) {
      for (let at = from; at < to; at++) this.stackWrite(state, frame, at, 1, undefined, pc);
      return;
    }
    // a variable-offset buffer must already be initialised (Linux drops raw mode for it)
    this.readableRange(frame, from, to, r, pc, true);
    if (write) {
      dropSpills(frame, from, to);
      frame.bytes.fill(Byte.Misc, 512 + from, 512 + to);
      return;
    }
    // Linux 6.1's check_stack_range_initialized: what a helper reads is plain data afterwards
    // (zeroes become unknown bytes, and a spilled register it reads is forgotten, its whole slot
    // unknown bytes), as a helper might have written it (checked against the pinned kernel)
    for (let slot = Math.floor(from / 8) * 8; slot < to; slot += 8) {
      if (!frame.spills.has(slot)) continue;
      frame.spills.delete(slot);
      for (let i = slot; i < slot + 8; i++)
        if (frame.bytes[512 + i] !== Byte.Invalid) frame.bytes[512 + i] = Byte.Misc;
    }
    for (let i = from; i < to; i++) if (frame.bytes[512 + i] === Byte.Zero) frame.bytes[512 + i] = Byte.Misc;
  }

  /** The size a size argument promises (its largest value). */
  private sizeArg(state: State, r: number, type: ArgType | undefined): number {
    if (type === undefined) return 0;
    const reg = this.frame(state).regs[r] as Reg;
    if (reg.type !== 'scalar') return 0;
    return Number(reg.s.umax > 1n << 29n ? 1n << 29n : reg.s.umax);
  }
}

/** Linux's limit on the states waiting to be explored (BPF_COMPLEXITY_LIMIT_JMP_SEQ). */
const PENDING_LIMIT = 8192;

/** Linux's `push_stack`: a branch to explore later; past the limit the program is refused (EFAULT). */
function pushPending(pending: State[], state: State, pc: number): void {
  pending.push(state);
  if (pending.length > PENDING_LIMIT)
    fail(Errno.EFAULT, pc, `The sequence of ${pending.length} jumps is too complex.`);
}

/**
 * A branch refined register `r` of the current frame: the new value holds for every scalar
 * sharing its id, in every frame and spill slot (Linux's find_equal_scalars).
 */
function learn(state: State, r: number, before: Reg, value: Scalar): void {
  const frame = state.frames[state.frames.length - 1] as Frame;
  const updated: Reg = { ...before, s: value };
  frame.regs[r] = updated;
  if (before.id === 0) return;
  for (const f of state.frames) {
    for (let i = 0; i <= 10; i++) {
      const reg = f.regs[i] as Reg;
      if (reg.type === 'scalar' && reg.id === before.id) f.regs[i] = updated;
    }
    for (const [slot, reg] of f.spills)
      if (reg.type === 'scalar' && reg.id === before.id) f.spills.set(slot, updated);
  }
}

/** A path ended: its nodes lose one branch each, up to the first one still shared with another path. */
function finish(node: Node | undefined): void {
  for (let n = node; n !== undefined; n = n.parent) {
    if (--n.branches > 0) return;
  }
}

function markNullable(state: State, id: number, notNull: boolean): void {
  for (const frame of state.frames) {
    frame.regs = frame.regs.map((r) =>
      r.type === 'map_value_or_null' && r.id === id
        ? notNull
          ? { ...r, type: 'map_value' as const, id: 0 }
          : scalarReg(known(0n))
        : r,
    );
    for (const [slot, r] of frame.spills) {
      if (r.type === 'map_value_or_null' && r.id === id) {
        frame.spills.set(slot, notNull ? { ...r, type: 'map_value', id: 0 } : scalarReg(known(0n)));
      }
    }
  }
}

/** Interprets a program that passed the structural phase. */
export function interpret(insns: readonly BpfInsn[], options: CheckOptions): CheckResult {
  try {
    return { processed: new Checker(insns, options).run() };
  } catch (error) {
    if (error instanceof Reject) return { rejection: error.rejection };
    throw error;
  }
}

/** For logs: a register's abstract value. */
export function describeReg(r: Reg): string {
  return r.type === 'scalar' ? describeScalar(r.s) : `${TYPE_NAME[r.type]}(off=${r.off},r=${r.range})`;
}
