/**
 * The host verifier: decides, as Linux 6.1 does, whether an offloaded XDP program is safe: a
 * structural phase, then an abstract interpretation of every path.
 *
 * @module virtio-xdp-offload/verifier
 */
export {
  checkStructure,
  MAX_INSNS_PRIVILEGED,
  MAX_INSNS_UNPRIVILEGED,
  type Rejection,
  type StructureOptions,
  VerifierErrno,
} from './structure.js';
export { type Verdict, verify, type VerifyOptions } from './verify.js';
export {
  interpret,
  type CheckOptions,
  type CheckResult,
  type Reg,
  type RegType,
  PROCESSED_LIMIT,
} from './check.js';
export { HELPERS, helperName, type HelperProto, type ArgType } from './helpers.js';
export type { Scalar } from './scalar.js';
