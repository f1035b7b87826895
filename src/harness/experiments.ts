/**
 * The RFC's experiments, run in the model: a program (xdp1: count per IP protocol and drop; xdp2:
 * count, swap MACs and transmit, or a program from an ELF object) offloaded on one topology and in
 * driver mode on another, the same traffic from the host through both, and what each side saw:
 * frames that crossed into the guest, frames sent back, per-action and per-protocol counters read
 * over the guest's slow path. `xdp-offload demo` prints them.
 *
 * @module
 */
import { BpfMapType, type VerifyModeValue } from '../codec/index.js';
import { assemble } from '../reference/ebpf/asm.js';
import { loadElfProgram } from '../reference/ebpf/elf.js';
import { rewriteMapRefs } from '../reference/ebpf/needs.js';
import { PROTO_COUNTERS, XDP1, XDP2 } from '../reference/ebpf/samples.js';
import { Topology, type FrameFate } from '../reference/topology.js';
import type { PacketSink } from './pcapng.js';

/** The RFC's two sample programs, by name. */
export const DEMO_PROGRAMS = {
  /** Counts packets per IP protocol in an array map and drops them. */
  xdp1: XDP1,
  /** Counts packets per IP protocol, swaps the MAC addresses and transmits them back. */
  xdp2: XDP2,
} as const;
/** A sample program's name. */
export type DemoProgramName = keyof typeof DEMO_PROGRAMS;

const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  0: 'other',
  1: 'ICMP',
  6: 'TCP',
  17: 'UDP',
  58: 'ICMPv6',
};

/** Records a frame of the offloaded side: what arrived, its verdict, what came out. */
function capture(sink: PacketSink, what: string, frame: Uint8Array, fate: FrameFate): void {
  const verdict =
    fate.offload === 'bypass'
      ? 'no program ran'
      : fate.offload === 'unfit'
        ? 'discarded unprocessed: longer than max_frame_len'
        : `offloaded program: ${fate.offload}`;
  sink.record('from-host', frame, `${what}: ${verdict}`);
  for (const g of fate.guest) sink.record('to-guest', g.delivered, `${what}: delivered to the guest`);
  for (const f of fate.toHost) sink.record('to-host', f, `${what}: sent back toward the host`);
}

/** Sends the traffic from the host and tallies where frames went (offloaded side captured to `sink`). */
/**
 * Told how far a demo is: the side running (offloaded or driver mode) and the frames it has sent
 * of all. Called after every frame; a caller that prints throttles it.
 */
export type DemoProgress = (side: 'offloaded' | 'driver mode', sent: number, total: number) => void;

function drive(
  t: Topology,
  traffic: readonly Uint8Array[],
  label: string,
  sink: PacketSink | undefined,
  progress?: (sent: number) => void,
): { crossed: number; toStack: number; back: number } {
  let crossed = 0;
  let toStack = 0;
  let back = 0;
  for (const [n, frame] of traffic.entries()) {
    progress?.(n);
    const fate = t.fromHost(frame);
    if (sink !== undefined) capture(sink, `${label}${n}`, frame, fate);
    crossed += fate.guest.length;
    toStack += fate.guest.filter((g) => g.toStack !== undefined).length;
    back += fate.toHost.length;
  }
  return { crossed, toStack, back };
}

/** Per-action counters as numbers: the tap's through QUERY when offloaded, else the driver's. */
function actionsOf(t: Topology, offload: boolean): Record<string, number> {
  const q = offload ? t.driver.query() : t.driver.nativeCounters;
  if (typeof q === 'number') throw new Error(`QUERY failed with ${q}`);
  const { packets, aborted, drop, pass, tx, redirect } = q;
  return Object.fromEntries(
    Object.entries({ packets, aborted, drop, pass, tx, redirect }).map(([k, v]) => [k, Number(v)]),
  );
}

/** One side of the comparison. */
export interface DemoSide {
  /** Frames that reached the guest (crossed the host/guest boundary). */
  readonly crossedIntoGuest: number;
  /** Frames the guest stack received. */
  readonly toGuestStack: number;
  /** Frames sent back toward the host network. */
  readonly backToHost: number;
  /** Per-protocol counters read over the guest's slow path (or from its own map). */
  readonly protocols: Readonly<Record<string, number>>;
  /** Per-action counters: the tap's (offloaded) or the driver's (driver mode). */
  readonly actions: Readonly<Record<string, number>>;
  /** Control elements the guest sent. */
  readonly controlMessages: number;
}

/** Both sides of one comparison. */
export interface DemoComparison<Side> {
  /** The program offloaded to the host. */
  readonly offloaded: Side;
  /** The same program in the guest driver (driver-mode XDP). */
  readonly native: Side;
}

/**
 * Runs one program over the traffic, offloaded and in driver mode.
 *
 * @example
 * ```ts
 * const { offloaded, native } = runDemo('xdp1', demoTraffic(100, 1));
 * console.log(offloaded.crossedIntoGuest, native.crossedIntoGuest); // 0 100: xdp1 drops on the host
 * ```
 * @throws Error when the reference itself fails (a map create, attach or read it must allow).
 */
export function runDemo(
  name: DemoProgramName,
  traffic: readonly Uint8Array[],
  sink?: PacketSink,
  progress?: DemoProgress,
): DemoComparison<DemoSide> {
  const side = (offload: boolean): DemoSide => {
    const t = new Topology();
    t.driver.probe();
    const created = t.driver.mapCreate(PROTO_COUNTERS, offload);
    if (!('fd' in created)) throw new Error(`map create failed with ${created.errno}`);
    const insns = rewriteMapRefs(assemble(DEMO_PROGRAMS[name]), () => created.fd);
    const attached = t.driver.attach(insns, offload ? 'offload' : 'driver');
    if (attached.errno !== 0) throw new Error(`attach failed with ${attached.errno}: ${attached.log ?? ''}`);
    const { crossed, toStack, back } = drive(t, traffic, `${name} frame `, offload ? sink : undefined, (n) =>
      progress?.(offload ? 'offloaded' : 'driver mode', n, traffic.length),
    );
    const dump = t.driver.mapDump(created.fd);
    if (typeof dump === 'number') throw new Error(`map read failed with ${dump}`);
    const protocols: Record<string, number> = {};
    for (const { key, value } of dump) {
      const count = Number(Buffer.from(value).readBigUInt64LE(0));
      const proto = Buffer.from(key).readUInt32LE(0);
      if (count > 0) protocols[`${PROTOCOL_NAMES[proto] ?? 'proto'} (${proto})`] = count;
    }
    return {
      crossedIntoGuest: crossed,
      toGuestStack: toStack,
      backToHost: back,
      protocols,
      actions: actionsOf(t, offload),
      controlMessages: t.driver.elementsSent,
    };
  };
  return { offloaded: side(true), native: side(false) };
}

/** One side of an object's run: what crossed, the counters, and every map's nonzero elements. */
export interface ObjectDemoSide {
  /** 0, or the errno of a refused attach (then nothing else is filled). */
  readonly errno: number;
  /** The device's verifier log, for a refused offload. */
  readonly log?: string;
  /** Frames that reached the guest. */
  readonly crossedIntoGuest: number;
  /** Frames sent back toward the host network. */
  readonly backToHost: number;
  /** Per-action counters. */
  readonly actions: Readonly<Record<string, number>>;
  /** Each map's elements with a nonzero value, `key=value` in hex, by map name. */
  readonly maps: Readonly<Record<string, readonly string[]>>;
}

/**
 * Runs an object's program over the traffic, offloaded and in driver mode.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * const object = new Uint8Array(readFileSync('samples/tail_dispatch.o'));
 * const result = runObjectDemo(object, 'xdp_dispatch', demoTraffic(100, 1));
 * console.log(result.offloaded.errno, result.offloaded.actions); // 0 { packets: 100, ... }
 * ```
 * @throws ElfError for an object the loader cannot read.
 */
export function runObjectDemo(
  object: Uint8Array,
  section: string | undefined,
  traffic: readonly Uint8Array[],
  sink?: PacketSink,
  mapSizes: Readonly<Record<string, number>> = {},
  verifyMode?: VerifyModeValue,
  progress?: DemoProgress,
): DemoComparison<ObjectDemoSide> & {
  /** The object's section that ran. */
  readonly section: string;
  /** The program that ran (its function's name, or the section's). */
  readonly program: string;
} {
  const chosen = loadElfProgram(object, section, { mapSizes });
  const names = chosen.mapNames;
  const side = (offload: boolean): ObjectDemoSide => {
    const t = new Topology(verifyMode === undefined ? {} : { verifyMode });
    t.driver.probe();
    const attached = t.driver.attachObject(
      object,
      offload ? 'offload' : 'driver',
      section === undefined ? { mapSizes } : { section, mapSizes },
    );
    if (attached.errno !== 0)
      return {
        errno: attached.errno,
        ...(attached.log === undefined ? {} : { log: attached.log }),
        crossedIntoGuest: 0,
        backToHost: 0,
        actions: {},
        maps: {},
      };
    const { crossed, back } = drive(t, traffic, 'frame ', offload ? sink : undefined, (n) =>
      progress?.(offload ? 'offloaded' : 'driver mode', n, traffic.length),
    );
    const maps: Record<string, string[]> = {};
    attached.fds.forEach((fd, i) => {
      // a program array's values are programs, which no lookup returns
      if (chosen.maps[i]?.type === BpfMapType.PROG_ARRAY) return;
      const dump = t.driver.mapDump(fd);
      maps[names[i] ?? `map${i + 1}`] =
        typeof dump === 'number'
          ? [`errno ${dump}`]
          : dump
              .filter((e) => e.value.some((b) => b !== 0))
              .map((e) => `${Buffer.from(e.key).toString('hex')}=${Buffer.from(e.value).toString('hex')}`)
              .sort();
    });
    return {
      errno: 0,
      crossedIntoGuest: crossed,
      backToHost: back,
      actions: actionsOf(t, offload),
      maps,
    };
  };
  return { section: chosen.section, program: chosen.name, offloaded: side(true), native: side(false) };
}
