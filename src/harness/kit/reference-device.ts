/**
 * The reference device behind the device-under-test protocol: each request carried out on a
 * {@link Topology} (device, tap and host kernel; the guest's side is the kit's). The kit drives the
 * reference through this one function whether in process or, through `xdp-offload device-serve`,
 * across a real process boundary, so the kit is tested by the same requests it sends elsewhere.
 *
 * @module
 */
import { MigrationBlockedError } from '../../reference/device/device.js';
import { CapsError } from '../../reference/device/caps.js';
import { Topology } from '../../reference/topology.js';
import { ControlElement, type Segment } from '../../reference/virtqueue/element.js';
import { ErrorReply } from './line-protocol.js';
import {
  DEVICE_PROTOCOL,
  DeviceProtocolError,
  type DeviceErrorBody,
  type DeviceOp,
  type DeviceReply,
  type DeviceRequest,
  type ElementSegment,
} from './device-protocol.js';

/** A reply or an error, as {@link ReferenceDevice.handle} returns it. */
export type DeviceAnswer<O extends DeviceOp = DeviceOp> =
  | {
      /** The reply. */
      readonly reply: DeviceReply<O>;
      /** Absent. */
      readonly error?: undefined;
    }
  | {
      /** Why the request was not carried out. */
      readonly error: DeviceErrorBody;
      /** Absent. */
      readonly reply?: undefined;
    };

/** The control element a `control` request's segments describe (readable bytes copied, writable zeroed). */
export function elementOfSegments(segments: readonly ElementSegment[]): ControlElement {
  return new ControlElement(
    segments.map((s): Segment =>
      'readable' in s
        ? { bytes: s.readable.slice(), deviceWritable: false }
        : { bytes: new Uint8Array(s.writable), deviceWritable: true },
    ),
  );
}

/** The implementation name the reference gives in `hello`. */
export const REFERENCE_IMPLEMENTATION = 'virtio-xdp-offload reference device';

/** The reference device, one instance at a time (each `start` discards the last). */
export class ReferenceDevice {
  private topology: Topology | undefined;

  /**
   * Carries out one request and returns its reply.
   *
   * @throws ErrorReply for a request the device does not carry out (its error reply).
   */
  reply<O extends DeviceOp>(request: DeviceRequest<O>): DeviceReply<O> {
    const answer = this.handle(request);
    if (answer.error !== undefined) throw new ErrorReply(request.op, answer.error.code, answer.error.message);
    return answer.reply;
  }

  /** Carries out one request: its reply, or the error reply's body. */
  handle<O extends DeviceOp>(request: DeviceRequest<O>): DeviceAnswer<O> {
    try {
      return { reply: this.carryOut(request) as DeviceReply<O> };
    } catch (error) {
      if (error instanceof CapsError || error instanceof RangeError)
        return { error: { code: 'unsupported', message: error.message } };
      if (error instanceof DeviceProtocolError)
        return { error: { code: 'not-started', message: error.message } };
      throw error;
    }
  }

  private started(): Topology {
    if (this.topology === undefined) throw new DeviceProtocolError('no instance: send start first');
    return this.topology;
  }

  private carryOut(request: DeviceRequest): DeviceReply {
    switch (request.op) {
      case 'hello':
        return {
          protocol: DEVICE_PROTOCOL,
          implementation: REFERENCE_IMPLEMENTATION,
          extensions: ['introspect'],
        };
      case 'start': {
        // Host identifiers shift with the variant; the guest must see no difference.
        this.topology = new Topology({
          caps: request.caps,
          queues: request.queues,
          hostOffset: request.host_variant === 0 ? 0 : 1000 + request.host_variant,
        });
        return { features: this.topology.device.offeredFeatures() };
      }
      case 'negotiate':
        return { accepted: this.started().device.setFeatures(request.features) };
      case 'control': {
        const { device } = this.started();
        const element = elementOfSegments(request.segments);
        const used = device.serve(element).used;
        return { used, written: element.readAnswer(used), needs_reset: device.needsReset !== undefined };
      }
      case 'frame': {
        const fate = this.started().fromHost(request.frame.slice(), request.queue);
        return { offload: fate.offload, guest: fate.guest.map((g) => g.delivered), host: fate.toHost };
      }
      case 'reset':
        this.started().device.reset();
        return {};
      case 'migrate': {
        const { device } = this.started();
        if (request.phase === 'end') {
          device.finishMigration();
          return { blocked: false };
        }
        try {
          device.startMigration();
        } catch (error) {
          if (error instanceof MigrationBlockedError) return { blocked: true };
          throw error;
        }
        if (request.phase === 'both') device.finishMigration();
        return { blocked: false };
      }
      case 'snapshot':
        return { state: this.started().device.snapshot() };
      case 'usage': {
        const usage = this.started().device.usage();
        return { maps: usage.maps, map_memory: usage.mapMemory, insn_cnt: usage.insnCnt };
      }
      case 'quit':
        return {};
    }
  }
}
