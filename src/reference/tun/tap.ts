/**
 * The host tap device with the two additions the Linux tap companion proposes
 * (`spec/companion-linux-tap.md`): TUNGETFEATURES reports IFF_XDP_OFFLOAD, and TUNXDPOFFLOAD
 * attaches, detaches and queries an offloaded XDP program that runs on every frame headed to the
 * tap's reader (the VMM), before the reader receives it.
 *
 * Directions, from the host's point of view:
 * - {@link Tap.transmit}: the host network sends a frame to the guest (the tap's transmit path). The
 *   offloaded program runs here ([tun-hook]).
 * - {@link Tap.write}: the reader writes a frame the guest sent (the tap's receive path). The tap's
 *   own XDP program, attached by the host, runs here, as Linux's tun runs it in `tun_get_user`.
 *
 * @module
 */
import {
  CodecError,
  Errno,
  IFF_XDP_OFFLOAD,
  TUNSETTXFILTER,
  TUNXDPOFFLOAD,
  TunXdpOffloadOp,
  decodeTunFilter,
  tunXdpOffload,
  type ValueOf,
} from '../../codec/index.js';
import type { XdpEngine } from '../ebpf/engine.js';
import type { DecodedProgram } from '../ebpf/program.js';
import { countAction, counterOf, zeroCounters, type ActionCounters } from '../ebpf/actions.js';
import { ETH_HLEN } from '../ebpf/xdp.js';
import type { HostProgram, HostPrograms } from './programs.js';
import { installTxFilter, txFilterPasses, type ActiveTxFilter } from './tx-filter.js';

/** Linux's TUNGETFEATURES answer: IFF_TUN, IFF_TAP and TUN_FEATURES (NO_PI, ONE_QUEUE, VNET_HDR, MULTI_QUEUE, NAPI, NAPI_FRAGS). */
export const TUN_BASE_FEATURES = 0x0001 | 0x0002 | 0x1000 | 0x2000 | 0x4000 | 0x0100 | 0x0010 | 0x0020;

/** errno values of the ioctl. */
const { EBADF, EFAULT, ENOENT, EINVAL, ENOTTY } = Errno;

/** The TUNXDPOFFLOAD argument. */
export type TunXdpOffloadArg = ValueOf<typeof tunXdpOffload>;

/**
 * What happened to a frame at a hook: `filtered` when the tap's TUNSETTXFILTER filter discarded it
 * before the hook (nothing ran, nothing counted); `bypass` when no program ran and the frame went on (none
 * attached, or, at the tap's own hook, a frame outside the sizes it runs programs on); `unfit` when
 * an offloaded program is attached but the frame is longer than the hook can give it, so it is
 * discarded unprocessed and uncounted (a drop program cannot be bypassed); otherwise the counter it
 * went into.
 */
export type HookFate = 'filtered' | 'bypass' | 'unfit' | Exclude<keyof ActionCounters, 'packets'>;

/** The outcome of one hook. */
export interface HookOutcome {
  /** The fate. */
  readonly fate: HookFate;
  /** The frame as the program left it (data to data_end), or as it came when no program ran. */
  readonly frame: Uint8Array;
}

/** The answer of an ioctl: an errno (0 on success) and the argument as the tap wrote it back. */
export interface IoctlAnswer {
  /** 0 or the errno. */
  readonly errno: number;
  /** The argument after the call (unchanged on failure). */
  readonly arg: Uint8Array;
}

/** Options of a tap. */
export interface TapOptions {
  /** Whether this tap has the offload hook (a tap without it reports no IFF_XDP_OFFLOAD). */
  readonly offloadCapable?: boolean;
  /** Longest frame the hook runs a program on (longer frames pass unprocessed). Default 3520. */
  readonly maxFrameLen?: number;
  /** Receive queues toward the reader (multi-queue tap). Default 1. */
  readonly queues?: number;
}

/** A tap device in the host kernel. */
export class Tap {
  /** Frames that reached the host network stack through the tap's receive path. */
  readonly toHost: Uint8Array[] = [];
  /** Longest frame the offload hook runs a program on. */
  readonly maxFrameLen: number;
  private readonly offloadCapable: boolean;
  private readonly readerQueues: Uint8Array[][];
  private offloaded: HostProgram | undefined;
  private txFilter: ActiveTxFilter | undefined;
  private ownProgram: DecodedProgram | undefined;
  private readonly counters = zeroCounters();

  constructor(
    private readonly engine: XdpEngine,
    private readonly programs: HostPrograms,
    options: TapOptions = {},
  ) {
    this.offloadCapable = options.offloadCapable ?? true;
    this.maxFrameLen = options.maxFrameLen ?? 3520;
    this.readerQueues = Array.from({ length: options.queues ?? 1 }, () => []);
  }

  /** TUNGETFEATURES ([tun-features]). */
  features(): number {
    return (TUN_BASE_FEATURES | (this.offloadCapable ? IFF_XDP_OFFLOAD : 0)) >>> 0;
  }

  /** Attaches the tap's own XDP program (host administration, Linux's ndo_bpf on tun), or removes it. */
  setOwnProgram(program: DecodedProgram | undefined): void {
    this.ownProgram = program;
  }

  /**
   * An ioctl on the tap's fd. TUNSETTXFILTER and TUNXDPOFFLOAD are modelled (others: ENOTTY;
   * TUNXDPOFFLOAD is also ENOTTY on a tap without the offload hook, as on a kernel that lacks it).
   */
  ioctl(request: number, arg: Uint8Array): IoctlAnswer {
    if (request === TUNSETTXFILTER) return this.setTxFilter(arg);
    if (request !== TUNXDPOFFLOAD || !this.offloadCapable) return { errno: ENOTTY, arg };
    let value: TunXdpOffloadArg;
    try {
      value = tunXdpOffload.decode(arg);
    } catch (error) {
      if (error instanceof CodecError) return { errno: EINVAL, arg };
      throw error;
    }
    // [tun-ioctl-args]: an undefined op, nonzero flags (the codec) or a prog_id is EINVAL
    if (value.prog_id !== 0) return { errno: EINVAL, arg };
    switch (value.op) {
      case TunXdpOffloadOp.ATTACH: {
        const program = this.programs.get(value.prog_fd);
        if (program === undefined) return { errno: EBADF, arg };
        if (program.type !== 'xdp') return { errno: EINVAL, arg };
        // [tun-attach-replace]: one assignment, so a frame runs under the old or the new program
        this.offloaded = program;
        return { errno: 0, arg };
      }
      case TunXdpOffloadOp.DETACH:
        if (this.offloaded === undefined) return { errno: ENOENT, arg };
        this.offloaded = undefined;
        return { errno: 0, arg };
      default: {
        // [tun-query]: the attached program's id (0 when none) and the counters
        const out = { ...value, prog_id: this.offloaded?.id ?? 0, ...this.counters };
        return { errno: 0, arg: tunXdpOffload.encode(out) };
      }
    }
  }

  /** TUNSETTXFILTER: an argument cut before its addresses is EFAULT, as the kernel's copy fails. */
  private setTxFilter(arg: Uint8Array): IoctlAnswer {
    try {
      this.txFilter = installTxFilter(decodeTunFilter(arg));
      return { errno: 0, arg };
    } catch (error) {
      if (error instanceof CodecError) return { errno: EFAULT, arg };
      throw error;
    }
  }

  /** The offloaded program's id, 0 when none (what QUERY reports). */
  get attachedId(): number {
    return this.offloaded?.id ?? 0;
  }

  /**
   * The host sends a frame toward the reader on a queue: the TUNSETTXFILTER filter first, then the
   * offloaded program ([tun-hook-order], [tun-hook], [dev-dp-hook]); PASS queues the frame as the
   * program left it, TX injects it into the receive path, where the tap's own program runs
   * ([dev-dp-tx]); every other verdict discards it: DROP and undefined values ([dev-dp-drop]),
   * ABORTED and faults ([dev-dp-aborted]), REDIRECT ([dev-dp-redirect]), each counted.
   */
  transmit(frame: Uint8Array, queue = 0): HookOutcome {
    const target = this.readerQueues[queue];
    if (target === undefined) throw new RangeError(`queue ${queue} does not exist`);
    if (!txFilterPasses(this.txFilter, frame)) return { fate: 'filtered', frame };
    // [dev-dp-context]: no host interface index reaches the offloaded program.
    const outcome = this.hook(this.offloaded?.program, frame, 0, queue, this.counters, 'unfit');
    if (outcome.fate === 'bypass' || outcome.fate === 'pass') target.push(outcome.frame);
    else if (outcome.fate === 'tx') this.write(outcome.frame);
    return outcome;
  }

  /** The reader takes the next frame of a queue. */
  read(queue = 0): Uint8Array | undefined {
    return this.readerQueues[queue]?.shift();
  }

  /** The reader writes a frame (toward the host): the tap's own XDP program runs first. */
  write(frame: Uint8Array): HookOutcome {
    // Linux runs a tun's own program with the tap's ifindex; the model's taps are ifindex 1.
    const outcome = this.hook(this.ownProgram, frame, 1, 0, undefined, 'bypass');
    if (outcome.fate === 'bypass' || outcome.fate === 'pass') this.toHost.push(outcome.frame);
    else if (outcome.fate === 'tx') this.readerQueues[0]?.push(outcome.frame);
    return outcome;
  }

  /**
   * Runs a hook's program, if any, on a frame, counting its verdict in `counters` when given (the
   * tap's own program is not counted). Frames shorter than an Ethernet header pass unprocessed and
   * uncounted; frames longer than one buffer get `tooLong`, uncounted: `bypass` at the tap's own
   * hook, `unfit` (discarded) at the offload hook ([dev-dp-headroom]).
   */
  private hook(
    program: DecodedProgram | undefined,
    frame: Uint8Array,
    ifindex: number,
    queue: number,
    counters: ActionCounters | undefined,
    tooLong: 'bypass' | 'unfit',
  ): HookOutcome {
    if (program === undefined || frame.length < ETH_HLEN) return { fate: 'bypass', frame };
    if (frame.length > this.maxFrameLen) return { fate: tooLong, frame };
    // [dev-dp-slot]: the queue's slot of every per-CPU map, and bpf_get_smp_processor_id
    const action = this.engine.runFast(program, frame, {
      ingress_ifindex: ifindex,
      rx_queue_index: queue,
      slot: queue,
    });
    const fate = counters === undefined ? counterOf(action) : countAction(counters, action);
    return { fate, frame: this.engine.lastPacket() };
  }
}
