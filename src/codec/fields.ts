/**
 * The field layer: small restructure field types that close restructure's gaps (no 64-bit integers,
 * no 4-bit fields, no range checks, no length or reserved-byte checks) and carry the metadata from
 * which the spec's struct tables and the C header are generated.
 *
 * Every field type here is a restructure field type (an object with `decode`, `encode` and `size`),
 * so a {@link Layout} is an ordinary `restructure.Struct` of them. Each field knows its spec name, so
 * every failure is a {@link CodecError} naming the field and the byte offset.
 *
 * @module
 */
import type { DecodeStream, EncodeContext, EncodeStream, FieldType } from './streams.js';
import { CodecError } from './errors.js';

/** How a field is declared in the C header. */
export interface CDeclaration {
  /** C type: `__u8`, `__le16`, `__le32`, `__le64`, `__s16`, `__s32`, `__u32`, `__s32`, `__u64`, or a struct. */
  readonly type: string;
  /** Fixed array length, `'flex'` for a trailing flexible array, or absent for a scalar. */
  readonly array?: number | 'flex';
  /** Bit width of a bit-field member (the register nibbles of `struct bpf_insn`). */
  readonly bits?: number;
}

/** The metadata every field carries besides its codec. */
export interface FieldInfo {
  /** The spec's field name; also the key in decoded values and JSON. */
  readonly name: string;
  /** One line saying what the field means (used in the spec tables and the C header). */
  readonly doc: string;
  /** The spec's type notation: `le32`, `u8[16]`, `u8[key_size]`, `struct bpf_insn[insn_cnt]`. */
  readonly wire: string;
  /** Size in bytes when fixed; `undefined` when it depends on other fields. Bit-fields report 0/1. */
  readonly fixedSize: number | undefined;
  /** Size in bits for bit-fields, else undefined. */
  readonly bitWidth: number | undefined;
  /** True for reserved fields: always zero on the wire and absent from decoded values. */
  readonly hidden: boolean;
  /** The C declaration. */
  readonly c: CDeclaration;
  /** The JSON representation of the value (for vectors and the CLI). */
  readonly json: 'number' | 'u64' | 'hex' | 'string' | 'array';
}

/**
 * A field: restructure's field protocol plus {@link FieldInfo}. `N` is the name, `V` the decoded
 * value type and `H` whether the field is hidden (reserved).
 */
export interface Field<N extends string, V, H extends boolean = false> extends FieldType, FieldInfo {
  readonly name: N;
  readonly hidden: H;
  /** Phantom member that carries the value type; never present at run time. */
  readonly __value?: V;
}

/** Any field, for containers. */
export type AnyField = Field<string, unknown, boolean>;

/** The decoded value of a struct made of the fields `F`: one key per visible field. */
export type FieldsValue<F extends readonly AnyField[]> = {
  [E in F[number] as E extends Field<infer N, unknown, false> ? N : never]: E extends Field<
    string,
    infer V,
    boolean
  >
    ? V
    : never;
};

/** Checks that `n` more bytes are available before a read, so nothing reads out of bounds. */
export function need(stream: DecodeStream, n: number, field: string): void {
  const available = stream.length - stream.pos;
  if (n > available) {
    throw new CodecError(
      'truncated',
      field,
      stream.pos,
      `needs ${n} byte${n === 1 ? '' : 's'}, ${available} available`,
    );
  }
}

/** Checks that an encoder is given a safe integer and returns it. */
function expectInteger(value: unknown, field: string, offset: number): number {
  if (value === undefined) throw new CodecError('type', field, offset, 'missing');
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new CodecError('type', field, offset, `expected an integer, got ${describe(value)}`);
  }
  return value;
}

/** A short description of a JavaScript value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'object' || typeof value === 'function') return `a ${typeof value}`;
  if (typeof value === 'symbol') return value.toString();
  return `${value as number | boolean | undefined}`;
}

type IntWidth = 1 | 2 | 4;

/** What an integer field allows: bounds, and either an enumeration or a mask of defined bits. */
export interface IntConstraints {
  /** Smallest allowed value. */
  readonly min: number;
  /** Largest allowed value. */
  readonly max: number;
  /** The enumeration (value → spec name), when the field is one. */
  readonly values: Readonly<Record<number, string>> | undefined;
  /** The defined bits, when the field is a flag word. */
  readonly mask: number | undefined;
}

interface IntOptions {
  /** Inclusive bounds the spec allows (default: the full range of the wire type). */
  readonly min?: number;
  readonly max?: number;
  /** An enumeration: the only values allowed, with their spec names. */
  readonly values?: Readonly<Record<number, string>>;
  /** A flag word: the defined bits by name; every other bit is reserved and must be zero. */
  readonly flags?: Readonly<Record<string, number>>;
  /** The C type to declare (default from width and signedness: `__le32`, `__s16`...). */
  readonly cType?: string;
  /** The spec type notation (default from width: `le32`). */
  readonly wire?: string;
}

const INT_READ: Record<string, (s: DecodeStream) => number> = {
  u1: (s) => s.readUInt8(),
  u2: (s) => s.readUInt16LE(),
  u4: (s) => s.readUInt32LE(),
  s2: (s) => s.readInt16LE(),
  s4: (s) => s.readInt32LE(),
};
const INT_WRITE: Record<string, (s: EncodeStream, v: number) => void> = {
  u1: (s, v) => s.writeUInt8(v),
  u2: (s, v) => s.writeUInt16LE(v),
  u4: (s, v) => s.writeUInt32LE(v),
  s2: (s, v) => s.writeInt16LE(v),
  s4: (s, v) => s.writeInt32LE(v),
};

/** A little-endian integer of 1, 2 or 4 bytes, with range, enumeration and flag checks. */
class IntField<N extends string, H extends boolean> implements Field<N, number, H> {
  readonly wire: string;
  readonly fixedSize: number;
  readonly bitWidth = undefined;
  readonly c: CDeclaration;
  readonly json = 'number' as const;
  private readonly min: number;
  private readonly max: number;
  private readonly read: (s: DecodeStream) => number;
  private readonly write: (s: EncodeStream, v: number) => void;
  private readonly mask: number | undefined;

  constructor(
    readonly name: N,
    readonly doc: string,
    private readonly width: IntWidth,
    signed: boolean,
    readonly hidden: H,
    private readonly options: IntOptions = {},
  ) {
    const bits = width * 8;
    const lo = signed ? -(2 ** (bits - 1)) : 0;
    const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
    this.min = options.min ?? lo;
    this.max = options.max ?? hi;
    const key = `${signed ? 's' : 'u'}${width}`;
    const read = INT_READ[key];
    const write = INT_WRITE[key];
    if (read === undefined || write === undefined) throw new TypeError(`no ${key} integer`);
    this.read = read;
    this.write = write;
    this.fixedSize = width;
    this.wire = options.wire ?? (width === 1 ? 'u8' : `${signed ? 's' : 'le'}${bits}`);
    this.c = { type: options.cType ?? (width === 1 ? '__u8' : signed ? `__s${bits}` : `__le${bits}`) };
    this.mask =
      options.flags === undefined ? undefined : Object.values(options.flags).reduce((a, b) => a | b, 0) >>> 0;
  }

  /** Applies the spec's constraints to a value, throwing the typed error a decoder or encoder reports. */
  private check(value: number, offset: number): void {
    if (this.hidden && value !== 0) {
      throw new CodecError('reserved', this.name, offset, `must be zero, is ${value}`);
    }
    if (this.mask !== undefined && (value & ~this.mask) >>> 0 !== 0) {
      const extra = ((value & ~this.mask) >>> 0).toString(16);
      throw new CodecError('reserved', this.name, offset, `reserved bits 0x${extra} set`);
    }
    if (this.options.values !== undefined && !(value in this.options.values)) {
      throw new CodecError('unknown', this.name, offset, `undefined value ${value}`);
    }
    if (value < this.min || value > this.max) {
      throw new CodecError('range', this.name, offset, `${value} outside ${this.min}..${this.max}`);
    }
  }

  decode(stream: DecodeStream): number | undefined {
    const offset = stream.pos;
    need(stream, this.width, this.name);
    const value = this.read(stream);
    this.check(value, offset);
    return this.hidden ? undefined : value;
  }

  encode(stream: EncodeStream, value: unknown): void {
    const offset = stream.pos;
    const v = this.hidden ? 0 : expectInteger(value, this.name, offset);
    this.check(v, offset);
    this.write(stream, v);
  }

  size(): number {
    return this.width;
  }

  /** The spec's constraints on the value, for documentation and test generators. */
  get constraints(): IntConstraints {
    return { min: this.min, max: this.max, values: this.options.values, mask: this.mask };
  }
}

/** Options of an 8-, 16- or 32-bit integer field. */
export type IntegerOptions = IntOptions;

/** `u8`: an unsigned byte. */
export function u8<N extends string>(name: N, doc: string, options?: IntOptions): Field<N, number> {
  return new IntField(name, doc, 1, false, false, options);
}
/** `le16`: an unsigned little-endian 16-bit integer. */
export function le16<N extends string>(name: N, doc: string, options?: IntOptions): Field<N, number> {
  return new IntField(name, doc, 2, false, false, options);
}
/** `le32`: an unsigned little-endian 32-bit integer. */
export function le32<N extends string>(name: N, doc: string, options?: IntOptions): Field<N, number> {
  return new IntField(name, doc, 4, false, false, options);
}
/** The values of an enumeration table (`{ OK: 0, EINVAL: 22 }` gives `0 | 22`). */
export type EnumValue<E extends Readonly<Record<string, number>>> = E[keyof E];

/** The value → name map of an enumeration table, as `values` takes it. */
function namesOf(table: Readonly<Record<string, number>>): Record<number, string> {
  return Object.fromEntries(Object.entries(table).map(([name, value]) => [value, name]));
}

/**
 * `le16` holding one value of an enumeration table: only its values decode or encode, and the
 * field's type is their union, so a reader sees `0 | 22 | ...` rather than `number`.
 */
export function le16Enum<N extends string, E extends Readonly<Record<string, number>>>(
  name: N,
  doc: string,
  table: E,
): Field<N, EnumValue<E>> {
  return new IntField(name, doc, 2, false, false, { values: namesOf(table) });
}

/** `le32` holding one value of an enumeration table (see {@link le16Enum}). */
export function le32Enum<N extends string, E extends Readonly<Record<string, number>>>(
  name: N,
  doc: string,
  table: E,
): Field<N, EnumValue<E>> {
  return new IntField(name, doc, 4, false, false, { values: namesOf(table) });
}

/** A signed little-endian 16-bit integer (`__s16` of `struct bpf_insn`). */
export function s16<N extends string>(name: N, doc: string, options?: IntOptions): Field<N, number> {
  return new IntField(name, doc, 2, true, false, options);
}
/** A signed little-endian 32-bit integer. */
export function s32<N extends string>(name: N, doc: string, options?: IntOptions): Field<N, number> {
  return new IntField(name, doc, 4, true, false, options);
}
/** A reserved 8-, 16- or 32-bit field: written as zero, and a nonzero value is rejected. */
export function reserved<N extends string>(name: N, width: IntWidth): Field<N, never, true> {
  const doc = 'Reserved; zero ([drv-wire-well-formed], [dev-wire-reserved-result]).';
  return new IntField(name, doc, width, false, true);
}

const U64_MAX = (1n << 64n) - 1n;

/** `le64`: an unsigned little-endian 64-bit integer, exact, as a bigint. */
class U64Field<N extends string> implements Field<N, bigint> {
  readonly wire = 'le64';
  readonly fixedSize = 8;
  readonly bitWidth = undefined;
  readonly hidden = false as const;
  readonly c: CDeclaration = { type: '__le64' };
  readonly json = 'u64' as const;
  private readonly mask: bigint | undefined;

  constructor(
    readonly name: N,
    readonly doc: string,
    options: { readonly flags?: Readonly<Record<string, bigint>>; readonly cType?: string } = {},
  ) {
    if (options.cType !== undefined) this.c = { type: options.cType };
    this.mask =
      options.flags === undefined ? undefined : Object.values(options.flags).reduce((a, b) => a | b, 0n);
  }

  /** The defined bits when the field is a flag word, else undefined. */
  get definedBits(): bigint | undefined {
    return this.mask;
  }

  private check(value: bigint, offset: number): void {
    if (this.mask !== undefined && (value & ~this.mask) !== 0n) {
      const extra = (value & ~this.mask).toString(16);
      throw new CodecError('reserved', this.name, offset, `reserved bits 0x${extra} set`);
    }
  }

  decode(stream: DecodeStream): bigint {
    const offset = stream.pos;
    need(stream, 8, this.name);
    const value = stream.view.getBigUint64(stream.pos, true);
    stream.pos += 8;
    this.check(value, offset);
    return value;
  }

  encode(stream: EncodeStream, value: unknown): void {
    const offset = stream.pos;
    if (value === undefined) throw new CodecError('type', this.name, offset, 'missing');
    if (typeof value !== 'bigint') {
      throw new CodecError('type', this.name, offset, `expected a bigint, got ${describe(value)}`);
    }
    if (value < 0n || value > U64_MAX) {
      throw new CodecError('range', this.name, offset, `${value} outside 0..2^64-1`);
    }
    this.check(value, offset);
    stream.view.setBigUint64(stream.pos, value, true);
    stream.pos += 8;
  }

  size(): number {
    return 8;
  }
}

/** `le64` as a bigint; with `flags`, every undefined bit is reserved. */
export function le64<N extends string>(
  name: N,
  doc: string,
  options?: { readonly flags?: Readonly<Record<string, bigint>>; readonly cType?: string },
): Field<N, bigint> {
  return new U64Field(name, doc, options);
}

/**
 * One nibble of a byte shared by two fields, as `dst_reg:4, src_reg:4` in `struct bpf_insn` on a
 * little-endian machine: the low nibble comes first in the layout and does not advance the stream;
 * the high nibble reads (and writes) the whole byte.
 */
class NibbleField<N extends string> implements Field<N, number> {
  readonly wire: string;
  readonly fixedSize: number;
  readonly bitWidth = 4;
  readonly hidden = false as const;
  readonly c: CDeclaration = { type: '__u8', bits: 4 };
  readonly json = 'number' as const;

  constructor(
    readonly name: N,
    readonly doc: string,
    private readonly high: boolean,
    private readonly partner: string,
  ) {
    this.wire = high ? 'u4 (bits 4-7)' : 'u4 (bits 0-3)';
    this.fixedSize = high ? 1 : 0;
  }

  /** A nibble holds 0..15. */
  get constraints(): IntConstraints {
    return { min: 0, max: 15, values: undefined, mask: undefined };
  }

  decode(stream: DecodeStream): number {
    need(stream, 1, this.name);
    const byte = stream.view.getUint8(stream.pos);
    if (!this.high) return byte & 0x0f;
    stream.pos += 1;
    return byte >>> 4;
  }

  encode(stream: EncodeStream, value: unknown, ctx: EncodeContext): void {
    const v = expectInteger(value, this.name, stream.pos);
    if (v < 0 || v > 15) throw new CodecError('range', this.name, stream.pos, `${v} outside 0..15`);
    if (!this.high) return;
    // The low nibble was checked by its own field just before; combine both into one byte.
    const low = ctx.val[this.partner] as number;
    stream.writeUInt8((v << 4) | low);
  }

  size(): number {
    return this.high ? 1 : 0;
  }
}

/** The low and high nibble of one byte, low first: `[dst_reg, src_reg]` of `struct bpf_insn`. */
export function nibblePair<L extends string, H extends string>(
  low: L,
  lowDoc: string,
  high: H,
  highDoc: string,
): readonly [Field<L, number>, Field<H, number>] {
  return [new NibbleField(low, lowDoc, false, high), new NibbleField(high, highDoc, true, low)];
}

/** Refuses a variable field whose size differs from what its length field says. */
function expectLength(name: string, offset: number, actual: number, declared: number): void {
  if (actual !== declared)
    throw new CodecError('length', name, offset, `is ${actual} bytes, its length field says ${declared}`);
}

/**
 * Computes a variable length from the fields decoded so far (`self`) and the outer context
 * (`outer`: the request, when a result's length depends on it). Must return a non-negative integer
 * or NaN when the inputs are unusable.
 */
export type LengthOf = (self: Readonly<Record<string, unknown>>, outer: unknown) => number;

function lengthOrThrow(
  length: LengthOf,
  self: Record<string, unknown>,
  outer: unknown,
  field: string,
  offset: number,
) {
  const n = length(self, outer);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new CodecError('length', field, offset, 'length cannot be computed from the fields before it');
  }
  return n;
}

function safeLength(length: LengthOf, self: Record<string, unknown>, outer: unknown): number {
  const n = length(self, outer);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/** Hidden restructure bookkeeping: the value restructure passes as `parent` to `Struct.decode`. */
function outerOf(parent: Record<string, unknown>): unknown {
  return (parent as { parent?: unknown }).parent;
}

/** A byte string whose length is fixed or given by other fields. Decodes to a copy. */
class BytesField<N extends string> implements Field<N, Uint8Array> {
  readonly fixedSize: number | undefined;
  readonly bitWidth = undefined;
  readonly hidden = false as const;
  readonly c: CDeclaration;
  readonly json = 'hex' as const;

  constructor(
    readonly name: N,
    readonly doc: string,
    private readonly length: LengthOf | number,
    readonly wire: string,
  ) {
    this.fixedSize = typeof length === 'number' ? length : undefined;
    this.c = { type: '__u8', array: typeof length === 'number' ? length : 'flex' };
  }

  /** The byte length this field has given the fields before it and the outer context (NaN if unknown). */
  lengthGiven(self: Readonly<Record<string, unknown>>, outer: unknown): number {
    return typeof this.length === 'number' ? this.length : this.length(self, outer);
  }

  private lengthFor(self: Record<string, unknown>, outer: unknown, offset: number): number {
    return typeof this.length === 'number'
      ? this.length
      : lengthOrThrow(this.length, self, outer, this.name, offset);
  }

  decode(stream: DecodeStream, parent: Record<string, unknown>): Uint8Array {
    const n = this.lengthFor(parent, outerOf(parent), stream.pos);
    need(stream, n, this.name);
    return Uint8Array.from(stream.readBuffer(n));
  }

  encode(stream: EncodeStream, value: unknown, ctx: EncodeContext): void {
    const offset = stream.pos;
    if (value === undefined) throw new CodecError('type', this.name, offset, 'missing');
    if (!(value instanceof Uint8Array)) {
      throw new CodecError('type', this.name, offset, `expected bytes, got ${describe(value)}`);
    }
    const n = this.lengthFor(ctx.val, ctx.parent, offset);
    expectLength(this.name, offset, value.length, n);
    stream.writeBuffer(value);
  }

  // Sized by the value actually given, never by a length field alone: a length field is checked
  // against the value while encoding, and must not be able to make the encoder allocate.
  size(value: unknown, ctx: EncodeContext): number {
    if (value instanceof Uint8Array) return value.length;
    return typeof this.length === 'number' ? this.length : safeLength(this.length, ctx.val, ctx.parent);
  }
}

/** `u8[n]`: a fixed-length byte string. */
export function fixedBytes<N extends string>(name: N, doc: string, n: number): Field<N, Uint8Array> {
  return new BytesField(name, doc, n, `u8[${n}]`);
}

/** `u8[expr]`: a byte string whose length `length` computes; `expr` is how the spec writes it. */
export function bytes<N extends string>(
  name: N,
  doc: string,
  expr: string,
  length: LengthOf,
): Field<N, Uint8Array> {
  return new BytesField(name, doc, length, `u8[${expr}]`);
}

/** Printable ASCII plus tab and newline: what a verifier log may contain. */
function isLogByte(b: number): boolean {
  return b === 0x09 || b === 0x0a || (b >= 0x20 && b <= 0x7e);
}

/** Text of printable ASCII, tab and newline, with a length given by other fields (no terminator). */
class AsciiField<N extends string> implements Field<N, string> {
  readonly fixedSize = undefined;
  readonly bitWidth = undefined;
  readonly hidden = false as const;
  readonly c: CDeclaration = { type: 'char', array: 'flex' };
  readonly json = 'string' as const;

  constructor(
    readonly name: N,
    readonly doc: string,
    private readonly length: LengthOf,
    readonly wire: string,
  ) {}

  /** The byte length given the fields before it (NaN if unknown). */
  lengthGiven(self: Readonly<Record<string, unknown>>, outer: unknown): number {
    return this.length(self, outer);
  }

  decode(stream: DecodeStream, parent: Record<string, unknown>): string {
    const n = lengthOrThrow(this.length, parent, outerOf(parent), this.name, stream.pos);
    need(stream, n, this.name);
    const start = stream.pos;
    const raw = stream.readBuffer(n);
    for (let i = 0; i < raw.length; i++) {
      const b = raw[i] as number;
      if (!isLogByte(b)) {
        throw new CodecError(
          'range',
          this.name,
          start + i,
          `byte 0x${b.toString(16)} is not printable ASCII`,
        );
      }
    }
    return String.fromCharCode(...raw);
  }

  encode(stream: EncodeStream, value: unknown, ctx: EncodeContext): void {
    const offset = stream.pos;
    if (typeof value !== 'string') {
      throw new CodecError('type', this.name, offset, `expected a string, got ${describe(value)}`);
    }
    const n = lengthOrThrow(this.length, ctx.val, ctx.parent, this.name, offset);
    expectLength(this.name, offset, value.length, n);
    for (let i = 0; i < value.length; i++) {
      const b = value.charCodeAt(i);
      if (!isLogByte(b)) {
        throw new CodecError('range', this.name, offset + i, `character ${b} is not printable ASCII`);
      }
      stream.writeUInt8(b);
    }
  }

  size(value: unknown): number {
    return typeof value === 'string' ? value.length : 0;
  }
}

/** Text whose byte length `length` computes (`expr` is the spec's notation for it). */
export function ascii<N extends string>(
  name: N,
  doc: string,
  expr: string,
  length: LengthOf,
): Field<N, string> {
  return new AsciiField(name, doc, length, `char[${expr}]`);
}

/** What an array field needs of its element layout (a {@link Layout}, kept abstract to avoid a cycle). */
export interface ElementCodec<V> {
  /** The element's wire name (`struct NAME` in the spec). */
  readonly cName: string;
  /** The name the spec's C header declares the element under. */
  readonly cStruct: string;
  /** Fixed element size in bytes. */
  readonly fixedSize: number | undefined;
  /** Decodes one element at the stream's position. */
  decodeAt(stream: DecodeStream, outer: unknown): V;
  /** Encodes one element at the stream's position. */
  encodeAt(stream: EncodeStream, value: unknown, outer: unknown): void;
}

/** An array of fixed-size structures whose count comes from other fields. */
class ArrayField<N extends string, V> implements Field<N, V[]> {
  readonly fixedSize = undefined;
  readonly bitWidth = undefined;
  readonly hidden = false as const;
  readonly c: CDeclaration;
  readonly json = 'array' as const;
  readonly wire: string;

  constructor(
    readonly name: N,
    readonly doc: string,
    readonly element: ElementCodec<V>,
    private readonly count: LengthOf,
    countExpr: string,
  ) {
    this.c = { type: `struct ${element.cStruct}`, array: 'flex' };
    this.wire = `struct ${element.cName}[${countExpr}]`;
  }

  /** The element count given the fields before it (NaN if unknown). */
  lengthGiven(self: Readonly<Record<string, unknown>>, outer: unknown): number {
    return this.count(self, outer);
  }

  /** Re-labels an element's error with the array index so the path reads `insns[3].code`. */
  private relabel(error: unknown, index: number): unknown {
    if (!(error instanceof CodecError)) return error;
    return new CodecError(error.kind, `${this.name}[${index}].${error.field}`, error.offset, error.detail);
  }

  decode(stream: DecodeStream, parent: Record<string, unknown>): V[] {
    const n = lengthOrThrow(this.count, parent, outerOf(parent), this.name, stream.pos);
    // Bound the allocation by the bytes actually present before building anything.
    need(stream, n * (this.element.fixedSize ?? 1), this.name);
    const out: V[] = new Array<V>(n);
    for (let i = 0; i < n; i++) {
      try {
        out[i] = this.element.decodeAt(stream, parent);
      } catch (error) {
        throw this.relabel(error, i);
      }
    }
    return out;
  }

  encode(stream: EncodeStream, value: unknown, ctx: EncodeContext): void {
    const offset = stream.pos;
    if (!Array.isArray(value)) {
      throw new CodecError('type', this.name, offset, `expected an array, got ${describe(value)}`);
    }
    const n = lengthOrThrow(this.count, ctx.val, ctx.parent, this.name, offset);
    if (value.length !== n) {
      throw new CodecError(
        'length',
        this.name,
        offset,
        `has ${value.length} elements, its count field says ${n}`,
      );
    }
    value.forEach((element, i) => {
      try {
        this.element.encodeAt(stream, element, ctx.val);
      } catch (error) {
        throw this.relabel(error, i);
      }
    });
  }

  size(value: unknown): number {
    return Array.isArray(value) ? value.length * (this.element.fixedSize ?? 0) : 0;
  }
}

/** `struct X[count]`: an array of fixed-size structures. */
export function arrayOf<N extends string, V>(
  name: N,
  doc: string,
  element: ElementCodec<V>,
  countExpr: string,
  count: LengthOf,
): Field<N, V[]> {
  return new ArrayField(name, doc, element, count, countExpr);
}

/** Reads an integer field of a partly decoded struct, for length functions; NaN if unusable. */
export function intOf(self: Readonly<Record<string, unknown>>, key: string): number {
  const v = self[key];
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : NaN;
}
