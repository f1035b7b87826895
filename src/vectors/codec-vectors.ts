/**
 * Replays codec vectors: every valid vector must decode to its value and encode back to exactly its
 * bytes; every malformed vector must fail with exactly its error kind, field and offset.
 *
 * @module
 */
import {
  CodecError,
  ALL_LAYOUTS,
  decodeRequest,
  decodeResult,
  encodeRequest,
  encodeResult,
  parseHex,
  requestFromJson,
  requestToJson,
  resultFromJson,
  resultToJson,
  structFromJson,
  structToJson,
  toHex,
  type Json,
  type Layout,
} from '../codec/index.js';
import { schemaErrors } from './schema.js';

/** The format tag of codec vector files. */
export const CODEC_VECTORS_FORMAT = 'virtio-xdp-offload/codec-vectors/1';

/** One vector of a codec vector file. */
export interface CodecVector {
  /** What the vector shows. */
  readonly name: string;
  /** `valid`: decodes to `value` and back; `malformed`: fails with `error`. */
  readonly kind: 'valid' | 'malformed';
  /** Spec sections and requirement identifiers the vector exercises. */
  readonly spec: string;
  /** The bytes, in hex. */
  readonly hex: string;
  /** For `struct` files: the structure's C name. */
  readonly struct?: string;
  /** For `result` files: the device-readable part the result answers, in hex. */
  readonly request?: string;
  /** For valid vectors: the JSON form of the decoded value. */
  readonly value?: Json;
  /** For malformed vectors: the exact error. */
  readonly error?: {
    /** The {@link CodecError} kind. */
    readonly kind: string;
    /** The field named. */
    readonly field: string;
    /** The byte offset named. */
    readonly offset: number;
  };
}

/** A codec vector file. */
export interface CodecVectorFile {
  /** The format tag. */
  readonly format: typeof CODEC_VECTORS_FORMAT;
  /** What the file covers. */
  readonly description?: string;
  /** What each vector's bytes are: a device-readable part, a device-writable part, or one structure. */
  readonly target: 'request' | 'result' | 'struct';
  /** The vectors. */
  readonly vectors: readonly CodecVector[];
}

/** The outcome of one vector. */
export interface VectorOutcome {
  /** The vector's name. */
  readonly name: string;
  /** Whether it replayed as stated. */
  readonly passed: boolean;
  /** Why it failed (empty when it passed). */
  readonly detail: string;
}

/** A decoder/encoder pair under a vector, both speaking the JSON form. */
interface Subject {
  decode(bytes: Uint8Array): Json;
  encode(value: Json): Uint8Array;
}

function layoutNamed(name: string | undefined): Layout {
  const layout = ALL_LAYOUTS.find((l) => l.cName === name);
  if (layout === undefined) throw new Error(`unknown struct ${String(name)}`);
  return layout;
}

function subjectFor(target: CodecVectorFile['target'], vector: CodecVector): Subject {
  switch (target) {
    case 'request':
      return {
        decode: (b) => requestToJson(decodeRequest(b)),
        encode: (v) => encodeRequest(requestFromJson(v)),
      };
    case 'result': {
      const request = decodeRequest(mustHex(vector.request ?? '', 'request'));
      return {
        decode: (b) => resultToJson(decodeResult(request, b)),
        encode: (v) => encodeResult(request, resultFromJson(request, v)),
      };
    }
    case 'struct': {
      const layout = layoutNamed(vector.struct);
      return {
        decode: (b) => structToJson(layout, layout.decode(b)),
        encode: (v) => layout.encode(structFromJson(layout, v) as never),
      };
    }
  }
}

function mustHex(text: string, what: string): Uint8Array {
  const bytes = parseHex(text);
  if (bytes === undefined) throw new Error(`${what} is not hex`);
  return bytes;
}

/** Canonical JSON text for comparisons (keys in the order the decoder emits them). */
function same(a: Json, b: Json): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}
function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys(v[k] as Json)]),
    );
  }
  return v;
}

/** Replays one vector. */
export function replayCodecVector(target: CodecVectorFile['target'], vector: CodecVector): VectorOutcome {
  const fail = (detail: string): VectorOutcome => ({ name: vector.name, passed: false, detail });
  let subject: Subject;
  let bytes: Uint8Array;
  try {
    subject = subjectFor(target, vector);
    bytes = mustHex(vector.hex, 'hex');
  } catch (error) {
    return fail(`unusable vector: ${String(error)}`);
  }
  if (vector.kind === 'valid') {
    try {
      const decoded = subject.decode(bytes);
      if (!same(decoded, vector.value ?? null)) {
        return fail(`decoded ${JSON.stringify(decoded)}, expected ${JSON.stringify(vector.value)}`);
      }
      const encoded = toHex(subject.encode(vector.value ?? null));
      if (encoded !== toHex(bytes)) return fail(`encoded ${encoded}, expected ${toHex(bytes)}`);
      return { name: vector.name, passed: true, detail: '' };
    } catch (error) {
      return fail(`threw ${String(error)}`);
    }
  }
  const want = vector.error;
  try {
    const decoded = subject.decode(bytes);
    return fail(`decoded ${JSON.stringify(decoded)}, expected a ${want?.kind ?? ''} error`);
  } catch (error) {
    if (!(error instanceof CodecError)) return fail(`threw a non-codec error: ${String(error)}`);
    if (
      want === undefined ||
      error.kind !== want.kind ||
      error.field !== want.field ||
      error.offset !== want.offset
    ) {
      return fail(
        `got ${error.message}; expected ${want?.kind ?? ''}: ${want?.field ?? ''} at byte ${want?.offset ?? ''}`,
      );
    }
    return { name: vector.name, passed: true, detail: '' };
  }
}

/** Schema-checks and replays a codec vector file. */
export function replayCodecFile(document: unknown): VectorOutcome[] {
  const errors = schemaErrors('codec-vectors.schema.json', document);
  if (errors.length > 0) return [{ name: 'schema', passed: false, detail: errors.join('; ') }];
  const file = document as CodecVectorFile;
  return file.vectors.map((v) => replayCodecVector(file.target, v));
}
