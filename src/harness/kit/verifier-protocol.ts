/**
 * The verifier protocol (`virtio-xdp-offload/verifier/1`): how the kit replays the verifier vectors
 * (Linux 6.1's verdicts) on a verifier it did not build, over the line framing of
 * {@link spawnLines}. One request, `verify` `{insns, maps, mode}`: the program's instruction slots
 * in hex, its maps by handle (`[{handle, type, key_size, value_size, max_entries}]`), and the
 * loader: `privileged` (root), `unprivileged` (CAP_BPF and CAP_NET_ADMIN only) or `strict` (root
 * with BPF_F_STRICT_ALIGNMENT). The reply: `{accepted, errno, log}`, errno 0 when accepted, `log` the
 * last lines of a refusal's log (any text: only the verdict and errno are compared).
 *
 * @module
 */
import { parseHex } from '../../codec/index.js';
import { slotsFromBytes } from '../../reference/ebpf/index.js';
import { verify } from '../../reference/verifier/index.js';
import { vectorMapTable, type VectorMapDefinition } from '../../vectors/xdp-vectors.js';
import { ErrorReply, ProtocolFailure, spawnLines, type LineOptions } from './line-protocol.js';

/** The protocol's name and version, exchanged in `hello`. */
export const VERIFIER_PROTOCOL = 'virtio-xdp-offload/verifier/1';

/** Who loads the program. */
export type VerifierMode = 'privileged' | 'unprivileged' | 'strict';

/** A verification request. */
export interface VerifyRequest {
  /** The program's instruction slots, hex. */
  readonly insns: string;
  /** Its maps by handle. */
  readonly maps: readonly VectorMapDefinition[];
  /** The loader. */
  readonly mode: VerifierMode;
}

/** A verdict. */
export interface Verdict {
  /** Whether the program loads. */
  readonly accepted: boolean;
  /** 0, or the errno of the refusal. */
  readonly errno: number;
  /** The last lines of a refusal's log. */
  readonly log: readonly string[];
}

/** A verifier the kit drives. */
export interface VerifierUnderTest {
  /** Its name, from `hello`. */
  readonly implementation: string;
  /** Judges one program. */
  verify(request: VerifyRequest): Promise<Verdict>;
  /** Ends the session. */
  close(): Promise<void>;
}

/** The reference verifier's verdict. */
export function referenceVerdict(request: VerifyRequest): Verdict {
  const result = verify(slotsFromBytes(parseHex(request.insns) ?? new Uint8Array(0)), {
    maps: vectorMapTable(request.maps),
    privileged: request.mode !== 'unprivileged',
    strictAlignment: request.mode === 'strict',
  });
  return { accepted: result.accepted, errno: result.errno, log: result.log };
}

/**
 * One request of the protocol for the reference, as a line's fields.
 *
 * @throws ErrorReply for a request the protocol does not define (unknown-op, bad-request).
 */
export function referenceVerifierLine(request: Record<string, unknown>): Record<string, unknown> {
  switch (request.op) {
    case 'hello':
      return { protocol: VERIFIER_PROTOCOL, implementation: 'virtio-xdp-offload reference verifier' };
    case 'verify': {
      const mode = request.mode;
      if (mode !== 'privileged' && mode !== 'unprivileged' && mode !== 'strict')
        throw new ErrorReply('verify', 'bad-request', 'mode: not privileged, unprivileged or strict');
      if (typeof request.insns !== 'string' || parseHex(request.insns) === undefined)
        throw new ErrorReply('verify', 'bad-request', 'insns: not hex');
      if (!Array.isArray(request.maps)) throw new ErrorReply('verify', 'bad-request', 'maps: not an array');
      return { ...referenceVerdict(request as unknown as VerifyRequest) };
    }
    case 'quit':
      return {};
    default:
      throw new ErrorReply(String(request.op), 'unknown-op', 'an operation this verifier does not know');
  }
}

/**
 * Starts `command` as a verifier under test.
 *
 * @throws ProtocolFailure when it does not answer `hello` with this protocol in time.
 */
export async function spawnVerifier(command: string, options: LineOptions = {}): Promise<VerifierUnderTest> {
  const client = await spawnLines(command, VERIFIER_PROTOCOL, options);
  return {
    implementation: String(client.hello.implementation),
    verify: async (request) => {
      const r = await client.call({ op: 'verify', ...request });
      if (typeof r.accepted !== 'boolean')
        throw new ProtocolFailure('the reply to verify is malformed: accepted');
      if (
        typeof r.errno !== 'number' ||
        !Number.isInteger(r.errno) ||
        r.errno < 0 ||
        (r.errno === 0) !== r.accepted
      )
        throw new ProtocolFailure('the reply to verify is malformed: errno (0 exactly when accepted)');
      const log = Array.isArray(r.log) ? r.log.map(String) : [];
      return { accepted: r.accepted, errno: r.errno, log };
    },
    close: () => client.close(),
  };
}
