/**
 * A hostile guest: random and mutated control elements (mutants of the golden vectors, structured
 * requests with wrong sizes and unknown handles, huge limits, framing errors), interleaved with
 * frames and resets, sent to two devices whose host identifiers differ (program fds, program ids,
 * addresses). Each step of a session is a frame, a reset or a control element; after every element
 * it runs these checks, each named as a failure reports it ({@link FuzzCheck}):
 *
 * - `exception`: no exception escapes the device;
 * - `twin-answer` (and `twin-frame` for frames): both devices wrote the same bytes (so no host
 *   identifier, which differs between them, reached the guest, and the device is deterministic);
 * - `status-defined`, `ack`, `short-answer`, `answer-decodes`, `malformed-status`, `prog-limit`: the
 *   answer is well formed: ack agrees with a defined status, the result decodes strictly, a
 *   malformed request is EINVAL or EOPNOTSUPP, a PROG_LOAD above max_insns is E2BIG;
 * - `broken-element`: an element that breaks the virtqueue's rules, and only such an element, makes the
 *   device need a reset, with nothing written ([dev-wire-broken]); the session then resets both;
 * - `used-past-room`: no used length beyond the element's writable bytes ([dev-wire-no-readable-write]);
 * - `reject-unchanged`: a refused command (or an answer without a status) changed nothing;
 * - `limits`: the offloaded state stays within the advertised limits;
 * - `update-lost`: every acknowledged MAP_UPDATE is still there, unless the guest deleted or freed
 *   it or an attached program could have written that map;
 * - in the limits mode, `heap` and `command-time`: the resource bounds of `RESOURCE_BOUNDS` (a
 *   command's time is the CPU time it took, for devices in this process; the round trip otherwise).
 *
 * A campaign is a sequence of sessions, each with its own seed; a failure names its session seed,
 * which {@link fuzzSession} replays exactly.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import {
  BPF_LD_IMM64,
  BpfMapType,
  CodecError,
  LogLevel,
  NextKeyFlag,
  VIRTIO_NET_CTRL_XDP_OFFLOAD,
  VIRTIO_NET_ERR,
  VIRTIO_NET_OK,
  isRxFilterHeader,
  WRITABLE_HEADER_SIZE,
  INSN_CNT_OFFSETS,
  XdpStatus,
  decodeRequest,
  decodeResult,
  encodeRequest,
  writableSize,
  nameOf,
  parseHex,
  toHex,
  type BpfInsn,
  resultOf,
  type ControlRequest,
  type RequestOf,
  type ControlResult,
  isAnswerTo,
  definitionOfMapCreate,
  type MapDefinition,
  type BpfMapTypeValue,
} from '../../codec/index.js';
import type { DeviceCaps } from '../../reference/device/caps.js';
import { defaultCaps } from '../../reference/device/device.js';
import { referenceUnderTest, type DeviceUnderTest } from '../kit/device-under-test.js';
import type { DeviceReply, ElementSegment } from '../kit/device-protocol.js';
import { assemble } from '../../reference/ebpf/asm.js';
import { OFFLOAD_POOL } from '../../reference/ebpf/samples.js';
import { programNeeds, rewriteMapRefs } from '../../reference/ebpf/needs.js';
import { wireValueSize } from '../../reference/ebpf/maps.js';
import { LIMITS_CAPS, LimitsAttack, RESOURCE_BOUNDS, heldBytes } from './limits-attack.js';
import { randomFrame } from '../packets.js';
import { Rng, sessionSeed } from '../rng.js';
import { FramingError, writableRoomFor } from '../../reference/virtqueue/element.js';
import { VECTORS_DIR } from '../../vectors/schema.js';

/** One failed check. */
export interface FuzzFailure {
  /** The session's seed (replay it with {@link fuzzSession}). */
  readonly session: number;
  /** Index of the element within the session. */
  readonly message: number;
  /** Which check failed. */
  readonly check: FuzzCheck;
  /** What was seen. */
  readonly detail: string;
  /** The device-readable bytes of the element, hex. */
  readonly request: string;
  /** The requirements the failed check stands for. */
  readonly requirements: readonly string[];
}

/** What one session did. */
export interface SessionReport {
  /** Control elements sent. */
  readonly messages: number;
  /** Frames sent. */
  readonly frames: number;
  /** Answers by status name (`none` for answers without a status). */
  readonly statuses: Readonly<Record<string, number>>;
  /** The first failure, if any (a session stops at its first failure). */
  readonly failure?: FuzzFailure;
  /** In the limits attack on devices in this process: the most heap held beyond the start, in bytes. */
  readonly heapPeak?: number;
  /** In the limits attack: the longest each command took, in ms (a verified PROG_LOAD apart). */
  readonly slowestMs?: Readonly<Record<string, number>>;
}

/** Capabilities small enough that limits are reached often. */
export const FUZZ_CAPS: DeviceCaps = {
  ...defaultCaps(3520),
  max_maps: 6,
  max_entries: 64,
  max_map_memory: 16384n,
  max_key_size: 64,
  max_value_size: 256,
  max_insns: 512,
  max_log_size: 256,
  percpu_slots: 2,
};

/** Largest device-writable part the fuzzer allocates. */
const MAX_WRITABLE = 1 << 16;

const INTERESTING = [
  0, 1, 2, 3, 4, 7, 8, 9, 0x40, 0x41, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff,
];

/** Device-readable parts to mutate: every request of the codec and scenario vectors. */
export function loadCorpus(dir: URL = VECTORS_DIR): Uint8Array[] {
  const corpus: Uint8Array[] = [];
  const add = (hex: unknown) => {
    const bytes = typeof hex === 'string' ? parseHex(hex) : undefined;
    if (bytes !== undefined && bytes.length >= 2) corpus.push(bytes);
  };
  const read = (path: string) => JSON.parse(readFileSync(new URL(path, dir), 'utf8')) as unknown;
  for (const v of (read('codec/requests.json') as { vectors: { hex: string }[] }).vectors) add(v.hex);
  for (const name of ['rfc-experiments', 'errors', 'lifecycle']) {
    const file = read(`scenarios/${name}.json`) as { scenarios: { steps: { request?: string }[] }[] };
    for (const s of file.scenarios) for (const step of s.steps) add(step.request);
  }
  return corpus;
}

/** How an element is framed: readable buffers, then writable buffer sizes (or an explicit chain). */
interface Framing {
  readonly readable: readonly Uint8Array[];
  readonly writable: readonly number[];
  /** A readable buffer placed after the first writable one (a framing error). */
  readonly trailingReadable?: Uint8Array;
}

function segmentsOf(f: Framing): ElementSegment[] {
  const writable = f.writable.map((n): ElementSegment => ({ writable: n }));
  return [
    ...f.readable.map((b): ElementSegment => ({ readable: b })),
    ...writable.slice(0, 1),
    ...(f.trailingReadable === undefined ? [] : [{ readable: f.trailingReadable }]),
    ...writable.slice(1),
  ];
}

/** The guest's view: handles it was given, with sizes, and what it wrote. */
interface GuestView {
  readonly handles: Map<number, MapDefinition>;
  /** The device's `percpu_slots`: a per-CPU map's element commands carry that many values. */
  readonly percpuSlots: number;
  /** Acknowledged updates still expected: handle → key hex → value hex. */
  readonly written: Map<number, Map<string, string>>;
  /** Handles an attached program may have written since. */
  readonly tainted: Set<number>;
  /** Acknowledged MAP_UPDATEs less MAP_DELETEs, by handle: about how full each map is. */
  readonly entries: Map<number, number>;
}

const MAP_TYPES: readonly BpfMapTypeValue[] = Object.values(BpfMapType);

/**
 * The pool's programs, and a dispatcher that tail-calls slot 0 of whatever map[1] is bound to (a
 * program array the guest holds, when the binding picks one; into its own slot, it loops 33 times).
 */
const DISPATCHER = assemble('lddw %r2, map[1]\nmov %r3, 0\ncall 12\nmov %r0, 2\nexit\n');
const POOL_INSNS = [...Object.values(OFFLOAD_POOL).map((text) => assemble(text)), DISPATCHER];

/** A program for PROG_LOAD: a pool program bound to live handles, mutated, or slot soup. */
function randomProgram(rng: Rng, view: GuestView): BpfInsn[] {
  const handles = [...view.handles.keys()];
  const roll = rng.int(10);
  if (roll < 2) {
    // Slot soup: random slots, with every ld_imm64 given a well-formed second slot.
    const soup: BpfInsn[] = [];
    for (let n = 1 + rng.int(40); soup.length < n;) {
      const b = rng.bytes(8);
      const view = new DataView(b.buffer);
      const insn = {
        code: b[0] as number,
        dst_reg: (b[1] as number) & 15,
        src_reg: (b[1] as number) >> 4,
        off: view.getInt16(2, true),
        imm: view.getInt32(4, true),
      };
      soup.push(insn);
      if (insn.code === BPF_LD_IMM64)
        soup.push({ code: 0, dst_reg: 0, src_reg: 0, off: 0, imm: rng.next() | 0 });
    }
    return soup;
  }
  const base = rng.pick(POOL_INSNS);
  const bound = rewriteMapRefs(base, () =>
    handles.length > 0 && rng.chance(0.9) ? rng.pick(handles) : rng.next(),
  );
  if (roll < 6) return bound;
  // A few slot mutations that keep ld_imm64 pairs intact.
  const out = bound.map((i) => ({ ...i }));
  for (let k = 1 + rng.int(3); k > 0; k--) {
    const at = rng.int(out.length);
    const insn = out[at] as BpfInsn;
    if (insn.code === BPF_LD_IMM64 || (at > 0 && out[at - 1]?.code === BPF_LD_IMM64)) continue;
    const field = rng.int(4);
    if (field === 0) insn.code = rng.next() & 0xff;
    else if (field === 1) insn.dst_reg = rng.int(16);
    else if (field === 2) insn.off = (rng.next() << 16) >> 16;
    else insn.imm = rng.pick(INTERESTING) | 0;
    if (insn.code === BPF_LD_IMM64) insn.code = 0x07;
  }
  return out;
}

/** A structured request: well formed, with fields chosen to hit limits and unknown handles. */
function structuredRequest(rng: Rng, view: GuestView): ControlRequest {
  const handles = [...view.handles.keys()];
  const handle =
    handles.length > 0 && rng.chance(0.85) ? rng.pick(handles) : rng.pick([1, 2, 9, 0x7fffffff, 0xffffffff]);
  const known = view.handles.get(handle);
  const keySize = known !== undefined && rng.chance(0.85) ? known.keySize : rng.pick([1, 4, 8, 64, 65, 300]);
  const valueSize =
    known !== undefined && rng.chance(0.85)
      ? wireValueSize(known, view.percpuSlots)
      : rng.pick([1, 8, 256, 257, 4096]);
  const key = () => {
    const k = new Uint8Array(keySize);
    k[0] = rng.int(80);
    return k;
  };
  switch (rng.int(14)) {
    case 0:
      return { command: 'CAPS_GET', data: null };
    case 12: {
      // A program into a slot: mostly of a program array the guest holds, at an index near its end.
      const arrays = handles.filter((h) => view.handles.get(h)?.type === BpfMapType.PROG_ARRAY);
      const array = arrays.length > 0 && rng.chance(0.8) ? rng.pick(arrays) : handle;
      const entries = view.handles.get(array)?.maxEntries ?? 4;
      // Half the time the dispatcher bound to this array: a slot that tail-calls into the array.
      const insns = rng.chance(0.5) ? rewriteMapRefs(DISPATCHER, () => array) : randomProgram(rng, view);
      const logSize = rng.pick([0, 64]);
      return {
        command: 'PROG_ARRAY_LOAD',
        data: {
          map_handle: array,
          index: rng.pick([0, 0, entries - 1, entries, 0xffffffff]),
          insn_cnt: insns.length,
          log_size: logSize,
          log_level: logSize === 0 ? LogLevel.NONE : 1,
          prog_flags: rng.int(2),
          insns,
        },
      };
    }
    case 1: {
      // Mostly the two basic types; program arrays often enough that slots fill (each slot is
      // accounted at max_insns instructions, so only a few fit); every other type too.
      const roll = rng.int(10);
      const type =
        roll < 7
          ? rng.pick([BpfMapType.HASH, BpfMapType.ARRAY])
          : roll < 8
            ? BpfMapType.PROG_ARRAY
            : rng.pick(MAP_TYPES);
      const arrayKey =
        (type === BpfMapType.ARRAY || type === BpfMapType.PERCPU_ARRAY || type === BpfMapType.PROG_ARRAY) &&
        rng.chance(0.8);
      const slotValue = type === BpfMapType.PROG_ARRAY && rng.chance(0.8);
      return {
        command: 'MAP_CREATE',
        data: {
          map_type: type,
          key_size: arrayKey ? 4 : rng.pick([1, 4, 5, 8, 64, 65, 261]),
          value_size: slotValue ? 4 : rng.pick([1, 8, 16, 256, 257, 100000]),
          max_entries: slotValue ? rng.pick([1, 2, 3, 65]) : rng.pick([1, 4, 16, 64, 65, 1 << 20]),
          map_flags: 0,
        },
      };
    }
    case 2:
      return { command: 'MAP_FREE', data: { map_handle: handle } };
    case 3:
    case 4:
      return {
        command: 'MAP_UPDATE',
        data: {
          map_handle: handle,
          key_size: keySize,
          value_size: valueSize,
          flags: rng.int(3),
          key: key(),
          value: rng.bytes(valueSize),
        },
      };
    case 5:
      return {
        command: 'MAP_LOOKUP',
        data: { map_handle: handle, key_size: keySize, value_size: valueSize, key: key() },
      };
    case 6:
      return { command: 'MAP_DELETE', data: { map_handle: handle, key_size: keySize, key: key() } };
    case 7: {
      const first = rng.chance(0.4);
      return {
        command: 'MAP_GET_NEXT_KEY',
        data: {
          map_handle: handle,
          key_size: keySize,
          flags: first ? NextKeyFlag.FIRST : 0,
          key: first ? new Uint8Array(0) : key(),
        },
      };
    }
    case 8: {
      const insns = randomProgram(rng, view);
      const logSize = rng.pick([0, 1, 64, 300]);
      return {
        command: 'PROG_LOAD',
        data: {
          insn_cnt: insns.length,
          log_size: logSize,
          log_level: logSize === 0 ? LogLevel.NONE : rng.pick([1, 2]),
          prog_flags: rng.int(2),
          insns,
        },
      };
    }
    case 9:
      return { command: 'PROG_UNLOAD', data: null };
    case 10:
      return { command: 'QUERY', data: null };
    case 11: {
      // Keys drawn from a small space repeat, so a batch meets its own earlier elements.
      const count = rng.pick([1, 2, 3, 8, 65]);
      const elements = new Uint8Array(count * (keySize + valueSize));
      for (let i = 0; i < count; i++) {
        elements.set(key(), i * (keySize + valueSize));
        elements.set(rng.bytes(valueSize), i * (keySize + valueSize) + keySize);
      }
      return {
        command: 'MAP_UPDATE_BATCH',
        data: {
          map_handle: handle,
          key_size: keySize,
          value_size: valueSize,
          flags: rng.int(3),
          count,
          elements,
        },
      };
    }
    default: {
      const first = rng.chance(0.4);
      return {
        command: 'MAP_LOOKUP_BATCH',
        data: {
          map_handle: handle,
          key_size: keySize,
          value_size: valueSize,
          flags: first ? NextKeyFlag.FIRST : 0,
          max_count: rng.pick([1, 3, 64, 65]),
          key: first ? new Uint8Array(0) : key(),
        },
      };
    }
  }
}

/** Mutates corpus bytes. */
function mutant(rng: Rng, corpus: readonly Uint8Array[], view: GuestView): Uint8Array {
  let b = Uint8Array.from(rng.pick(corpus));
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const at = b.length === 0 ? 0 : rng.int(b.length);
    switch (rng.int(7)) {
      case 0:
        if (b.length > 0) b[at] = (b[at] as number) ^ (1 << rng.int(8));
        break;
      case 1:
        if (b.length > 0) b[at] = rng.pick([0, 1, 0x7f, 0x80, 0xff, rng.next() & 0xff]);
        break;
      case 2: {
        const handles = [...view.handles.keys()];
        const value = handles.length > 0 && rng.chance(0.5) ? rng.pick(handles) : rng.pick(INTERESTING);
        const off = 2 + 4 * rng.int(Math.max(1, Math.floor((b.length - 2) / 4)));
        if (off + 4 <= b.length) new DataView(b.buffer).setUint32(off, value >>> 0, true);
        break;
      }
      case 3:
        b = b.slice(0, rng.int(b.length + 1));
        break;
      case 4: {
        const grown = new Uint8Array(b.length + 1 + rng.int(16));
        grown.set(b);
        grown.set(rng.bytes(grown.length - b.length), b.length);
        b = grown;
        break;
      }
      case 5:
        if (b.length > 1) b[1] = rng.int(13);
        break;
      default:
        if (b.length > 0) b[0] = rng.chance(0.8) ? 10 : rng.next() & 0xff;
    }
  }
  return b;
}

/** The framing of a message: usually what a driver would give, sometimes wrong. */
function frame(rng: Rng, readable: Uint8Array, mayBreak = true): Framing {
  // A request may ask for gigabytes of result room (a huge log_size or value_size); the guest's
  // buffers are modelled as allocations, so such a request gets at most 64 KiB, which the device
  // must then refuse as too small.
  const need = Math.min(writableRoomFor(readable), MAX_WRITABLE);
  const split = (bytes: Uint8Array): Uint8Array[] => {
    if (bytes.length < 2 || !rng.chance(0.2)) return [bytes];
    const at = 1 + rng.int(bytes.length - 1);
    return [bytes.subarray(0, at), bytes.subarray(at)];
  };
  if (!rng.chance(0.12)) {
    const writable = rng.chance(0.2) && need > 2 ? [1 + rng.int(need - 1), need] : [need];
    return {
      readable: split(readable),
      writable: writable.length === 2 ? [writable[0] as number, need - (writable[0] as number)] : writable,
    };
  }
  switch (rng.int(4)) {
    case 0:
      // No writable byte at all breaks the element ([dev-wire-broken]).
      return { readable: [readable], writable: [mayBreak ? rng.int(9) : 1 + rng.int(8)] };
    case 1:
      return {
        readable: [readable],
        writable: [WRITABLE_HEADER_SIZE + rng.int(Math.max(1, need - WRITABLE_HEADER_SIZE))],
      };
    case 2:
      return { readable: [readable], writable: [need + 1 + rng.int(64)] };
    default:
      // A broken chain costs the session its state (the device needs a reset): rarely, and never
      // in the limits attack, whose maps take thousands of messages to fill.
      if (!mayBreak || !rng.chance(0.1)) return { readable: [readable], writable: [need] };
      return {
        readable: [readable.subarray(0, 1)],
        writable: [need],
        trailingReadable: readable.subarray(1),
      };
  }
}

/**
 * Whether a framing breaks the virtqueue's rules ([dev-wire-broken]): a readable buffer after a
 * writable one, fewer than 2 readable bytes, or no writable byte.
 */
function isBroken(f: Framing): boolean {
  const readable = f.readable.reduce((n, b) => n + b.length, f.trailingReadable?.length ?? 0);
  const writable = f.writable.reduce((n, w) => n + w, 0);
  return f.trailingReadable !== undefined || readable < 2 || writable === 0;
}

const STATUS_VALUES = new Set<number>(Object.values(XdpStatus));

/**
 * What a session aims at: `mixed` sends mutants and structured requests of every kind to devices
 * with small limits; `limits` runs the limits attack (`src/harness/fuzz/limits-attack.ts`) against devices with large ones and also
 * checks resources: heap held against accounted memory, and time per command.
 */
export type FuzzMode = 'mixed' | 'limits';

/**
 * The two instances a session drives, started afresh by each session: the reference in this
 * process unless given (the conformance kit gives two processes of the device under test).
 */
export interface FuzzTwins {
  /** The first instance: its state is what the deeper checks inspect. */
  readonly a: DeviceUnderTest;
  /** The second, started with another host-identifier variant. */
  readonly b: DeviceUnderTest;
  /**
   * Whether the instances run in this process, so that the heap check measures them (the limits
   * mode's `heap`; a device in another process is checked by time alone).
   */
  readonly inProcess: boolean;
}

/** Options of a session. */
export interface SessionOptions {
  /** What the session aims at (default `mixed`). */
  readonly mode?: FuzzMode;
  /** Stop early, between messages, once `Date.now()` passes this (a campaign's time budget). */
  readonly deadline?: number;
  /** The instances to drive (default: two reference devices in this process). */
  readonly twins?: FuzzTwins;
  /**
   * Check on the wire alone, without the `introspect` extension (the default when instance `a`
   * does not offer it): `reject-unchanged` and `limits` are then not checked.
   */
  readonly wireOnly?: boolean;
}

/**
 * The checks of a session, by the name a failure reports: what the module comment lists, plus
 * `harness` for a fault of the generator or of a check itself.
 */
export type FuzzCheck =
  | 'exception'
  | 'twin-frame'
  | 'twin-answer'
  | 'status-defined'
  | 'ack'
  | 'prog-limit'
  | 'answer-decodes'
  | 'malformed-status'
  | 'short-answer'
  | 'broken-element'
  | 'used-past-room'
  | 'reject-unchanged'
  | 'limits'
  | 'update-lost'
  | 'heap'
  | 'command-time'
  | 'harness';

/** The requirements each check stands for, which a failure names. */
export const FUZZ_CHECK_REQUIREMENTS: Readonly<Record<FuzzCheck, readonly string[]>> = {
  exception: ['dev-status-internal'],
  'twin-frame': ['dev-dp-hook', 'dev-map-handle'],
  'twin-answer': ['dev-map-handle', 'dev-caps-static'],
  'status-defined': ['dev-status-defined'],
  ack: ['dev-wire-ack-status'],
  'prog-limit': ['dev-prog-limit'],
  'answer-decodes': ['dev-wire-result-len', 'dev-wire-reserved-result'],
  'malformed-status': ['dev-wire-malformed'],
  'short-answer': ['dev-wire-writable-short'],
  'broken-element': ['dev-wire-broken'],
  'used-past-room': ['dev-wire-no-readable-write'],
  'reject-unchanged': ['dev-wire-reject-unchanged'],
  limits: ['dev-caps-enforced'],
  'update-lost': ['dev-map-types-linux'],
  heap: ['dev-resource-bounded'],
  'command-time': ['dev-resource-bounded'],
  harness: [],
};

/** Thrown by a check inside a session: ends the session with this failure. */
class CheckFailed extends Error {
  constructor(
    readonly check: FuzzCheck,
    readonly detail: string,
  ) {
    super(`${check}: ${detail}`);
  }
}

/** What the two twins did with one element. */
interface Served {
  readonly answerA: Uint8Array;
  readonly answerB: Uint8Array;
  /** Whether each needs a reset after it. */
  readonly needsResetA: boolean;
  readonly needsResetB: boolean;
  /** The faster of the twins' times, in ms. */
  readonly elapsedMs: number;
}

/** One control element of a session: its bytes, their decoding, and whether the guest built it. */
interface Drawn {
  readonly request: Uint8Array;
  readonly decoded: ControlRequest | undefined;
  readonly structured: boolean;
}

/**
 * One session: twin topologies, the guest's view of them, and the steps (a frame, a reset, a
 * control element) each followed by the checks the module comment lists, in that order.
 */
class HostileGuestSession {
  private readonly rng: Rng;
  private readonly limits: boolean;
  private readonly caps: DeviceCaps;
  private readonly a: DeviceUnderTest;
  private readonly b: DeviceUnderTest;
  /** Whether the `introspect` checks run. */
  private readonly introspect: boolean;
  private readonly inProcess: boolean;
  private offered = 0n;
  /**
   * Instance a's accounted map memory after the last element (what `usage` said; 0 after a reset,
   * and frames leave it as it is), so that sampling a snapshot costs no request of its own.
   */
  private mapMemory = 0n;
  private readonly attack: LimitsAttack | undefined;
  private heapBase = 0;
  private heapPeak = 0;
  private readonly slowestMs: Record<string, number> = {};
  private readonly view: GuestView;
  private readonly statuses: Record<string, number> = {};
  private frames = 0;
  private request: Uint8Array = new Uint8Array(0);
  private index = 0;
  private messages: number;

  constructor(
    private readonly seed: number,
    length: number,
    private readonly corpus: readonly Uint8Array[],
    private readonly options: SessionOptions,
  ) {
    this.rng = new Rng(seed);
    this.messages = length;
    this.limits = options.mode === 'limits';
    this.caps = this.limits ? LIMITS_CAPS : FUZZ_CAPS;
    this.view = {
      handles: new Map(),
      percpuSlots: this.caps.percpu_slots,
      written: new Map(),
      tainted: new Set(),
      entries: new Map(),
    };
    const twins = options.twins ?? { a: referenceUnderTest(), b: referenceUnderTest(), inProcess: true };
    this.a = twins.a;
    this.b = twins.b;
    this.inProcess = twins.inProcess;
    this.introspect = options.wireOnly !== true && twins.a.hello.extensions.includes('introspect');
    this.attack = this.limits ? new LimitsAttack(this.caps) : undefined;
  }

  /** Both twins afresh with the session's capabilities, their offer negotiated. */
  private async start(): Promise<void> {
    const variants: [DeviceUnderTest, number][] = [
      [this.a, 0],
      [this.b, 1 + (this.seed % 97)],
    ];
    for (const [twin, host_variant] of variants) {
      const { features } = await twin.request({ op: 'start', caps: this.caps, queues: 1, host_variant });
      this.offered = features;
      await twin.request({ op: 'negotiate', features });
    }
    if (this.limits && this.inProcess) this.heapBase = heldBytes();
  }

  /** Runs the session to its end or its first failure. */
  async run(): Promise<SessionReport> {
    try {
      await this.start();
      for (; this.index < this.messages; this.index++) {
        if (this.pastDeadline()) {
          this.messages = this.index;
          break;
        }
        // Frames and resets are steps between messages: they do not count as one.
        if (!(await this.step())) this.index--;
      }
      this.index = this.messages - 1;
      await this.checkUpdatesKept();
      if (this.limits) await this.checkHeap();
    } catch (error) {
      if (error instanceof CheckFailed) return this.failure(error.check, error.detail);
      // A fault of the generator or of a check, not of the device: still reported with its seed.
      return this.failure(
        'harness',
        error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      );
    }
    const { messages, frames, statuses, heapPeak, slowestMs } = this;
    // The heap is this process's: measured only when the devices run in it.
    const heap = this.limits && this.inProcess && this.introspect ? { heapPeak } : {};
    return { messages, frames, statuses, ...heap, ...(this.limits ? { slowestMs } : {}) };
  }

  private failure(check: FuzzCheck, detail: string): SessionReport {
    return {
      messages: this.index + 1,
      frames: this.frames,
      statuses: this.statuses,
      failure: {
        session: this.seed,
        message: this.index,
        check,
        detail,
        request: toHex(this.request),
        requirements: FUZZ_CHECK_REQUIREMENTS[check],
      },
    };
  }

  private pastDeadline(): boolean {
    const deadline = this.options.deadline;
    return deadline !== undefined && this.index % 256 === 255 && Date.now() > deadline;
  }

  /** One step, drawn from the session's Rng; whether it was a control element (a message). */
  private async step(): Promise<boolean> {
    const rng = this.rng;
    const roll = this.limits
      ? rng.chance(0.03)
        ? 0
        : rng.chance(0.00005)
          ? 8
          : 10 + rng.int(90)
      : rng.int(100);
    if (roll < 8) {
      await this.frameStep();
      return false;
    }
    if (roll === 8 && rng.chance(0.2)) {
      await this.resetStep();
      return false;
    }
    await this.controlStep(roll);
    return true;
  }

  /** A frame from the host through both twins: they must treat it alike. */
  private async frameStep(): Promise<void> {
    const frame = randomFrame(this.rng);
    const fa = await this.a.request({ op: 'frame', queue: 0, frame });
    const fb = await this.b.request({ op: 'frame', queue: 0, frame });
    this.frames++;
    const show = (x: DeviceReply<'frame'>) =>
      `${x.offload} ${x.guest.map(toHex).join(',')} ${x.host.map(toHex).join(',')}`;
    if (show(fa) !== show(fb)) throw new CheckFailed('twin-frame', `${show(fa)} vs ${show(fb)}`);
  }

  /** A device reset of both twins (and renegotiation): the guest forgets what it knew. */
  private async resetStep(): Promise<void> {
    for (const twin of [this.a, this.b]) {
      await twin.request({ op: 'reset' });
      await twin.request({ op: 'negotiate', features: this.offered });
    }
    this.mapMemory = 0n;
    this.view.handles.clear();
    this.view.written.clear();
    this.view.tainted.clear();
    this.view.entries.clear();
  }

  /** One control element served by both twins, and every check of its answer. */
  private async controlStep(roll: number): Promise<void> {
    const { request, decoded, structured } = this.draw(roll);
    this.request = request;
    // The attack's frames are mostly what a driver gives: its point is the limits, not framing.
    const framing =
      this.limits && this.rng.chance(0.9)
        ? { readable: [request], writable: [Math.min(writableRoomFor(request), MAX_WRITABLE)] }
        : frame(this.rng, request, !this.limits);
    const before = await this.sampledSnapshot();
    const served = await this.serveOnTwins(framing);
    if (this.checkBroken(framing, served)) {
      await this.checkRefusedUnchanged(before);
      await this.resetStep();
      return;
    }
    this.checkCommandTime(decoded, served.elapsedMs);
    this.checkTwinAnswers(served);
    const { status, result } = this.checkWellFormed(served.answerA, framing, decoded);
    const statusName = status === undefined ? 'none' : String(nameOf(XdpStatus, status));
    this.statuses[statusName] = (this.statuses[statusName] ?? 0) + 1;
    // A receive-filter command accepted (ack OK alone, which checkWellFormed allows only for
    // that class) changed the filter as it should.
    const filterSet = served.answerA.length === 1 && served.answerA[0] === VIRTIO_NET_OK;
    if (status !== XdpStatus.OK && !filterSet) await this.checkRefusedUnchanged(before);
    else if (decoded !== undefined && result !== undefined)
      track(decoded, result, this.view, this.limits ? 64 : Infinity);
    const usage = this.introspect ? await this.a.request({ op: 'usage' }) : undefined;
    if (usage !== undefined) this.mapMemory = usage.map_memory;
    if (structured && decoded !== undefined) this.informAttack(decoded, status, result, usage);
    if (usage !== undefined) this.checkWithinLimits(usage);
    if (this.index % 64 === 63) await this.checkUpdatesKept();
    if (this.limits && this.index % 1024 === 1023) await this.checkHeap();
  }

  /** The next element: the attack's, a structured request, or a mutant of a golden vector. */
  private draw(roll: number): Drawn {
    // The attack sends only its own requests: a mutant could free the map it is filling.
    const structured = this.limits || roll < 55;
    if (structured) {
      const decoded =
        this.attack !== undefined
          ? this.attack.next(this.rng, this.view)
          : structuredRequest(this.rng, this.view);
      return { request: encodeRequest(decoded), decoded, structured };
    }
    const request = mutant(this.rng, this.corpus, this.view);
    try {
      return { request, decoded: decodeRequest(request), structured };
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      return { request, decoded: undefined, structured };
    }
  }

  /**
   * The device's state before the element, when this element's refusal is to be checked. A
   * snapshot lists every element: with the attack's large maps it is taken now and then, the less
   * often the more the maps hold (on average some 16 KiB of text per message).
   */
  private async sampledSnapshot(): Promise<string | undefined> {
    if (!this.introspect) return undefined;
    const mapMemory = Number(this.mapMemory);
    const sampled = !this.limits || mapMemory < 65536 || this.rng.chance(Math.min(1 / 64, 8192 / mapMemory));
    return sampled ? (await this.a.request({ op: 'snapshot' })).state : undefined;
  }

  /** Check `exception`: both twins serve the element without throwing. */
  private async serveOnTwins(framing: Framing): Promise<Served> {
    const segments = segmentsOf(framing);
    let ra: DeviceReply<'control'>;
    let rb: DeviceReply<'control'>;
    let elapsedMs: number;
    try {
      // Both twins serve the same element on the same state: the faster of the two is the
      // command's time, so one collector pause cannot make a command look slow. Devices in this
      // process are timed by the CPU time it spent, so that a loaded machine, which takes the CPU
      // away from a command, does not make it look slow either; a device in another process by
      // the round trip.
      const clock = this.inProcess ? cpuMs : wallMs;
      const start = clock();
      ra = await this.a.request({ op: 'control', segments });
      const between = clock();
      rb = await this.b.request({ op: 'control', segments });
      elapsedMs = Math.min(between - start, clock() - between);
    } catch (error) {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new CheckFailed('exception', detail);
    }
    // [dev-wire-no-readable-write]: the used length counts bytes written into the writable part only
    const room = framing.writable.reduce((n, w) => n + w, 0);
    for (const used of [ra.used, rb.used])
      if (used > room)
        throw new CheckFailed('used-past-room', `used length ${used} for ${room} writable bytes`);
    return {
      answerA: ra.written,
      answerB: rb.written,
      needsResetA: ra.needs_reset,
      needsResetB: rb.needs_reset,
      elapsedMs,
    };
  }

  /**
   * Check `broken-element`: a broken element, and only one, makes both twins need a reset without
   * a byte written into it. Returns whether the element was broken.
   */
  private checkBroken(framing: Framing, served: Served): boolean {
    const expected = isBroken(framing);
    for (const needsReset of [served.needsResetA, served.needsResetB]) {
      if (needsReset !== expected)
        throw new CheckFailed(
          'broken-element',
          expected
            ? 'a broken element did not set DEVICE_NEEDS_RESET'
            : 'a good element set DEVICE_NEEDS_RESET',
        );
    }
    if (expected && served.answerA.length > 0)
      throw new CheckFailed('broken-element', `${served.answerA.length} bytes written into a broken element`);
    return expected;
  }

  /** Check `command-time` (limits mode): no command but a verified PROG_LOAD over the bound. */
  private checkCommandTime(decoded: ControlRequest | undefined, elapsedMs: number): void {
    if (!this.limits || verifies(this.request, this.caps.max_insns)) return;
    const name = decoded?.command ?? 'malformed';
    this.slowestMs[name] = Math.max(this.slowestMs[name] ?? 0, elapsedMs);
    if (elapsedMs > RESOURCE_BOUNDS.commandMs)
      throw new CheckFailed(
        'command-time',
        `${elapsedMs.toFixed(1)} ms on each twin, bound ${RESOURCE_BOUNDS.commandMs} ms`,
      );
  }

  /** Check `twin-answer`: both twins wrote the same bytes (no host identifier reached the guest). */
  private checkTwinAnswers(served: Served): void {
    if (toHex(served.answerA) !== toHex(served.answerB))
      throw new CheckFailed('twin-answer', `${toHex(served.answerA)} vs ${toHex(served.answerB)}`);
  }

  /**
   * Checks `status-defined`, `ack`, `prog-limit`, `answer-decodes`, `malformed-status` and
   * `short-answer`: the answer as the driver would check it.
   */
  private checkWellFormed(
    answer: Uint8Array,
    framing: Framing,
    decoded: ControlRequest | undefined,
  ): { status: number | undefined; result: ControlResult | undefined } {
    if (answer.length < WRITABLE_HEADER_SIZE) {
      // The receive filter's classes (negotiated here) answer with ack alone, OK or ERR.
      const ackAlone = isRxFilterHeader(this.request[0], this.request[1])
        ? [VIRTIO_NET_OK, VIRTIO_NET_ERR]
        : [VIRTIO_NET_ERR];
      if (answer.length > 1 || (answer.length === 1 && !ackAlone.includes(answer[0] as number)))
        throw new CheckFailed('short-answer', toHex(answer));
      return { status: undefined, result: undefined };
    }
    const status = new DataView(answer.buffer, answer.byteOffset).getUint16(1, true);
    if (!STATUS_VALUES.has(status)) throw new CheckFailed('status-defined', `status ${status}`);
    const ack = answer[0];
    if (ack !== (status === XdpStatus.OK ? VIRTIO_NET_OK : VIRTIO_NET_ERR))
      throw new CheckFailed('ack', `ack ${String(ack)} with status ${status}`);
    const wellFramed = framing.trailingReadable === undefined;
    if (wellFramed && insnCntAboveLimit(this.request, this.caps.max_insns)) {
      // [dev-prog-limit]: E2BIG from insn_cnt alone, whatever follows it.
      if (status !== XdpStatus.E2BIG)
        throw new CheckFailed('prog-limit', `status ${status} for a program above max_insns`);
      return { status, result: undefined };
    }
    if (decoded !== undefined && wellFramed) {
      try {
        return { status, result: decodeResult(decoded, answer) };
      } catch (error) {
        if (!(error instanceof CodecError || error instanceof FramingError)) throw error;
        throw new CheckFailed('answer-decodes', error.message);
      }
    }
    if (status !== XdpStatus.EINVAL && status !== XdpStatus.EOPNOTSUPP)
      throw new CheckFailed('malformed-status', `status ${status} for a malformed element`);
    return { status, result: undefined };
  }

  /** Check `reject-unchanged`: a refused command (or one without a status) changed nothing. */
  private async checkRefusedUnchanged(before: string | undefined): Promise<void> {
    if (before === undefined) return;
    const after = (await this.a.request({ op: 'snapshot' })).state;
    if (after !== before) throw new CheckFailed('reject-unchanged', firstDifference(before, after));
  }

  /** Tells the limits attack what its request was answered. */
  private informAttack(
    decoded: ControlRequest,
    status: number | undefined,
    result: ControlResult | undefined,
    usage: DeviceReply<'usage'> | undefined,
  ): void {
    const attack = this.attack;
    if (attack === undefined) return;
    const ok = result !== undefined && result.status === XdpStatus.OK;
    if (decoded.command === 'MAP_CREATE')
      attack.created(ok && isAnswerTo(result, 'MAP_CREATE') ? resultOf(result).map_handle : undefined);
    if (decoded.command === 'MAP_UPDATE') attack.updated(status);
    if (decoded.command === 'MAP_GET_NEXT_KEY')
      attack.walked(ok && isAnswerTo(result, 'MAP_GET_NEXT_KEY') ? resultOf(result).next_key : undefined);
    if (usage !== undefined) attack.usage(usage.map_memory);
  }

  /** Check `limits`: the offloaded state stays within the advertised limits. */
  private checkWithinLimits(usage: DeviceReply<'usage'>): void {
    const caps = this.caps;
    if (
      usage.maps > caps.max_maps ||
      usage.map_memory > caps.max_map_memory ||
      usage.insn_cnt > caps.max_insns
    )
      throw new CheckFailed('limits', JSON.stringify({ ...usage, map_memory: String(usage.map_memory) }));
  }

  /**
   * Check `update-lost`: every acknowledged update the guest still expects, read back over the
   * wire (in the limits attack, whose maps are large, the 64 latest of each map: all it keeps).
   */
  private async checkUpdatesKept(): Promise<void> {
    for (const [handle, entries] of this.view.written) {
      const sizes = this.view.handles.get(handle);
      if (sizes === undefined || this.view.tainted.has(handle)) continue;
      for (const [keyHex, valueHex] of entries) {
        const lookup: RequestOf<'MAP_LOOKUP'> = {
          command: 'MAP_LOOKUP',
          data: {
            map_handle: handle,
            key_size: sizes.keySize,
            value_size: sizes.valueSize,
            key: parseHex(keyHex) as Uint8Array,
          },
        };
        const { written } = await this.a.request({
          op: 'control',
          segments: [{ readable: encodeRequest(lookup) }, { writable: writableSize(lookup) }],
        });
        const answer = decodeResult(lookup, written);
        const got =
          answer.status === XdpStatus.OK ? toHex(resultOf(answer).value) : `status ${answer.status}`;
        if (got !== valueHex)
          throw new CheckFailed(
            'update-lost',
            `handle ${handle} key ${keyHex}: ${got}, acknowledged ${valueHex}`,
          );
      }
    }
  }

  /** Check `heap` (limits mode): heap held beyond the start, against twice both twins' accounted memory. */
  private async checkHeap(): Promise<void> {
    if (!this.inProcess || !this.introspect) return;
    const held = heldBytes() - this.heapBase;
    this.heapPeak = Math.max(this.heapPeak, held);
    const ua = await this.a.request({ op: 'usage' });
    const ub = await this.b.request({ op: 'usage' });
    const accounted = Number(ua.map_memory + ub.map_memory);
    const bound = RESOURCE_BOUNDS.heapPerAccountedByte * accounted + RESOURCE_BOUNDS.heapConstant;
    if (held > bound)
      throw new CheckFailed('heap', `${held} bytes held for ${accounted} accounted (bound ${bound})`);
  }
}

/** The CPU time this process has spent, in ms (every thread: the collector's helpers included). */
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Wall-clock time, in ms. */
const wallMs = (): number => performance.now();

/** Runs one session; stops at its first failure. */
export function fuzzSession(
  seed: number,
  length: number,
  corpus: readonly Uint8Array[],
  options: SessionOptions = {},
): Promise<SessionReport> {
  return new HostileGuestSession(seed, length, corpus, options).run();
}

/**
 * Whether a device-readable part carries a program the device may verify (its time is the
 * verifier's): a PROG_LOAD or PROG_ARRAY_LOAD within `max_insns`.
 */
function verifies(request: Uint8Array, maxInsns: number): boolean {
  return INSN_CNT_OFFSETS.has(request[1] ?? -1) && !insnCntAboveLimit(request, maxInsns);
}

/** Whether a device-readable part is a PROG_LOAD or PROG_ARRAY_LOAD whose `insn_cnt` exceeds `maxInsns`. */
function insnCntAboveLimit(request: Uint8Array, maxInsns: number): boolean {
  const at = request[0] === VIRTIO_NET_CTRL_XDP_OFFLOAD ? INSN_CNT_OFFSETS.get(request[1] ?? -1) : undefined;
  return (
    at !== undefined &&
    request.length >= at + 4 &&
    new DataView(request.buffer, request.byteOffset, at + 4).getUint32(at, true) > maxInsns
  );
}

/** The first line where two snapshots differ, shortened. */
function firstDifference(before: string, after: string): string {
  const b = before.split('\n');
  const a = after.split('\n');
  const at = b.findIndex((line, i) => line !== a[i]);
  const line = at === -1 ? b.length : at;
  const cut = (text: string | undefined) => (text ?? '(none)').slice(0, 160);
  return `snapshot line ${line}: before ${cut(b[line])}, after ${cut(a[line])}`;
}

/** Updates the guest's view after an acknowledged command. */
/** Records an acknowledged element write as the guest expects to read it back. */
function written(view: GuestView, handle: number, key: Uint8Array, value: Uint8Array, keep: number): void {
  view.entries.set(handle, (view.entries.get(handle) ?? 0) + 1);
  // What reads back byte for byte is checked: a per-CPU value loses its padding, an LRU hash may
  // evict and an LPM trie merges keys of one prefix, so those types are left to the other checks.
  const type = view.handles.get(handle)?.type;
  if (type !== BpfMapType.HASH && type !== BpfMapType.ARRAY) return;
  const entries = view.written.get(handle) ?? new Map<string, string>();
  const hex = toHex(key);
  entries.delete(hex); // re-inserted as the latest
  entries.set(hex, toHex(value));
  // The limits attack checks the latest writes only, so it keeps no more (its memory is not the
  // device's, and the heap check counts it).
  if (entries.size > keep) entries.delete(entries.keys().next().value as string);
  view.written.set(handle, entries);
}

function track(request: ControlRequest, answer: ControlResult, view: GuestView, keep = Infinity): void {
  switch (request.command) {
    case 'MAP_CREATE': {
      if (!isAnswerTo(answer, 'MAP_CREATE')) return;
      const handle = resultOf(answer).map_handle;
      view.handles.set(handle, definitionOfMapCreate(request.data));
      break;
    }
    case 'MAP_FREE':
      view.handles.delete(request.data.map_handle);
      view.written.delete(request.data.map_handle);
      view.entries.delete(request.data.map_handle);
      break;
    case 'MAP_UPDATE':
      written(view, request.data.map_handle, request.data.key, request.data.value, keep);
      break;
    case 'MAP_UPDATE_BATCH': {
      const d = request.data;
      const stride = d.key_size + d.value_size;
      for (let i = 0; i < d.count; i++) {
        const at = i * stride;
        const key = d.elements.subarray(at, at + d.key_size);
        written(view, d.map_handle, key, d.elements.subarray(at + d.key_size, at + stride), keep);
      }
      break;
    }
    case 'MAP_DELETE':
      view.written.get(request.data.map_handle)?.delete(toHex(request.data.key));
      view.entries.set(request.data.map_handle, (view.entries.get(request.data.map_handle) ?? 1) - 1);
      break;
    case 'PROG_LOAD':
    case 'PROG_ARRAY_LOAD':
      // The program may write any map it names: those values are no longer the guest's alone.
      for (const handle of programNeeds(request.data.insns).mapRefs) view.tainted.add(handle);
      break;
    default:
  }
}

/** A campaign's report. */
export interface CampaignReport {
  /** Control elements sent. */
  readonly messages: number;
  /** Frames sent between them. */
  readonly frames: number;
  /** Sessions run. */
  readonly sessions: number;
  /** Wall-clock milliseconds. */
  readonly elapsedMs: number;
  /** Answers by status. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Failures (the campaign stops at the first). */
  readonly failures: readonly FuzzFailure[];
  /** In the limits attack: the most heap any session held beyond its start, in bytes. */
  readonly heapPeak?: number;
  /** In the limits attack: the longest each command took, in ms (a verified PROG_LOAD apart). */
  readonly slowestMs?: Readonly<Record<string, number>>;
}

/** Options of a campaign. */
export interface CampaignOptions {
  /** The campaign seed. */
  readonly seed: number;
  /** Stop after this many seconds (checked between sessions). */
  readonly seconds?: number;
  /** Stop after this many messages. */
  readonly messages?: number;
  /** Messages per session (default 500; 30,000 in the limits attack, whose maps take long to fill). */
  readonly sessionLength?: number;
  /** What the sessions aim at (default `mixed`). */
  readonly mode?: FuzzMode;
  /** The instances every session drives (default: two reference devices in this process). */
  readonly twins?: FuzzTwins;
  /** Check on the wire alone (see {@link SessionOptions.wireOnly}). */
  readonly wireOnly?: boolean;
  /** Called after each session with the running totals (the caller decides how often to show them). */
  readonly progress?: (messages: number, elapsedMs: number) => void;
}

/**
 * Runs sessions until the time or message budget is spent, or a check fails.
 *
 * @example
 * ```ts
 * const report = await fuzzCampaign({ seed: 7, messages: 2000 });
 * console.log(report.messages, report.failures.length); // 2000 0
 * ```
 */
export async function fuzzCampaign(options: CampaignOptions): Promise<CampaignReport> {
  const corpus = loadCorpus();
  const start = Date.now();
  const mode = options.mode ?? 'mixed';
  const length = options.sessionLength ?? (mode === 'limits' ? 30_000 : 500);
  let heapPeak: number | undefined;
  const slowestMs: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  let messages = 0;
  let frames = 0;
  let sessions = 0;
  const failures: FuzzFailure[] = [];
  const timeUp = () => options.seconds !== undefined && Date.now() - start >= options.seconds * 1000;
  const enough = () => options.messages !== undefined && messages >= options.messages;
  while (!timeUp() && !enough()) {
    const want = options.messages === undefined ? length : Math.min(length, options.messages - messages);
    const report = await fuzzSession(sessionSeed(options.seed, sessions), want, corpus, {
      mode,
      ...(options.seconds === undefined ? {} : { deadline: start + options.seconds * 1000 }),
      ...(options.twins === undefined ? {} : { twins: options.twins }),
      ...(options.wireOnly === undefined ? {} : { wireOnly: options.wireOnly }),
    });
    if (report.heapPeak !== undefined) heapPeak = Math.max(heapPeak ?? 0, report.heapPeak);
    for (const [k, v] of Object.entries(report.slowestMs ?? {}))
      slowestMs[k] = Math.max(slowestMs[k] ?? 0, v);
    sessions++;
    messages += report.messages;
    frames += report.frames;
    for (const [k, v] of Object.entries(report.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    if (report.failure !== undefined) {
      failures.push(report.failure);
      break;
    }
    options.progress?.(messages, Date.now() - start);
    if (options.seconds === undefined && options.messages === undefined) break;
  }
  return {
    messages,
    frames,
    sessions,
    elapsedMs: Date.now() - start,
    statuses,
    failures,
    ...(heapPeak === undefined ? {} : { heapPeak }),
    ...(mode === 'limits' ? { slowestMs } : {}),
  };
}
