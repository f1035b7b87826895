/**
 * The byte cursors the codecs read and write through: restructure's streams, described by this
 * package's own interfaces so that the public API does not depend on restructure's (absent) types.
 *
 * @module
 */
import * as r from 'restructure';

/** A read cursor over a byte array (restructure's `DecodeStream`). */
export interface DecodeStream {
  readonly buffer: Uint8Array;
  readonly view: DataView;
  /** Current byte position. */
  pos: number;
  /** Total length in bytes. */
  readonly length: number;
  readUInt8(): number;
  readUInt16LE(): number;
  readUInt32LE(): number;
  readInt16LE(): number;
  readInt32LE(): number;
  readBuffer(length: number): Uint8Array;
}

/** A write cursor over a preallocated byte array (restructure's `EncodeStream`). */
export interface EncodeStream {
  readonly buffer: Uint8Array;
  readonly view: DataView;
  /** Current byte position. */
  pos: number;
  writeUInt8(value: number): void;
  writeUInt16LE(value: number): void;
  writeUInt32LE(value: number): void;
  writeInt16LE(value: number): void;
  writeInt32LE(value: number): void;
  writeBuffer(buffer: Uint8Array): void;
}

/** What restructure hands a field's `encode` and `size`: the parent value and the outer context. */
export interface EncodeContext {
  readonly parent: unknown;
  readonly val: Record<string, unknown>;
}

/** restructure's field protocol: any object of this shape can be a `Struct` field. */
export interface FieldType {
  decode(stream: DecodeStream, parent: Record<string, unknown>): unknown;
  encode(stream: EncodeStream, value: unknown, ctx: EncodeContext): void;
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
