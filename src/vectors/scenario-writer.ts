/**
 * Writes scenario vectors: each step runs through the reference as it is added, and the writer
 * refuses a step whose outcome differs from what its author stated (a status, a verdict), so a
 * committed vector records intent checked against the reference, not whatever the reference did.
 *
 * @module
 */
import { encodeRequest, toHex, type Caps, type ControlRequest } from '../codec/index.js';
import { defaultCaps, helperBitmap } from '../reference/device/device.js';
import type { HookFate } from '../reference/tun/tap.js';
import { ReferenceDevice } from '../harness/kit/reference-device.js';
import type { DeviceReply, DeviceRequest } from '../harness/kit/device-protocol.js';
import {
  capsToScenario,
  executeStep,
  runOnReference,
  startSession,
  type ControlExpect,
  type MapExpect,
  type PacketExpect,
  type Scenario,
  type ScenarioSession,
  type ScenarioSetup,
  type ScenarioStep,
  type SegmentSpec,
} from './scenario-vectors.js';

/** Capability changes from the reference device's defaults, as a scenario's author writes them. */
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

/** The setting a scenario's author gives: changes to the defaults, which the file then holds whole. */
export interface WriterSetup {
  /** Capability changes. */
  readonly caps?: CapsOverrides;
  /** Receive queues (default 1). */
  readonly queues?: number;
  /** Frames arrive through the host's learning bridge from an uplink. */
  readonly bridge?: boolean;
}

/** The reference device's default capabilities with an author's changes. */
export function capsWith(overrides: CapsOverrides = {}, queues = 1): Caps {
  const c = overrides;
  return {
    ...defaultCaps(3520, queues),
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

/** Thrown when a step's outcome is not what its author stated. */
export class ScenarioAssertionError extends Error {
  constructor(scenario: string, note: string, detail: string) {
    super(`${scenario}: ${note}: ${detail}`);
    this.name = 'ScenarioAssertionError';
  }
}

/** Options of a control step. */
export interface ControlOptions {
  /** Requirement IDs the step checks. */
  readonly spec?: readonly string[];
  /** Device-writable bytes, instead of what the command needs. */
  readonly writable?: number;
  /** An explicit descriptor chain, instead of `request` and `writable`. */
  readonly segments?: readonly SegmentSpec[];
  /** The author expects the element to set DEVICE_NEEDS_RESET. */
  readonly needsReset?: boolean;
  /**
   * The answer is a MAP_LOOKUP_BATCH of a whole hash, whose order is the device's: its elements
   * are compared as a set (`unfixed: ['order']`).
   */
  readonly orderFree?: boolean;
}

/** Builds one scenario step by step. */
export class ScenarioWriter {
  private readonly device = new ReferenceDevice();
  private readonly session: ScenarioSession;
  private readonly steps: ScenarioStep[] = [];
  /** The setting the file holds: the whole capability set. */
  readonly setup: ScenarioSetup;

  /**
   * @param name - the scenario's name
   * @param description - what it shows
   * @param authored - the setting it starts from, as changes to the reference's defaults
   */
  constructor(
    /** The scenario's name. */
    readonly name: string,
    /** What it shows. */
    readonly description: string,
    authored: WriterSetup = {},
  ) {
    this.setup = {
      caps: capsToScenario(capsWith(authored.caps, authored.queues)),
      ...(authored.queues === undefined ? {} : { queues: authored.queues }),
      ...(authored.bridge === undefined ? {} : { bridge: authored.bridge }),
    };
    this.session = this.run(startSession(this.setup));
  }

  private run<T>(exchange: Generator<DeviceRequest, T, DeviceReply>): T {
    return runOnReference(exchange, this.device);
  }

  /**
   * A control element. `request` is a decoded request (encoded here) or raw bytes; `status` is the
   * status name the author expects, or null for an answer without a status.
   */
  control(
    note: string,
    request: ControlRequest | Uint8Array | null,
    status: string | null,
    options: ControlOptions = {},
  ): ControlExpect {
    const step = {
      do: 'control' as const,
      note,
      ...(options.spec === undefined ? {} : { spec: options.spec }),
      ...(request === null
        ? {}
        : { request: toHex(request instanceof Uint8Array ? request : encodeRequest(request)) }),
      ...(options.writable === undefined ? {} : { writable: options.writable }),
      ...(options.segments === undefined ? {} : { segments: options.segments }),
      expect: { command: null, status: null, answer: '' } as ControlExpect,
    };
    const got = this.run(executeStep(this.session, step)) as ControlExpect;
    if (got.status !== status)
      throw new ScenarioAssertionError(
        this.name,
        note,
        `status ${String(got.status)}, stated ${String(status)}`,
      );
    if ((got.needs_reset === true) !== (options.needsReset === true))
      throw new ScenarioAssertionError(this.name, note, `needs_reset ${String(got.needs_reset === true)}`);
    const expect: ControlExpect =
      options.orderFree === true ? { ...got, unfixed: [...(got.unfixed ?? []), 'order'] } : got;
    this.steps.push({ ...step, expect });
    return expect;
  }

  /** A frame from the host; `offload` is the verdict the author expects. */
  packet(
    note: string,
    frame: Uint8Array,
    offload: HookFate,
    options: { spec?: readonly string[]; queue?: number } = {},
  ): PacketExpect {
    const step = {
      do: 'packet' as const,
      note,
      ...(options.spec === undefined ? {} : { spec: options.spec }),
      frame: toHex(frame),
      ...(options.queue === undefined ? {} : { queue: options.queue }),
      expect: { offload: 'bypass', guest: [], host: [] } as PacketExpect,
    };
    const got = this.run(executeStep(this.session, step)) as PacketExpect;
    if (got.offload !== offload)
      throw new ScenarioAssertionError(this.name, note, `verdict ${got.offload}, stated ${offload}`);
    this.steps.push({ ...step, expect: got });
    return got;
  }

  /** A map read over the wire; `check` may assert on what it read. */
  map(
    note: string,
    handle: number,
    keySize: number,
    valueSize: number,
    check: (read: MapExpect) => string | undefined,
    spec?: readonly string[],
  ): MapExpect {
    const step = {
      do: 'map' as const,
      note,
      ...(spec === undefined ? {} : { spec }),
      handle,
      key_size: keySize,
      value_size: valueSize,
      expect: { entries: [] } as MapExpect,
    };
    const got = this.run(executeStep(this.session, step)) as MapExpect;
    const problem = check(got);
    if (problem !== undefined) throw new ScenarioAssertionError(this.name, note, problem);
    this.steps.push({ ...step, expect: got });
    return got;
  }

  /** A device reset (and renegotiation). */
  reset(note: string, spec?: readonly string[]): void {
    const step = { do: 'reset' as const, note, ...(spec === undefined ? {} : { spec }), expect: {} };
    this.run(executeStep(this.session, step));
    this.steps.push(step);
  }

  /** A migration attempt (or its start or end, by `phase`); `blocked` is what the author expects. */
  migrate(note: string, blocked: boolean, spec?: readonly string[], phase?: 'start' | 'end'): void {
    const step = {
      do: 'migrate' as const,
      note,
      ...(spec === undefined ? {} : { spec }),
      ...(phase === undefined ? {} : { phase }),
      expect: { blocked },
    };
    const got = this.run(executeStep(this.session, step)) as { blocked: boolean };
    if (got.blocked !== blocked)
      throw new ScenarioAssertionError(this.name, note, `blocked ${got.blocked}, stated ${blocked}`);
    this.steps.push(step);
  }

  /** The finished scenario. */
  done(): Scenario {
    return { name: this.name, description: this.description, setup: this.setup, steps: [...this.steps] };
  }
}
