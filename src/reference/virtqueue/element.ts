/**
 * One control virtqueue element as the spec frames it (section X.4.1): a chain of descriptors whose
 * device-readable buffers carry the command and whose device-writable buffers, all after the
 * readable ones, receive `ack`, the status header and the result.
 *
 * The model keeps the descriptor boundaries, because the framing rules are about them: a driver may
 * split the request and the result area over any number of buffers, and the device must gather and
 * scatter across those boundaries without ever writing a device-readable buffer.
 *
 * @module
 */

import {
  CodecError,
  WRITABLE_HEADER_SIZE,
  decodeRequest,
  decodeResult,
  encodeRequest,
  writableSize,
  type ControlRequest,
  type ResultOf,
} from '../../codec/index.js';

/** One descriptor of the chain: its buffer and whether the device may write it. */
export interface Segment {
  /** The guest memory the descriptor points at. The device writes into it only when `deviceWritable`. */
  readonly bytes: Uint8Array;
  /** VIRTQ_DESC_F_WRITE. */
  readonly deviceWritable: boolean;
}

/**
 * What is wrong with an element's framing.
 *
 * - `readable-after-writable`: a device-readable segment follows a device-writable one.
 * - `answer-too-long`: the device tried to write more bytes than the writable segments hold.
 * - `used-length`: a used length larger than the writable segments (the driver's check of the device).
 */
export type FramingErrorKind = 'readable-after-writable' | 'answer-too-long' | 'used-length';

/** A typed framing failure: its kind, the segment it concerns and the byte offset within the part. */
export class FramingError extends Error {
  /** The class of failure. */
  readonly kind: FramingErrorKind;
  /** Index of the offending segment in the chain, or -1 when the failure concerns the whole part. */
  readonly segment: number;
  /** Byte offset in the device-writable part (or, for `readable-after-writable`, in the chain). */
  readonly offset: number;

  constructor(kind: FramingErrorKind, segment: number, offset: number, detail: string) {
    super(`${kind}: segment ${segment} at byte ${offset}: ${detail}`);
    this.name = 'FramingError';
    this.kind = kind;
    this.segment = segment;
    this.offset = offset;
  }
}

/** A control virtqueue element: the descriptor chain the driver made available. */
export class ControlElement {
  /** The chain, in descriptor order. */
  readonly segments: readonly Segment[];

  constructor(segments: readonly Segment[]) {
    this.segments = segments;
  }

  /**
   * Builds the element a conforming driver makes: the request in device-readable buffers, then
   * `writableSize` zeroed device-writable bytes. `readableSplits` and `writableSplits` are the
   * lengths of all but the last buffer of each part, so tests can cut both parts anywhere.
   */
  static forRequest(
    request: Uint8Array,
    writableSize: number,
    readableSplits: readonly number[] = [],
    writableSplits: readonly number[] = [],
  ): ControlElement {
    return new ControlElement([
      ...cut(request, readableSplits).map((bytes) => ({ bytes: bytes.slice(), deviceWritable: false })),
      ...cut(new Uint8Array(writableSize), writableSplits).map((bytes) => ({ bytes, deviceWritable: true })),
    ]);
  }

  /**
   * The element a conforming driver makes for a request: its encoding device-readable, then exactly
   * the writable room the command needs ([drv-wire-readable-only], [drv-wire-writable-size]).
   */
  static forControlRequest(request: ControlRequest): ControlElement {
    return ControlElement.forRequest(encodeRequest(request), writableSize(request));
  }

  /**
   * The answer to `request` as a driver checks it: the used bytes, decoded strictly. Throws
   * FramingError for a used length beyond the writable part and CodecError for a malformed answer.
   */
  readResult<R extends ControlRequest>(request: R, usedLength: number): ResultOf<R['command']> {
    return decodeResult(request, this.readAnswer(usedLength));
  }

  /** Total bytes of the device-writable segments. */
  get writableCapacity(): number {
    return this.segments.reduce((n, s) => (s.deviceWritable ? n + s.bytes.length : n), 0);
  }

  /**
   * The device-readable part as one buffer, gathered across segments (the device's view of the
   * request). Throws `readable-after-writable` when the chain breaks the ordering rule, since a
   * device cannot then tell where the request ends.
   */
  readablePart(): Uint8Array {
    return this.readablePrefix(Infinity);
  }

  /** Length of the device-readable part, without gathering it (throws as {@link readablePart}). */
  get readableLength(): number {
    let n = 0;
    for (const s of this.readableSegments()) n += s.bytes.length;
    return n;
  }

  /**
   * The first `limit` bytes of the device-readable part (fewer when it is shorter), gathered
   * without touching the rest, so a device can check a header before it reads a large body.
   */
  readablePrefix(limit: number): Uint8Array {
    const parts: Uint8Array[] = [];
    let left = limit;
    for (const s of this.readableSegments()) {
      if (left <= 0) break;
      const piece = s.bytes.length <= left ? s.bytes : s.bytes.subarray(0, left);
      parts.push(piece);
      left -= piece.length;
    }
    return concat(parts);
  }

  /** The device-readable segments, after checking that none follows a device-writable one. */
  private readableSegments(): Segment[] {
    let sawWritable = false;
    let chainOffset = 0;
    const readable: Segment[] = [];
    this.segments.forEach((s, i) => {
      if (s.deviceWritable) sawWritable = true;
      else if (sawWritable)
        throw new FramingError(
          'readable-after-writable',
          i,
          chainOffset,
          'a device-readable buffer follows a device-writable one',
        );
      else readable.push(s);
      chainOffset += s.bytes.length;
    });
    return readable;
  }

  /**
   * The device's only way to answer: scatters `answer` over the device-writable segments in order,
   * leaving every device-readable byte untouched, and returns the used length. The answer is checked
   * against the capacity before any byte is written, so a failed write changes nothing.
   */
  writeAnswer(answer: Uint8Array): number {
    const capacity = this.writableCapacity;
    if (answer.length > capacity)
      throw new FramingError(
        'answer-too-long',
        -1,
        capacity,
        `an answer of ${answer.length} bytes does not fit ${capacity} writable bytes`,
      );
    let done = 0;
    for (const s of this.segments) {
      if (!s.deviceWritable || done === answer.length) continue;
      const n = Math.min(s.bytes.length, answer.length - done);
      s.bytes.set(answer.subarray(done, done + n));
      done += n;
    }
    return answer.length;
  }

  /**
   * The driver's view of the answer: the first `usedLength` device-writable bytes, gathered across
   * segments. The used length comes from the device, so it is checked against the capacity.
   */
  readAnswer(usedLength: number): Uint8Array {
    const capacity = this.writableCapacity;
    if (!Number.isSafeInteger(usedLength) || usedLength < 0 || usedLength > capacity)
      throw new FramingError(
        'used-length',
        -1,
        capacity,
        `used length ${usedLength} is outside the ${capacity} writable bytes`,
      );
    return concat(this.segments.filter((s) => s.deviceWritable).map((s) => s.bytes)).subarray(0, usedLength);
  }
}

/**
 * The writable room a driver gives a device-readable part: what its command needs, or, when the
 * bytes do not decode, room for a status (`ack` and the status header), as for any command.
 */
export function writableRoomFor(readable: Uint8Array): number {
  try {
    return writableSize(decodeRequest(readable));
  } catch (error) {
    if (!(error instanceof CodecError)) throw error;
    return WRITABLE_HEADER_SIZE;
  }
}

/** Cuts `bytes` into consecutive pieces of the given lengths and a last piece with the rest. */
function cut(bytes: Uint8Array, splits: readonly number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const n of splits) {
    if (!Number.isSafeInteger(n) || n < 0 || at + n > bytes.length)
      throw new RangeError(`split of ${n} bytes at ${at} exceeds the ${bytes.length}-byte part`);
    pieces.push(bytes.subarray(at, at + n));
    at += n;
  }
  pieces.push(bytes.subarray(at));
  return pieces;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
