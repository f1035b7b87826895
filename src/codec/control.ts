/**
 * Control-queue framing for class VIRTIO_NET_CTRL_XDP_OFFLOAD: the device-readable part (header and
 * request data) and the device-writable part (ack, status header and result).
 *
 * @module
 */
import { newDecodeStream, type EncodeStream } from './streams.js';
import {
  VIRTIO_NET_CTRL_XDP_OFFLOAD,
  VIRTIO_NET_ERR,
  VIRTIO_NET_OK,
  XdpCommand,
  XdpStatus,
  type XdpCommandName,
  type XdpStatusValue,
} from './constants.js';
import { CodecError } from './errors.js';
import type { RequestDataMap, ResultDataMap } from './messages.js';
import { describe } from './fields.js';
import { encodeChecked, expectEnd, type Layout, type ValueOf } from './layout.js';
import {
  ctrlAck,
  ctrlHeader,
  xdpCaps,
  xdpMapCreate,
  xdpMapDelete,
  xdpMapGetNextKey,
  xdpMapHandle,
  xdpMapKey,
  xdpMapLookup,
  xdpMapUpdate,
  xdpMapValue,
  xdpMapBatch,
  xdpMapLookupBatch,
  xdpMapUpdateBatch,
  xdpProgLoad,
  xdpProgArrayLoad,
  xdpProgLoadResult,
  xdpQuery,
  xdpStatus,
} from './structs.js';

/** How one command is framed: its request layout and its result layout (either may be absent). */
export interface CommandFrame {
  /** The command's value in the header's `command` byte. */
  readonly value: number;
  /** Layout of the device-readable data after the header, or null when the command has none. */
  readonly request: Layout | null;
  /** Layout of the result after the status header, or null when the command returns none. */
  readonly result: Layout | null;
  /** True when the result is also written with an error status (PROG_LOAD's verifier log). */
  readonly resultOnError: boolean;
}

/** A command's framing with its layouts' own types, from which {@link RequestData} and {@link ResultData} are read. */
export interface TypedCommandFrame<Q extends Layout | null, R extends Layout | null> extends CommandFrame {
  /** Layout of the device-readable data after the header, or null when the command has none. */
  readonly request: Q;
  /** Layout of the result after the status header, or null when the command returns none. */
  readonly result: R;
}

const frame = <Q extends Layout | null, R extends Layout | null>(
  name: XdpCommandName,
  request: Q,
  result: R,
  resultOnError = false,
): TypedCommandFrame<Q, R> => ({ value: XdpCommand[name], request, result, resultOnError });

/** The framing of every command of the class, by spec name. */
export const COMMAND_FRAMES = {
  /** Framing of CAPS_GET. */
  CAPS_GET: frame('CAPS_GET', null, xdpCaps),
  /** Framing of MAP_CREATE. */
  MAP_CREATE: frame('MAP_CREATE', xdpMapCreate, xdpMapHandle),
  /** Framing of MAP_FREE. */
  MAP_FREE: frame('MAP_FREE', xdpMapHandle, null),
  /** Framing of MAP_UPDATE. */
  MAP_UPDATE: frame('MAP_UPDATE', xdpMapUpdate, null),
  /** Framing of MAP_LOOKUP. */
  MAP_LOOKUP: frame('MAP_LOOKUP', xdpMapLookup, xdpMapValue),
  /** Framing of MAP_DELETE. */
  MAP_DELETE: frame('MAP_DELETE', xdpMapDelete, null),
  /** Framing of MAP_GET_NEXT_KEY. */
  MAP_GET_NEXT_KEY: frame('MAP_GET_NEXT_KEY', xdpMapGetNextKey, xdpMapKey),
  /** Framing of PROG_LOAD. */
  PROG_LOAD: frame('PROG_LOAD', xdpProgLoad, xdpProgLoadResult, true),
  /** Framing of PROG_UNLOAD. */
  PROG_UNLOAD: frame('PROG_UNLOAD', null, null),
  /** Framing of QUERY. */
  QUERY: frame('QUERY', null, xdpQuery),
  /** Framing of MAP_UPDATE_BATCH. */
  MAP_UPDATE_BATCH: frame('MAP_UPDATE_BATCH', xdpMapUpdateBatch, null),
  /** Framing of MAP_LOOKUP_BATCH. */
  MAP_LOOKUP_BATCH: frame('MAP_LOOKUP_BATCH', xdpMapLookupBatch, xdpMapBatch),
  /** Framing of PROG_ARRAY_LOAD: PROG_LOAD's result, written on success and on verifier rejection. */
  PROG_ARRAY_LOAD: frame('PROG_ARRAY_LOAD', xdpProgArrayLoad, xdpProgLoadResult, true),
} as const satisfies Record<XdpCommandName, CommandFrame>;

/**
 * Where `insn_cnt` is in the device-readable part (header included) of each command that carries
 * a program, by command value: what a device reads first to refuse a program above `max_insns`
 * before reading it ([dev-prog-limit]).
 */
export const INSN_CNT_OFFSETS: ReadonlyMap<number, number> = new Map(
  Object.values(COMMAND_FRAMES as Readonly<Record<string, CommandFrame>>).flatMap((f) => {
    const at = f.request?.offsets.insn_cnt;
    return at === undefined ? [] : [[f.value, 2 + at] as const];
  }),
);

/** The decoded value of a layout, or null for a command part that has none. */
export type DataOf<L> = L extends Layout ? ValueOf<L> : null;

/**
 * Request data of each command (null for commands without data): the plain interfaces of
 * `messages.ts`, which the compiler holds equal to what each frame's layout decodes to.
 */
export type RequestData = RequestDataMap;

/** Result data of each command (null for commands without a result), likewise. */
export type ResultData = ResultDataMap;

/** A decoded device-readable part: one command of the class with its data. */
export type ControlRequest = {
  [C in XdpCommandName]: {
    /** The command's spec name. */
    readonly command: C;
    /** Its data, or null for commands without data. */
    readonly data: RequestData[C];
  };
}[XdpCommandName];

/** A decoded device-writable part. */
export type ControlResult = {
  [C in XdpCommandName]: {
    /** The command this answers. */
    readonly command: C;
    /** `VIRTIO_NET_OK` or `VIRTIO_NET_ERR`. */
    readonly ack: number;
    /** A `VIRTIO_NET_XDP_S_*` value. */
    readonly status: XdpStatusValue;
    /** The result, or null when none was written. */
    readonly result: ResultData[C] | null;
  };
}[XdpCommandName];

/** What names a command (to pick one out of the request and result unions). */
export interface CommandTag<C extends XdpCommandName> {
  /** The command's spec name. */
  readonly command: C;
}

/** The request of one command (`RequestOf<'MAP_LOOKUP'>`). */
export type RequestOf<C extends XdpCommandName> = Extract<ControlRequest, CommandTag<C>>;

/** The answer to one command, as {@link decodeResult} gives it for that command's request. */
export type ResultOf<C extends XdpCommandName> = Extract<ControlResult, CommandTag<C>>;

/** Whether a decoded answer is the answer to `command` (narrows the union to that command's answer). */
export function isAnswerTo<C extends XdpCommandName>(
  answer: ControlResult,
  command: C,
): answer is ResultOf<C> {
  return answer.command === command;
}

/**
 * The result of a successful answer, typed for its command (null for commands without one).
 *
 * @throws CodecError when the answer is not a success.
 */
export function resultOf<A extends ControlResult>(answer: A): ResultData[A['command']] {
  if (answer.status !== XdpStatus.OK)
    throw new CodecError('inconsistent', 'status', 1, `status ${answer.status} carries no result to read`);
  return answer.result as ResultData[A['command']];
}

/** Size of the device-writable part before the result: ack (1) and status header (8). */
export const WRITABLE_HEADER_SIZE = 1 + 8;

/** The spec name of a command value. */
export function commandName(value: number): XdpCommandName | undefined {
  for (const [name, v] of Object.entries(XdpCommand)) if (v === value) return name as XdpCommandName;
  return undefined;
}

/**
 * Decodes a whole device-readable part: the header, then exactly the command's data.
 *
 * @example
 * ```ts
 * const request = decodeRequest(parseHex('0a 02 07000000 00000000'));
 * // { command: 'MAP_FREE', data: { map_handle: 7 } }
 * ```
 * @throws CodecError naming the kind, the field and the byte offset of the first fault (an
 *   undefined command, a short or trailing part, a reserved field that is not zero, ...).
 */
export function decodeRequest(bytes: Uint8Array): ControlRequest {
  const stream = newDecodeStream(bytes);
  const header = ctrlHeader.decodeAt(stream);
  const name = commandName(header.cmd) as XdpCommandName; // the header layout admits only defined values
  const { request } = COMMAND_FRAMES[name];
  const data = request === null ? null : request.decodeAt(stream);
  expectEnd(stream, 'command-specific-data');
  return { command: name, data } as ControlRequest;
}

function frameOf(command: unknown, offset: number): CommandFrame & { name: XdpCommandName } {
  if (typeof command !== 'string' || !(command in COMMAND_FRAMES)) {
    throw new CodecError('unknown', 'command', offset, `undefined command ${describe(command)}`);
  }
  const name = command as XdpCommandName;
  return { ...COMMAND_FRAMES[name], name };
}

/**
 * Encodes a device-readable part: the header, then the command's data.
 *
 * @example
 * ```ts
 * const bytes = encodeRequest({ command: 'MAP_FREE', data: { map_handle: 7 } });
 * // 0a 02 07000000 00000000
 * ```
 * @throws CodecError when the request is not one a conforming driver may send (a value out of
 *   range, a length field that disagrees with its data, data for a command without any).
 */
export function encodeRequest(request: ControlRequest): Uint8Array {
  const frameInfo = frameOf((request as { command?: unknown }).command, 1);
  const header = { class: VIRTIO_NET_CTRL_XDP_OFFLOAD, cmd: frameInfo.value };
  const data = (request as { data?: unknown }).data;
  if (frameInfo.request === null && data !== null) {
    throw new CodecError('length', 'command-specific-data', 2, `${frameInfo.name} carries no data`);
  }
  const layout = frameInfo.request;
  const size = 2 + (layout === null ? 0 : layout.sizeOf(data));
  return encodeChecked(
    (stream) => {
      ctrlHeader.encodeAt(stream, header);
      layout?.encodeAt(stream, data);
    },
    size,
    'command-specific-data',
  );
}

/** Bytes the driver must make device-writable for a request: ack, status header and the largest result. */
export function writableSize(request: ControlRequest): number {
  const d = request.data as Record<string, number> | null;
  switch (request.command) {
    case 'CAPS_GET':
      return WRITABLE_HEADER_SIZE + (xdpCaps.fixedSize as number);
    case 'MAP_CREATE':
      return WRITABLE_HEADER_SIZE + (xdpMapHandle.fixedSize as number);
    case 'MAP_LOOKUP':
      return WRITABLE_HEADER_SIZE + (d?.value_size ?? 0);
    case 'MAP_GET_NEXT_KEY':
      return WRITABLE_HEADER_SIZE + (d?.key_size ?? 0);
    case 'PROG_LOAD':
    case 'PROG_ARRAY_LOAD':
      return WRITABLE_HEADER_SIZE + xdpProgLoadResult.headerSize + (d?.log_size ?? 0);
    case 'QUERY':
      return WRITABLE_HEADER_SIZE + (xdpQuery.fixedSize as number);
    case 'MAP_LOOKUP_BATCH':
      return (
        WRITABLE_HEADER_SIZE +
        xdpMapBatch.headerSize +
        (d?.max_count ?? 0) * ((d?.key_size ?? 0) + (d?.value_size ?? 0))
      );
    default:
      return WRITABLE_HEADER_SIZE;
  }
}

/**
 * Decodes the bytes a device wrote into the device-writable part (its used length) for a request:
 * ack, status header, and a result of exactly `result_len` bytes. The driver's strict reading of
 * an untrusted device ([drv-wire-check-result]).
 *
 * @example
 * ```ts
 * const request = { command: 'MAP_CREATE', data: { map_type: 2, key_size: 4, value_size: 8, max_entries: 4, map_flags: 0 } } as const;
 * const answer = decodeResult(request, bytesTheDeviceWrote);
 * if (answer.status === XdpStatus.OK) console.log(resultOf(answer).map_handle);
 * ```
 * @throws CodecError for anything no conforming device writes: an undefined status, ack that
 *   disagrees with it, a wrong `result_len`, nonzero reserved bytes, a result of the wrong size.
 */
export function decodeResult<R extends ControlRequest>(
  request: R,
  bytes: Uint8Array,
): ResultOf<R['command']> {
  const { result: layout, resultOnError } = COMMAND_FRAMES[request.command];
  const stream = newDecodeStream(bytes);
  const { ack } = ctrlAck.decodeAt(stream);
  const header = xdpStatus.decodeAt(stream);
  const ok = header.status === XdpStatus.OK;
  if ((ack === VIRTIO_NET_OK) !== ok) {
    throw new CodecError('inconsistent', 'ack', 0, `ack ${ack} with status ${header.status}`);
  }
  const left = stream.length - stream.pos;
  if (header.result_len > left) {
    throw new CodecError(
      'truncated',
      'result',
      stream.pos,
      `result_len is ${header.result_len}, ${left} bytes follow`,
    );
  }
  if (header.result_len < left) {
    throw new CodecError(
      'trailing',
      'result',
      stream.pos + header.result_len,
      `${left - header.result_len} bytes after result_len`,
    );
  }
  const expectResult = layout !== null && (ok || (resultOnError && header.result_len > 0));
  if (!expectResult) {
    if (header.result_len !== 0) {
      throw new CodecError(
        'length',
        'result_len',
        5,
        `must be 0 for ${request.command} with status ${header.status}`,
      );
    }
    return { command: request.command, ack, status: header.status, result: null } as ResultOf<R['command']>;
  }
  // PROG_LOAD's log and MAP_LOOKUP_BATCH's elements fill up to the room asked for; the layout checks them.
  const upTo =
    request.command === 'PROG_LOAD' ||
    request.command === 'PROG_ARRAY_LOAD' ||
    request.command === 'MAP_LOOKUP_BATCH';
  const exact = upTo ? undefined : writableSize(request) - WRITABLE_HEADER_SIZE;
  if (exact !== undefined && header.result_len !== exact) {
    throw new CodecError(
      'length',
      'result_len',
      5,
      `${request.command} returns ${exact} bytes, result_len is ${header.result_len}`,
    );
  }
  const result = layout.decodeAt(stream, { request: request.data });
  expectEnd(stream, 'result');
  return { command: request.command, ack, status: header.status, result } as ResultOf<R['command']>;
}

/**
 * Encodes a device-writable part for a request (the used bytes: ack, status header and result).
 *
 * @throws CodecError when the answer does not fit the request (a result of the wrong command or
 *   size, a result with an error status where the command carries none).
 */
export function encodeResult(request: ControlRequest, answer: ControlResult): Uint8Array {
  const { result: layout, resultOnError } = COMMAND_FRAMES[request.command];
  if (answer.command !== request.command) {
    throw new CodecError(
      'inconsistent',
      'command',
      0,
      `result of ${answer.command} for a ${request.command} request`,
    );
  }
  const ok = answer.status === XdpStatus.OK;
  const ack = ok ? VIRTIO_NET_OK : VIRTIO_NET_ERR;
  if (answer.ack !== ack) {
    throw new CodecError('inconsistent', 'ack', 0, `ack ${answer.ack} with status ${answer.status}`);
  }
  const outer = { request: request.data };
  const mayCarry = layout !== null && (ok || resultOnError);
  if (answer.result !== null && !mayCarry) {
    throw new CodecError(
      'length',
      'result',
      WRITABLE_HEADER_SIZE,
      `${request.command} with status ${answer.status} carries no result`,
    );
  }
  if (answer.result === null && layout !== null && ok) {
    throw new CodecError('type', 'result', WRITABLE_HEADER_SIZE, `${request.command} needs a result`);
  }
  const result = answer.result;
  if (result === null || layout === null) return encodeWritable(ack, answer.status, 0, () => undefined);
  return encodeWritable(ack, answer.status, layout.sizeOf(result, outer), (stream) =>
    layout.encodeAt(stream, result, outer),
  );
}

/** Writes ack, the status header and, through `writeResult`, `resultLen` bytes of result. */
function encodeWritable(
  ack: number,
  status: number,
  resultLen: number,
  writeResult: (stream: EncodeStream) => void,
): Uint8Array {
  return encodeChecked(
    (stream) => {
      ctrlAck.encodeAt(stream, { ack });
      xdpStatus.encodeAt(stream, { status, result_len: resultLen });
      writeResult(stream);
    },
    WRITABLE_HEADER_SIZE + resultLen,
    'result',
  );
}

/**
 * Encodes the device-writable part of a failure that has no decoded request to answer (a malformed
 * device-readable part): `VIRTIO_NET_ERR`, the status and a `result_len` of 0.
 *
 * @throws CodecError for OK or a status the table does not define ([dev-status-defined]).
 */
export function encodeFailure(status: number): Uint8Array {
  if (status === XdpStatus.OK) throw new CodecError('range', 'status', 1, 'a failure cannot have status OK');
  return encodeWritable(VIRTIO_NET_ERR, status, 0, () => undefined);
}
