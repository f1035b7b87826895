/**
 * Writes scenario vectors: each step runs through the reference as it is added, and the writer
 * refuses a step whose outcome differs from what its author stated (a status, a verdict), so a
 * committed vector records intent checked against the reference, not whatever the reference did.
 *
 * @module
 */
import { encodeRequest, toHex, type ControlRequest } from '../codec/index.js';
import type { HookFate } from '../reference/tun/tap.js';
import {
  executeStep,
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
}

/** Builds one scenario step by step. */
export class ScenarioWriter {
  private readonly session: ScenarioSession;
  private readonly steps: ScenarioStep[] = [];

  /**
   * @param name - the scenario's name
   * @param description - what it shows
   * @param setup - the setting it starts from
   */
  constructor(
    /** The scenario's name. */
    readonly name: string,
    /** What it shows. */
    readonly description: string,
    /** The setting it starts from. */
    readonly setup: ScenarioSetup = {},
  ) {
    this.session = startSession(setup);
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
    const got = executeStep(this.session, step) as ControlExpect;
    if (got.status !== status)
      throw new ScenarioAssertionError(
        this.name,
        note,
        `status ${String(got.status)}, stated ${String(status)}`,
      );
    if ((got.needs_reset === true) !== (options.needsReset === true))
      throw new ScenarioAssertionError(this.name, note, `needs_reset ${String(got.needs_reset === true)}`);
    this.steps.push({ ...step, expect: got });
    return got;
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
    const got = executeStep(this.session, step) as PacketExpect;
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
    const got = executeStep(this.session, step) as MapExpect;
    const problem = check(got);
    if (problem !== undefined) throw new ScenarioAssertionError(this.name, note, problem);
    this.steps.push({ ...step, expect: got });
    return got;
  }

  /** A device reset (and renegotiation). */
  reset(note: string, spec?: readonly string[]): void {
    const step = { do: 'reset' as const, note, ...(spec === undefined ? {} : { spec }), expect: {} };
    executeStep(this.session, step);
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
    const got = executeStep(this.session, step) as { blocked: boolean };
    if (got.blocked !== blocked)
      throw new ScenarioAssertionError(this.name, note, `blocked ${got.blocked}, stated ${blocked}`);
    this.steps.push(step);
  }

  /** The finished scenario. */
  done(): Scenario {
    return { name: this.name, description: this.description, setup: this.setup, steps: [...this.steps] };
  }
}
