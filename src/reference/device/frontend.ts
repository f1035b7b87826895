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
  VIRTIO_NET_ERR,
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
}

/** The status for a malformed readable part ([dev-wire-malformed]). */
export function malformedStatus(error: CodecError | FramingError): number {
  const undefinedValue = error instanceof CodecError && error.kind === 'unknown';
  return undefinedValue && (error.field === 'command' || error.field.endsWith('map_type'))
    ? XdpStatus.EOPNOTSUPP
    : XdpStatus.EINVAL;
}

/** Serves one element: decode, check the writable room, execute, answer. */
export function serveElement(element: ControlElement, execute: CommandExecutor): Served {
  const room = element.writableCapacity;
  if (room < 9) {
    // Too small for a status: VIRTIO_NET_ERR in ack alone, if there is a byte for it.
    const used = room === 0 ? 0 : element.writeAnswer(new Uint8Array([VIRTIO_NET_ERR]));
    return { used, executed: false };
  }
  let request: ControlRequest;
  try {
    request = decodeRequest(element.readablePart());
  } catch (error) {
    if (!(error instanceof CodecError || error instanceof FramingError)) throw error;
    const status = malformedStatus(error);
    return { used: element.writeAnswer(encodeFailure(status)), executed: false, status };
  }
  if (room < writableSize(request)) {
    const status = XdpStatus.EINVAL;
    return { used: element.writeAnswer(encodeFailure(status)), request, executed: false, status };
  }
  const answer = execute(request);
  return {
    used: element.writeAnswer(encodeResult(request, answer)),
    request,
    executed: true,
    status: answer.status,
  };
}
