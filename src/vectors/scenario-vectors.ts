/**
 * Scenario vectors: scripted sessions through the whole offload path. Each step is one control
 * element (its bytes, how it is framed, and every byte the device wrote back), one frame from the
 * host (what the offloaded program did, what reached the guest stack, what went back toward the
 * host), one read of a map over the wire, a reset, or a migration attempt.
 *
 * One function executes a step, for both the writer (which records what the reference does and
 * checks it against what the author stated) and the replay (which compares with the file).
 *
 * @module
 */
import {
  CodecError,
  NextKeyFlag,
  XdpStatus,
  decodeRequest,
  nameOf,
  parseHex,
  toHex,
  type ControlRequest,
  resultOf,
  type ResultOf,
} from '../codec/index.js';
import { defaultCaps, helperBitmap, MigrationBlockedError } from '../reference/device/device.js';
import type { DeviceCaps } from '../reference/device/caps.js';
import type { HookFate } from '../reference/tun/tap.js';
import { Topology } from '../reference/topology.js';
import {
  ControlElement,
  FramingError,
  writableRoomFor,
  type Segment,
} from '../reference/virtqueue/element.js';
import type { VectorOutcome } from './codec-vectors.js';
import { schemaErrors } from './schema.js';
import type { PacketSink } from '../harness/pcapng.js';

/** The format tag of scenario files. */
export const SCENARIO_FORMAT = 'virtio-xdp-offload/scenarios/1';

/** Capability changes from the reference device's defaults. */
export interface CapsOverrides {
  /** `max_maps`. */
  readonly max_maps?: number;
  /** `max_entries`. */
  readonly max_entries?: number;
  /** `max_map_memory`, decimal. */
  readonly max_map_memory?: string;
  /** `max_insns`. */
  readonly max_insns?: number;
  /** `max_log_size`. */
  readonly max_log_size?: number;
  /** `max_batch`. */
  readonly max_batch?: number;
  /** `prog_features`. */
  readonly prog_features?: number;
  /** The helper ids advertised (replaces the default list). */
  readonly helpers?: readonly number[];
  /** The map types offered (replaces the default list). */
  readonly map_types?: readonly number[];
}

/** The setting of a scenario. */
export interface ScenarioSetup {
  /** Capability changes. */
  readonly caps?: CapsOverrides;
  /** Receive queues (default 1). */
  readonly queues?: number;
  /** Frames arrive through a learning bridge from an uplink (the RFC's second topology). */
  readonly bridge?: boolean;
}

/** One descriptor of an explicitly framed element: readable bytes, or a writable buffer size. */
export type SegmentSpec =
  | {
      /** A device-readable buffer's bytes, hex. */
      readonly readable: string;
    }
  | {
      /** The size of a device-writable buffer. */
      readonly writable: number;
    };

/** What every step has. */
interface StepBase {
  /** What the step does, for a reader. */
  readonly note: string;
  /** Requirement identifiers the step checks. */
  readonly spec?: readonly string[];
}

/** A control element and the device's answer. */
export interface ControlStep extends StepBase {
  /** The step kind. */
  readonly do: 'control';
  /** Device-readable bytes, hex (one buffer), unless `segments` frames the element. */
  readonly request?: string;
  /** Device-writable bytes (default: exactly what the command needs). */
  readonly writable?: number;
  /** An explicit descriptor chain. */
  readonly segments?: readonly SegmentSpec[];
  /** What the device answers. */
  readonly expect: ControlExpect;
}

/** A frame from the host and its fate. */
export interface PacketStep extends StepBase {
  /** The step kind. */
  readonly do: 'packet';
  /** The frame, hex. */
  readonly frame: string;
  /** Receive queue (default 0). */
  readonly queue?: number;
  /** What became of it. */
  readonly expect: PacketExpect;
}

/** A map read over the wire. */
export interface MapStep extends StepBase {
  /** The step kind. */
  readonly do: 'map';
  /** The map's handle. */
  readonly handle: number;
  /** Its key size. */
  readonly key_size: number;
  /** Its value size. */
  readonly value_size: number;
  /** What the read found. */
  readonly expect: MapExpect;
}

/** A device reset followed by feature negotiation. */
export interface ResetStep extends StepBase {
  /** The step kind. */
  readonly do: 'reset';
  /** Nothing: a reset has no answer. */
  readonly expect: object;
}

/** A live migration attempt. */
export interface MigrateStep extends StepBase {
  /** The step kind. */
  readonly do: 'migrate';
  /**
   * `start`: the migration begins and stays in progress until a step with `end`; `end`: it ends
   * (the guest runs on here); absent: it starts and ends at once.
   */
  readonly phase?: 'start' | 'end';
  /** Whether the VMM refused to start it. */
  readonly expect: {
    /** True when migration was blocked. */
    readonly blocked: boolean;
  };
}

/** The steps, as written in a file (inputs and `expect`). */
export type ScenarioStep = ControlStep | PacketStep | MapStep | ResetStep | MigrateStep;

/** What a control step produced. */
export interface ControlExpect {
  /** The command decoded from the readable part, or null when it was malformed. */
  readonly command: string | null;
  /** The status name, or null when fewer than 9 bytes were writable. */
  readonly status: string | null;
  /** Every byte the device wrote (its used length), hex. */
  readonly answer: string;
  /**
   * Present, and true, when the element broke the virtqueue's rules and the device set
   * DEVICE_NEEDS_RESET ([dev-wire-broken]); it then answers nothing until a reset step.
   */
  readonly needs_reset?: true;
}

/** What a packet step produced. */
export interface PacketExpect {
  /** The offloaded program's verdict counter, `bypass` (no program ran) or `unfit` (discarded, too long). */
  readonly offload: HookFate;
  /** Frames the guest stack received, hex. */
  readonly guest: readonly string[];
  /** Frames sent back toward the host: out of the tap (or, with a bridge, out of the uplink). */
  readonly host: readonly string[];
}

/** What a map read produced: every element in key order, or the status that stopped the read. */
export type MapExpect =
  | {
      /** [key, value] in hex, sorted by key. */
      readonly entries: readonly (readonly [string, string])[];
    }
  | {
      /** The status name that stopped the read. */
      readonly status: string;
    };

/** One scenario. */
export interface Scenario {
  /** Its name (lowercase, dashes). */
  readonly name: string;
  /** What it shows. */
  readonly description: string;
  /** The setting it starts from. */
  readonly setup: ScenarioSetup;
  /** The steps, in order. */
  readonly steps: readonly ScenarioStep[];
}

/** A scenario file. */
export interface ScenarioFile {
  /** The format tag. */
  readonly format: typeof SCENARIO_FORMAT;
  /** What the file covers. */
  readonly description: string;
  /** Its scenarios. */
  readonly scenarios: readonly Scenario[];
}

/** A running scenario: the topology (negotiated, with its bridge when the setup has one). */
export interface ScenarioSession {
  /** Host, device and guest. */
  readonly topology: Topology;
}

/** The capabilities a setup gives. */
export function scenarioCaps(setup: ScenarioSetup): DeviceCaps {
  const c = setup.caps ?? {};
  const base = defaultCaps(3520);
  return {
    ...base,
    ...(c.max_maps === undefined ? {} : { max_maps: c.max_maps }),
    ...(c.max_entries === undefined ? {} : { max_entries: c.max_entries }),
    ...(c.max_map_memory === undefined ? {} : { max_map_memory: BigInt(c.max_map_memory) }),
    ...(c.max_insns === undefined ? {} : { max_insns: c.max_insns }),
    ...(c.max_log_size === undefined ? {} : { max_log_size: c.max_log_size }),
    ...(c.max_batch === undefined ? {} : { max_batch: c.max_batch }),
    ...(c.prog_features === undefined ? {} : { prog_features: c.prog_features }),
    ...(c.helpers === undefined ? {} : { helpers: helperBitmap(c.helpers) }),
    ...(c.map_types === undefined
      ? {}
      : { map_types: c.map_types.reduce((bits, type) => bits | (1n << BigInt(type)), 0n) }),
  };
}

/** Starts a session: the topology with the device's offered features negotiated. */
export function startSession(setup: ScenarioSetup): ScenarioSession {
  const topology = new Topology({
    caps: scenarioCaps(setup),
    queues: setup.queues ?? 1,
    bridge: setup.bridge === true,
  });
  const { device } = topology;
  device.setFeatures(device.offeredFeatures());
  return { topology };
}

const statusName = (status: number): string => String(nameOf(XdpStatus, status) ?? status);

function bytesOf(hex: string, what: string): Uint8Array {
  const bytes = parseHex(hex);
  if (bytes === undefined) throw new TypeError(`${what} is not hex`);
  return bytes;
}

/** Builds the element of a control step. */
function elementOf(step: ControlStep): ControlElement {
  if (step.segments !== undefined) {
    return new ControlElement(
      step.segments.map((s): Segment =>
        'readable' in s
          ? { bytes: bytesOf(s.readable, 'segment'), deviceWritable: false }
          : { bytes: new Uint8Array(s.writable), deviceWritable: true },
      ),
    );
  }
  const request = bytesOf(step.request ?? '', 'request');
  return ControlElement.forRequest(request, step.writable ?? writableRoomFor(request));
}

/** Reads a map over the wire: GET_NEXT_KEY from FIRST, MAP_LOOKUP of each key. */
function readMap(session: ScenarioSession, handle: number, keySize: number, valueSize: number): MapExpect {
  const { device } = session.topology;
  const send = <R extends ControlRequest>(request: R): ResultOf<R['command']> => {
    const element = ControlElement.forControlRequest(request);
    return element.readResult(request, device.serve(element).used);
  };
  const entries: [string, string][] = [];
  let key: Uint8Array | null = null;
  for (;;) {
    const next: ResultOf<'MAP_GET_NEXT_KEY'> = send({
      command: 'MAP_GET_NEXT_KEY',
      data: {
        map_handle: handle,
        key_size: keySize,
        flags: key === null ? NextKeyFlag.FIRST : 0,
        key: key ?? new Uint8Array(0),
      },
    });
    if (next.status === XdpStatus.ENOENT) break;
    if (next.status !== XdpStatus.OK) return { status: statusName(next.status) };
    key = resultOf(next).next_key;
    const value: ResultOf<'MAP_LOOKUP'> = send({
      command: 'MAP_LOOKUP',
      data: { map_handle: handle, key_size: keySize, value_size: valueSize, key },
    });
    if (value.status !== XdpStatus.OK) return { status: statusName(value.status) };
    entries.push([toHex(key), toHex(resultOf(value).value)]);
  }
  return { entries: entries.sort(([a], [b]) => a.localeCompare(b)) };
}

/** Executes one step and returns what it produced, in the shape of its `expect`. */
export function executeStep(session: ScenarioSession, step: ScenarioStep): object {
  const { topology } = session;
  switch (step.do) {
    case 'control': {
      const element = elementOf(step);
      let command: string | null = null;
      try {
        command = decodeRequest(element.readablePart()).command;
      } catch (error) {
        if (!(error instanceof CodecError || error instanceof FramingError)) throw error;
      }
      const served = topology.device.serve(element);
      const answer = toHex(element.readAnswer(served.used));
      const status = served.status === undefined ? null : statusName(served.status);
      return { command, status, answer, ...(served.broken === undefined ? {} : { needs_reset: true }) };
    }
    case 'packet': {
      const fate = topology.fromUplink(bytesOf(step.frame, 'frame'), step.queue ?? 0);
      const guest = fate.guest.flatMap((g) => (g.toStack === undefined ? [] : [toHex(g.toStack)]));
      return { offload: fate.offload, guest, host: fate.toHost.map(toHex) };
    }
    case 'map':
      return readMap(session, step.handle, step.key_size, step.value_size);
    case 'reset': {
      topology.device.reset();
      topology.device.setFeatures(topology.device.offeredFeatures());
      return {};
    }
    case 'migrate':
      if (step.phase === 'end') {
        topology.device.finishMigration();
        return { blocked: false };
      }
      try {
        topology.device.startMigration();
        if (step.phase === undefined) topology.device.finishMigration();
        return { blocked: false };
      } catch (error) {
        if (error instanceof MigrationBlockedError) return { blocked: true };
        throw error;
      }
  }
}

/** JSON with object keys sorted, so that key order in a hand-edited file does not matter. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

/** Schema-checks and replays a scenario file: one outcome per scenario; frames to `sink`, if given. */
export function replayScenarioFile(document: unknown, sink?: PacketSink): VectorOutcome[] {
  const errors = schemaErrors('scenarios.schema.json', document);
  if (errors.length > 0) return [{ name: 'schema', passed: false, detail: errors.join('; ') }];
  const file = document as ScenarioFile;
  return file.scenarios.map((scenario) => {
    const session = startSession(scenario.setup);
    for (const [i, step] of scenario.steps.entries()) {
      const produced = executeStep(session, step);
      if (sink !== undefined && step.do === 'packet') {
        const fate = produced as PacketExpect;
        const where = `${scenario.name} step ${i}`;
        sink.record(
          'from-host',
          parseHex(step.frame) ?? new Uint8Array(0),
          `${where}: ${step.note} (offloaded program: ${fate.offload})`,
        );
        for (const f of fate.guest)
          sink.record('to-guest', parseHex(f) ?? new Uint8Array(0), `${where}: delivered to the guest`);
        for (const f of fate.host)
          sink.record('to-host', parseHex(f) ?? new Uint8Array(0), `${where}: sent back toward the host`);
      }
      const got = canonicalJson(produced);
      const want = canonicalJson(step.expect);
      if (got !== want)
        return {
          name: scenario.name,
          passed: false,
          detail: `step ${i} (${step.do}: ${step.note}):\n   got  ${got}\n   want ${want}`,
        };
    }
    return { name: scenario.name, passed: true, detail: `${scenario.steps.length} steps` };
  });
}
