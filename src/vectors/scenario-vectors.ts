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
  decodeResult,
  encodeRequest,
  nameOf,
  parseHex,
  structFromJson,
  structToJson,
  toHex,
  writableSize,
  xdpCaps,
  type Caps,
  type ControlRequest,
  type ProgLoadResult,
  type ResultOf,
  resultOf,
} from '../codec/index.js';
import type { HookFate } from '../reference/tun/tap.js';
import { Bridge } from '../reference/tun/bridge.js';
import { FramingError, writableRoomFor } from '../reference/virtqueue/element.js';
import type { ElementSegment, DeviceOp, DeviceReply, DeviceRequest } from '../harness/kit/device-protocol.js';
import { ReferenceDevice, elementOfSegments } from '../harness/kit/reference-device.js';
import type { DeviceUnderTest } from '../harness/kit/device-under-test.js';
import { ErrorReply, exchangeRequest, runExchange, runExchangeAsync } from '../harness/kit/line-protocol.js';
import type { VectorOutcome } from './codec-vectors.js';
import { schemaErrors } from './schema.js';
import type { PacketSink } from '../harness/pcapng.js';

/** The format tag of scenario files. */
export const SCENARIO_FORMAT = 'virtio-xdp-offload/scenarios/1';

/**
 * The device's whole capability set, in the JSON form of the CAPS_GET result (section X.6): what the
 * device under test is started with and what its CAPS_GET must return, byte for byte.
 */
export interface ScenarioCaps {
  /** `max_maps`. */
  readonly max_maps: number;
  /** `max_entries`. */
  readonly max_entries: number;
  /** `max_map_memory`, decimal. */
  readonly max_map_memory: string;
  /** `max_key_size`. */
  readonly max_key_size: number;
  /** `max_value_size`. */
  readonly max_value_size: number;
  /** `max_insns`. */
  readonly max_insns: number;
  /** `max_log_size`. */
  readonly max_log_size: number;
  /** `map_types`, the bitmap as a decimal string. */
  readonly map_types: string;
  /** `isa_groups`. */
  readonly isa_groups: number;
  /** `prog_features`. */
  readonly prog_features: number;
  /** `xdp_headroom`. */
  readonly xdp_headroom: number;
  /** `max_frame_len`. */
  readonly max_frame_len: number;
  /** `max_batch`. */
  readonly max_batch: number;
  /** `helpers`, the bitmap as hex. */
  readonly helpers: string;
  /** `percpu_slots`. */
  readonly percpu_slots: number;
  /** `verify_mode`. */
  readonly verify_mode: number;
}

/** The setting of a scenario. */
export interface ScenarioSetup {
  /** The device's capabilities. */
  readonly caps: ScenarioCaps;
  /** Receive queues (default 1). */
  readonly queues?: number;
  /**
   * Frames arrive through a learning bridge from an uplink (the RFC's second topology). The bridge
   * is the host's, not the device's: the kit runs it in front of the device under test.
   */
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
  /**
   * Fields of the result the spec does not fix, compared by the rule the spec gives instead of
   * byte for byte. On PROG_LOAD and PROG_ARRAY_LOAD answers that carry a result:
   * `insns_processed` is the verifier's own measure, and `log` any text of printable ASCII, tab and
   * newline of at most `min(log_size, max_log_size)` bytes ([dev-prog-log]). On a MAP_LOOKUP_BATCH
   * answer that holds a whole hash: `order`, the device's own ([dev-map-next-key]), so the elements
   * are compared as a set.
   */
  readonly unfixed?: readonly UnfixedField[];
}

/** A result field the spec does not fix. */
export type UnfixedField = 'insns_processed' | 'log' | 'order';

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

/**
 * One exchange with a device under test: it yields the protocol's requests, receives their
 * replies, and returns what it produced. Written once, it runs on the reference in this process
 * ({@link runOnReference}, synchronously, as the vector writer needs) and on any device through
 * the protocol ({@link runOnDevice}).
 */
export type DeviceExchange<T> = Generator<DeviceRequest, T, DeviceReply>;

/** Asks the device one request within an exchange. */
const ask = <O extends DeviceOp>(request: DeviceRequest<O>) =>
  exchangeRequest<DeviceRequest, DeviceReply<O>, DeviceReply>(request);

/**
 * Runs an exchange on a reference device in this process.
 *
 * @throws ErrorReply when the reference refuses a request (a setup it cannot take).
 */
export function runOnReference<T>(exchange: DeviceExchange<T>, device: ReferenceDevice): T {
  return runExchange(exchange, (request: DeviceRequest) => device.reply(request));
}

/** Runs an exchange on a device under test. */
export function runOnDevice<T>(exchange: DeviceExchange<T>, device: DeviceUnderTest): Promise<T> {
  return runExchangeAsync(exchange, (request: DeviceRequest) => device.request(request));
}

/** The capability set of a scenario's setup, decoded (and so checked) as CAPS_GET's result. */
export function scenarioCaps(setup: ScenarioSetup): Caps {
  return xdpCaps.decode(xdpCaps.encode(structFromJson(xdpCaps, setup.caps) as Caps));
}

/** A capability set in the JSON form a scenario's setup holds. */
export function capsToScenario(caps: Caps): ScenarioCaps {
  return structToJson(xdpCaps, caps) as unknown as ScenarioCaps;
}

/** What the kit keeps while a scenario runs: the capabilities, the offered features, the host's bridge. */
export interface ScenarioSession {
  /** The capabilities the device was started with. */
  readonly caps: Caps;
  /** The features it offers (all of them are negotiated, after the start and after each reset). */
  readonly offered: bigint;
  /** The host's bridge in front of the device, when the setup has one. */
  readonly bridge: Bridge | undefined;
}

/**
 * Starts a scenario on a device: an instance with the setup's capabilities, every offered feature
 * negotiated.
 *
 * @throws ErrorReply when the device refuses its own offer (and CodecError for capabilities the
 *   spec does not allow).
 */
export function* startSession(setup: ScenarioSetup, hostVariant = 0): DeviceExchange<ScenarioSession> {
  const caps = scenarioCaps(setup);
  const { features } = yield* ask({
    op: 'start',
    caps,
    queues: setup.queues ?? 1,
    host_variant: hostVariant,
  });
  const { accepted } = yield* ask({ op: 'negotiate', features });
  if (!accepted) throw new ErrorReply('negotiate', 'unsupported', 'it refused its own offer');
  return { caps, offered: features, bridge: setup.bridge === true ? new Bridge() : undefined };
}

const statusName = (status: number): string => String(nameOf(XdpStatus, status) ?? status);

function bytesOf(hex: string, what: string): Uint8Array {
  const bytes = parseHex(hex);
  if (bytes === undefined) throw new TypeError(`${what} is not hex`);
  return bytes;
}

/** The descriptors of a control step. */
function segmentsOf(step: ControlStep): ElementSegment[] {
  if (step.segments !== undefined)
    return step.segments.map((s): ElementSegment =>
      'readable' in s ? { readable: bytesOf(s.readable, 'segment') } : { writable: s.writable },
    );
  const request = bytesOf(step.request ?? '', 'request');
  return [{ readable: request }, { writable: step.writable ?? writableRoomFor(request) }];
}

/** The request an element carries, decoded as the device reads it, or undefined when malformed or broken. */
function decodedOf(segments: readonly ElementSegment[]): ControlRequest | undefined {
  try {
    return decodeRequest(elementOfSegments(segments).readablePart());
  } catch (error) {
    if (!(error instanceof CodecError || error instanceof FramingError)) throw error;
    return undefined;
  }
}

/** Sends one well-formed request as a conforming driver frames it and decodes the answer strictly. */
function* send<R extends ControlRequest>(request: R): DeviceExchange<ResultOf<R['command']>> {
  const { written } = yield* ask({
    op: 'control',
    segments: [{ readable: encodeRequest(request) }, { writable: writableSize(request) }],
  });
  return decodeResult(request, written);
}

/** Reads a map over the wire: GET_NEXT_KEY from FIRST, MAP_LOOKUP of each key. */
function* readMap(handle: number, keySize: number, valueSize: number): DeviceExchange<MapExpect> {
  const entries: [string, string][] = [];
  let key: Uint8Array | null = null;
  for (;;) {
    const next: ResultOf<'MAP_GET_NEXT_KEY'> = yield* send({
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
    const value: ResultOf<'MAP_LOOKUP'> = yield* send({
      command: 'MAP_LOOKUP',
      data: { map_handle: handle, key_size: keySize, value_size: valueSize, key },
    });
    if (value.status !== XdpStatus.OK) return { status: statusName(value.status) };
    entries.push([toHex(key), toHex(resultOf(value).value)]);
  }
  return { entries: entries.sort(([a], [b]) => a.localeCompare(b)) };
}

/** The status in an answer's header, or undefined when fewer than 9 bytes were written. */
function answerStatus(written: Uint8Array): number | undefined {
  return written.length < 9 ? undefined : (written[1] as number) | ((written[2] as number) << 8);
}

/** Executes one step and returns what it produced, in the shape of its `expect`. */
export function* executeStep(session: ScenarioSession, step: ScenarioStep): DeviceExchange<object> {
  switch (step.do) {
    case 'control': {
      const segments = segmentsOf(step);
      const decoded = decodedOf(segments);
      const served = yield* ask({ op: 'control', segments });
      const status = answerStatus(served.written);
      const carriesLog =
        (decoded?.command === 'PROG_LOAD' || decoded?.command === 'PROG_ARRAY_LOAD') &&
        served.written.length > 9;
      return {
        command: decoded?.command ?? null,
        status: status === undefined ? null : statusName(status),
        answer: toHex(served.written),
        ...(served.needs_reset ? { needs_reset: true } : {}),
        ...(carriesLog ? { unfixed: ['insns_processed', 'log'] } : {}),
      };
    }
    case 'packet': {
      const frame = bytesOf(step.frame, 'frame');
      const bridge = session.bridge;
      // The host's bridge forwards from the uplink to the tap (or filters: nothing runs), and
      // sends out of the uplink what the tap gives back for it.
      if (bridge !== undefined && bridge.forward('uplink', frame) !== 'tap')
        return { offload: 'bypass', guest: [], host: [] };
      const fate = yield* ask({ op: 'frame', queue: step.queue ?? 0, frame });
      const host =
        bridge === undefined ? fate.host : fate.host.filter((f) => bridge.forward('tap', f) === 'uplink');
      return { offload: fate.offload, guest: fate.guest.map(toHex), host: host.map(toHex) };
    }
    case 'map':
      return yield* readMap(step.handle, step.key_size, step.value_size);
    case 'reset':
      yield* ask({ op: 'reset' });
      yield* ask({ op: 'negotiate', features: session.offered });
      return {};
    case 'migrate':
      return yield* ask({ op: 'migrate', phase: step.phase ?? 'both' });
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

/** Printable ASCII, tab and newline ([dev-prog-log]). */
const isLogText = (log: string) => /^[\t\n\x20-\x7e]*$/.test(log);

/**
 * Compares a PROG_LOAD or PROG_ARRAY_LOAD answer whose `insns_processed` and `log` the spec does
 * not fix: every other byte must be as stated, the answer must decode strictly, and the log must
 * follow [dev-prog-log]. Returns what is wrong, or undefined.
 */
function unfixedDifference(step: ControlStep, got: ControlExpect, caps: Caps): string | undefined {
  const request = decodedOf(segmentsOf(step));
  if (request?.command === 'MAP_LOOKUP_BATCH')
    return orderFreeDifference(request, step.expect.answer, got.answer);
  if (request === undefined || (request.command !== 'PROG_LOAD' && request.command !== 'PROG_ARRAY_LOAD'))
    return 'unfixed fields on an answer that is neither a program load nor a lookup batch';
  const parse = (hex: string): ProgLoadResult | string => {
    try {
      const answer = decodeResult(request, bytesOf(hex, 'answer'));
      const result = (answer as { result?: ProgLoadResult }).result;
      return result ?? 'no result';
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  };
  const want = parse(step.expect.answer);
  const have = parse(got.answer);
  if (typeof have === 'string') return `the answer does not decode: ${have}`;
  if (typeof want === 'string') return `the stated answer does not decode: ${want}`;
  const fixed = (r: ProgLoadResult) => canonicalJson({ ...r, insns_processed: 0, log_len: 0, log: '' });
  if (fixed(have) !== fixed(want)) return `result ${fixed(have)}, stated ${fixed(want)}`;
  const room = Math.min(request.data.log_size, caps.max_log_size);
  if (have.log.length > room)
    return `log of ${have.log.length} bytes, at most ${room} allowed [dev-prog-log]`;
  if (!isLogText(have.log))
    return 'log holds bytes other than printable ASCII, tab and newline [dev-prog-log]';
  return undefined;
}

/**
 * Compares two MAP_LOOKUP_BATCH answers whose order the spec leaves to the device: the same header
 * and count, and the same elements as a set. Returns what is wrong, or undefined.
 */
function orderFreeDifference(
  request: Extract<ControlRequest, { command: 'MAP_LOOKUP_BATCH' }>,
  want: string,
  have: string,
): string | undefined {
  const stride = request.data.key_size + request.data.value_size;
  const elements = (hex: string): string[] | string => {
    try {
      const answer = decodeResult(request, bytesOf(hex, 'answer'));
      if (answer.status !== XdpStatus.OK) return `status ${answer.status}`;
      const { count, elements: bytes } = resultOf(answer);
      return Array.from({ length: count }, (_, i) =>
        toHex(bytes.subarray(i * stride, (i + 1) * stride)),
      ).sort();
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  };
  const a = elements(have);
  const b = elements(want);
  if (typeof a === 'string') return `the answer does not decode: ${a}`;
  if (typeof b === 'string') return `the stated answer does not decode: ${b}`;
  return canonicalJson(a) === canonicalJson(b)
    ? undefined
    : `elements ${a.join(',')}, stated ${b.join(',')} (in any order)`;
}

/** Whether a step produced what its `expect` states (by the spec's rule for unfixed fields); what differs, if not. */
function stepDifference(step: ScenarioStep, produced: object, caps: Caps): string | undefined {
  if (step.do === 'control' && step.expect.unfixed !== undefined) {
    const got = produced as ControlExpect;
    const head = (e: ControlExpect) =>
      canonicalJson({
        command: e.command,
        status: e.status,
        needs_reset: e.needs_reset === true,
        unfixed: e.unfixed,
      });
    if (head(got) !== head(step.expect)) return `got  ${head(got)}\n   want ${head(step.expect)}`;
    return unfixedDifference(step, got, caps);
  }
  const got = canonicalJson(produced);
  const want = canonicalJson(step.expect);
  return got === want ? undefined : `got  ${got}\n   want ${want}`;
}

/** A step that did not produce what its vector states. */
export interface StepFailure {
  /** Its index in the scenario. */
  readonly index: number;
  /** Its kind. */
  readonly do: ScenarioStep['do'];
  /** Its note. */
  readonly note: string;
  /** The requirements it checks. */
  readonly spec: readonly string[];
  /** What differed. */
  readonly detail: string;
}

/** The outcome of one scenario, with every step that failed (a scenario runs to its end). */
export interface ScenarioOutcome extends VectorOutcome {
  /** The failed steps, in order. */
  readonly failures: readonly StepFailure[];
  /** Why the scenario could not run at all (the device refused its setup), if it could not. */
  readonly unsupported?: string;
}

/** What a step produced, with the unfixed fields its author marked (`order`) that execution cannot know. */
function withAuthorMarks(step: ScenarioStep, produced: object): object {
  if (step.do !== 'control' || !(step.expect.unfixed ?? []).includes('order')) return produced;
  const got = produced as ControlExpect;
  return { ...got, unfixed: [...(got.unfixed ?? []), 'order'] };
}

/** Runs a scenario: every step, noting each that differs from the vector (and frames to `sink`). */
function* runScenario(scenario: Scenario, sink: PacketSink | undefined): DeviceExchange<ScenarioOutcome> {
  let session: ScenarioSession;
  try {
    session = yield* startSession(scenario.setup);
  } catch (error) {
    if (!(error instanceof ErrorReply)) throw error;
    const detail = `the device cannot take this setup: ${error.message}`;
    return { name: scenario.name, passed: false, detail, failures: [], unsupported: detail };
  }
  const failures: StepFailure[] = [];
  for (const [i, step] of scenario.steps.entries()) {
    const produced = yield* executeStep(session, step);
    if (sink !== undefined && step.do === 'packet')
      recordFrames(sink, `${scenario.name} step ${i}`, step, produced);
    const detail = stepDifference(step, withAuthorMarks(step, produced), session.caps);
    if (detail !== undefined)
      failures.push({ index: i, do: step.do, note: step.note, spec: step.spec ?? [], detail });
  }
  const first = failures[0];
  return {
    name: scenario.name,
    passed: first === undefined,
    detail:
      first === undefined
        ? `${scenario.steps.length} steps`
        : `step ${first.index} (${first.do}: ${first.note}):\n   ${first.detail}` +
          (failures.length > 1 ? `\n   (and ${failures.length - 1} later steps)` : ''),
    failures,
  };
}

function recordFrames(sink: PacketSink, where: string, step: PacketStep, produced: object): void {
  const fate = produced as PacketExpect;
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

function checked(document: unknown): ScenarioFile | ScenarioOutcome[] {
  const errors = schemaErrors('scenarios.schema.json', document);
  if (errors.length > 0) return [{ name: 'schema', passed: false, detail: errors.join('; '), failures: [] }];
  return document as ScenarioFile;
}

/** Schema-checks and replays a scenario file on the reference: one outcome per scenario; frames to `sink`, if given. */
export function replayScenarioFile(document: unknown, sink?: PacketSink): ScenarioOutcome[] {
  const file = checked(document);
  if (Array.isArray(file)) return file;
  return file.scenarios.map((scenario) => runOnReference(runScenario(scenario, sink), new ReferenceDevice()));
}

/**
 * Schema-checks and replays a scenario file on a device under test: one outcome per scenario, each
 * listing every step that differs from the vector.
 *
 * @throws ProtocolFailure when the device breaks the protocol (no reply in time, a malformed line).
 */
export async function replayScenarioFileOn(
  document: unknown,
  device: DeviceUnderTest,
): Promise<ScenarioOutcome[]> {
  const file = checked(document);
  if (Array.isArray(file)) return file;
  const outcomes: ScenarioOutcome[] = [];
  for (const scenario of file.scenarios)
    outcomes.push(await runOnDevice(runScenario(scenario, undefined), device));
  return outcomes;
}
