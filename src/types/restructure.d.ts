// Declarations for the part of restructure 3.0.2 this package uses. restructure ships no types
// (and the typings proposed upstream do not compile under TypeScript 6), so these describe the
// runtime contract as read in its source: streams over a Uint8Array, and a Struct that lays out
// its fields in property order and accepts any object with decode/encode/size as a field type.
declare module 'restructure' {
  /** A read cursor over a byte array. */
  export class DecodeStream {
    constructor(buffer: Uint8Array);
    readonly buffer: Uint8Array;
    readonly view: DataView;
    pos: number;
    readonly length: number;
    readUInt8(): number;
    readUInt16LE(): number;
    readUInt32LE(): number;
    readInt16LE(): number;
    readInt32LE(): number;
    readBuffer(length: number): Uint8Array;
  }

  /** A write cursor over a preallocated byte array. */
  export class EncodeStream {
    constructor(buffer: Uint8Array);
    readonly buffer: Uint8Array;
    readonly view: DataView;
    pos: number;
    writeUInt8(value: number): void;
    writeUInt16LE(value: number): void;
    writeUInt32LE(value: number): void;
    writeInt16LE(value: number): void;
    writeInt32LE(value: number): void;
    writeBuffer(buffer: Uint8Array): void;
  }

  /** The context restructure passes to a field's encode and size. */
  export interface EncodeContext {
    readonly parent: unknown;
    readonly val: Record<string, unknown>;
  }

  /** Any object with this shape can be a Struct field. */
  export interface FieldType {
    decode(stream: DecodeStream, parent: Record<string, unknown>): unknown;
    encode(stream: EncodeStream, value: unknown, ctx: EncodeContext): void;
    size(value: unknown, ctx: EncodeContext): number;
  }

  export class Struct {
    constructor(fields: Record<string, FieldType>);
    decode(stream: DecodeStream, parent?: unknown): Record<string, unknown>;
    encode(stream: EncodeStream, value: Record<string, unknown>, parent?: unknown): void;
    size(value: Record<string, unknown>, parent?: unknown): number;
  }

  export const uint8: FieldType;
  export const uint16le: FieldType;
  export const uint32le: FieldType;
  export const int16le: FieldType;
  export const int32le: FieldType;
}
