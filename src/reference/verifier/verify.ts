/**
 * The verifier's entry point: structure, then interpretation, as Linux 6.1 verifies an XDP program.
 *
 * @module
 */
import { Errno, OffloadHelper, type BpfInsn } from '../../codec/index.js';
import type { MapDefinition } from '../ebpf/maps.js';
import { Op } from '../ebpf/opcodes.js';
import { interpret } from './check.js';
import { checkStructure } from './structure.js';

/** How the program is loaded. */
export interface VerifyOptions {
  /** Maps by handle (1-based), as `ld_imm64` names them. */
  readonly maps: ReadonlyMap<number, MapDefinition>;
  /**
   * A loader with CAP_PERFMON: pointer leaks, reads of uninitialised stack and unsanitised pointer
   * arithmetic are allowed. Without it, as Linux for a loader with only CAP_BPF and CAP_NET_ADMIN.
   */
  readonly privileged: boolean;
  /** Helper ids the device allows; undefined for every helper Linux gives XDP. */
  readonly helpers?: ReadonlySet<number>;
  /** Instructions to process before refusing with E2BIG (default Linux's 1,000,000). */
  readonly insnLimit?: number;
  /** BPF_F_STRICT_ALIGNMENT. */
  readonly strictAlignment?: boolean;
}

/** The verdict. */
export interface Verdict {
  /** Whether the program may run. */
  readonly accepted: boolean;
  /** 0 when accepted, else the errno Linux returns. */
  readonly errno: number;
  /** Log lines: the failing instruction and the reason, or the summary. */
  readonly log: readonly string[];
  /** Instructions the interpretation processed (0 when the structural phase rejected). */
  readonly insnsProcessed: number;
}

/**
 * Verifies an XDP program, deciding as Linux 6.1's verifier does (accept or reject, the errno, the
 * log). A rejection is a verdict, not an exception.
 *
 * @example
 * ```ts
 * import { assemble } from 'virtio-xdp-offload/ebpf';
 * const verdict = verify(assemble('mov %r0, 2\nexit'), { maps: new Map(), privileged: false });
 * // { accepted: true, errno: 0, log: [...], insnsProcessed: 2 }
 * ```
 */
export function verify(insns: readonly BpfInsn[], options: VerifyOptions): Verdict {
  const structural = checkStructure(insns, { maps: options.maps, bpfCapable: true });
  if (structural !== undefined) {
    return {
      accepted: false,
      errno: structural.errno,
      log: [`${structural.insn}: ${structural.message}`],
      insnsProcessed: 0,
    };
  }
  const result = interpret(insns, options);
  if ('rejection' in result) {
    const r = result.rejection;
    return { accepted: false, errno: r.errno, log: [`${r.insn}: ${r.message}`], insnsProcessed: 0 };
  }
  // Linux 6.1's interpreter (the JIT off, as the kernel oracle runs it) refuses the mix after the
  // walk, in fixup_call_args: a tail call out of a callee has no caller frame to return to there.
  const call = (i: BpfInsn) => i.code === Op.CALL;
  const tailCall = (i: BpfInsn) => call(i) && i.src_reg === 0 && i.imm === OffloadHelper.tail_call;
  if (insns.some((i) => call(i) && i.src_reg === 1) && insns.some(tailCall)) {
    return {
      accepted: false,
      errno: Errno.EINVAL,
      log: ['tail_calls are not allowed in non-JITed programs with bpf-to-bpf calls'],
      insnsProcessed: result.processed,
    };
  }
  return {
    accepted: true,
    errno: 0,
    log: [`processed ${result.processed} insns`],
    insnsProcessed: result.processed,
  };
}
