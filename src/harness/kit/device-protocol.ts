/**
 * The device-under-test protocol: how the conformance kit drives a device it did not build (a VMM's
 * virtio-net device with its tap, in any language) through a child process. One JSON object per
 * line on the child's standard input is a request; the child answers each with one JSON object
 * per line on its standard output, in order. Every request carries an `id` that its reply repeats.
 *
 * The requests cover what a scenario vector or the hostile-guest fuzzer does to a device: start an
 * instance with given capabilities, negotiate features, serve one control element given as its
 * readable and writable segments, deliver a frame from the host on a receive queue, reset, and
 * attempt a migration. The `introspect` extension (state snapshot and resource usage) enables the
 * fuzzer's deeper checks; a device without it is checked on the wire alone.
 *
 * The schema of every line is `vectors/schema/device-protocol.schema.json`; this module holds the
 * typed form (bytes as `Uint8Array`, 64-bit values as `bigint`) and the conversion to and from the
 * JSON lines (bytes as lowercase hex, feature bits as hex, 64-bit counters as decimal strings).
 *
 * @module
 */
import { parseHex, toHex, xdpCaps, type Caps } from '../../codec/index.js';
import type { HookFate } from '../../reference/tun/tap.js';

/** The protocol's name and version, exchanged in `hello`. */
export const DEVICE_PROTOCOL = 'virtio-xdp-offload/device/1';

/** The optional extension that exposes the device's state to the kit's deeper checks. */
export type DeviceExtension = 'introspect';

/** One descriptor of a control element: device-readable bytes, or a device-writable buffer's size. */
export type ElementSegment =
  | {
      /** A device-readable buffer. */
      readonly readable: Uint8Array;
    }
  | {
      /** The size of a device-writable buffer. */
      readonly writable: number;
    };

/** The phase of a migration attempt: `both` starts and ends it at once. */
export type MigrationPhase = 'start' | 'end' | 'both';

/** What the kit asks a device, by operation. */
export interface DeviceRequests {
  /** The first request: the kit's protocol; the reply names the device's. */
  readonly hello: {
    /** {@link DEVICE_PROTOCOL}. */
    readonly protocol: string;
  };
  /**
   * A fresh instance (any earlier one is discarded) advertising exactly `caps`, with `queues`
   * receive queues. `host_variant` asks two instances of one device to differ in every host
   * identifier (file descriptors, program ids, addresses) when they can: the kit starts two with
   * different values and compares their answers byte for byte.
   */
  readonly start: {
    /** The capabilities CAPS_GET must return. */
    readonly caps: Caps;
    /** Receive queues. */
    readonly queues: number;
    /** Which host-identifier variant to be. */
    readonly host_variant: number;
  };
  /** The driver writes its accepted features and sets FEATURES_OK. */
  readonly negotiate: {
    /** The accepted feature bits. */
    readonly features: bigint;
  };
  /** One control element: the device serves it and returns it used. */
  readonly control: {
    /** Its descriptors, in order. */
    readonly segments: readonly ElementSegment[];
  };
  /** The host sends a frame toward the guest on receive queue `queue`. */
  readonly frame: {
    /** The receive queue. */
    readonly queue: number;
    /** The frame, from its destination MAC address on. */
    readonly frame: Uint8Array;
  };
  /** A device reset (the driver writes 0 to the device status). */
  readonly reset: Record<never, never>;
  /** The VMM is asked to migrate the device. */
  readonly migrate: {
    /** Start, end, or both at once. */
    readonly phase: MigrationPhase;
  };
  /** `introspect`: a text snapshot of the offloaded state (equal before and after a refusal). */
  readonly snapshot: Record<never, never>;
  /** `introspect`: the resources the offloaded state holds. */
  readonly usage: Record<never, never>;
  /** The kit is done; the device replies and exits. */
  readonly quit: Record<never, never>;
}

/** What a device answers, by operation. */
export interface DeviceReplies {
  /** The device's protocol, its name, and the extensions it implements. */
  readonly hello: {
    /** The protocol it speaks. */
    readonly protocol: string;
    /** Its name and version, for reports. */
    readonly implementation: string;
    /** The extensions it implements. */
    readonly extensions: readonly DeviceExtension[];
  };
  /** The features the new instance offers. */
  readonly start: {
    /** Offered feature bits. */
    readonly features: bigint;
  };
  /** Whether the device accepted the features (FEATURES_OK stayed set). */
  readonly negotiate: {
    /** True when accepted. */
    readonly accepted: boolean;
  };
  /** The element as the device returned it. */
  readonly control: {
    /** The used length. */
    readonly used: number;
    /** The first `used` bytes of the writable part, as the device wrote them. */
    readonly written: Uint8Array;
    /** Whether the device status has DEVICE_NEEDS_RESET set after this element. */
    readonly needs_reset: boolean;
  };
  /** What became of the frame. */
  readonly frame: {
    /** The offloaded program's verdict (`bypass` when none ran). */
    readonly offload: HookFate;
    /** Frames placed in the guest's receive queue, in order. */
    readonly guest: readonly Uint8Array[];
    /** Frames sent back toward the host (XDP_TX), in order. */
    readonly host: readonly Uint8Array[];
  };
  /** Nothing: a reset has no answer. */
  readonly reset: Record<never, never>;
  /** Whether the VMM refused to migrate (a migration blocker). */
  readonly migrate: {
    /** True when blocked. */
    readonly blocked: boolean;
  };
  /** The state, as text. */
  readonly snapshot: {
    /** Equal texts mean equal offloaded state. */
    readonly state: string;
  };
  /** The resources held. */
  readonly usage: {
    /** Maps that exist. */
    readonly maps: number;
    /** Their accounted memory, in bytes. */
    readonly map_memory: bigint;
    /** insn_cnt of the attached program, 0 when none. */
    readonly insn_cnt: number;
  };
  /** Nothing. */
  readonly quit: Record<never, never>;
}

/** An operation of the protocol. */
export type DeviceOp = keyof DeviceRequests;

/** What names a request's operation. */
export interface OpOf<O extends DeviceOp> {
  /** The operation. */
  readonly op: O;
}

/** A request, typed by its operation. */
export type DeviceRequest<O extends DeviceOp = DeviceOp> = O extends DeviceOp
  ? OpOf<O> & DeviceRequests[O]
  : never;

/** A reply to an operation. */
export type DeviceReply<O extends DeviceOp = DeviceOp> = DeviceReplies[O];

/** Why a device did not carry out a request. */
export type DeviceErrorCode =
  /** The operation is not one the device knows (an extension it lacks, a later version's). */
  | 'unknown-op'
  /** The request is not what the protocol defines. */
  | 'bad-request'
  /** The device cannot do what is asked (capabilities it cannot advertise, a second queue). */
  | 'unsupported'
  /** A request that needs an instance came before `start`. */
  | 'not-started';

/** An error reply's body. */
export interface DeviceErrorBody {
  /** Why. */
  readonly code: DeviceErrorCode;
  /** What, for a reader. */
  readonly message: string;
}

/** Most descriptors in one element (a split virtqueue's largest queue holds 32,768). */
export const MAX_SEGMENTS = 32768;

/** Most device-writable bytes in one element, in all its buffers. */
export const MAX_WRITABLE = 1 << 24;

/** Every operation, in the order the protocol document lists them. */
export const DEVICE_OPS: readonly DeviceOp[] = [
  'hello',
  'start',
  'negotiate',
  'control',
  'frame',
  'reset',
  'migrate',
  'snapshot',
  'usage',
  'quit',
];

/** The operations of the `introspect` extension. */
export const INTROSPECT_OPS: ReadonlySet<DeviceOp> = new Set(['snapshot', 'usage']);

/** Thrown when a line is not a request or reply the protocol defines. */
export class DeviceProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceProtocolError';
  }
}

/** A line's JSON object. */
export type JsonObject = Record<string, unknown>;

const hexOf = (value: unknown, field: string): Uint8Array => {
  const bytes = typeof value === 'string' ? parseHex(value) : undefined;
  if (bytes === undefined) throw new DeviceProtocolError(`${field}: not a hex string`);
  return bytes;
};

const bigHexOf = (value: unknown, field: string): bigint => {
  if (typeof value !== 'string' || !/^[0-9a-f]{1,32}$/.test(value))
    throw new DeviceProtocolError(`${field}: not a hex number of at most 128 bits`);
  return BigInt(`0x${value}`);
};

const decimalOf = (value: unknown, field: string): bigint => {
  if (typeof value !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(value))
    throw new DeviceProtocolError(`${field}: not a decimal string`);
  return BigInt(value);
};

const uintOf = (value: unknown, field: string, max = 0xffffffff): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max)
    throw new DeviceProtocolError(`${field}: not an integer from 0 to ${max}`);
  return value;
};

const boolOf = (value: unknown, field: string): boolean => {
  if (typeof value !== 'boolean') throw new DeviceProtocolError(`${field}: not a boolean`);
  return value;
};

const HOOK_FATES: ReadonlySet<string> = new Set([
  'filtered',
  'bypass',
  'unfit',
  'aborted',
  'drop',
  'pass',
  'tx',
  'redirect',
]);

/** A request's JSON form (without its `id`). */
export function requestToJson(request: DeviceRequest): JsonObject {
  switch (request.op) {
    case 'start':
      return {
        op: 'start',
        caps: toHex(xdpCaps.encode(request.caps)),
        queues: request.queues,
        host_variant: request.host_variant,
      };
    case 'negotiate':
      return { op: 'negotiate', features: request.features.toString(16) };
    case 'control':
      return {
        op: 'control',
        segments: request.segments.map((s) =>
          'readable' in s ? { readable: toHex(s.readable) } : { writable: s.writable },
        ),
      };
    case 'frame':
      return { op: 'frame', queue: request.queue, frame: toHex(request.frame) };
    default:
      return { ...request };
  }
}

/**
 * A request from its JSON form.
 *
 * @throws DeviceProtocolError naming the field at fault.
 */
export function requestFromJson(json: JsonObject): DeviceRequest {
  const op = json.op;
  switch (op) {
    case 'hello':
      if (typeof json.protocol !== 'string') throw new DeviceProtocolError('protocol: not a string');
      return { op, protocol: json.protocol };
    case 'start': {
      const bytes = hexOf(json.caps, 'caps');
      let caps: Caps;
      try {
        caps = xdpCaps.decode(bytes);
      } catch (error) {
        throw new DeviceProtocolError(`caps: ${error instanceof Error ? error.message : String(error)}`);
      }
      return {
        op,
        caps,
        queues: uintOf(json.queues, 'queues', 0xffff),
        host_variant: uintOf(json.host_variant, 'host_variant'),
      };
    }
    case 'negotiate':
      return { op, features: bigHexOf(json.features, 'features') };
    case 'control': {
      if (!Array.isArray(json.segments)) throw new DeviceProtocolError('segments: not an array');
      if (json.segments.length > MAX_SEGMENTS)
        throw new DeviceProtocolError(`segments: more than ${MAX_SEGMENTS} descriptors`);
      let room = 0;
      const segments = (json.segments as unknown[]).map((s, i): ElementSegment => {
        const seg = (s ?? {}) as JsonObject;
        if ('readable' in seg) return { readable: hexOf(seg.readable, `segments[${i}].readable`) };
        const writable = uintOf(seg.writable, `segments[${i}].writable`, MAX_WRITABLE);
        // the bound is the element's, not each buffer's: a thousand 16 MiB buffers are refused
        if ((room += writable) > MAX_WRITABLE)
          throw new DeviceProtocolError(
            `segments[${i}].writable: more than ${MAX_WRITABLE} writable bytes in all`,
          );
        return { writable };
      });
      return { op, segments };
    }
    case 'frame':
      return { op, queue: uintOf(json.queue, 'queue', 0xffff), frame: hexOf(json.frame, 'frame') };
    case 'migrate': {
      const phase = json.phase;
      if (phase !== 'start' && phase !== 'end' && phase !== 'both')
        throw new DeviceProtocolError('phase: not start, end or both');
      return { op, phase };
    }
    case 'reset':
    case 'snapshot':
    case 'usage':
    case 'quit':
      return { op };
    default:
      throw new DeviceProtocolError(`op: unknown operation ${JSON.stringify(op)}`);
  }
}

/** A reply's JSON form (without its `id`). */
export function replyToJson<O extends DeviceOp>(op: O, reply: DeviceReply<O>): JsonObject {
  const r = reply as DeviceReply;
  switch (op) {
    case 'start':
      return { features: (r as DeviceReply<'start'>).features.toString(16) };
    case 'control': {
      const c = r as DeviceReply<'control'>;
      return { used: c.used, written: toHex(c.written), needs_reset: c.needs_reset };
    }
    case 'frame': {
      const f = r as DeviceReply<'frame'>;
      return { offload: f.offload, guest: f.guest.map(toHex), host: f.host.map(toHex) };
    }
    case 'usage': {
      const u = r as DeviceReply<'usage'>;
      return { maps: u.maps, map_memory: String(u.map_memory), insn_cnt: u.insn_cnt };
    }
    default:
      return { ...r };
  }
}

/**
 * A reply from its JSON form.
 *
 * @throws DeviceProtocolError naming the field at fault.
 */
export function replyFromJson<O extends DeviceOp>(op: O, json: JsonObject): DeviceReply<O> {
  const reply = ((): DeviceReply => {
    switch (op) {
      case 'hello': {
        const extensions = json.extensions;
        if (typeof json.protocol !== 'string') throw new DeviceProtocolError('protocol: not a string');
        if (typeof json.implementation !== 'string')
          throw new DeviceProtocolError('implementation: not a string');
        if (!Array.isArray(extensions) || !extensions.every((e) => typeof e === 'string'))
          throw new DeviceProtocolError('extensions: not an array of strings');
        return {
          protocol: json.protocol,
          implementation: json.implementation,
          extensions: extensions.filter((e): e is DeviceExtension => e === 'introspect'),
        };
      }
      case 'start':
        return { features: bigHexOf(json.features, 'features') };
      case 'negotiate':
        return { accepted: boolOf(json.accepted, 'accepted') };
      case 'control': {
        const used = uintOf(json.used, 'used');
        const written = hexOf(json.written, 'written');
        if (written.length !== used)
          throw new DeviceProtocolError(`written: ${written.length} bytes for a used length of ${used}`);
        return { used, written, needs_reset: boolOf(json.needs_reset, 'needs_reset') };
      }
      case 'frame': {
        if (typeof json.offload !== 'string' || !HOOK_FATES.has(json.offload))
          throw new DeviceProtocolError(`offload: not one of ${[...HOOK_FATES].join(', ')}`);
        const list = (value: unknown, field: string) => {
          if (!Array.isArray(value)) throw new DeviceProtocolError(`${field}: not an array`);
          return (value as unknown[]).map((f, i) => hexOf(f, `${field}[${i}]`));
        };
        return {
          offload: json.offload as HookFate,
          guest: list(json.guest, 'guest'),
          host: list(json.host, 'host'),
        };
      }
      case 'migrate':
        return { blocked: boolOf(json.blocked, 'blocked') };
      case 'snapshot':
        if (typeof json.state !== 'string') throw new DeviceProtocolError('state: not a string');
        return { state: json.state };
      case 'usage':
        return {
          maps: uintOf(json.maps, 'maps'),
          map_memory: decimalOf(json.map_memory, 'map_memory'),
          insn_cnt: uintOf(json.insn_cnt, 'insn_cnt'),
        };
      default:
        return {};
    }
  })();
  return reply as DeviceReply<O>;
}
