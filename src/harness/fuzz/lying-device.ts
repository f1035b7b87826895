/**
 * A lying device, against the guest driver: an honest reference device behind a transport that
 * rewrites answers the way a broken or hostile device could, each rewrite one the spec does not
 * allow (used lengths past the writable room or short of the answer, ack against status, undefined
 * statuses, wrong result lengths, reserved bytes set, repeated or zero handles, capabilities below
 * the minimum, QUERY counters that do not add up, GET_NEXT_KEY or MAP_LOOKUP_BATCH that repeats,
 * never ends or leaves an array's order). After every driver call it checks:
 *
 * - nothing escapes the driver (no exception);
 * - the call ended within a bound of control elements (no loop follows the device forever);
 * - a call that received a lie failed: EIO (or, for the capabilities, an unusable device).
 *
 * @module
 */
import {
  BpfMapType,
  CodecError,
  WRITABLE_HEADER_SIZE,
  decodeRequest,
  xdpCaps,
  xdpMapBatch,
  xdpQuery,
  xdpStatus,
  type ControlRequest,
} from '../../codec/index.js';
import { GuestErrno, VirtioNetDriver, type DriverTransport } from '../../reference/driver/driver.js';
import { defaultCaps } from '../../reference/device/device.js';
import { ControlElement } from '../../reference/virtqueue/element.js';
import { Topology } from '../../reference/topology.js';
import { assemble } from '../../reference/ebpf/asm.js';
import { Rng, sessionSeed } from '../rng.js';

/** The rewrites the lying transport makes. */
export const LIES = [
  'used-past-room',
  'used-short',
  'ack-flipped',
  'undefined-status',
  'result-len',
  'reserved-set',
  'duplicate-handle',
  'zero-handle',
  'caps-below-minimum',
  'query-counters',
  'query-attached',
  'next-key-repeat',
  'next-key-endless',
  'array-key-order',
] as const;

/** One rewrite. */
export type Lie = (typeof LIES)[number];

/** Which commands a lie rewrites (undefined: any), and the driver call it is a lie to. */
const LIE_TARGETS: Partial<Record<Lie, { readonly commands: readonly string[]; readonly call: string }>> = {
  'reserved-set': { commands: ['MAP_CREATE'], call: 'mapCreate' },
  'duplicate-handle': { commands: ['MAP_CREATE'], call: 'mapCreate' },
  'zero-handle': { commands: ['MAP_CREATE'], call: 'mapCreate' },
  'caps-below-minimum': { commands: ['CAPS_GET'], call: 'probe' },
  'query-counters': { commands: ['QUERY'], call: 'query' },
  'query-attached': { commands: ['QUERY'], call: 'query' },
  // A dump's lies: a key returned twice, keys without end (each found), an array out of order.
  // A dump reads through MAP_LOOKUP_BATCH when the device has batches, else key by key.
  'next-key-repeat': { commands: ['MAP_GET_NEXT_KEY', 'MAP_LOOKUP_BATCH'], call: 'mapDump' },
  'next-key-endless': { commands: ['MAP_GET_NEXT_KEY', 'MAP_LOOKUP', 'MAP_LOOKUP_BATCH'], call: 'mapDump' },
  'array-key-order': { commands: ['MAP_GET_NEXT_KEY', 'MAP_LOOKUP_BATCH'], call: 'mapDump' },
};

/** A failed check of the lying-device campaign. */
export interface LyingFailure {
  /** The session's seed. */
  readonly session: number;
  /** The driver call (0-based) within the session. */
  readonly step: number;
  /** The call. */
  readonly call: string;
  /** The lie told during it, if any. */
  readonly lie: Lie | 'none';
  /** Which check failed: `exception`, `unbounded` or `lie-accepted`. */
  readonly check: string;
  /** What was seen. */
  readonly detail: string;
}

/** What a session did. */
export interface LyingReport {
  /** Driver calls made. */
  readonly calls: number;
  /** Lies told, by kind (a call counts once). */
  readonly lies: Readonly<Record<string, number>>;
  /** The first failure, if any. */
  readonly failure?: LyingFailure;
}

/** Thrown by the transport when one driver call submits more elements than its bound. */
class Runaway extends Error {}

/** The honest answer's parts, as the lying transport edits them. */
function le32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true);
}
function setLe32(bytes: Uint8Array, at: number, value: number): void {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, value >>> 0, true);
}

const HEADER = WRITABLE_HEADER_SIZE;
const STATUS_AT = 1 + (xdpStatus.offsets.status as number);
const RESULT_LEN_AT = 1 + (xdpStatus.offsets.result_len as number);
/** Where a MAP_LOOKUP_BATCH result's elements start (after `count` and `reserved`). */
const BATCH_ELEMENTS = xdpMapBatch.headerSize;

/**
 * A transport that tells one lie, when armed, to the next answer of a command it applies to, and
 * counts the elements each driver call submits.
 */
class LyingTransport implements DriverTransport {
  armed: Lie | undefined;
  told = false;
  submitted = 0;
  bound = Infinity;
  private fresh = 0;
  /** Handles the device really gave (for a duplicate). */
  readonly handles: number[] = [];

  constructor(private readonly inner: DriverTransport) {}

  offeredFeatures(): bigint {
    return this.inner.offeredFeatures();
  }
  setFeatures(accepted: bigint): boolean {
    this.handles.length = 0; // the device resets: no handle it gave is live
    return this.inner.setFeatures(accepted);
  }
  receive(queue: number) {
    return this.inner.receive(queue);
  }
  transmit(frame: Uint8Array): void {
    this.inner.transmit(frame);
  }
  reset(): void {
    this.inner.reset();
  }

  submit(element: ControlElement): number {
    if (++this.submitted > this.bound) throw new Runaway(`more than ${this.bound} elements in one call`);
    const used = this.inner.submit(element);
    let request: ControlRequest;
    try {
      request = decodeRequest(element.readablePart());
    } catch (error) {
      if (error instanceof CodecError) return used;
      throw error;
    }
    const honest = Uint8Array.from(element.readAnswer(used));
    const lie = this.armed;
    const applies = lie === undefined ? [] : (LIE_TARGETS[lie]?.commands ?? [request.command]);
    const answer =
      lie === undefined || !applies.includes(request.command)
        ? undefined
        : this.rewrite(lie, request, honest, element.writableCapacity);
    if (answer === undefined) {
      // A handle the driver was told honestly, so holds now: what a duplicate repeats.
      if (request.command === 'MAP_CREATE' && honest.length > HEADER && honest[0] === 0)
        this.handles.push(le32(honest, HEADER));
      return used;
    }
    this.told = true;
    if (typeof answer === 'number') return answer;
    return element.writeAnswer(answer);
  }

  /** The lie's answer (bytes, or a bare used length), or undefined when it cannot be told here. */
  private rewrite(
    lie: Lie,
    request: ControlRequest,
    honest: Uint8Array,
    room: number,
  ): Uint8Array | number | undefined {
    const ok = honest.length >= HEADER && honest[0] === 0;
    const a = Uint8Array.from(honest);
    switch (lie) {
      case 'used-past-room':
        return room + 1;
      case 'used-short':
        return honest.length > 0 ? honest.length - 1 : undefined;
      case 'ack-flipped':
        if (honest.length === 0) return undefined;
        a[0] = (a[0] as number) ^ 1;
        return a;
      case 'undefined-status':
        if (honest.length < HEADER) return undefined;
        a[0] = 1;
        a[STATUS_AT] = 0xd2;
        a[STATUS_AT + 1] = 0x04; // 1234
        setLe32(a, RESULT_LEN_AT, 0);
        return a.subarray(0, HEADER);
      case 'result-len':
        if (honest.length < HEADER) return undefined;
        setLe32(a, RESULT_LEN_AT, le32(a, RESULT_LEN_AT) + 1);
        return a;
      case 'reserved-set':
        if (!ok) return undefined;
        a[HEADER + 4] = 1;
        return a;
      case 'duplicate-handle': {
        const live = this.handles;
        if (!ok || live.length === 0) return undefined;
        setLe32(a, HEADER, live[live.length - 1] as number);
        return a;
      }
      case 'zero-handle':
        if (!ok) return undefined;
        setLe32(a, HEADER, 0);
        return a;
      case 'caps-below-minimum':
        if (!ok) return undefined;
        setLe32(a, HEADER + (xdpCaps.offsets.max_insns as number), 0);
        return a;
      case 'query-counters': {
        if (!ok) return undefined;
        const at = HEADER + (xdpQuery.offsets.aborted as number);
        setLe32(a, at, le32(a, at) + 1);
        return a;
      }
      case 'query-attached':
        if (!ok) return undefined;
        a[HEADER] = (a[HEADER] as number) ^ 1;
        return a;
      case 'next-key-repeat': {
        // The key asked after comes back as the next one (a batch's first element).
        const batch = request.command === 'MAP_LOOKUP_BATCH';
        if ((request.command !== 'MAP_GET_NEXT_KEY' && !batch) || !ok || request.data.key.length === 0)
          return undefined;
        a.set(request.data.key, HEADER + (batch ? BATCH_ELEMENTS : 0));
        return a;
      }
      case 'next-key-endless': {
        if (request.command === 'MAP_LOOKUP_BATCH') {
          // A full batch of keys never seen, every time: the map never ends.
          const d = request.data;
          const stride = d.key_size + d.value_size;
          const out = new Uint8Array(HEADER + BATCH_ELEMENTS + d.max_count * stride);
          setLe32(out, RESULT_LEN_AT, BATCH_ELEMENTS + d.max_count * stride);
          setLe32(out, HEADER, d.max_count);
          for (let i = 0; i < d.max_count; i++)
            setLe32(out, HEADER + BATCH_ELEMENTS + i * stride, 0x10000 + this.fresh++);
          return out;
        }
        // Every GET_NEXT_KEY answers a key never seen, every MAP_LOOKUP a value: an endless map.
        const size =
          request.command === 'MAP_GET_NEXT_KEY'
            ? request.data.key_size
            : request.command === 'MAP_LOOKUP'
              ? request.data.value_size
              : undefined;
        if (size === undefined) return undefined;
        const out = new Uint8Array(HEADER + size);
        setLe32(out, RESULT_LEN_AT, size);
        if (request.command === 'MAP_GET_NEXT_KEY') setLe32(out, HEADER, 0x10000 + this.fresh++);
        return out;
      }
      case 'array-key-order': {
        const batch = request.command === 'MAP_LOOKUP_BATCH';
        if ((request.command !== 'MAP_GET_NEXT_KEY' && !batch) || !ok || request.data.key_size !== 4)
          return undefined;
        const at = HEADER + (batch ? BATCH_ELEMENTS : 0);
        setLe32(a, at, le32(a, at) + 2);
        return a;
      }
    }
  }
}

const PASS_PROGRAM = assemble('mov %r0, 2\nexit');

/** Runs one session of driver calls against the lying transport; stops at its first failure. */
export function lyingDeviceSession(seed: number, calls: number): LyingReport {
  const rng = new Rng(seed);
  // Even sessions run a device without batch commands, so that dumps go key by key there.
  const t = new Topology({
    seed: 1,
    ...(seed % 2 === 0 ? { caps: { ...defaultCaps(3520), max_batch: 0 } } : {}),
  });
  const transport = new LyingTransport(t.transport);
  const driver = new VirtioNetDriver(transport);
  const lies: Record<string, number> = {};
  const maps: { fd: number; maxEntries: number; type: number }[] = [];
  let step = 0;
  const fail = (call: string, lie: Lie | 'none', check: string, detail: string): LyingReport => ({
    calls: step + 1,
    lies,
    failure: { session: seed, step, call, lie, check, detail },
  });
  const probe = () => {
    driver.probe();
    maps.length = 0; // negotiation resets the device: the old maps are gone
  };
  probe();
  for (; step < calls; step++) {
    const fd = maps.length > 0 ? rng.pick(maps) : undefined;
    const key = () => {
      const k = new Uint8Array(4);
      k[0] = rng.int(fd?.maxEntries ?? 8);
      return k;
    };
    const choices: [string, () => unknown, number][] = [
      [
        'probe',
        () => {
          const usable = driver.probe();
          maps.length = 0;
          return usable;
        },
        1,
      ],
      [
        'mapCreate',
        () => {
          const type = rng.pick([BpfMapType.HASH, BpfMapType.ARRAY, BpfMapType.PROG_ARRAY]);
          const maxEntries = 1 + rng.int(16);
          const valueSize = type === BpfMapType.PROG_ARRAY ? 4 : 8;
          const created = driver.mapCreate({ type, keySize: 4, valueSize, maxEntries }, true);
          if ('fd' in created) maps.push({ fd: created.fd, maxEntries, type });
          return 'fd' in created ? 0 : created.errno;
        },
        1,
      ],
      ['mapUpdate', () => (fd === undefined ? undefined : driver.mapUpdate(fd.fd, key(), rng.bytes(8))), 1],
      ['mapLookup', () => (fd === undefined ? undefined : driver.mapLookup(fd.fd, key())), 1],
      ['mapDelete', () => (fd === undefined ? undefined : driver.mapDelete(fd.fd, key())), 1],
      [
        'mapUpdateBatch',
        () =>
          fd === undefined
            ? undefined
            : driver.mapUpdateBatch(
                fd.fd,
                [0, 1, 2].map(() => ({ key: key(), value: rng.bytes(8) })),
              ).errno,
        3,
      ],
      ['mapLookupBatch', () => (fd === undefined ? undefined : driver.mapLookupBatch(fd.fd, null, 3)), 7],
      // A dump takes at most two elements per key the map can hold, and one for the end.
      [
        'mapDump',
        () => (fd === undefined ? undefined : driver.mapDump(fd.fd)),
        2 * (fd?.maxEntries ?? 0) + 1,
      ],
      ['query', () => driver.query(), 1],
      ['attach', () => driver.attach(PASS_PROGRAM, 'offload', { logSize: 0 }).errno, 1],
      [
        'progArrayLoad',
        () =>
          fd === undefined
            ? undefined
            : driver.progArrayLoad(fd.fd, rng.int(fd.maxEntries + 1), PASS_PROGRAM, {
                logSize: rng.pick([0, 64]),
              }).errno,
        1,
      ],
      ['detach', () => driver.detach('offload'), 1],
    ];
    const [call, run, bound] = rng.pick(choices);
    const fitting = LIES.filter(
      (l) =>
        (LIE_TARGETS[l]?.call ?? call) === call && (l !== 'array-key-order' || fd?.type === BpfMapType.ARRAY),
    );
    const lie: Lie | undefined = rng.chance(0.5) ? rng.pick(fitting) : undefined;
    transport.armed = lie;
    transport.told = false;
    transport.submitted = 0;
    transport.bound = bound;
    let outcome: unknown;
    try {
      outcome = run();
    } catch (error) {
      transport.armed = undefined;
      transport.bound = Infinity;
      if (error instanceof Runaway) return fail(call, lie ?? 'none', 'unbounded', error.message);
      return fail(
        call,
        lie ?? 'none',
        'exception',
        error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      );
    }
    transport.armed = undefined;
    transport.bound = Infinity;
    if (!transport.told || lie === undefined) continue;
    lies[lie] = (lies[lie] ?? 0) + 1;
    // A lie must fail the call: EIO, or for probe an unusable device (and no capabilities kept).
    const refused =
      call === 'probe'
        ? outcome === false && driver.caps === undefined
        : outcome === GuestErrno.EIO ||
          (typeof outcome === 'object' &&
            outcome !== null &&
            'errno' in outcome &&
            (outcome as { errno: number }).errno === GuestErrno.EIO);
    if (!refused) return fail(call, lie, 'lie-accepted', `returned ${describe(outcome)}`);
    // The driver may have given up offload (a lying CAPS_GET): negotiate again, honestly.
    if (call === 'probe' || driver.caps === undefined) probe();
  }
  return { calls, lies };
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `bytes ${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return `${value.length} elements`;
  return (
    JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value)
  );
}

/** A lying-device campaign's report. */
export interface LyingCampaignReport {
  /** Driver calls made. */
  readonly calls: number;
  /** Sessions run. */
  readonly sessions: number;
  /** Wall-clock milliseconds. */
  readonly elapsedMs: number;
  /** Lies told, by kind. */
  readonly lies: Readonly<Record<string, number>>;
  /** Failures (the campaign stops at the first). */
  readonly failures: readonly LyingFailure[];
}

/**
 * Runs lying-device sessions (500 calls each) until the time or call budget is spent, or a check
 * fails.
 *
 * @example
 * ```ts
 * const report = lyingCampaign({ seed: 7, calls: 2000 });
 * console.log(Object.keys(report.lies).length, report.failures.length); // the lies told, 0 failures
 * ```
 */
export function lyingCampaign(options: {
  readonly seed: number;
  readonly seconds?: number;
  readonly calls?: number;
  readonly progress?: (calls: number, elapsedMs: number) => void;
}): LyingCampaignReport {
  const start = Date.now();
  const lies: Record<string, number> = {};
  let calls = 0;
  let sessions = 0;
  const budget = options.calls ?? (options.seconds === undefined ? 500 : Infinity);
  const timeUp = () => options.seconds !== undefined && Date.now() - start >= options.seconds * 1000;
  while (!timeUp() && calls < budget) {
    const report = lyingDeviceSession(sessionSeed(options.seed, sessions), Math.min(500, budget - calls));
    sessions++;
    calls += report.calls;
    for (const [k, v] of Object.entries(report.lies)) lies[k] = (lies[k] ?? 0) + v;
    if (report.failure !== undefined)
      return { calls, sessions, elapsedMs: Date.now() - start, lies, failures: [report.failure] };
    options.progress?.(calls, Date.now() - start);
  }
  return { calls, sessions, elapsedMs: Date.now() - start, lies, failures: [] };
}
