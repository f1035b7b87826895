/**
 * The verifier's scalars: the 64-bit instance of the abstract domain (see {@link scalarDomain}),
 * with 32-bit subregister operations at half width.
 *
 * @module
 */
import { scalarDomain, type Scalar } from './domain.js';

export type { Scalar } from './domain.js';

/** The domain the verifier uses. */
const SCALARS = scalarDomain(64);

export const {
  known,
  unknown,
  upTo,
  isConst,
  alu,
  transfer,
  neg,
  invalidBounds,
  includes,
  isUnbounded,
  coerce,
  refine,
} = SCALARS;

/** The low 32 bits, zero-extended (what an ALU32 result or a 32-bit load leaves). */
export const zext32 = SCALARS.zextHalf;

/** A short text of the scalar for logs. */
export function describeScalar(s: Scalar): string {
  if (isConst(s)) return String(BigInt.asIntN(64, s.value));
  return `scalar(umin=${s.umin},umax=${s.umax})`;
}
