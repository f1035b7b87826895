/**
 * Replays verifier vectors: for each program and each privilege mode, the reference verifier must
 * accept or reject it as the kernel did, with the same errno.
 *
 * @module
 */
import type { VectorOutcome } from './codec-vectors.js';
import { schemaErrors } from './schema.js';
import type { VectorMapDefinition } from './xdp-vectors.js';
import {
  referenceVerdict,
  type Verdict,
  type VerifierUnderTest,
  type VerifyRequest,
} from '../harness/kit/verifier-protocol.js';
import { runExchange, runExchangeAsync } from '../harness/kit/line-protocol.js';

/** The format tag of verifier vector files. */
export const VERIFIER_FORMAT = 'virtio-xdp-offload/verifier/1';

/** A verifier vector file: programs with the verdicts of one kernel. */
export interface VerifierVectorFile {
  /** {@link VERIFIER_FORMAT}. */
  readonly format: string;
  /** The kernel release that gave the verdicts (`uname -r`). */
  readonly kernel: string;
  /** The programs. */
  readonly programs: readonly VerifierVector[];
}

/** A kernel's verdict. */
export interface KernelVerdict {
  /** Whether it loaded. */
  readonly accepted: boolean;
  /** 0, or the errno of the refusal. */
  readonly errno: number;
  /** The last log lines of a refusal. */
  readonly log: readonly string[];
}

/** One program of a verifier vector file. */
export interface VerifierVector {
  /** Its name. */
  readonly name: string;
  /** probe, program or mutation. */
  readonly origin: string;
  /** What it checks. */
  readonly about: string;
  /** Instruction slots, hex. */
  readonly insns: string;
  /** Maps by handle. */
  readonly maps: readonly VectorMapDefinition[];
  /** Loaded as root. */
  readonly privileged: KernelVerdict;
  /** Loaded with CAP_BPF and CAP_NET_ADMIN only. */
  readonly unprivileged: KernelVerdict;
  /** Loaded as root with BPF_F_STRICT_ALIGNMENT (absent from campaign files). */
  readonly strict?: KernelVerdict;
  /** A documented departure: the reference may refuse where the kernel accepted. */
  readonly deviation?: {
    /** Why: a kernel acceptance that is unsafe, or precision the reference does not model. */
    readonly reason: string;
  };
}

type VerifierExchange<T> = Generator<VerifyRequest, T, Verdict>;

/** Every program of a file in every mode the kernel judged, compared with the kernel's verdicts. */
function* judgeAll(programs: readonly VerifierVector[]): VerifierExchange<VectorOutcome[]> {
  const outcomes: VectorOutcome[] = [];
  for (const p of programs) {
    const problems: string[] = [];
    for (const mode of ['privileged', 'unprivileged', 'strict'] as const) {
      const kernel = p[mode];
      if (kernel === undefined) continue;
      const ours: Verdict = yield { insns: p.insns, maps: p.maps, mode };
      // a documented deviation allows a refusal (where the kernel accepted, or with another
      // errno), never an acceptance
      if (p.deviation !== undefined && !ours.accepted) continue;
      if (ours.accepted !== kernel.accepted || ours.errno !== kernel.errno) {
        problems.push(
          `${mode}: ${ours.accepted ? 'accepted' : `errno ${ours.errno} (${ours.log.join('; ')})`}, kernel ${kernel.accepted ? 'accepted' : `errno ${kernel.errno}`}`,
        );
      }
    }
    outcomes.push({ name: p.name, passed: problems.length === 0, detail: problems.join('; ') });
  }
  return outcomes;
}

function checkedPrograms(document: unknown): readonly VerifierVector[] | VectorOutcome[] {
  const errors = schemaErrors('verifier.schema.json', document);
  if (errors.length > 0) return [{ name: 'schema', passed: false, detail: errors.join('; ') }];
  return (document as { programs: readonly VerifierVector[] }).programs;
}

const isOutcomes = (x: readonly VerifierVector[] | VectorOutcome[]): x is VectorOutcome[] =>
  x.length > 0 && 'passed' in (x[0] as object);

/** Schema-checks and replays a verifier vector file on the reference verifier. */
export function replayVerifierFile(document: unknown): VectorOutcome[] {
  const programs = checkedPrograms(document);
  return isOutcomes(programs) ? programs : runExchange(judgeAll(programs), referenceVerdict);
}

/**
 * Schema-checks and replays a verifier vector file on a verifier under test.
 *
 * @throws ProtocolFailure when the verifier breaks the protocol.
 */
export function replayVerifierFileOn(
  document: unknown,
  verifier: VerifierUnderTest,
): Promise<VectorOutcome[]> {
  const programs = checkedPrograms(document);
  return isOutcomes(programs)
    ? Promise.resolve(programs)
    : runExchangeAsync(judgeAll(programs), (request) => verifier.verify(request));
}
