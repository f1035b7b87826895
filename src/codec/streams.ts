/**
 * The byte cursors the codecs read and write through: restructure's streams, described by this
 * package's own interfaces so that the public API does not depend on restructure's (absent) types.
 *
 * @module
 */
import * as r from 'restructure';

/** A read cursor over a byte array (restructure's `DecodeStream`). */
export interface DecodeStream {
  /** The bytes. */
  readonly buffer: Uint8Array;
  /** A view over the same bytes. */
  readonly view: DataView;
  /** Current byte position. */
  pos: number;
  /** Total length in bytes. */
  readonly length: number;
  /** Reads a u8 and advances. */
  readUInt8(): number;
  /** Reads a le16 and advances. */
  readUInt16LE(): number;
  /** Reads a le32 and advances. */
  readUInt32LE(): number;
  /** Reads a signed 16-bit little-endian integer and advances. */
  readInt16LE(): number;
  /** Reads a signed 32-bit little-endian integer and advances. */
  readInt32LE(): number;
  /** Returns the next `length` bytes and advances. */
  readBuffer(length: number): Uint8Array;
}

/** A write cursor over a preallocated byte array (restructure's `EncodeStream`). */
export interface EncodeStream {
  /** The bytes. */
  readonly buffer: Uint8Array;
  /** A view over the same bytes. */
  readonly view: DataView;
  /** Current byte position. */
  pos: number;
  /** Writes a u8 and advances. */
  writeUInt8(value: number): void;
  /** Writes a le16 and advances. */
  writeUInt16LE(value: number): void;
  /** Writes a le32 and advances. */
  writeUInt32LE(value: number): void;
  /** Writes a signed 16-bit little-endian integer and advances. */
  writeInt16LE(value: number): void;
  /** Writes a signed 32-bit little-endian integer and advances. */
  writeInt32LE(value: number): void;
  /** Writes bytes and advances. */
  writeBuffer(buffer: Uint8Array): void;
}

/** What restructure hands a field's `encode` and `size`: the parent value and the outer context. */
export interface EncodeContext {
  /** What the caller passed as the outer context (a result's request). */
  readonly parent: unknown;
  /** The structure value being encoded. */
  readonly val: Record<string, unknown>;
}

/** restructure's field protocol: any object of this shape can be a `Struct` field. */
export interface FieldType {
  /** Reads the field; returns undefined to leave it out of the structure. */
  decode(stream: DecodeStream, parent: Record<string, unknown>): unknown;
  /** Writes the field. */
  encode(stream: EncodeStream, value: unknown, ctx: EncodeContext): void;
  /** Encoded size of the field in bytes. */
  size(value: unknown, ctx: EncodeContext): number;
}

/** A read cursor at offset 0 of `bytes`. */
export function newDecodeStream(bytes: Uint8Array): DecodeStream {
  return new r.DecodeStream(bytes);
}

/** A write cursor at offset 0 of `bytes` (pass `target.subarray(offset)` to write elsewhere). */
export function newEncodeStream(bytes: Uint8Array): EncodeStream {
  return new r.EncodeStream(bytes);
}
