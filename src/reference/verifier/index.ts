/**
 * The host verifier: decides, as Linux 6.1 does, whether an offloaded XDP program is safe: a
 * structural phase, then an abstract interpretation of every path.
 *
 * @module verifier
 */
export * from './structure.js';
export * from './verify.js';
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
