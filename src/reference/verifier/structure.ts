/**
 * The verifier's structural phase, in the order and with the errno and messages of Linux 6.1's
 * `bpf_check` before it interprets the program: program size, `ld_imm64` pairs and map references
 * (`resolve_pseudo_ldimm64`), opcodes, subprogram bounds and jumps (`check_subprogs`), and the
 * control-flow graph (`check_cfg`: every instruction reachable; loops allowed, as for a loader with
 * CAP_BPF).
 *
 * @module
 */
import { Errno, isLdImm64SecondSlot, type BpfInsn } from '../../codec/index.js';
import type { MapDefinition } from '../ebpf/maps.js';

/** A verifier rejection: the errno Linux returns, the instruction and the log line. */
export interface Rejection {
  /** The errno of the refusal. */
  readonly errno: number;
  /** The instruction it concerns. */
  readonly insn: number;
  /** The log line, worded as Linux words it. */
  readonly message: string;
}

/** Linux's errno values the verifier returns. */
export const VerifierErrno = {
  /** The program is unsafe. */
  EACCES: Errno.EACCES,
  /** The program is malformed. */
  EINVAL: Errno.EINVAL,
  /** The program is too large or too complex. */
  E2BIG: Errno.E2BIG,
  /** A map reference names no map. */
  EBADF: Errno.EBADF,
  /** Not supported (Linux's internal ENOTSUPP). */
  ENOTSUPP: Errno.ENOTSUPP,
} as const;

/** Most instructions a privileged loader may load (`BPF_COMPLEXITY_LIMIT_INSNS`). */
export const MAX_INSNS_PRIVILEGED = 1_000_000;
/** Most instructions a loader without CAP_BPF may load (`BPF_MAXINSNS`). */
export const MAX_INSNS_UNPRIVILEGED = 4096;

/** The opcodes Linux 6.1's `bpf_opcode_in_insntable` knows (its interpreter's jump table). */
const KNOWN_OPCODES: ReadonlySet<number> = (() => {
  const set = new Set<number>();
  for (const cls of [0x04, 0x07]) {
    for (const op of [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0, 0xb0, 0xc0]) {
      set.add(cls | op).add(cls | op | 0x08);
    }
    set.add(cls | 0x80); // neg
  }
  set.add(0xd4).add(0xdc); // le, be (Linux 6.1 has no bswap)
  for (const cls of [0x05, 0x06]) {
    for (const op of [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0])
      set.add(cls | op).add(cls | op | 0x08);
  }
  set.add(0x05).add(0x85).add(0x95); // ja, call, exit (Linux 6.1 has no gotol, callx or may_goto)
  for (const size of [0x00, 0x08, 0x10, 0x18]) {
    set
      .add(0x61 | size)
      .add(0x62 | size)
      .add(0x63 | size); // ldx, st, stx (mem)
    if (size !== 0x18)
      set
        .add(0x81 | size)
        .add(0x20 | size)
        .add(0x40 | size); // ldsx, ld abs, ld ind
  }
  set.add(0xc3).add(0xdb); // atomics
  set.add(0x18); // ld_imm64
  return set;
})();

/** What the structural phase needs of the environment. */
export interface StructureOptions {
  /** Maps by handle (1-based). */
  readonly maps: ReadonlyMap<number, MapDefinition>;
  /** Whether the loader holds CAP_BPF (always true for XDP loaders; kept for completeness). */
  readonly bpfCapable: boolean;
}

const reject = (errno: number, insn: number, message: string): Rejection => ({ errno, insn, message });

/** `resolve_pseudo_ldimm64`: reserved LDX fields, `ld_imm64` pairs and map references, opcodes. */
function resolvePseudo(insns: readonly BpfInsn[], options: StructureOptions): Rejection | undefined {
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i] as BpfInsn;
    if ((insn.code & 7) === 0x01 && ((insn.code & 0xe0) !== 0x60 || insn.imm !== 0)) {
      // Linux 6.1 predates sign-extending loads: any LDX mode but MEM is a reserved-field error
      return reject(Errno.EINVAL, i, 'BPF_LDX uses reserved fields');
    }
    if (insn.code === 0x18) {
      const next = insns[i + 1];
      if (next === undefined || !isLdImm64SecondSlot(next)) {
        return reject(Errno.EINVAL, i, 'invalid bpf_ld_imm64 insn');
      }
      if (insn.src_reg !== 0) {
        if (insn.src_reg !== 1 && insn.src_reg !== 2)
          return reject(Errno.EINVAL, i, 'unrecognized bpf_ld_imm64 insn');
        if (insn.src_reg === 1 && next.imm !== 0)
          return reject(Errno.EINVAL, i, 'unrecognized bpf_ld_imm64 insn');
        const map = options.maps.get(insn.imm);
        if (map === undefined)
          return reject(Errno.EBADF, i, `fd ${insn.imm} is not pointing to valid bpf_map`);
        if (insn.src_reg === 2) {
          if (map.type !== 2)
            return reject(Errno.EINVAL, i, 'no direct value access support for this map type');
          if (map.maxEntries !== 1) return reject(Errno.ENOTSUPP, i, 'invalid access to map value pointer');
          if (next.imm < 0 || next.imm >= map.valueSize)
            return reject(Errno.EINVAL, i, 'invalid access to map value pointer');
        }
      }
      i++;
      continue;
    }
    if (!KNOWN_OPCODES.has(insn.code))
      return reject(Errno.EINVAL, i, `unknown opcode ${insn.code.toString(16).padStart(2, '0')}`);
  }
  return undefined;
}

/** Start of every subprogram: 0 and each bpf-to-bpf call target. */
function subprogStarts(insns: readonly BpfInsn[]): number[] | Rejection {
  const starts = new Set<number>([0]);
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i] as BpfInsn;
    if (insn.code === 0x85 && insn.src_reg === 2) {
      // kernel functions: with the JIT off (as the oracle runs Linux) they are refused outright
      return reject(Errno.ENOTSUPP, i, 'JIT is required for calling kernel function');
    }
    if (insn.code === 0x85 && insn.src_reg === 1) {
      const target = i + insn.imm + 1;
      if (target < 0 || target >= insns.length) return reject(Errno.EINVAL, i, `call to invalid destination`);
      starts.add(target);
    }
    if (insn.code === 0x18) i++;
  }
  return [...starts].sort((a, b) => a - b);
}

/** `check_subprogs`: jumps stay inside their subprogram, each of which ends with an exit or a jump. */
function checkSubprogs(insns: readonly BpfInsn[], starts: readonly number[]): Rejection | undefined {
  for (let s = 0; s < starts.length; s++) {
    const start = starts[s] as number;
    const end = starts[s + 1] ?? insns.length;
    for (let i = start; i < end; i++) {
      const insn = insns[i] as BpfInsn;
      const cls = insn.code & 7;
      if (cls === 0x05 || cls === 0x06) {
        const op = insn.code & 0xf0;
        if (op !== 0x90 && op !== 0x80) {
          const target = i + (insn.code === 0x06 ? insn.imm : insn.off) + 1;
          if (target < start || target >= end)
            return reject(Errno.EINVAL, i, `jump out of range from insn ${i} to ${target}`);
        }
      }
      if (i === end - 1 && insn.code !== 0x95 && insn.code !== 0x05 && insn.code !== 0x06) {
        return reject(Errno.EINVAL, i, 'last insn is not an exit or jmp');
      }
    }
  }
  return undefined;
}

/** `check_cfg`: depth-first over the control-flow graph; every instruction must be reached. */
function checkCfg(
  insns: readonly BpfInsn[],
  starts: readonly number[],
  options: StructureOptions,
): Rejection | undefined {
  const n = insns.length;
  const state = new Uint8Array(n); // 0 unseen, 1 on the stack, 2 done
  const successors = (t: number): number[] => {
    const insn = insns[t] as BpfInsn;
    const cls = insn.code & 7;
    if (cls !== 0x05 && cls !== 0x06) return [t + 1];
    if (insn.code === 0x95) return [];
    if (insn.code === 0x85) return insn.src_reg === 1 ? [t + 1, t + insn.imm + 1] : [t + 1];
    if (insn.code === 0x05) return [t + insn.off + 1];
    if (insn.code === 0x06) return [t + insn.imm + 1];
    return [t + 1, t + insn.off + 1];
  };
  for (const root of starts) {
    if (state[root] !== 0) continue;
    const stack: [number, number[]][] = [[root, successors(root)]];
    state[root] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as [number, number[]];
      const [t, next] = top;
      const w = next.shift();
      if (w === undefined) {
        state[t] = 2;
        stack.pop();
        continue;
      }
      if (w < 0 || w >= n) return reject(Errno.EINVAL, t, `jump out of range from insn ${t} to ${w}`);
      if (state[w] === 1 && !options.bpfCapable)
        return reject(Errno.EINVAL, t, `back-edge from insn ${t} to ${w}`);
      if (state[w] === 0) {
        state[w] = 1;
        stack.push([w, successors(w)]);
      }
    }
  }
  for (let i = 0; i < n; i++) if (state[i] !== 2) return reject(Errno.EINVAL, i, `unreachable insn ${i}`);
  return undefined;
}

/** The structural phase; a rejection or undefined when the program may be interpreted. */
export function checkStructure(insns: readonly BpfInsn[], options: StructureOptions): Rejection | undefined {
  if (insns.length === 0) return reject(Errno.EINVAL, 0, 'empty program');
  const limit = options.bpfCapable ? MAX_INSNS_PRIVILEGED : MAX_INSNS_UNPRIVILEGED;
  if (insns.length > limit) return reject(Errno.E2BIG, 0, `program of ${insns.length} insns is too large`);
  const pseudo = resolvePseudo(insns, options);
  if (pseudo !== undefined) return pseudo;
  const starts = subprogStarts(insns);
  if (!Array.isArray(starts)) return starts;
  return checkSubprogs(insns, starts) ?? checkCfg(insns, starts, options);
}
