// `xdp-offload demo`: the RFC's experiments in the model. The guest offloads xdp1 (count per IP
// protocol, drop) and xdp2 (count, swap MACs, transmit); generated traffic from the host goes through
// the tap; the guest reads the counters over the control queue. The same programs run in driver mode
// on a second topology, side by side.
import { Rng } from '../harness/rng.js';
import { assemble } from '../reference/ebpf/asm.js';
import { writeFileSync } from 'node:fs';
import { PcapngWriter, type PacketSink } from '../harness/pcapng.js';
import { ElfError, loadElfProgram } from '../reference/ebpf/elf.js';
import { rewriteMapRefs } from '../reference/ebpf/needs.js';
import { PROTO_COUNTERS, XDP1, XDP2 } from '../reference/ebpf/samples.js';
import { Topology, type FrameFate } from '../reference/topology.js';
import {
  EXIT,
  UsageError,
  integerOption,
  jsonText,
  parse,
  readInputFile,
  stringOption,
  type Output,
  type Subcommand,
} from './io.js';

const PROGRAMS = { xdp1: XDP1, xdp2: XDP2 } as const;
type ProgramName = keyof typeof PROGRAMS;

const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  0: 'other',
  1: 'ICMP',
  6: 'TCP',
  17: 'UDP',
  58: 'ICMPv6',
};

/** The traffic: UDP, TCP and ICMP over IPv4 (some VLAN-tagged), UDP and ICMPv6 over IPv6, ARP. */
export function demoTraffic(count: number, seed: number): Uint8Array[] {
  const rng = new Rng(seed);
  const guest = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
  const sender = [0x02, 0x00, 0x00, 0x00, 0x00, 0x0a];
  return Array.from({ length: count }, () => {
    const kind = rng.int(100);
    const vlan = kind < 50 && rng.chance(0.1);
    const v6 = kind >= 85 && kind < 97;
    const arp = kind >= 97;
    const protocol = v6 ? (rng.chance(0.8) ? 17 : 58) : kind < 50 ? 17 : kind < 75 ? 6 : 1;
    const payload = 18 + rng.int(64);
    const l3 = arp ? 28 : v6 ? 40 + payload : 20 + payload;
    const f = new Uint8Array(14 + (vlan ? 4 : 0) + l3);
    f.set([...guest, ...sender]);
    let at = 12;
    if (vlan) {
      f.set([0x81, 0x00, 0x00, 0x07], at);
      at += 4;
    }
    f.set(arp ? [0x08, 0x06] : v6 ? [0x86, 0xdd] : [0x08, 0x00], at);
    at += 2;
    if (!arp && !v6)
      f.set(
        [0x45, 0, (l3 >> 8) & 0xff, l3 & 0xff, 0, 0, 0x40, 0, 64, protocol, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2],
        at,
      );
    if (v6) f.set([0x60, 0, 0, 0, (payload >> 8) & 0xff, payload & 0xff, protocol, 64], at);
    return f;
  });
}

/** Records a frame of the offloaded side: what arrived, its verdict, what came out. */
function capture(sink: PacketSink, what: string, frame: Uint8Array, fate: FrameFate): void {
  const verdict = fate.offload === 'bypass' ? 'no program ran' : `offloaded program: ${fate.offload}`;
  sink.record('from-host', frame, `${what}: ${verdict}`);
  for (const g of fate.guest) sink.record('to-guest', g.delivered, `${what}: delivered to the guest`);
  for (const f of fate.toHost) sink.record('to-host', f, `${what}: sent back toward the host`);
}

/** Sends the traffic from the host and tallies where frames went (offloaded side captured to `sink`). */
function drive(
  t: Topology,
  traffic: readonly Uint8Array[],
  label: string,
  sink: PacketSink | undefined,
): { crossed: number; toStack: number; back: number } {
  let crossed = 0;
  let toStack = 0;
  let back = 0;
  for (const [n, frame] of traffic.entries()) {
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

/** Runs one program over the traffic, offloaded and in driver mode. */
export function runDemo(
  name: ProgramName,
  traffic: readonly Uint8Array[],
  sink?: PacketSink,
): { offloaded: DemoSide; native: DemoSide } {
  const side = (offload: boolean): DemoSide => {
    const t = new Topology();
    t.driver.probe();
    const created = t.driver.mapCreate(PROTO_COUNTERS, offload);
    if (!('fd' in created)) throw new Error(`map create failed with ${created.errno}`);
    const insns = rewriteMapRefs(assemble(PROGRAMS[name]), () => created.fd);
    const attached = t.driver.attach(insns, offload ? 'offload' : 'driver');
    if (attached.errno !== 0) throw new Error(`attach failed with ${attached.errno}: ${attached.log ?? ''}`);
    const { crossed, toStack, back } = drive(t, traffic, `${name} frame `, offload ? sink : undefined);
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

/** Runs an object's program over the traffic, offloaded and in driver mode. */
export function runObjectDemo(
  object: Uint8Array,
  section: string | undefined,
  traffic: readonly Uint8Array[],
  sink?: PacketSink,
): { section: string; offloaded: ObjectDemoSide; native: ObjectDemoSide } {
  const names = loadElfProgram(object, section).mapNames;
  const side = (offload: boolean): ObjectDemoSide => {
    const t = new Topology();
    t.driver.probe();
    const attached = t.driver.attachObject(
      object,
      offload ? 'offload' : 'driver',
      section === undefined ? {} : { section },
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
    const { crossed, back } = drive(t, traffic, 'frame ', offload ? sink : undefined);
    const maps: Record<string, string[]> = {};
    attached.fds.forEach((fd, i) => {
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
  return { section: loadElfProgram(object, section).section, offloaded: side(true), native: side(false) };
}

function objectTable(file: string, frames: number, r: ReturnType<typeof runObjectDemo>): string[] {
  const row = (label: string, a: number | string, b: number | string) =>
    `  ${label.padEnd(30)}${String(a).padStart(12)}${String(b).padStart(14)}`;
  const { offloaded: o, native: n } = r;
  const lines = [`${file} (section ${r.section}): ${frames} frames from the host through the tap`];
  if (o.errno !== 0) {
    lines.push(`  offload refused by the device: errno ${o.errno}`);
    for (const l of (o.log ?? '').split('\n').filter((x) => x !== '')) lines.push(`    ${l}`);
  }
  lines.push(row('', o.errno === 0 ? 'offloaded' : '(refused)', 'driver mode'));
  lines.push(
    row('frames crossed into the guest', o.errno === 0 ? o.crossedIntoGuest : '-', n.crossedIntoGuest),
  );
  lines.push(row('frames back toward the host', o.errno === 0 ? o.backToHost : '-', n.backToHost));
  lines.push('  per-action counters (tap QUERY | driver)');
  for (const k of Object.keys(n.actions)) lines.push(row(`    ${k}`, o.actions[k] ?? '-', n.actions[k] ?? 0));
  for (const [name, entries] of Object.entries(n.maps)) {
    const same = o.errno === 0 && JSON.stringify(o.maps[name]) === JSON.stringify(entries);
    lines.push(
      `  map ${name}: ${entries.length} nonzero element(s)${o.errno === 0 ? (same ? ', the same on both sides' : ', DIFFERENT offloaded') : ''}`,
    );
    for (const e of entries.slice(0, 8)) lines.push(`    ${e}`);
    if (entries.length > 8) lines.push(`    ... ${entries.length - 8} more`);
  }
  lines.push('');
  return lines;
}

function table(name: string, frames: number, result: ReturnType<typeof runDemo>): string[] {
  const { offloaded: o, native: n } = result;
  const row = (label: string, a: number | string, b: number | string) =>
    `  ${label.padEnd(30)}${String(a).padStart(12)}${String(b).padStart(14)}`;
  const what = name === 'xdp1' ? 'count per IP protocol, drop' : 'count per IP protocol, swap MACs, XDP_TX';
  const protocols = [...new Set([...Object.keys(o.protocols), ...Object.keys(n.protocols)])].sort();
  return [
    `${name} (${what}): ${frames} frames from the host through the tap`,
    row('', 'offloaded', 'driver mode'),
    row('frames crossed into the guest', o.crossedIntoGuest, n.crossedIntoGuest),
    row('frames up the guest stack', o.toGuestStack, n.toGuestStack),
    row('frames back toward the host', o.backToHost, n.backToHost),
    '  per-protocol counters (read by the guest)',
    ...protocols.map((p) => row(`    ${p}`, o.protocols[p] ?? 0, n.protocols[p] ?? 0)),
    '  per-action counters (tap QUERY | driver)',
    ...Object.keys(o.actions).map((k) => row(`    ${k}`, o.actions[k] ?? 0, n.actions[k] ?? 0)),
    row('control messages sent', o.controlMessages, n.controlMessages),
    '',
  ];
}

export const demo: Subcommand = {
  name: 'demo',
  summary: "reproduce the RFC's xdp1 and xdp2 experiments, offloaded and in driver mode",
  help: `usage: xdp-offload demo [--program xdp1|xdp2 | --object <file.o> [--section <name>]]
                         [--frames N] [--seed S] [--json]

Offloads xdp1 (count per IP protocol, drop) and xdp2 (count, swap MACs,
XDP_TX) from the guest driver to the device, sends generated traffic from the
host through the tap, and prints, beside the same program run in driver mode:
frames that crossed into the guest, the per-protocol counters the guest reads
over the control queue, and the per-action counters (the tap's through QUERY,
the driver's own).

  --program P   only xdp1 or only xdp2 (default both)
  --object F    a BPF ELF object instead (clang -O2 -g -target bpf): its maps are
                created on the device, its global data written, its program offloaded;
                every map is read back over the control queue
  --section S   the object's program section (default its first)
  --frames N    frames of traffic (default 10000)
  --seed S      traffic seed (default 1)
  --pcap F      write the offloaded side's frames to F (pcapng: frames from the host,
                delivered to the guest and sent back, each with its verdict as comment)
  --json        print the numbers as JSON

exit: 0 the two sides agree on every counter, 1 they differ, 2 bad usage`,
  run(args: string[], out: Output): number {
    const parsed = parse(args, {
      program: { type: 'string' },
      object: { type: 'string' },
      section: { type: 'string' },
      frames: { type: 'string' },
      seed: { type: 'string' },
      pcap: { type: 'string' },
      json: { type: 'boolean' },
    });
    const program = stringOption(parsed, 'program');
    if (program !== undefined && !(program in PROGRAMS))
      throw new UsageError(`--program must be xdp1 or xdp2, got '${program}'`);
    const count = integerOption(parsed, 'frames', { min: 1, max: 10_000_000 }, 10000);
    const seed = integerOption(parsed, 'seed', { min: 0, max: 2 ** 32 - 1 }, 1);
    const traffic = demoTraffic(count, seed);
    const pcapFile = stringOption(parsed, 'pcap');
    const pcap = pcapFile === undefined ? undefined : new PcapngWriter();
    const savePcap = () => {
      if (pcapFile !== undefined && pcap !== undefined) writeFileSync(pcapFile, pcap.bytes());
    };
    const objectFile = stringOption(parsed, 'object');
    if (objectFile !== undefined) {
      if (program !== undefined) throw new UsageError('give --program or --object, not both');
      const bytes = readInputFile(objectFile, '--object');
      let result;
      try {
        result = runObjectDemo(bytes, stringOption(parsed, 'section'), traffic, pcap);
      } catch (error) {
        if (error instanceof ElfError) throw new UsageError(`${objectFile}: ${error.message}`);
        throw error;
      }
      const { offloaded: o, native: n } = result;
      const agree =
        o.errno !== 0 ||
        (JSON.stringify(o.maps) === JSON.stringify(n.maps) &&
          JSON.stringify(o.actions) === JSON.stringify(n.actions));
      if (parsed.values.json)
        out.stdout(jsonText({ frames: count, seed, object: objectFile, ...result, agree }));
      else {
        for (const line of objectTable(objectFile, count, result)) out.stdout(line);
        out.stdout(
          o.errno !== 0
            ? 'the device refused the offload; the program ran in driver mode only'
            : agree
              ? 'offloaded and driver mode agree on every counter and map'
              : 'MISMATCH between offloaded and driver mode',
        );
      }
      savePcap();
      return agree ? EXIT.ok : EXIT.failed;
    }
    const names = (program === undefined ? Object.keys(PROGRAMS) : [program]) as ProgramName[];
    const results = names.map((name) => ({ name, ...runDemo(name, traffic, pcap) }));
    savePcap();
    // The guest-visible outcome must be the same either way; the crossing count is the difference.
    const agree = results.every(
      (r) =>
        JSON.stringify(r.offloaded.protocols) === JSON.stringify(r.native.protocols) &&
        JSON.stringify(r.offloaded.actions) === JSON.stringify(r.native.actions) &&
        r.offloaded.toGuestStack === r.native.toGuestStack &&
        r.offloaded.backToHost === r.native.backToHost,
    );
    if (parsed.values.json) out.stdout(jsonText({ frames: count, seed, results, agree }));
    else {
      for (const r of results) for (const line of table(r.name, count, r)) out.stdout(line);
      out.stdout(
        agree
          ? 'offloaded and driver mode agree on every counter'
          : 'MISMATCH between offloaded and driver mode',
      );
    }
    return agree ? EXIT.ok : EXIT.failed;
  },
};
