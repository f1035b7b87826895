/**
 * The one error type every decoder and encoder of this package throws for bad input.
 *
 * @module
 */

/**
 * What went wrong, in the vocabulary of the spec's "malformed buffer" rules.
 *
 * - `truncated`: the buffer ends inside a field.
 * - `trailing`: bytes remain after the last field of the structure.
 * - `range`: a value does not fit its field, or lies outside the range the spec allows.
 * - `reserved`: a reserved byte or bit is not zero.
 * - `unknown`: an enumerated field holds a value the spec does not define (class, command, map type...).
 * - `length`: a length field disagrees with the data it describes.
 * - `type`: a value given to an encoder has the wrong JavaScript type, or is missing.
 * - `inconsistent`: two fields contradict each other (an `ack` of OK beside an error status, say).
 */
export type CodecErrorKind =
  'truncated' | 'trailing' | 'range' | 'reserved' | 'unknown' | 'length' | 'type' | 'inconsistent';

/** Every kind, for exhaustive tests and schemas. */
export const CODEC_ERROR_KINDS: readonly CodecErrorKind[] = [
  'truncated',
  'trailing',
  'range',
  'reserved',
  'unknown',
  'length',
  'type',
  'inconsistent',
];

/**
 * A typed codec failure: what went wrong, in which field (the spec's field name, dotted for nested
 * structures, `insns[3].code` for array elements) and at which byte offset of the buffer being
 * decoded or encoded.
 */
export class CodecError extends Error {
  /** The class of failure. */
  readonly kind: CodecErrorKind;
  /** The spec field name the failure is about. */
  readonly field: string;
  /** Byte offset of that field in the buffer (the readable or writable part as a whole). */
  readonly offset: number;
  /** Human-readable detail without the field and offset. */
  readonly detail: string;

  constructor(kind: CodecErrorKind, field: string, offset: number, detail: string) {
    super(`${kind}: ${field} at byte ${offset}: ${detail}`);
    this.name = 'CodecError';
    this.kind = kind;
    this.field = field;
    this.offset = offset;
    this.detail = detail;
  }
}
