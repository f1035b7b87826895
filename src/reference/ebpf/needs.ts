/**
 * What a program needs from the machine that runs it, in the terms of the capabilities (spec
 * section X.6): the helpers it calls, the RFC 9669 conformance groups and the program features its
 * instructions use, and the maps it names. The driver reads it to decide whether a program can be
 * offloaded ([drv-caps-respect]); the device reads it to refuse what it did not advertise.
 *
 * @module
 */
import {
  BPF_LD_IMM64,
  BpfPseudo,
  IsaGroup,
  OffloadHelper,
  ProgFeature,
  type BpfInsn,
} from '../../codec/index.js';
import { Alu, Cls, Jmp, Mode, Op, OPCODE_MASK, Size } from './opcodes.js';

/** A program's requirements. */
export interface ProgramNeeds {
  /** Helper ids called (`call` with `src_reg` 0). */
  readonly helpers: ReadonlySet<number>;
  /** `isa_groups` bits the instructions belong to. */
  readonly isaGroups: number;
  /** `prog_features` bits the program uses. */
  readonly progFeatures: number;
  /** Map handles (or, before rewriting, whatever the loader put there) named by `ld_imm64`, in first-use order. */
  readonly mapRefs: readonly number[];
  /** Every `src_reg` value an `ld_imm64` uses (0 for plain constants). */
  readonly pseudoSources: ReadonlySet<number>;
  /** Every `src_reg` value a `call` (opcode 0x85) uses: 0 helper, 1 bpf-to-bpf, 2 kfunc. */
  readonly callSources: ReadonlySet<number>;
  /** Whether it uses LD_ABS or LD_IND (RFC 9669's packet group, which XDP programs cannot use). */
  readonly packetLoads: boolean;
}

/** `struct xdp_md` offset of `data_meta`. */
const XDP_MD_DATA_META = 8;

/** The RFC 9669 group of one (non-`ld_imm64`-second-slot) instruction. */
function groupOf(insn: BpfInsn): number {
  const cls = insn.code & 0x07;
  const op = insn.code & OPCODE_MASK.OPERATION;
  const wide = cls === Cls.ALU64 || cls === Cls.JMP || (insn.code & OPCODE_MASK.SIZE) === Size.DW;
  switch (cls) {
    case Cls.ALU:
    case Cls.ALU64:
      if (op === Alu.MUL || op === Alu.DIV || op === Alu.MOD)
        return cls === Cls.ALU ? IsaGroup.DIVMUL32 : IsaGroup.DIVMUL64;
      return cls === Cls.ALU ? IsaGroup.BASE32 : IsaGroup.BASE64;
    case Cls.LD:
      // ld_imm64; LD_ABS and LD_IND have no group an XDP device offers (see `packetLoads`)
      return IsaGroup.BASE64;
    case Cls.STX:
      if ((insn.code & OPCODE_MASK.MODE) === Mode.ATOMIC)
        return (insn.code & OPCODE_MASK.SIZE) === Size.DW ? IsaGroup.ATOMIC64 : IsaGroup.ATOMIC32;
      return wide ? IsaGroup.BASE64 : IsaGroup.BASE32;
    default:
      if (insn.code === Op.CALLX) return IsaGroup.CALLX;
      return wide ? IsaGroup.BASE64 : IsaGroup.BASE32;
  }
}

/** Reads a program's requirements. The program need not be valid: undefined forms are skipped. */
export function programNeeds(insns: readonly BpfInsn[]): ProgramNeeds {
  const helpers = new Set<number>();
  const mapRefs: number[] = [];
  const pseudoSources = new Set<number>();
  const callSources = new Set<number>();
  let packetLoads = false;
  let isaGroups = 0;
  let progFeatures = 0;
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i] as BpfInsn;
    isaGroups |= groupOf(insn);
    const cls = insn.code & 0x07;
    if (insn.code === BPF_LD_IMM64) {
      pseudoSources.add(insn.src_reg);
      if (insn.src_reg === BpfPseudo.MAP_FD || insn.src_reg === BpfPseudo.MAP_VALUE) {
        const handle = insn.imm >>> 0;
        if (!mapRefs.includes(handle)) mapRefs.push(handle);
        if (insn.src_reg === BpfPseudo.MAP_VALUE) progFeatures |= ProgFeature.MAP_VALUE_ADDR;
      }
      i++; // the second slot belongs to this instruction
      continue;
    }
    const mode = insn.code & OPCODE_MASK.MODE;
    if (cls === Cls.LD && (mode === Mode.ABS || mode === Mode.IND)) packetLoads = true;
    if (insn.code === Op.CALL) callSources.add(insn.src_reg);
    if (cls === Cls.JMP && (insn.code & OPCODE_MASK.OPERATION) === Jmp.CALL) {
      if (insn.src_reg === 0) helpers.add(insn.imm >>> 0);
      if (insn.src_reg === 1) progFeatures |= ProgFeature.BPF_TO_BPF_CALLS;
    }
    if (insn.code === (Cls.LDX | Mode.MEM | Size.W) && insn.src_reg === 1 && insn.off === XDP_MD_DATA_META) {
      // r1 holds the context at entry, and compilers read data_meta through it; a program that
      // moved the context elsewhere first is not recognised (the device's verifier still runs it
      // only where data_meta is offered), and a packet read at r1+8 counts too: conservative.
      progFeatures |= ProgFeature.DATA_META;
    }
  }
  if (helpers.has(OffloadHelper.xdp_adjust_meta)) progFeatures |= ProgFeature.DATA_META;
  return { helpers, isaGroups, progFeatures, mapRefs, pseudoSources, callSources, packetLoads };
}

/** Whether bit `id` is set in a helper bitmap (the codec's rule, kept here for the engine's callers). */
export { helperBitSet } from '../../codec/index.js';

/**
 * A copy of a program with every map reference (`ld_imm64` with `src_reg` 1 or 2) renamed: what a
 * loader does when it binds a program to maps (object-file relocations, guest fds to device
 * handles).
 */
export function rewriteMapRefs(insns: readonly BpfInsn[], rename: (ref: number) => number): BpfInsn[] {
  const out = insns.map((insn) => ({ ...insn }));
  for (let i = 0; i < out.length; i++) {
    const insn = out[i] as BpfInsn;
    if (insn.code !== BPF_LD_IMM64) continue;
    if (insn.src_reg === BpfPseudo.MAP_FD || insn.src_reg === BpfPseudo.MAP_VALUE)
      out[i] = { ...insn, imm: rename(insn.imm >>> 0) | 0 };
    i++;
  }
  return out;
}
