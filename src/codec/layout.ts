/**
 * A layout: one declarative description of a wire structure, from which decoding, encoding, the
 * spec's struct table and the C header all follow.
 *
 * @module
 */
import * as r from 'restructure';
import {
  newDecodeStream,
  newEncodeStream,
  type DecodeStream,
  type EncodeStream,
  type FieldType,
} from './streams.js';
import { CodecError } from './errors.js';
import type { AnyField, ElementCodec, FieldsValue } from './fields.js';
import { describe } from './fields.js';

/**
 * A cross-field rule checked after decoding and before encoding (for example "the key is absent
 * when FIRST is set"). It throws a {@link CodecError}; `base` is the structure's byte offset.
 */
export type LayoutRule<V> = (value: V, base: number, outer: unknown) => void;

const RESTRUCTURE_RESERVED = new Set(['parent', '_startOffset', '_currentOffset', '_length']);

/** Definition of a layout. */
export interface LayoutDefinition<F extends readonly AnyField[]> {
  /** The C struct name (`virtio_net_xdp_map_create`). */
  readonly cName: string;
  /** What the structure is, for the spec and the header. */
  readonly doc: string;
  /** Its fields in wire order. */
  readonly fields: F;
  /** Cross-field rules, if any. */
  readonly rule?: LayoutRule<FieldsValue<F>>;
  /** Extra prose for the spec table (how lengths relate to other structures). */
  readonly note?: string;
  /** The existing header that already declares this structure (`<linux/virtio_net.h>`), if any. */
  readonly external?: string;
  /**
   * The name the spec's C header declares the structure under, when it differs from `cName` (the
   * wire name the spec and the vectors use).
   */
  readonly cStruct?: string;
}

/**
 * A wire structure: a restructure `Struct` of field types, with strict whole-buffer decoding and
 * checked encoding.
 */
export class Layout<F extends readonly AnyField[] = readonly AnyField[]> implements ElementCodec<
  FieldsValue<F>
> {
  /** The C struct name. */
  readonly cName: string;
  /** What the structure is. */
  readonly doc: string;
  /** Extra prose for the spec. */
  readonly note: string | undefined;
  /** The existing header that declares the structure, or undefined when the spec's header does. */
  readonly external: string | undefined;
  /** The name the spec's C header declares it under. */
  readonly cStruct: string;
  /** The fields in wire order. */
  readonly fields: F;
  /** Size in bytes when every field is fixed, else undefined. */
  readonly fixedSize: number | undefined;
  /** Size of the leading fixed part (before the first variable field). */
  readonly headerSize: number;
  /** Byte offset of each field of the leading fixed part, by name. */
  readonly offsets: Readonly<Record<string, number>>;
  private readonly struct: r.Struct;
  private readonly visible: readonly string[];
  private readonly rule: LayoutRule<FieldsValue<F>> | undefined;

  constructor(definition: LayoutDefinition<F>) {
    this.cName = definition.cName;
    this.doc = definition.doc;
    this.note = definition.note;
    this.external = definition.external;
    this.cStruct = definition.cStruct ?? definition.cName;
    this.fields = definition.fields;
    this.rule = definition.rule;
    const byName: Record<string, FieldType> = {};
    const offsets: Record<string, number> = {};
    let fixed: number | undefined = 0;
    let header = 0;
    let seenVariable = false;
    for (const field of definition.fields) {
      if (field.name in byName) throw new TypeError(`${this.cName}: duplicate field ${field.name}`);
      // restructure lays fields out in property order (integer-like keys would jump ahead) and
      // keeps bookkeeping under these names on decoded objects.
      if (/^\d+$/.test(field.name) || RESTRUCTURE_RESERVED.has(field.name)) {
        throw new TypeError(`${this.cName}: field name ${field.name} cannot be used with restructure`);
      }
      byName[field.name] = field;
      if (field.fixedSize === undefined) {
        fixed = undefined;
        seenVariable = true;
      } else {
        if (fixed !== undefined) fixed += field.fixedSize;
        if (!seenVariable) {
          offsets[field.name] = header;
          header += field.fixedSize;
        }
      }
    }
    this.struct = new r.Struct(byName);
    this.fixedSize = fixed;
    this.headerSize = header;
    this.offsets = offsets;
    this.visible = definition.fields.filter((f) => !f.hidden).map((f) => f.name);
  }

  /** Decodes one structure at the stream's position (the stream may hold more after it). */
  decodeAt(stream: DecodeStream, outer?: unknown): FieldsValue<F> {
    const base = stream.pos;
    const raw = this.struct.decode(stream, outer);
    // restructure adds hidden bookkeeping properties; hand back a plain object in wire order.
    const value: Record<string, unknown> = {};
    for (const name of this.visible) value[name] = raw[name];
    const typed = value as FieldsValue<F>;
    this.rule?.(typed, base, outer);
    return typed;
  }

  /** Encodes one structure at the stream's position, after checking the value's keys and rules. */
  encodeAt(stream: EncodeStream, value: unknown, outer?: unknown): void {
    const base = stream.pos;
    const record = this.expectRecord(value, base);
    // Fields first, so that a cross-field rule only ever sees well-typed values. On failure the bytes
    // written so far are unspecified; `encode` discards them.
    this.struct.encode(stream, record, outer);
    this.rule?.(record as FieldsValue<F>, base, outer);
  }

  /** Encoded size of a value (never throws; an unusable value is caught by {@link encodeAt}). */
  sizeOf(value: unknown, outer?: unknown): number {
    if (typeof value !== 'object' || value === null) return 0;
    return this.struct.size(value as Record<string, unknown>, outer);
  }

  /** Decodes a buffer that must hold exactly one structure: truncation and trailing bytes are errors. */
  decode(bytes: Uint8Array, outer?: unknown): FieldsValue<F> {
    const stream = newDecodeStream(bytes);
    const value = this.decodeAt(stream, outer);
    expectEnd(stream, this.cName);
    return value;
  }

  /** Encodes a value into a new buffer of exactly its size. */
  encode(value: FieldsValue<F>, outer?: unknown): Uint8Array {
    return encodeChecked(
      (stream) => this.encodeAt(stream, value, outer),
      this.sizeOf(value, outer),
      this.cName,
    );
  }

  private expectRecord(value: unknown, offset: number): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
      throw new CodecError('type', this.cName, offset, `expected an object, got ${describe(value)}`);
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!this.visible.includes(key)) {
        throw new CodecError('type', key, offset, `not a field of ${this.cName}`);
      }
    }
    return record;
  }
}

/** Rejects bytes left over after the last field. */
export function expectEnd(stream: DecodeStream, what: string): void {
  const left = stream.length - stream.pos;
  if (left !== 0) {
    throw new CodecError('trailing', what, stream.pos, `${left} byte${left === 1 ? '' : 's'} after the end`);
  }
}

/**
 * Runs an encoder into a buffer of `size` bytes and checks that it filled it exactly, so that a
 * size computation and an encoder can never silently disagree.
 */
export function encodeChecked(write: (stream: EncodeStream) => void, size: number, what: string): Uint8Array {
  const out = new Uint8Array(size);
  const stream = newEncodeStream(out);
  write(stream);
  if (stream.pos !== size) {
    throw new CodecError('length', what, stream.pos, `encoder wrote ${stream.pos} bytes of ${size}`);
  }
  return out;
}

/** Builds a layout. */
export function defineLayout<const F extends readonly AnyField[]>(
  definition: LayoutDefinition<F>,
): Layout<F> {
  return new Layout(definition);
}

/** The decoded value type of a layout. */
export type ValueOf<L> = L extends Layout<infer F> ? FieldsValue<F> : never;
