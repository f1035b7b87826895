/**
 * The engine as the rest of the reference uses it: maps named by handles, XDP programs loaded against
 * them, and runs shaped like Linux's `BPF_PROG_TEST_RUN` (packet in; verdict, packet out, duration).
 *
 * @module
 */
import { BpfPseudo, Errno, XdpAction, type BpfInsn } from '../../codec/index.js';
import { EngineFault } from './fault.js';
import { deterministicEnvironment, xdpHelpers, type HelperEnvironment } from './helpers.js';
import { createMap, type BpfMap, type MapDefinition } from './maps.js';
import { AddressSpace, seededLayout } from './memory.js';
import { decodeProgram, type DecodedProgram } from './program.js';
import { DEFAULT_BUDGET, Vm } from './vm.js';
import { ETH_HLEN, XDP_MAX_FRAME, XdpBuffer } from './xdp.js';

/** Thrown when a test run's input is refused, with the errno Linux's `BPF_PROG_TEST_RUN` returns. */
export class TestRunError extends Error {
  /** The errno. */
  readonly errno: number;
  constructor(errno: number, message: string) {
    super(message);
    this.name = 'TestRunError';
    this.errno = errno;
  }
}

/**
 * Optional `struct xdp_md` input of a test run. Without one, Linux runs the program as received on
 * queue 0 of the caller's loopback device, whose ifindex is 1.
 */
export interface XdpRunContext {
  /** `ingress_ifindex` the program reads (default 1, the loopback device). */
  readonly ingress_ifindex?: number;
  /** `rx_queue_index` the program reads (default 0). */
  readonly rx_queue_index?: number;
  /**
   * The slot of per-CPU map values the run uses and `bpf_get_smp_processor_id` returns (default 0:
   * a test run on CPU 0; a device's tap gives the queue's slot).
   */
  readonly slot?: number;
}

/** The result of one XDP run. */
export interface XdpRunResult {
  /** The program's return value (r0), as Linux reports `retval` (the low 32 bits). */
  readonly retval: number;
  /** The verdict: `retval`, or XDP_ABORTED when the program faulted. */
  readonly action: number;
  /** The bytes from data_meta to data_end after the run. */
  readonly output: Uint8Array;
  /** The fault that stopped the program, if any. */
  readonly fault: EngineFault | undefined;
  /** Instructions executed. */
  readonly steps: number;
  /** Wall-clock duration in nanoseconds. */
  readonly durationNs: number;
  /** The `bpf_redirect` target, if the program set one. */
  readonly redirectTarget: number | undefined;
}

/** Where a program's `ld_imm64` map handles are looked up: the engine's own maps, or a device's table. */
export interface MapSource {
  /** The map a handle names, or undefined. */
  get(handle: number): BpfMap | undefined;
}

/** Maps, programs and runs: one engine instance (a device has one). */
export class XdpEngine {
  /** The address space every map and run lives in. */
  readonly space: AddressSpace;
  private readonly vm: Vm;
  private readonly xdp: XdpBuffer;
  private readonly maps = new Map<number, BpfMap>();
  private nextHandle = 1;

  /**
   * `layoutSeed` places the engine's memory (see {@link seededLayout}): two engines with different
   * seeds give every pointer a different value, which a program's observable output must not show.
   * `percpuSlots` is how many values each element of a per-CPU map holds (a device's
   * `percpu_slots`; 1, one CPU, by default).
   */
  constructor(
    env: HelperEnvironment = deterministicEnvironment(),
    layoutSeed = 0,
    /** Values each element of a per-CPU map holds (the slots runs may use). */
    readonly percpuSlots = 1,
  ) {
    this.space = new AddressSpace(seededLayout(layoutSeed));
    this.vm = new Vm(this.space);
    this.xdp = new XdpBuffer(this.space);
    this.vm.context = this.xdp;
    const helpers = xdpHelpers(this.xdp, env);
    helpers.forEach((h, id) => {
      this.vm.helpers[id] = h;
    });
  }

  /** Creates a map and returns its handle (throws {@link MapCreateError} as Linux would refuse it). */
  createMap(definition: MapDefinition): number {
    const map = createMap(definition, this.space, this.percpuSlots);
    const handle = this.nextHandle++;
    this.maps.set(handle, map);
    return handle;
  }

  /** The map of a handle. */
  map(handle: number): BpfMap | undefined {
    return this.maps.get(handle);
  }

  /** Every map, by handle. */
  mapHandles(): number[] {
    return [...this.maps.keys()];
  }

  /** Frees a map. */
  freeMap(handle: number): boolean {
    const map = this.maps.get(handle);
    if (map === undefined) return false;
    map.destroy();
    this.maps.delete(handle);
    return true;
  }

  /**
   * Prepares a program: `ld_imm64` with `src_reg` 1 names a map by handle, with `src_reg` 2 an
   * offset into element 0 of an array. An unknown handle or pseudo form makes that slot invalid.
   * Handles name the engine's own maps unless `maps` is given (whose maps must live in
   * {@link space}).
   */
  load(insns: readonly BpfInsn[], maps: MapSource = this.maps): DecodedProgram {
    const space = this.space;
    return decodeProgram(insns, (src, imm, nextImm) => {
      const map = maps.get(imm >>> 0);
      if (map === undefined) return `map handle ${imm >>> 0} does not exist`;
      if (src === BpfPseudo.MAP_FD) return { hi: space.hiOf(map.region), lo: space.loOf(0) };
      if (src === BpfPseudo.MAP_VALUE) {
        const value = map.valueRegion(Uint8Array.of(0, 0, 0, 0));
        if (map.definition.type !== 2 || value === undefined) return 'a map value address needs an array';
        if (nextImm < 0 || nextImm >= map.definition.valueSize)
          return `offset ${nextImm} is outside the value`;
        return { hi: space.hiOf(value), lo: space.loOf(nextImm) };
      }
      return `ld_imm64 pseudo source ${src} is not supported`;
    });
  }

  /**
   * Runs an XDP program on a packet, as BPF_PROG_TEST_RUN does. A fault of the program is an
   * XDP_ABORTED result, not an exception.
   *
   * @example
   * ```ts
   * const engine = new XdpEngine();
   * const result = engine.run(engine.load(assemble('mov %r0, 1\nexit')), frame); // action 1, XDP_DROP
   * ```
   * @throws TestRunError when the input is one Linux's test run refuses (a frame shorter than an
   *   Ethernet header: EINVAL; one needing more than 17 fragments: ENOMEM).
   */
  run(
    program: DecodedProgram,
    packet: Uint8Array,
    context: XdpRunContext = {},
    budget = DEFAULT_BUDGET,
  ): XdpRunResult {
    if (packet.length < ETH_HLEN)
      throw new TestRunError(Errno.EINVAL, `data_size_in ${packet.length} is below ${ETH_HLEN}`);
    if (packet.length > XDP_MAX_FRAME) {
      throw new TestRunError(Errno.ENOMEM, `data_size_in ${packet.length} needs more than 17 fragments`);
    }
    const xdp = this.xdp;
    const vm = this.vm;
    this.enter(packet, context);
    const start = performance.now(); // a browser and Node global alike (no process.hrtime)
    let fault: EngineFault | undefined;
    try {
      vm.execute(program, budget);
    } catch (error) {
      if (!(error instanceof EngineFault)) throw error;
      fault = error;
    } finally {
      this.space.endRun();
    }
    const durationNs = Math.round((performance.now() - start) * 1e6);
    const retval = fault === undefined ? (vm.lo[0] as number) >>> 0 : 0;
    return {
      retval,
      action: fault === undefined ? retval : XdpAction.ABORTED,
      output: xdp.output(),
      fault,
      steps: vm.steps,
      durationNs,
      redirectTarget: xdp.redirectTarget,
    };
  }

  /**
   * Runs without building a result (for benchmarks and datapaths, which the caller has already
   * checked the frame for): returns the action, or XDP_ABORTED on a fault. The packet stays
   * readable through {@link lastPacket}.
   */
  runFast(program: DecodedProgram, packet: Uint8Array, context: XdpRunContext = {}): number {
    const vm = this.vm;
    this.enter(packet, context);
    try {
      vm.execute(program);
    } catch (error) {
      if (!(error instanceof EngineFault)) throw error;
      return XdpAction.ABORTED;
    } finally {
      this.space.endRun();
    }
    return (vm.lo[0] as number) >>> 0;
  }

  /** Places the frame, sets the context fields and points r1 at the context. */
  private enter(packet: Uint8Array, context: XdpRunContext): void {
    const xdp = this.xdp;
    xdp.reset(packet);
    xdp.ingressIfindex = context.ingress_ifindex ?? 1;
    xdp.rxQueueIndex = context.rx_queue_index ?? 0;
    const slot = context.slot ?? 0;
    if (!(slot >= 0 && slot < this.percpuSlots)) throw new RangeError(`slot ${slot} of ${this.percpuSlots}`);
    xdp.slot = slot;
    this.vm.hi[1] = this.space.hiOf(xdp.ctx);
    this.vm.lo[1] = this.space.loOf(0);
    this.space.beginRun();
  }

  /** The packet (data to data_end) after the last run. */
  lastPacket(): Uint8Array {
    return this.xdp.packetBytes();
  }
}
