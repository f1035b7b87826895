/**
 * The three parties wired end to end, as in the RFC's setup: the host network sends frames into a
 * tap; the VMM's device reads them and fills the guest's receive queues; the guest's virtio-net
 * driver hands them to its stack. The offloaded program runs in the tap, a driver-mode program in
 * the guest driver; XDP_TX frames come back out of the tap toward the host. With `bridge`, the
 * RFC's second topology: frames from another machine reach the tap through a host bridge, and
 * XDP_TX replies leave through its uplink ({@link Topology.fromUplink}).
 *
 * @module
 */
import type { VerifyModeValue } from '../codec/index.js';
import { XdpEngine } from './ebpf/engine.js';
import { deterministicEnvironment, type HelperEnvironment } from './ebpf/helpers.js';
import type { DeviceCaps } from './device/caps.js';
import { OffloadDevice, defaultCaps } from './device/device.js';
import { VirtioNetDriver, type DriverReceive, type DriverTransport } from './driver/driver.js';
import { Bridge } from './tun/bridge.js';
import { HostPrograms } from './tun/programs.js';
import { Tap, type HookFate } from './tun/tap.js';

/** Options of a topology. */
export interface TopologyOptions {
  /** Whether the tap has the offload hook (default true). */
  readonly offloadCapable?: boolean;
  /** The device's capabilities (default {@link defaultCaps}). */
  readonly caps?: DeviceCaps;
  /**
   * The host operator's `verify_mode` for the default capabilities (VerifyMode.CAP_BPF unless
   * given); ignored when `caps` is given.
   */
  readonly verifyMode?: VerifyModeValue;
  /** Receive queues (default 1). */
  readonly queues?: number;
  /** A learning bridge between an uplink and the tap (the RFC's second topology; default none). */
  readonly bridge?: boolean;
  /** Seed of the host's and the guest's deterministic clocks and random numbers (default 1). */
  readonly seed?: number;
  /** The host's helper environment (default deterministic, from `seed`). */
  readonly hostEnv?: HelperEnvironment;
  /** The guest's helper environment (default deterministic, from `seed`). */
  readonly guestEnv?: HelperEnvironment;
  /**
   * Shifts every host identifier: program fds and ids, and (as the seed of the host engine's
   * address layout) every host address. Two topologies with different offsets must look the same
   * to the guest, byte for byte.
   */
  readonly hostOffset?: number;
}

/** What became of one frame the host sent toward the guest. */
export interface FrameFate {
  /** What the offloaded program did (`bypass` when none ran). */
  readonly offload: HookFate;
  /** What the guest driver did with each buffer it received (normally zero or one). */
  readonly guest: readonly DriverReceive[];
  /** Frames that came out of the tap toward the host network (XDP_TX, from either side). */
  readonly toHost: readonly Uint8Array[];
}

/** Host, device and guest, connected. */
export class Topology {
  /** The host kernel's engine (maps and offloaded programs live here). */
  readonly hostEngine: XdpEngine;
  /** The VMM's program fds. */
  readonly programs: HostPrograms;
  /** The tap. */
  readonly tap: Tap;
  /** The device. */
  readonly device: OffloadDevice;
  /** The guest driver. */
  readonly driver: VirtioNetDriver;
  /** The transport the driver uses (also what a test uses to submit raw elements). */
  readonly transport: DriverTransport;
  /** The bridge in front of the tap, when the topology has one. */
  readonly bridge: Bridge | undefined;

  constructor(options: TopologyOptions = {}) {
    const seed = options.seed ?? 1;
    const offset = options.hostOffset ?? 0;
    const queues = options.queues ?? 1;
    // One per-CPU slot per queue pair at least ([dev-dp-slot]): the tap runs queue q's frames in slot q.
    const slots = options.caps?.percpu_slots ?? queues;
    // [dev-caps-percpu-slots]
    if (slots < queues) throw new RangeError(`percpu_slots ${slots} is below the ${queues} queues`);
    this.hostEngine = new XdpEngine(options.hostEnv ?? deterministicEnvironment(seed), offset, slots);
    this.programs = new HostPrograms(offset);
    this.tap = new Tap(this.hostEngine, this.programs, {
      offloadCapable: options.offloadCapable ?? true,
      queues,
    });
    const backend = { engine: this.hostEngine, programs: this.programs, tap: this.tap };
    const caps =
      options.caps ??
      (options.verifyMode === undefined
        ? undefined
        : { ...defaultCaps(this.tap.maxFrameLen, slots), verify_mode: options.verifyMode });
    this.device = caps === undefined ? new OffloadDevice(backend) : new OffloadDevice(backend, caps);
    const device = this.device;
    this.transport = {
      offeredFeatures: () => device.offeredFeatures(),
      setFeatures: (accepted) => device.setFeatures(accepted),
      submit: (element) => device.serve(element).used,
      receive: (queue) => device.receive(queue),
      transmit: (frame) => device.transmit(frame),
      reset: () => device.reset(),
    };
    this.driver = new VirtioNetDriver(this.transport, options.guestEnv ?? deterministicEnvironment(seed));
    this.bridge = options.bridge === true ? new Bridge() : undefined;
  }

  /** The host network sends a frame toward the guest on a queue; the guest polls that queue. */
  fromHost(frame: Uint8Array, queue = 0): FrameFate {
    const before = this.tap.toHost.length;
    const offload = this.tap.transmit(frame, queue).fate;
    const guest = this.driver.poll(queue);
    return { offload, guest, toHost: this.tap.toHost.slice(before) };
  }

  /**
   * Another machine sends a frame to the host's uplink: the bridge forwards it to the tap (or
   * filters it: nothing runs), and of what comes back out of the tap, `toHost` holds the frames the
   * bridge sends out of the uplink. Without a bridge, the same as {@link fromHost}.
   */
  fromUplink(frame: Uint8Array, queue = 0): FrameFate {
    const bridge = this.bridge;
    if (bridge === undefined) return this.fromHost(frame, queue);
    if (bridge.forward('uplink', frame) !== 'tap') return { offload: 'bypass', guest: [], toHost: [] };
    const fate = this.fromHost(frame, queue);
    return { ...fate, toHost: fate.toHost.filter((f) => bridge.forward('tap', f) === 'uplink') };
  }
}
