/**
 * The guest's virtio-net driver with XDP offload, and the part of the guest kernel's `bpf()` that
 * reaches it: maps and programs named by guest file descriptors, each map either local (the guest's
 * own, for driver-mode XDP) or offloaded (held by the device and named there by a handle).
 *
 * The driver speaks only the spec's wire format to the device: every command is encoded, framed as
 * a control virtqueue element, and every answer decoded strictly; the device is untrusted input, so
 * a malformed answer fails the command with EIO ([drv-wire-check-result]).
 *
 * @module
 */
import {
  encodeRxFilterCommand,
  type RxFilterCommand,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_OK,
  CodecError,
  Errno,
  LogLevel,
  NextKeyFlag,
  ProgLoadFlag,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_XDP_OFFLOAD,
  XdpStatus,
  capsBelowMinimum,
  featureBit,
  missingCapability,
  queryInconsistency,
  resultOf,
  type Caps,
  type BpfInsn,
  type ControlRequest,
  type RequestOf,
  type ResultOf,
  type ResultData,
  mapCreateOf,
  BpfMapType,
} from '../../codec/index.js';
import { XdpEngine } from '../ebpf/engine.js';
import { deterministicEnvironment, type HelperEnvironment } from '../ebpf/helpers.js';
import { loadElfProgram } from '../ebpf/elf.js';
import { MapCreateError, isArrayType, wireValueSize, type MapDefinition } from '../ebpf/maps.js';
import { isProgArray } from '../ebpf/prog-array.js';
import { programNeeds, rewriteMapRefs } from '../ebpf/needs.js';
import type { DecodedProgram } from '../ebpf/program.js';
import { ETH_HLEN } from '../ebpf/xdp.js';
import { countAction, counterOf, zeroCounters, type ActionCounters } from '../ebpf/actions.js';
import { ControlElement, FramingError } from '../virtqueue/element.js';

/** Guest errno values the driver returns itself. */
export const GuestErrno = {
  /** The device's answer was malformed (the command failed). */
  EIO: Errno.EIO,
  /** No such fd. */
  EBADF: Errno.EBADF,
  /** Invalid combination (a local map for an offloaded program, or the reverse). */
  EINVAL: Errno.EINVAL,
  /** Offload not negotiated, or the program needs what the device does not advertise. */
  EOPNOTSUPP: Errno.EOPNOTSUPP,
} as const;

/** License strings Linux treats as GPL-compatible (`license_is_gpl_compatible`). */
const GPL_COMPATIBLE: ReadonlySet<string> = new Set([
  'GPL',
  'GPL v2',
  'GPL and additional rights',
  'Dual BSD/GPL',
  'Dual MIT/GPL',
  'Dual MPL/GPL',
]);

/** What {@link VirtioNetDriver.mapUpdateBatch} did. */
export interface BatchUpdateOutcome {
  /** Elements applied, in order from the first. */
  readonly applied: number;
  /** 0, or the errno of the command that failed (its elements were not applied). */
  readonly errno: number;
}

/** One element of a map, as the slow path reads it. */
export interface MapElement {
  /** The key. */
  readonly key: Uint8Array;
  /** The value. */
  readonly value: Uint8Array;
}

/** What the driver needs of the device: the virtio transport as the guest sees it. */
export interface DriverTransport {
  /** Device feature bits. */
  offeredFeatures(): bigint;
  /** Writes the driver's features and sets FEATURES_OK; false when the device refuses them. */
  setFeatures(accepted: bigint): boolean;
  /** Makes a control element available and returns the used length the device reported. */
  submit(element: ControlElement): number;
  /** Takes the next filled receive buffer of a queue. */
  receive(queue: number):
    | {
        /** The frame the device placed in the buffer. */
        readonly frame: Uint8Array;
      }
    | undefined;
  /** Queues a frame for transmission. */
  transmit(frame: Uint8Array): void;
  /** Device reset. */
  reset(): void;
}

/** A map as the guest knows it. */
type GuestMap =
  | { readonly kind: 'local'; readonly def: MapDefinition; readonly engineHandle: number }
  | { readonly kind: 'offloaded'; readonly def: MapDefinition; handle: number };

/** The result of a program attach: an errno, and the verifier's log when the device sent one. */
export interface AttachOutcome {
  /** 0 or the errno (device statuses are errno values, section X.5). */
  readonly errno: number;
  /** The device's verifier log, for an offload. */
  readonly log?: string;
  /** Instructions the device's verifier processed. */
  readonly insnsProcessed?: number;
}

/** How a program is attached. */
export type XdpMode = 'driver' | 'offload';

/** Options of a program attach. */
export interface AttachOptions {
  /** The program's license is GPL-compatible. Default true. */
  readonly gpl?: boolean;
  /** Bytes of verifier log to ask for (offload only); 0 for none. Default 4096. */
  readonly logSize?: number;
}

/** What the guest stack received, and what driver-mode XDP did, per receive. */
export interface DriverReceive {
  /** The frame as the device delivered it. */
  readonly delivered: Uint8Array;
  /** Driver-mode verdict, or undefined when no driver-mode program is attached. */
  readonly fate?: ReturnType<typeof counterOf>;
  /** What went up the guest stack, if anything. */
  readonly toStack?: Uint8Array;
}

/** The guest's virtio-net driver with offload support. */
export class VirtioNetDriver {
  /** Frames the guest stack received. */
  readonly stack: Uint8Array[] = [];
  /** Per-action counters of the driver-mode program. */
  readonly nativeCounters: ActionCounters = zeroCounters();
  /** Control elements the driver made available (for tests of what reached the device). */
  elementsSent = 0;
  private readonly engine: XdpEngine;
  private readonly fds = new Map<number, GuestMap>();
  private nextFd = 3;
  private negotiated = 0n;
  private capsValue: Caps | undefined;
  private native: DecodedProgram | undefined;
  private offloaded: { insns: readonly BpfInsn[]; options: AttachOptions } | undefined;
  /** Programs placed into offloaded program arrays, by `fd/index`, to place again after a reset. */
  private readonly tails = new Map<
    string,
    { fd: number; index: number; insns: readonly BpfInsn[]; options: AttachOptions }
  >();

  /** `ifindex` of the guest's interface, seen by driver-mode programs. */
  static readonly IFINDEX = 2;

  constructor(
    private readonly transport: DriverTransport,
    env: HelperEnvironment = deterministicEnvironment(),
  ) {
    this.engine = new XdpEngine(env);
  }

  /**
   * Feature negotiation and probe: accepts XDP_OFFLOAD only with CTRL_VQ
   * ([drv-feature-requires-ctrl-vq]), then reads the capabilities before any other command of the
   * class ([drv-caps-first]). Returns whether offload is available.
   */
  probe(wantOffload = true): boolean {
    const offered = this.transport.offeredFeatures();
    const ctrl = featureBit(VIRTIO_NET_F_CTRL_VQ);
    const offload = featureBit(VIRTIO_NET_F_XDP_OFFLOAD);
    // CTRL_RX with the control queue: the receive filter, which the device applies before an
    // offloaded program ([dev-dp-order]).
    let accepted = offered & ctrl;
    if (accepted !== 0n) accepted |= offered & featureBit(VIRTIO_NET_F_CTRL_RX);
    if (wantOffload && (offered & offload) !== 0n && (offered & ctrl) !== 0n) accepted |= offload;
    this.capsValue = undefined;
    // Negotiation resets the device: every handle it gave is void ([drv-reset]); 0 is never one.
    // Nor is a program offloaded any more.
    for (const map of this.fds.values()) if (map.kind === 'offloaded') map.handle = 0;
    this.offloaded = undefined;
    this.tails.clear();
    this.negotiated = this.transport.setFeatures(accepted) ? accepted : 0n;
    if ((this.negotiated & offload) === 0n) return false;
    const caps = this.command({ command: 'CAPS_GET', data: null });
    if (typeof caps === 'number') {
      this.negotiated &= ~offload; // a device whose capabilities cannot be read is not used for offload
      return false;
    }
    if (capsBelowMinimum(caps) !== undefined) {
      // [drv-caps-check]: capabilities below the spec's minimum are a lying device.
      this.negotiated &= ~offload;
      return false;
    }
    this.capsValue = caps;
    return true;
  }

  /** The capabilities read at probe, when offload is available. */
  get caps(): Caps | undefined {
    return this.capsValue;
  }

  /** Creates a map: on the device when `offload`, else in the guest. Returns an fd or an errno. */
  mapCreate(
    def: MapDefinition,
    offload: boolean,
  ):
    | {
        /** The new map's guest fd. */
        fd: number;
      }
    | {
        /** Why it was refused. */
        errno: number;
      } {
    if (!offload) {
      try {
        return { fd: this.addFd({ kind: 'local', def, engineHandle: this.engine.createMap(def) }) };
      } catch (error) {
        if (error instanceof MapCreateError) return { errno: error.errno };
        throw error;
      }
    }
    const handle = this.createOnDevice(def);
    return handle.errno !== undefined
      ? { errno: handle.errno }
      : { fd: this.addFd({ kind: 'offloaded', def, handle: handle.value }) };
  }

  /** MAP_CREATE of a definition: the device's handle, or the errno. */
  private createOnDevice(def: MapDefinition): { value: number; errno?: undefined } | { errno: number } {
    const answer = this.command({
      command: 'MAP_CREATE',
      data: mapCreateOf(def),
    });
    if (typeof answer === 'number') return { errno: answer };
    const handle = answer.map_handle;
    // [drv-map-handle-unique]: a handle the device already gave to a live map is a lying device.
    return this.handleInUse(handle) ? { errno: GuestErrno.EIO } : { value: handle };
  }

  /**
   * The value size of an offloaded map's element commands: a per-CPU map carries one value per
   * slot of the device's `percpu_slots`, each padded to 8 bytes ([dev-map-percpu-wire]).
   */
  private wireValueSize(def: MapDefinition): number {
    return wireValueSize(def, this.capsValue?.percpu_slots ?? 1);
  }

  /** Whether an offloaded map of this driver holds `handle`. */
  private handleInUse(handle: number): boolean {
    for (const map of this.fds.values()) if (map.kind === 'offloaded' && map.handle === handle) return true;
    return false;
  }

  /** Frees a map fd (MAP_FREE for an offloaded map). */
  mapFree(fd: number): number {
    const map = this.fds.get(fd);
    if (map === undefined) return GuestErrno.EBADF;
    if (map.kind === 'offloaded' && map.handle === 0) {
      this.fds.delete(fd); // the device lost it at a reset: nothing to free there
      return 0;
    }
    if (map.kind === 'local') {
      this.engine.freeMap(map.engineHandle);
    } else {
      const status = this.status({ command: 'MAP_FREE', data: { map_handle: map.handle } });
      if (status !== 0) return status;
    }
    this.fds.delete(fd); // [drv-map-handle-private]: the handle is never used again
    for (const [key, tail] of this.tails) if (tail.fd === fd) this.tails.delete(key);
    return 0;
  }

  /** `BPF_MAP_UPDATE_ELEM`: the slow path for an offloaded map. */
  mapUpdate(fd: number, key: Uint8Array, value: Uint8Array, flags = 0): number {
    const map = this.live(fd);
    if (map === undefined) return GuestErrno.EBADF;
    if (this.missized(map, key, value)) return GuestErrno.EINVAL;
    if (map.kind === 'local') return this.localMap(map).update(key, value, flags);
    const { keySize: key_size } = map.def;
    const value_size = this.wireValueSize(map.def); // [drv-map-sizes]
    return this.status({
      command: 'MAP_UPDATE',
      data: { map_handle: map.handle, key_size, value_size, flags, key, value },
    });
  }

  /** `BPF_MAP_LOOKUP_ELEM`: the value, or an errno. */
  mapLookup(fd: number, key: Uint8Array): Uint8Array | number {
    const map = this.live(fd);
    if (map === undefined) return GuestErrno.EBADF;
    if (this.missized(map, key)) return GuestErrno.EINVAL;
    if (map.kind === 'local') {
      const value = this.localMap(map).lookup(key);
      return typeof value === 'number' ? value : Uint8Array.from(value);
    }
    const { keySize: key_size } = map.def;
    const value_size = this.wireValueSize(map.def);
    const answer = this.command({
      command: 'MAP_LOOKUP',
      data: { map_handle: map.handle, key_size, value_size, key },
    });
    return typeof answer === 'number' ? answer : answer.value;
  }

  /** `BPF_MAP_DELETE_ELEM`. */
  mapDelete(fd: number, key: Uint8Array): number {
    const map = this.live(fd);
    if (map === undefined) return GuestErrno.EBADF;
    if (this.missized(map, key)) return GuestErrno.EINVAL;
    if (map.kind === 'local') return this.localMap(map).delete(key);
    const status = this.status({
      command: 'MAP_DELETE',
      data: { map_handle: map.handle, key_size: map.def.keySize, key },
    });
    // an emptied program-array slot stays empty after a reset
    if (status === 0 && key.length === 4)
      this.tails.delete(`${fd}/${new DataView(key.buffer, key.byteOffset).getUint32(0, true)}`);
    return status;
  }

  /**
   * Places a program into slot `index` of a program array (`BPF_MAP_UPDATE_ELEM` with a program fd
   * on Linux): in the guest's own engine for a local map, with PROG_ARRAY_LOAD for an offloaded
   * one, whose device verifies it as PROG_LOAD would. The program's map references carry guest fds
   * of the same kind as the array. Returns the errno and, from a device, the verifier's log.
   */
  progArrayLoad(
    fd: number,
    index: number,
    insns: readonly BpfInsn[],
    options: AttachOptions = {},
  ): AttachOutcome {
    const map = this.live(fd);
    if (map === undefined) return { errno: GuestErrno.EBADF };
    if (map.def.type !== BpfMapType.PROG_ARRAY) return { errno: GuestErrno.EINVAL };
    const rewritten = this.rewriteMaps(insns, map.kind);
    if (typeof rewritten === 'number') return { errno: rewritten };
    if (map.kind === 'local') {
      const array = this.localMap(map);
      if (!isProgArray(array)) return { errno: GuestErrno.EINVAL };
      const program = this.engine.load(rewritten);
      return { errno: array.set(index, { program, insnCnt: rewritten.length, handles: new Set() }) };
    }
    const fields = this.programFields(rewritten, options);
    if (typeof fields === 'number') return { errno: fields };
    const outcome = this.loadProgram({
      command: 'PROG_ARRAY_LOAD',
      data: { map_handle: map.handle, index, ...fields },
    });
    if (outcome.errno === 0) this.tails.set(`${fd}/${index}`, { fd, index, insns, options });
    return outcome;
  }

  /** `BPF_MAP_GET_NEXT_KEY`; `key` null for the first key. */
  mapNextKey(fd: number, key: Uint8Array | null): Uint8Array | number {
    const map = this.live(fd);
    if (map === undefined) return GuestErrno.EBADF;
    if (key !== null && this.missized(map, key)) return GuestErrno.EINVAL;
    if (map.kind === 'local') return this.localMap(map).nextKey(key);
    const answer = this.command({
      command: 'MAP_GET_NEXT_KEY',
      data: {
        map_handle: map.handle,
        key_size: map.def.keySize,
        flags: key === null ? NextKeyFlag.FIRST : 0,
        key: key ?? new Uint8Array(0),
      },
    });
    if (typeof answer === 'number') return answer;
    const next = answer.next_key;
    // An array's keys are its indices, in order ([dev-map-next-key]).
    if (isArrayType(map.def.type)) {
      const index = new DataView(next.buffer, next.byteOffset, 4).getUint32(0, true);
      const from =
        key === null ? map.def.maxEntries : new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
      const expected = from >= map.def.maxEntries ? 0 : from + 1;
      if (index >= map.def.maxEntries || (expected < map.def.maxEntries && index !== expected))
        return GuestErrno.EIO;
    }
    return next;
  }

  /**
   * Every key and value of a map, read through the slow path in iteration order. The iteration
   * ends, with EIO, when the device returns a key twice or more keys than the map can hold
   * ([drv-map-iterate-bounded]): a device that does either is lying, or the map changed under the
   * iteration (the caller may retry).
   */
  mapDump(fd: number): MapElement[] | number {
    const map = this.live(fd);
    if (map === undefined) return GuestErrno.EBADF;
    const out: MapElement[] = [];
    const seen = new Set<string>();
    let key: Uint8Array | null = null;
    const batch = map.kind === 'offloaded' ? (this.capsValue?.max_batch ?? 0) : 0;
    const fresh = (k: Uint8Array) => {
      const id = Buffer.from(k).toString('latin1');
      if (seen.has(id) || seen.size >= map.def.maxEntries) return false;
      seen.add(id);
      return true;
    };
    for (;;) {
      if (batch === 0) {
        // Key by key: each key checked before its value is read.
        const next = this.mapNextKey(fd, key);
        if (next === XdpStatus.ENOENT) return out;
        if (typeof next === 'number') return next;
        if (!fresh(next)) return GuestErrno.EIO;
        const value = this.mapLookup(fd, next);
        if (typeof value === 'number') return value;
        out.push({ key: next, value });
        key = next;
        continue;
      }
      const elements = this.mapLookupBatch(fd, key, batch);
      if (elements === XdpStatus.ENOENT) return out;
      if (typeof elements === 'number') return elements;
      for (const element of elements) {
        if (!fresh(element.key)) return GuestErrno.EIO;
        out.push(element);
        key = element.key;
      }
      // A batch shorter than asked for ends at the end of the map ([dev-map-batch-lookup]).
      if (elements.length < batch) return out;
    }
  }

  /**
   * `BPF_MAP_UPDATE_BATCH`: the elements in order, `max_batch` of them to a command (one MAP_UPDATE
   * each when the device has no batch commands); each command is applied wholly or not at all
   * ([dev-map-batch-update]). Returns how many elements were applied, and the errno of the first
   * command that failed (0 when none did).
   */
  mapUpdateBatch(fd: number, elements: readonly MapElement[], flags = 0): BatchUpdateOutcome {
    const map = this.live(fd);
    if (map === undefined) return { applied: 0, errno: GuestErrno.EBADF };
    if (elements.some((e) => this.missized(map, e.key, e.value)))
      return { applied: 0, errno: GuestErrno.EINVAL };
    const size = map.kind === 'offloaded' ? (this.capsValue?.max_batch ?? 0) : 0;
    let applied = 0;
    while (applied < elements.length) {
      const chunk = elements.slice(applied, applied + Math.max(1, size));
      const errno =
        size === 0 || map.kind === 'local'
          ? this.mapUpdate(fd, (chunk[0] as MapElement).key, (chunk[0] as MapElement).value, flags)
          : this.status({
              command: 'MAP_UPDATE_BATCH',
              data: {
                map_handle: map.handle,
                key_size: map.def.keySize,
                value_size: this.wireValueSize(map.def),
                flags,
                count: chunk.length,
                elements: Uint8Array.from(chunk.flatMap((e) => [...e.key, ...e.value])),
              },
            });
      if (errno !== 0) return { applied, errno };
      applied += chunk.length;
    }
    return { applied, errno: 0 };
  }

  /**
   * `BPF_MAP_LOOKUP_BATCH`: up to `max` elements after `key` (from the first when null), in
   * iteration order; ENOENT when none follows. One MAP_LOOKUP_BATCH of at most `max_batch`
   * elements, or MAP_GET_NEXT_KEY and MAP_LOOKUP pairs when the device has no batch commands.
   */
  mapLookupBatch(fd: number, key: Uint8Array | null, max: number): MapElement[] | number {
    const map = this.live(fd);
    if (map === undefined) return GuestErrno.EBADF;
    if (key !== null && this.missized(map, key)) return GuestErrno.EINVAL;
    const size = map.kind === 'offloaded' ? (this.capsValue?.max_batch ?? 0) : 0;
    if (size === 0 || map.kind === 'local') {
      const out: MapElement[] = [];
      for (let after = key; out.length < max;) {
        const next = this.mapNextKey(fd, after);
        if (typeof next === 'number') return out.length > 0 && next === XdpStatus.ENOENT ? out : next;
        const value = this.mapLookup(fd, next);
        if (typeof value === 'number') return value;
        out.push({ key: next, value });
        after = next;
      }
      return out;
    }
    const { keySize } = map.def;
    const valueSize = this.wireValueSize(map.def);
    const answer = this.command({
      command: 'MAP_LOOKUP_BATCH',
      data: {
        map_handle: map.handle,
        key_size: keySize,
        value_size: valueSize,
        flags: key === null ? NextKeyFlag.FIRST : 0,
        max_count: Math.min(max, size),
        key: key ?? new Uint8Array(0),
      },
    });
    if (typeof answer === 'number') return answer;
    const stride = keySize + valueSize;
    const elements = Array.from({ length: answer.count }, (_, i) => ({
      key: answer.elements.slice(i * stride, i * stride + keySize),
      value: answer.elements.slice(i * stride + keySize, (i + 1) * stride),
    }));
    // An array's keys are its indices, in order from the one after `key` ([dev-map-next-key]).
    if (isArrayType(map.def.type)) {
      const index = (k: Uint8Array) => new DataView(k.buffer, k.byteOffset, 4).getUint32(0, true);
      const from = key === null ? map.def.maxEntries : index(key);
      const first = from >= map.def.maxEntries ? 0 : from + 1;
      if (elements.some((e, i) => index(e.key) !== first + i || first + i >= map.def.maxEntries))
        return GuestErrno.EIO;
    }
    return elements;
  }

  /**
   * Attaches a program whose `ld_imm64` map references carry guest map fds. Driver mode needs
   * local maps; offload needs offloaded maps, the capabilities to allow every helper, group and
   * feature ([drv-caps-respect]), and rewrites each fd to its handle ([drv-prog-maps-first]).
   */
  attach(insns: readonly BpfInsn[], mode: XdpMode, options: AttachOptions = {}): AttachOutcome {
    const wanted = mode === 'driver' ? 'local' : 'offloaded';
    const rewritten = this.rewriteMaps(insns, wanted);
    if (typeof rewritten === 'number') return { errno: rewritten };
    if (mode === 'driver') {
      this.native = this.engine.load(rewritten);
      return { errno: 0 };
    }
    const outcome = this.offload(rewritten, options);
    if (outcome.errno === 0) this.offloaded = { insns, options };
    return outcome;
  }

  /**
   * Loads a program from a BPF ELF object as a guest loader does: creates every map of the object
   * (on the device when offloading, before the program: [drv-prog-maps-first]), writes the initial
   * contents of its global data, places the programs the object declares in its program arrays'
   * slots (as libbpf does after loading them), binds the program's references to the new fds, and
   * attaches it. On failure the maps it created are freed again.
   *
   * @throws ElfError for an object that cannot be read.
   */
  attachObject(
    object: Uint8Array,
    mode: XdpMode,
    options: AttachOptions & {
      /** The program: a function name or a section (the first program by default). */
      readonly section?: string;
      /** `max_entries` by map name, as libbpf's user may set them before load. */
      readonly mapSizes?: Readonly<Record<string, number>>;
    } = {},
  ): AttachOutcome & {
    /** The guest fds of the object's maps, by handle - 1 (empty on failure). */
    readonly fds: readonly number[];
  } {
    const mapSizes = options.mapSizes ?? {};
    const elf = loadElfProgram(object, options.section, { mapSizes });
    const fds: number[] = [];
    const undo = (errno: number, extra: Partial<AttachOutcome> = {}) => {
      for (const fd of fds) this.mapFree(fd);
      return { errno, ...extra, fds: [] };
    };
    for (const [i, def] of elf.maps.entries()) {
      const created = this.mapCreate(def, mode === 'offload');
      if (!('fd' in created)) return undo(created.errno);
      fds.push(created.fd);
      const data = elf.mapData[i];
      if (data !== undefined) {
        const status = this.mapUpdate(created.fd, new Uint8Array(4), data);
        if (status !== 0) return undo(status);
      }
    }
    const gpl = options.gpl ?? GPL_COMPATIBLE.has(elf.license ?? '');
    for (const slot of elf.slots) {
      const target = slot.program === elf.name ? elf : loadElfProgram(object, slot.program, { mapSizes });
      const placed = this.progArrayLoad(
        fds[slot.map] ?? 0,
        slot.index,
        rewriteMapRefs(target.insns, (handle) => fds[handle - 1] ?? 0),
        { ...options, gpl },
      );
      if (placed.errno !== 0) return undo(placed.errno, placed);
    }
    const outcome = this.attach(
      rewriteMapRefs(elf.insns, (handle) => fds[handle - 1] ?? 0),
      mode,
      { ...options, gpl },
    );
    return outcome.errno === 0 ? { ...outcome, fds } : undo(outcome.errno, outcome);
  }

  /** Detaches the program of a mode: 0, or ENOENT when none was attached. */
  detach(mode: XdpMode): number {
    if (mode === 'driver') {
      if (this.native === undefined) return XdpStatus.ENOENT;
      this.native = undefined;
      return 0;
    }
    const status = this.status({ command: 'PROG_UNLOAD', data: null });
    if (status === 0) this.offloaded = undefined;
    return status;
  }

  /** QUERY through the control queue: the device's offload state and counters, or an errno. */
  query(): ResultData['QUERY'] | number {
    const answer = this.command({ command: 'QUERY', data: null });
    if (typeof answer === 'number') return answer;
    const result = answer;
    // [drv-query-check]: counters that do not add up, or state beyond the capabilities, are a lie.
    const caps = this.capsValue;
    return caps === undefined || queryInconsistency(result, caps) !== undefined ? GuestErrno.EIO : result;
  }

  /**
   * The receive path (NAPI poll): every buffer the device filled on a queue, through the driver-mode
   * program when one is attached ([drv-dp-coexist]), then up the stack.
   */
  poll(queue = 0): DriverReceive[] {
    const received: DriverReceive[] = [];
    for (
      let buffer = this.transport.receive(queue);
      buffer !== undefined;
      buffer = this.transport.receive(queue)
    ) {
      received.push(this.deliver(buffer.frame, queue));
    }
    return received;
  }

  /** Sends a frame from the guest stack. */
  send(frame: Uint8Array): void {
    this.transport.transmit(frame);
  }

  /**
   * After a device reset every handle is void ([drv-reset]): the driver negotiates again, recreates
   * each offloaded map (empty: the driver keeps no copy of the device's contents) under its new
   * handle, and offloads the program again if one was attached. Returns 0 or the first errno.
   */
  reset(): number {
    const program = this.offloaded;
    const tails = [...this.tails.values()];
    this.transport.reset();
    if (!this.probe()) return GuestErrno.EOPNOTSUPP;
    for (const map of this.fds.values()) {
      if (map.kind !== 'offloaded') continue;
      const handle = this.createOnDevice(map.def);
      if (handle.errno !== undefined) return handle.errno;
      map.handle = handle.value;
    }
    // program arrays are filled again before the program that tail-calls into them
    for (const tail of tails) {
      const placed = this.progArrayLoad(tail.fd, tail.index, tail.insns, tail.options);
      if (placed.errno !== 0) return placed.errno;
    }
    if (program === undefined) return 0;
    return this.attach(program.insns, 'offload', program.options).errno;
  }

  /** Driver-mode XDP on one delivered frame, then the stack. */
  private deliver(frame: Uint8Array, queue: number): DriverReceive {
    const program = this.native;
    if (program === undefined || frame.length < ETH_HLEN) {
      this.stack.push(frame);
      return { delivered: frame, toStack: frame };
    }
    const action = this.engine.runFast(program, frame, {
      ingress_ifindex: VirtioNetDriver.IFINDEX,
      rx_queue_index: queue,
    });
    const fate = countAction(this.nativeCounters, action);
    const out = this.engine.lastPacket();
    if (fate === 'pass') {
      this.stack.push(out);
      return { delivered: frame, fate, toStack: out };
    }
    if (fate === 'tx') this.transport.transmit(out);
    return { delivered: frame, fate };
  }

  /**
   * The program fields of PROG_LOAD and PROG_ARRAY_LOAD for a program whose references are
   * already handles, or EOPNOTSUPP when the capabilities cannot take it ([drv-caps-respect]).
   */
  private programFields(insns: readonly BpfInsn[], options: AttachOptions) {
    const caps = this.capsValue;
    if (caps === undefined) return GuestErrno.EOPNOTSUPP;
    if (missingCapability(caps, programNeeds(insns)) !== undefined || insns.length > caps.max_insns)
      return GuestErrno.EOPNOTSUPP;
    const logSize = Math.min(options.logSize ?? 4096, caps.max_log_size);
    return {
      insn_cnt: insns.length,
      log_size: logSize,
      log_level: logSize === 0 ? LogLevel.NONE : LogLevel.BASIC, // [drv-prog-log-level]
      prog_flags: (options.gpl ?? true) ? ProgLoadFlag.GPL_COMPATIBLE : 0,
      insns: [...insns],
    };
  }

  /** PROG_LOAD of a program whose references are already handles. */
  private offload(insns: readonly BpfInsn[], options: AttachOptions): AttachOutcome {
    const fields = this.programFields(insns, options);
    if (typeof fields === 'number') return { errno: fields };
    return this.loadProgram({ command: 'PROG_LOAD', data: fields });
  }

  /** PROG_LOAD or PROG_ARRAY_LOAD: the status, and the verifier's log and effort when it wrote them. */
  private loadProgram(request: RequestOf<'PROG_LOAD'> | RequestOf<'PROG_ARRAY_LOAD'>): AttachOutcome {
    const answer = this.exchange(request);
    if (typeof answer === 'number') return { errno: answer };
    const result = answer.result;
    return {
      errno: answer.status,
      ...(result === null ? {} : { log: result.log, insnsProcessed: result.insns_processed }),
    };
  }

  /** Rewrites each map fd of a program to the engine handle (local) or device handle (offloaded). */
  private rewriteMaps(insns: readonly BpfInsn[], wanted: GuestMap['kind']): BpfInsn[] | number {
    let errno = 0;
    const out = rewriteMapRefs(insns, (fd) => {
      const map = this.live(fd);
      if (map === undefined || map.kind !== wanted) {
        errno ||= map === undefined ? GuestErrno.EBADF : GuestErrno.EINVAL;
        return fd;
      }
      return map.kind === 'local' ? map.engineHandle : map.handle;
    });
    return errno === 0 ? out : errno;
  }

  private localMap(map: Extract<GuestMap, { kind: 'local' }>) {
    const bpfMap = this.engine.map(map.engineHandle);
    if (bpfMap === undefined) throw new Error(`local map ${map.engineHandle} vanished`);
    return bpfMap;
  }

  /**
   * Whether a caller's key (and value) has another size than the map's: such a call is EINVAL
   * before anything is sent ([drv-map-sizes]), as the syscall side can carry no other size.
   */
  private missized(map: GuestMap, key: Uint8Array, value?: Uint8Array): boolean {
    const valueSize = map.kind === 'offloaded' ? this.wireValueSize(map.def) : wireValueSize(map.def, 1);
    return key.length !== map.def.keySize || (value !== undefined && value.length !== valueSize);
  }

  /** The map of an fd, or undefined when there is none or the device lost it at a reset. */
  private live(fd: number): GuestMap | undefined {
    const map = this.fds.get(fd);
    return map?.kind === 'offloaded' && map.handle === 0 ? undefined : map;
  }

  private addFd(map: GuestMap): number {
    const fd = this.nextFd++;
    this.fds.set(fd, map);
    return fd;
  }

  /**
   * A receive-filter command (promiscuous or all-multicast mode, the MAC table): 0 when the device
   * acknowledged it, EOPNOTSUPP without VIRTIO_NET_F_CTRL_RX, EIO when the device refused it or
   * answered anything but one `ack` byte.
   */
  setReceiveFilter(command: RxFilterCommand): number {
    if ((this.negotiated & featureBit(VIRTIO_NET_F_CTRL_RX)) === 0n) return GuestErrno.EOPNOTSUPP;
    const element = ControlElement.forRequest(encodeRxFilterCommand(command), 1);
    this.elementsSent++;
    const used = this.transport.submit(element);
    const answer = used === 1 ? element.readAnswer(1) : undefined;
    return answer?.[0] === VIRTIO_NET_OK ? 0 : GuestErrno.EIO;
  }

  /** A command that returns only a status: 0, the device's status, or EIO. */
  private status(request: ControlRequest): number {
    const answer = this.exchange(request);
    return typeof answer === 'number' ? answer : answer.status;
  }

  /** A command that must succeed: its result, or the errno (the device's status, or EIO). */
  private command<R extends ControlRequest>(request: R): ResultData[R['command']] | number {
    const answer = this.exchange(request);
    if (typeof answer === 'number') return answer;
    return answer.status === XdpStatus.OK ? resultOf(answer) : answer.status;
  }

  /**
   * One control command on the wire: refused locally unless offload was negotiated
   * ([drv-feature-negotiated]); framed with the request device-readable and exactly the writable
   * room the command needs ([drv-wire-readable-only], [drv-wire-writable-size]); the answer checked
   * as untrusted input ([drv-wire-check-result], [drv-status-undefined]).
   */
  private exchange<R extends ControlRequest>(request: R): ResultOf<R['command']> | number {
    if ((this.negotiated & featureBit(VIRTIO_NET_F_XDP_OFFLOAD)) === 0n) return GuestErrno.EOPNOTSUPP;
    const element = ControlElement.forControlRequest(request);
    this.elementsSent++;
    const used = this.transport.submit(element);
    try {
      return element.readResult(request, used);
    } catch (error) {
      if (error instanceof CodecError || error instanceof FramingError) return GuestErrno.EIO;
      throw error;
    }
  }
}
