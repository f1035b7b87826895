/**
 * The device's front end for one control virtqueue element (spec section X.4): it gathers the
 * request, refuses a malformed part or a result area too small before anything executes, and writes
 * the answer only into the device-writable part. What a well-formed command does is the business of
 * the executor it is given.
 *
 * @module
 */
import {
  CodecError,
  VIRTIO_NET_CTRL_XDP_OFFLOAD,
  VIRTIO_NET_ERR,
  INSN_CNT_OFFSETS,
  WRITABLE_HEADER_SIZE,
  XdpStatus,
  decodeRequest,
  encodeFailure,
  encodeResult,
  writableSize,
  type ControlRequest,
  type ControlResult,
} from '../../codec/index.js';
import { ControlElement, FramingError } from '../virtqueue/element.js';

/** Carries out a well-formed command whose result area is large enough; must not throw for guest input. */
export type CommandExecutor = (request: ControlRequest) => ControlResult;

/** What the front end did with an element. */
export interface Served {
  /** The used length written back with the element. */
  readonly used: number;
  /** The decoded request, when the readable part was well formed. */
  readonly request?: ControlRequest;
  /** Whether the executor ran. */
  readonly executed: boolean;
  /** The status answered, or undefined when fewer than 9 bytes were writable. */
  readonly status?: number;
  /**
   * Why the element broke the virtqueue's rules, when it did ([dev-wire-broken]): nothing was
   * executed or written, and the device needs a reset.
   */
  readonly broken?: string;
}

/**
 * Why an element cannot be a control command at all, or undefined: its device-readable buffers do
 * not all come first, it has no room for the 2-byte header, or no device-writable byte for `ack`.
 * The core's rules are broken (VIRTIO 1.4 2.7.4.2, 5.1.6.5); QEMU marks its device broken on each.
 */
export function brokenElement(element: ControlElement): string | undefined {
  let readable: number;
  try {
    readable = element.readableLength;
  } catch (error) {
    if (error instanceof FramingError) return error.message;
    throw error;
  }
  if (readable < 2) return `${readable} device-readable bytes: no room for the command header`;
  if (element.writableCapacity === 0) return 'no device-writable byte: no room for ack';
  return undefined;
}

/** The status for a malformed readable part ([dev-wire-malformed]). */
export function malformedStatus(error: CodecError | FramingError): number {
  const undefinedValue = error instanceof CodecError && error.kind === 'unknown';
  return undefinedValue && (error.field === 'cmd' || error.field.endsWith('map_type'))
    ? XdpStatus.EOPNOTSUPP
    : XdpStatus.EINVAL;
}

/**
 * What bounds a device-readable part before it is read ([dev-prog-limit], [dev-wire-request-size]):
 * PROG_LOAD's `insn_cnt`, and the longest request the capabilities admit.
 */
export interface RequestBounds {
  /** `max_insns`. */
  readonly maxInsns: number;
  /** The longest well-formed device-readable part within the capabilities, in bytes. */
  readonly maxLength: number;
}

/** Header and fixed data before a PROG_LOAD's instructions or a MAP_UPDATE's key. */
const REQUEST_HEADER = 2 + 16;
/** Header and fixed data before a MAP_UPDATE_BATCH's elements. */
const BATCH_HEADER = 2 + 24;
/** Header and fixed data before a PROG_ARRAY_LOAD's instructions. */
const ARRAY_LOAD_HEADER = 2 + 24;
/** Bytes of the device-readable part up to and including the last `insn_cnt` of a program command. */
const INSN_CNT_END = Math.max(...INSN_CNT_OFFSETS.values()) + 4;

/** The bounds a device with these capabilities applies. */
export function requestBounds(caps: {
  readonly max_insns: number;
  readonly max_key_size: number;
  readonly max_value_size: number;
  readonly max_batch: number;
}): RequestBounds {
  const element = caps.max_key_size + caps.max_value_size;
  return {
    maxInsns: caps.max_insns,
    maxLength: Math.max(
      REQUEST_HEADER + element,
      ARRAY_LOAD_HEADER + 8 * caps.max_insns,
      BATCH_HEADER + caps.max_batch * element,
    ),
  };
}

/**
 * The status for a part refused from its length and header alone, or undefined. A PROG_LOAD or
 * PROG_ARRAY_LOAD above `max_insns` is E2BIG whatever follows `insn_cnt`; a longer part than any
 * request is malformed.
 */
function refusedUnread(element: ControlElement, bounds: RequestBounds): number | undefined {
  const head = element.readablePrefix(INSN_CNT_END);
  const at = head[0] === VIRTIO_NET_CTRL_XDP_OFFLOAD ? INSN_CNT_OFFSETS.get(head[1] ?? -1) : undefined;
  if (
    at !== undefined &&
    head.length >= at + 4 &&
    new DataView(head.buffer).getUint32(at, true) > bounds.maxInsns
  )
    return XdpStatus.E2BIG;
  return element.readableLength > bounds.maxLength ? XdpStatus.EINVAL : undefined;
}

/** Serves an element of another class, or answers undefined when the device has no such class. */
export type OtherClassServer = (element: ControlElement) => Served | undefined;

/**
 * Serves one element: refuse a broken element, hand another class to `otherClass` (VIRTIO_NET_ERR
 * in `ack` alone when there is none or it declines), check the length and header against
 * `bounds`, decode, check the writable room, execute, answer, in the order of
 * [dev-wire-precedence]. Without `bounds` (a front end tested on its own) any length is read.
 */
export function serveElement(
  element: ControlElement,
  execute: CommandExecutor,
  bounds?: RequestBounds,
  otherClass?: OtherClassServer,
): Served {
  const broken = brokenElement(element);
  if (broken !== undefined) return { used: 0, executed: false, broken };
  const ackError = (): Served => ({
    used: element.writeAnswer(Uint8Array.of(VIRTIO_NET_ERR)),
    executed: false,
  });
  // [dev-wire-other-class]: another class gets VIRTIO_NET_ERR in ack alone, no status header
  if (element.readablePrefix(1)[0] !== VIRTIO_NET_CTRL_XDP_OFFLOAD)
    return otherClass?.(element) ?? ackError();
  const room = element.writableCapacity;
  // Too small for a status: VIRTIO_NET_ERR in ack alone.
  if (room < WRITABLE_HEADER_SIZE) return ackError();
  let request: ControlRequest;
  try {
    const refused = bounds === undefined ? undefined : refusedUnread(element, bounds);
    if (refused !== undefined)
      return { used: element.writeAnswer(encodeFailure(refused)), executed: false, status: refused };
    request = decodeRequest(element.readablePart());
  } catch (error) {
    if (!(error instanceof CodecError || error instanceof FramingError)) throw error;
    const status = malformedStatus(error);
    return { used: element.writeAnswer(encodeFailure(status)), executed: false, status };
  }
  // [dev-wire-writable-short]: no room for the result, so the command is not executed
  if (room < writableSize(request)) {
    const status = XdpStatus.EINVAL;
    return { used: element.writeAnswer(encodeFailure(status)), request, executed: false, status };
  }
  const answer = execute(request);
  // encodeResult writes ack from the status ([dev-wire-ack-status]), result_len as the result's
  // length ([dev-wire-result-len]), and refuses a status the table does not define
  // ([dev-status-defined]); writeAnswer writes into the device-writable part only
  // ([dev-wire-no-readable-write])
  return {
    used: element.writeAnswer(encodeResult(request, answer)),
    request,
    executed: true,
    status: answer.status,
  };
}
