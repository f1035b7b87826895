/**
 * The device side of the offload (a VMM such as QEMU with a tap backend): feature offer, the
 * control class of section X.4 on every element, the map table, program loading through the host
 * verifier and the tap's TUNXDPOFFLOAD, QUERY from the tap's counters, reset and the migration
 * block, and the receive path that turns the tap's frames into receive-queue buffers.
 *
 * The guest is hostile: every element goes through the strict front end, every command checks
 * everything before it changes anything, and nothing the host names (fds, program ids, addresses)
 * is ever written to the guest.
 *
 * @module
 */
import {
  BpfMapType,
  IFF_XDP_OFFLOAD,
  BpfPseudo,
  IsaGroup,
  LogLevel,
  OffloadHelper,
  ProgFeature,
  QueryFlag,
  TUNSETTXFILTER,
  TUNXDPOFFLOAD,
  TunXdpOffloadOp,
  VerifyMode,
  VIRTIO_NET_ERR,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_XDP_OFFLOAD,
  VIRTIO_NET_OK,
  XdpStatus,
  CodecError,
  decodeRxFilterCommand,
  encodeTunFilter,
  featureBit,
  isRxFilterHeader,
  missingCapability,
  toHex,
  tunXdpOffload,
  type ControlRequest,
  type ControlResult,
  type ResultData,
  type BpfInsn,
  type XdpStatusValue,
} from '../../codec/index.js';
import type { XdpEngine } from '../ebpf/engine.js';
import type { MapDefinition } from '../ebpf/maps.js';
import { programNeeds, type ProgramNeeds } from '../ebpf/needs.js';
import { XDP_HEADROOM } from '../ebpf/xdp.js';
import { zeroCounters, type ActionCounters } from '../ebpf/actions.js';
import type { DecodedProgram } from '../ebpf/program.js';
import { verify } from '../verifier/verify.js';
import { isProgArray } from '../ebpf/prog-array.js';
import { ControlElement } from '../virtqueue/element.js';
import { advertisedHelpers, checkCaps, mapLimitsOf, type DeviceCaps } from './caps.js';
import { requestBounds, serveElement, type RequestBounds, type Served } from './frontend.js';
import { applyRxFilterCommand, RESET_RX_FILTER, tunFilterOf, type RxFilterState } from './rx-filter.js';
import { executeMapCommand, isMapCommand } from './map-commands.js';
import { DeviceMaps } from './maps.js';

/**
 * What a device uses of the host tap: the Linux uAPI of the tap companion (TUNGETFEATURES,
 * TUNXDPOFFLOAD) and the reader's side of the tap file. The device knows the tap only through this.
 */
export interface TapPort {
  /** Largest frame the tap's hook runs a program on. */
  readonly maxFrameLen: number;
  /** Id of the program attached with TUNXDPOFFLOAD, 0 when none (host state, for snapshots). */
  readonly attachedId: number;
  /** TUNGETFEATURES. */
  features(): number;
  /** An ioctl on the tap file: the errno, and the argument as the call left it. */
  ioctl(request: number, arg: Uint8Array): TapIoctlAnswer;
  /** The next frame the tap gives its reader on a queue. */
  read(queue?: number): Uint8Array | undefined;
  /** A frame the reader writes (the guest sent it). */
  write(frame: Uint8Array): unknown;
}

/** What an ioctl on the tap answers. */
export interface TapIoctlAnswer {
  /** 0 or the errno. */
  readonly errno: number;
  /** The argument after the call (unchanged on failure). */
  readonly arg: Uint8Array;
}

/** The VMM's program file descriptors, as the host kernel's bpf() gives them. */
export interface ProgramTable {
  /** Loads a verified program and returns its fd. */
  load(type: 'xdp', program: DecodedProgram, insnCnt: number): number;
  /** Closes an fd; false when it was not open. */
  close(fd: number): boolean;
}

/** The backend of a device: the host engine, the host process's program fds, and the tap. */
export interface DeviceBackend {
  /** The host's engine, in whose address space maps and programs live. */
  readonly engine: XdpEngine;
  /** The VMM's program fds. */
  readonly programs: ProgramTable;
  /** The tap. */
  readonly tap: TapPort;
}

/** The helpers a device advertises by default: every offloadable helper. */
export const DEFAULT_HELPERS: readonly number[] = Object.values(OffloadHelper);

/** A helper bitmap of ids. */
export function helperBitmap(ids: Iterable<number>): Uint8Array {
  const bitmap = new Uint8Array(32);
  for (const id of ids) bitmap[id >> 3] = (bitmap[id >> 3] ?? 0) | (1 << (id & 7));
  return bitmap;
}

/**
 * The capabilities of the reference device on a tap whose hook takes frames up to `maxFrameLen`,
 * with `queues` queue pairs (the slots of its per-CPU maps). Programs are verified as a CAP_BPF
 * loader unless the host operator declares the guest trusted (`verify_mode`).
 *
 * @example
 * ```ts
 * const caps = { ...defaultCaps(3520, 2), verify_mode: 1 }; // two queue pairs, a trusted guest
 * const t = new Topology({ caps, queues: 2 });
 * console.log(t.driver.probe(), t.driver.caps?.percpu_slots); // true 2
 * ```
 */
export function defaultCaps(maxFrameLen: number, queues = 1): DeviceCaps {
  return {
    max_maps: 64,
    max_entries: 65536,
    max_map_memory: 64n << 20n,
    max_key_size: 256,
    max_value_size: 4096,
    max_insns: 4096,
    max_log_size: 65536,
    map_types: Object.values(BpfMapType).reduce((bits, type) => bits | (1n << BigInt(type)), 0n),
    isa_groups:
      IsaGroup.BASE32 |
      IsaGroup.BASE64 |
      IsaGroup.ATOMIC32 |
      IsaGroup.ATOMIC64 |
      IsaGroup.DIVMUL32 |
      IsaGroup.DIVMUL64,
    prog_features: ProgFeature.BPF_TO_BPF_CALLS | ProgFeature.MAP_VALUE_ADDR | ProgFeature.DATA_META,
    xdp_headroom: XDP_HEADROOM,
    max_frame_len: maxFrameLen,
    max_batch: 64,
    helpers: helperBitmap(DEFAULT_HELPERS),
    percpu_slots: queues,
    verify_mode: VerifyMode.CAP_BPF,
  };
}

/** What a device's offloaded state uses. */
export interface DeviceUsage {
  /** Maps that exist. */
  readonly maps: number;
  /** Their accounted memory. */
  readonly mapMemory: bigint;
  /** insn_cnt of the attached program, 0 when none. */
  readonly insnCnt: number;
}

/** Thrown when a VMM is asked to migrate a device holding offloaded state ([dev-migration]). */
export class MigrationBlockedError extends Error {
  constructor(reason: string) {
    super(`migration blocked: ${reason}`);
    this.name = 'MigrationBlockedError';
  }
}

/** A frame placed into a receive queue: the virtio-net header fields the device set, and the frame. */
export interface ReceivedBuffer {
  /** virtio_net_hdr `flags` (0: no checksum offload claimed). */
  readonly flags: number;
  /** virtio_net_hdr `gso_type` (0: VIRTIO_NET_HDR_GSO_NONE). */
  readonly gsoType: number;
  /** The frame. */
  readonly frame: Uint8Array;
}

/** The attached program, as the device tracks it. */
interface Attached {
  readonly fd: number;
  readonly insnCnt: number;
  readonly handles: ReadonlySet<number>;
}

/** Errno-valued statuses a verifier rejection may carry on the wire (section X.5). */
/** No handle: what the map commands other than MAP_FREE are given as referenced. */
const NOTHING: ReadonlySet<number> = new Set();

const VERIFIER_STATUSES: ReadonlyMap<number, XdpStatusValue> = new Map(
  [XdpStatus.EACCES, XdpStatus.EINVAL, XdpStatus.E2BIG].map((s) => [s, s]),
);

/** Log text limited to what the wire allows: printable ASCII, tab and newline. */
function wireLog(lines: readonly string[], limit: number): string {
  const text = lines.join('\n').replace(/[^\t\n\x20-\x7e]/g, '?');
  return text.slice(0, limit);
}

/** The reference device's MAC address (config space `mac`): QEMU's default for a first NIC. */
export const DEVICE_MAC: Uint8Array = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);

/** A virtio-net device offering XDP offload over a tap. */
export class OffloadDevice {
  /** The capabilities, fixed for the device's life ([dev-caps-static]). */
  readonly caps: DeviceCaps;
  /** The device's MAC address, which its receive filter always passes. */
  readonly mac: Uint8Array = DEVICE_MAC.slice();
  private readonly maps: DeviceMaps;
  /** The advertised helpers, the only ones the verifier lets a program call. */
  private readonly helpers: ReadonlySet<number>;
  private readonly bounds: RequestBounds;
  private attached: Attached | undefined;
  private baseline: ActionCounters = zeroCounters();
  private negotiated = 0n;
  private rxFilter: RxFilterState = RESET_RX_FILTER;
  /** A live migration is in progress: no state may be created that would have to block it. */
  private migrating = false;
  /** Why the device needs a reset (DEVICE_NEEDS_RESET), when an element broke the core's rules. */
  private broken: string | undefined;

  /** @throws CapsError when `caps` is not a capability set the spec allows. */
  constructor(
    private readonly backend: DeviceBackend,
    caps: DeviceCaps = defaultCaps(backend.tap.maxFrameLen, backend.engine.percpuSlots),
  ) {
    checkCaps(caps);
    if (caps.percpu_slots !== backend.engine.percpuSlots)
      throw new RangeError(
        `percpu_slots ${caps.percpu_slots} differs from the host engine's ${backend.engine.percpuSlots} slots`,
      );
    if (caps.max_frame_len > backend.tap.maxFrameLen)
      throw new RangeError(
        `max_frame_len ${caps.max_frame_len} is above the tap's ${backend.tap.maxFrameLen}`,
      );
    this.caps = Object.freeze({ ...caps, helpers: Uint8Array.from(caps.helpers) });
    this.maps = new DeviceMaps(mapLimitsOf(caps), backend.engine.space);
    this.helpers = advertisedHelpers(caps);
    this.bounds = requestBounds(caps);
  }

  /**
   * The features offered: CTRL_VQ and CTRL_RX (whose filter the tap applies before the program,
   * [dev-dp-order]) always, XDP_OFFLOAD only with CTRL_VQ and only when the tap reports
   * IFF_XDP_OFFLOAD ([dev-feature-requires-ctrl-vq], [dev-feature-backend]). Neither CTRL_VLAN nor
   * RSS is offered: a tap cannot apply a VLAN filter, and a VMM's own RSS would steer after the
   * program ran.
   */
  offeredFeatures(): bigint {
    const tapCan = (this.backend.tap.features() & IFF_XDP_OFFLOAD) !== 0;
    const base = featureBit(VIRTIO_NET_F_CTRL_VQ) | featureBit(VIRTIO_NET_F_CTRL_RX);
    return base | (tapCan ? featureBit(VIRTIO_NET_F_XDP_OFFLOAD) : 0n);
  }

  /**
   * The driver writes its features and sets FEATURES_OK. The device refuses (false) a set that is
   * not a subset of its offer or that has XDP_OFFLOAD without CTRL_VQ; either way offloaded state
   * from before goes ([dev-reset]).
   */
  setFeatures(accepted: bigint): boolean {
    this.reset();
    const offload = featureBit(VIRTIO_NET_F_XDP_OFFLOAD);
    const valid =
      (accepted & ~this.offeredFeatures()) === 0n &&
      ((accepted & offload) === 0n || (accepted & featureBit(VIRTIO_NET_F_CTRL_VQ)) !== 0n);
    this.negotiated = valid ? accepted : 0n;
    return valid;
  }

  /**
   * Device reset: program detached and discarded, every map and handle gone, counters from zero,
   * the receive filter back to promiscuous, DEVICE_NEEDS_RESET cleared.
   */
  reset(): void {
    if (this.attached !== undefined) this.detach(this.attached);
    this.maps.reset();
    this.baseline = this.tapCounters();
    this.negotiated = 0n;
    this.rxFilter = RESET_RX_FILTER;
    this.backend.tap.ioctl(TUNSETTXFILTER, encodeTunFilter(tunFilterOf(RESET_RX_FILTER, this.mac)));
    this.broken = undefined;
  }

  /**
   * DEVICE_NEEDS_RESET (VIRTIO 1.4 2.1.2): why the device stopped using its control queue, or
   * undefined ([dev-wire-broken]).
   */
  get needsReset(): string | undefined {
    return this.broken;
  }

  /**
   * The device's whole offload state as text (maps and their elements, the attached program, the
   * counters QUERY would report): equal snapshots before and after a command mean it changed
   * nothing ([dev-wire-reject-unchanged]).
   */
  snapshot(): string {
    const a = this.attached;
    const q = this.query();
    const counters = [q.packets, q.aborted, q.drop, q.pass, q.tx, q.redirect].join('/');
    const program = a === undefined ? 'none' : `${a.fd} ${a.insnCnt} [${[...a.handles].join(',')}]`;
    const rx = this.rxFilter;
    const macs = (list: readonly Uint8Array[]) => list.map(toHex).join(',');
    const filter = `rx ${rx.promisc ? 'promisc' : '-'} ${rx.allmulti ? 'allmulti' : '-'} [${macs(rx.unicast)}] [${macs(rx.multicast)}]`;
    return `${this.maps.snapshot()}\nprogram ${program}\ncounters ${counters}\ntap ${this.backend.tap.attachedId}\n${filter}`;
  }

  /** What the offloaded state uses now, to check it against the capabilities. */
  usage(): DeviceUsage {
    return { maps: this.maps.count, mapMemory: this.maps.memory, insnCnt: this.attached?.insnCnt ?? 0 };
  }

  /** Why migration must not start, or undefined when it may ([dev-migration]). */
  migrationBlocker(): string | undefined {
    if (this.attached !== undefined) return 'an offloaded program is attached';
    if (this.maps.count > 0) return `${this.maps.count} offloaded map(s) exist`;
    return undefined;
  }

  /**
   * Starts live migration (the model's VMM): refuses while offloaded state exists. Until
   * {@link finishMigration}, MAP_CREATE and PROG_LOAD are EAGAIN ([dev-migration]).
   *
   * @throws MigrationBlockedError while a map or program exists.
   */
  startMigration(): void {
    const reason = this.migrationBlocker();
    if (reason !== undefined) throw new MigrationBlockedError(reason);
    this.migrating = true;
  }

  /** The migration ended (failed or cancelled: the guest runs on here). */
  finishMigration(): void {
    this.migrating = false;
  }

  /**
   * A whole live migration, started and finished at once.
   *
   * @throws MigrationBlockedError while a map or program exists.
   */
  migrate(): void {
    this.startMigration();
    this.finishMigration();
  }

  /**
   * Serves one control virtqueue element: nothing once the device needs a reset; an element that
   * breaks the core's rules sets DEVICE_NEEDS_RESET ([dev-wire-broken]); the receive filter's
   * commands when CTRL_RX is negotiated; every element through the class's front end.
   */
  serve(element: ControlElement): Served {
    if (this.broken !== undefined) return { used: 0, executed: false, broken: this.broken };
    const served = serveElement(
      element,
      (request) => this.execute(request),
      this.bounds,
      (e) => this.serveRxFilter(e),
    );
    this.broken = served.broken;
    return served;
  }

  /**
   * A receive-filter command: decoded strictly, then brought to the tap with TUNSETTXFILTER, so
   * that the tap filters before the program runs ([dev-dp-order]). The answer is `ack` alone; a
   * malformed command or a filter the tap refuses is VIRTIO_NET_ERR and changes nothing. Undefined
   * (no such class) for anything else, or without CTRL_RX.
   */
  private serveRxFilter(element: ControlElement): Served | undefined {
    const head = element.readablePrefix(2);
    if (!isRxFilterHeader(head[0], head[1]) || (this.negotiated & featureBit(VIRTIO_NET_F_CTRL_RX)) === 0n)
      return undefined;
    let next: RxFilterState;
    try {
      next = applyRxFilterCommand(this.rxFilter, decodeRxFilterCommand(element.readablePart()));
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      return { used: element.writeAnswer(Uint8Array.of(VIRTIO_NET_ERR)), executed: false };
    }
    const set = this.backend.tap.ioctl(TUNSETTXFILTER, encodeTunFilter(tunFilterOf(next, this.mac)));
    if (set.errno !== 0) return { used: element.writeAnswer(Uint8Array.of(VIRTIO_NET_ERR)), executed: false };
    this.rxFilter = next;
    return { used: element.writeAnswer(Uint8Array.of(VIRTIO_NET_OK)), executed: true };
  }

  /**
   * The receive path: the next frame the tap gives the reader on a queue, as the buffer the device
   * places into the receive queue ([dev-dp-pass]: no offload claimed in the header).
   */
  receive(queue = 0): ReceivedBuffer | undefined {
    const frame = this.backend.tap.read(queue);
    return frame === undefined ? undefined : { flags: 0, gsoType: 0, frame };
  }

  /** The transmit path: a frame the driver sent, written to the tap. */
  transmit(frame: Uint8Array): void {
    this.backend.tap.write(frame);
  }

  /** Executes a well-formed command (the front end has checked framing and the result area). */
  execute(request: ControlRequest): ControlResult {
    if ((this.negotiated & featureBit(VIRTIO_NET_F_XDP_OFFLOAD)) === 0n)
      return this.fail(request, XdpStatus.EOPNOTSUPP);
    // [dev-migration]: the first map or a program would need a migration blocker, which cannot be
    // added while a migration runs.
    if (
      this.migrating &&
      (request.command === 'MAP_CREATE' ||
        request.command === 'PROG_LOAD' ||
        request.command === 'PROG_ARRAY_LOAD')
    )
      return this.fail(request, XdpStatus.EAGAIN);
    if (isMapCommand(request)) {
      // only MAP_FREE asks what is referenced: the other element commands pay nothing for it
      const referenced = request.command === 'MAP_FREE' ? this.referenced(request.data.map_handle) : NOTHING;
      return executeMapCommand(this.maps, request, referenced);
    }
    switch (request.command) {
      case 'CAPS_GET':
        return this.ok(request, { ...this.caps, helpers: Uint8Array.from(this.caps.helpers) });
      case 'PROG_LOAD':
        return this.load(request);
      case 'PROG_UNLOAD':
        if (this.attached === undefined) return this.fail(request, XdpStatus.ENOENT); // [dev-prog-unload-none]
        this.detach(this.attached);
        return this.ok(request, null);
      case 'QUERY':
        return this.ok(request, this.query());
      case 'PROG_ARRAY_LOAD':
        return this.loadIntoSlot(request);
    }
  }

  /** The QUERY result. */
  private query(): ResultData['QUERY'] {
    const now = this.tapCounters();
    const since = (key: keyof ActionCounters) => BigInt.asUintN(64, now[key] - this.baseline[key]);
    return {
      flags: this.attached === undefined ? 0 : QueryFlag.PROG_ATTACHED,
      insn_cnt: this.attached?.insnCnt ?? 0,
      map_count: this.maps.count,
      map_memory: this.maps.memory,
      packets: since('packets'),
      aborted: since('aborted'),
      drop: since('drop'),
      pass: since('pass'),
      tx: since('tx'),
      redirect: since('redirect'),
    };
  }

  /**
   * What PROG_LOAD and PROG_ARRAY_LOAD share: the size limit, map references, advertised features
   * and the verifier. Either a status to answer without a result, or the result to write (on
   * acceptance and on the verifier's refusal alike) with the status and the maps the program uses.
   */
  private verifyProgram(d: {
    insn_cnt: number;
    log_size: number;
    log_level: number;
    insns: readonly BpfInsn[];
  }):
    | { refused: number }
    | { refused?: undefined; status: XdpStatusValue; result: ResultData['PROG_LOAD']; handles: Set<number> } {
    const caps = this.caps;
    if (d.insn_cnt > caps.max_insns) return { refused: XdpStatus.E2BIG };
    const needs = programNeeds(d.insns);
    const refused = this.refuseProgram(needs);
    if (refused !== undefined) return { refused };
    const defs = new Map<number, MapDefinition>();
    for (const handle of needs.mapRefs)
      defs.set(handle, (this.maps.get(handle) as { definition: MapDefinition }).definition);
    // [dev-prog-verify-mode]: the operator's mode, never one the guest asks for.
    const privileged = caps.verify_mode === VerifyMode.TRUSTED;
    // [dev-prog-verify], against the advertised helpers only ([dev-prog-helpers]); what it
    // establishes is the contract of X.8.5 ([dev-prog-contract]), checked by the corpus
    // ([dev-prog-corpus-accept], [dev-prog-corpus-refuse])
    const verdict = verify(d.insns, { maps: defs, privileged, helpers: this.helpers });
    const logLimit = d.log_level === LogLevel.NONE ? 0 : Math.min(d.log_size, caps.max_log_size);
    const log = wireLog(verdict.log, logLimit); // [dev-prog-log]
    const result = {
      insns_processed: verdict.insnsProcessed,
      verify_mode: caps.verify_mode,
      log_len: log.length,
      log,
    };
    const status = verdict.accepted
      ? XdpStatus.OK
      : (VERIFIER_STATUSES.get(verdict.errno) ?? XdpStatus.EINVAL);
    return { status, result, handles: new Set(needs.mapRefs) };
  }

  /** PROG_LOAD: the program verified, then attached to the tap. */
  private load(request: Extract<ControlRequest, { command: 'PROG_LOAD' }>): ControlResult {
    const d = request.data;
    const verified = this.verifyProgram(d);
    if (verified.refused !== undefined) return this.fail(request, verified.refused);
    const { status, result, handles } = verified;
    // [dev-prog-result-on-reject]: the verifier's refusal comes with its result; the attached
    // program stays ([dev-prog-keep-on-failure])
    if (status !== XdpStatus.OK) return { command: 'PROG_LOAD', ack: VIRTIO_NET_ERR, status, result };
    const { engine, programs, tap } = this.backend;
    const fd = programs.load('xdp', engine.load(d.insns, this.maps), d.insn_cnt);
    const attach = tap.ioctl(TUNXDPOFFLOAD, tunXdpOffload.encode(this.tunArg(TunXdpOffloadOp.ATTACH, fd)));
    if (attach.errno !== 0) {
      // [dev-status-internal]: the host refused what the offer promised; nothing changes.
      programs.close(fd);
      return this.fail(request, XdpStatus.EIO);
    }
    const previous = this.attached;
    // [dev-prog-replace]: the tap's ATTACH swapped the program at once
    this.attached = { fd, insnCnt: d.insn_cnt, handles };
    if (previous !== undefined) programs.close(previous.fd);
    return { command: 'PROG_LOAD', ack: VIRTIO_NET_OK, status: XdpStatus.OK, result };
  }

  /**
   * PROG_ARRAY_LOAD: the slot named first (EBADF for an unknown handle, EINVAL for a map that is
   * not a program array, E2BIG for an index beyond it: [dev-prog-array-load]), then the program as
   * PROG_LOAD verifies it, then into the slot, replacing what it held.
   */
  private loadIntoSlot(request: Extract<ControlRequest, { command: 'PROG_ARRAY_LOAD' }>): ControlResult {
    const d = request.data;
    if (d.insn_cnt > this.caps.max_insns) return this.fail(request, XdpStatus.E2BIG); // [dev-prog-limit] first
    const map = this.maps.get(d.map_handle);
    if (map === undefined) return this.fail(request, XdpStatus.EBADF);
    if (!isProgArray(map)) return this.fail(request, XdpStatus.EINVAL);
    const outOfRange = map.setRefusal(d.index);
    if (outOfRange !== 0) return this.fail(request, outOfRange);
    const verified = this.verifyProgram(d);
    if (verified.refused !== undefined) return this.fail(request, verified.refused);
    const { status, result, handles } = verified;
    if (status !== XdpStatus.OK) return { command: 'PROG_ARRAY_LOAD', ack: VIRTIO_NET_ERR, status, result };
    const program = this.backend.engine.load(d.insns, this.maps);
    map.set(d.index, { program, insnCnt: d.insn_cnt, handles });
    return { command: 'PROG_ARRAY_LOAD', ack: VIRTIO_NET_OK, status: XdpStatus.OK, result };
  }

  /** The status for a program the device refuses before verifying it, or undefined. */
  private refuseProgram(needs: ProgramNeeds): number | undefined {
    const valueAddr = (this.caps.prog_features & ProgFeature.MAP_VALUE_ADDR) !== 0;
    const allowed = (src: number) =>
      src === 0 || src === BpfPseudo.MAP_FD || (src === BpfPseudo.MAP_VALUE && valueAddr);
    // [dev-prog-call-forms]: a helper or (with the feature) a bpf-to-bpf call only, never a host
    // kernel function (kfunc, src_reg 2); no LD_ABS or LD_IND.
    const calls = (this.caps.prog_features & ProgFeature.BPF_TO_BPF_CALLS) !== 0 ? [0, 1] : [0];
    if (![...needs.callSources].every((src) => calls.includes(src)) || needs.packetLoads)
      return XdpStatus.EINVAL;
    // [dev-prog-map-ref]: a malformed reference is EINVAL, an unknown (or foreign) handle EBADF.
    if (![...needs.pseudoSources].every(allowed)) return XdpStatus.EINVAL;
    if (needs.mapRefs.some((handle) => this.maps.get(handle) === undefined)) return XdpStatus.EBADF;
    // Helpers are left to the verifier, which refuses them with a log.
    const missing = missingCapability(this.caps, needs);
    return missing === 'isa_groups' || missing === 'prog_features' ? XdpStatus.EINVAL : undefined;
  }

  /** Detaches and discards the attached program. */
  private detach(attached: Attached): void {
    const { programs, tap } = this.backend;
    tap.ioctl(TUNXDPOFFLOAD, tunXdpOffload.encode(this.tunArg(TunXdpOffloadOp.DETACH, -1)));
    programs.close(attached.fd);
    this.attached = undefined;
  }

  /** The tap's counters now, read with TUNXDPOFFLOAD QUERY. */
  private tapCounters(): ActionCounters {
    const { tap } = this.backend;
    const answer = tap.ioctl(TUNXDPOFFLOAD, tunXdpOffload.encode(this.tunArg(TunXdpOffloadOp.QUERY, -1)));
    if (answer.errno !== 0) return zeroCounters();
    const { packets, aborted, drop, pass, tx, redirect } = tunXdpOffload.decode(answer.arg);
    return { packets, aborted, drop, pass, tx, redirect };
  }

  private tunArg(op: number, fd: number) {
    return { op, prog_fd: fd, flags: 0, prog_id: 0, ...zeroCounters() };
  }

  /**
   * Handles of the maps a held program references, which MAP_FREE must refuse with EBUSY: the
   * attached program's, and those of every program in a program array's slot, except the slots
   * of `freeing` itself (freeing a program array empties its slots, so they hold nothing back).
   */
  private referenced(freeing: number): ReadonlySet<number> {
    const handles = new Set(this.attached?.handles ?? []);
    for (const [handle, map] of this.maps.all()) {
      if (handle === freeing || !isProgArray(map)) continue;
      for (const [, held] of map.heldPrograms()) for (const h of held.handles) handles.add(h);
    }
    return handles;
  }

  private ok<C extends ControlRequest['command']>(
    request: { command: C },
    result: ResultData[C] | null,
  ): ControlResult {
    return { command: request.command, ack: VIRTIO_NET_OK, status: XdpStatus.OK, result } as ControlResult;
  }

  private fail(request: ControlRequest, status: number): ControlResult {
    // every caller passes a status of the table; encodeResult refuses any other ([dev-status-defined])
    return { command: request.command, ack: VIRTIO_NET_ERR, status: status as XdpStatusValue, result: null };
  }
}
