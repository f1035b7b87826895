// `xdp-offload demo`: the RFC's experiments in the model. The guest offloads xdp1 (count per IP
// protocol, drop) and xdp2 (count, swap MACs, transmit); generated traffic from the host goes through
// the tap; the guest reads the counters over the control queue. The same programs run in driver mode
// on a second topology, side by side.
import { writeFileSync } from 'node:fs';
import {
  PROGRAM_PICK_HELP,
  PROGRAM_PICK_OPTIONS,
  listPrograms,
  mapSizesOf,
  programSelector,
  verifyModeOf,
} from './program-input.js';
import {
  DEMO_PROGRAMS,
  runDemo,
  runObjectDemo,
  type DemoProgramName,
  type DemoProgress,
} from '../harness/experiments.js';
import { demoTraffic } from '../harness/packets.js';
import { PcapngWriter } from '../harness/pcapng.js';
import { ElfError } from '../reference/ebpf/elf.js';
import {
  EXIT,
  UsageError,
  integerOption,
  jsonText,
  parse,
  progressReporter,
  readInputFile,
  stringOption,
  type Output,
  type Subcommand,
} from './io.js';

function objectTable(file: string, frames: number, r: ReturnType<typeof runObjectDemo>): string[] {
  const row = (label: string, a: number | string, b: number | string) =>
    `  ${label.padEnd(30)}${String(a).padStart(12)}${String(b).padStart(14)}`;
  const { offloaded: o, native: n } = r;
  const where =
    r.program === r.section ? `section ${r.section}` : `program ${r.program}, section ${r.section}`;
  const lines = [`${file} (${where}): ${frames} frames from the host through the tap`];
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
  help: `usage: xdp-offload demo [--prog xdp1|xdp2|<file.o> [--prog-name N | --section S]]
                         [--frames N] [--seed S] [--json] [--progress]

Offloads xdp1 (count per IP protocol, drop) and xdp2 (count, swap MACs,
XDP_TX) from the guest driver to the device, sends generated traffic from the
host through the tap, and prints, beside the same program run in driver mode:
frames that crossed into the guest, the per-protocol counters the guest reads
over the control queue, and the per-action counters (the tap's through QUERY,
the driver's own).

  --prog P      only xdp1 or only xdp2 (default both), or a BPF ELF object instead
                (clang -O2 -g -target bpf; '-' reads standard input): its maps are
                created on the device, its global data written, the programs its
                program arrays declare placed in their slots, its program offloaded;
                every map is read back over the control queue (--program P and
                --object F are older spellings of the same)
${PROGRAM_PICK_HELP}
  --verify-mode M  the device's verify_mode, as its operator sets it: cap_bpf
                (default) or trusted (verify as root)
  --frames N    frames of traffic (default 10000)
  --seed S      traffic seed (default 1)
  --pcap F      write the offloaded side's frames to F (pcapng: frames from the host,
                delivered to the guest and sent back, each with its verdict as comment)
  --json        print the numbers as JSON

exit: 0 the two sides agree on every counter, 1 they differ or the device refused
the offload, 2 bad usage`,
  run(args: string[], out: Output): number {
    const parsed = parse(args, {
      prog: { type: 'string' },
      program: { type: 'string' },
      object: { type: 'string' },
      ...PROGRAM_PICK_OPTIONS,
      frames: { type: 'string' },
      seed: { type: 'string' },
      pcap: { type: 'string' },
      'verify-mode': { type: 'string' },
      json: { type: 'boolean' },
      progress: { type: 'boolean' },
    });
    const report = progressReporter(out, parsed);
    const progress: DemoProgress | undefined =
      report === undefined
        ? undefined
        : (side, sent, total) => report(`demo: ${side}, ${sent}/${total} frames`);
    const verifyMode = verifyModeOf(parsed);
    // --prog names a sample or an object, as run and verify take it
    const prog = stringOption(parsed, 'prog');
    if (prog !== undefined && (parsed.values.program !== undefined || parsed.values.object !== undefined))
      throw new UsageError('give the program once: --prog, or the older --program or --object');
    const program = prog !== undefined && prog in DEMO_PROGRAMS ? prog : stringOption(parsed, 'program');
    if (program !== undefined && !(program in DEMO_PROGRAMS))
      throw new UsageError(`--program must be xdp1 or xdp2, got '${program}'`);
    const count = integerOption(parsed, 'frames', { min: 1, max: 10_000_000 }, 10000);
    const seed = integerOption(parsed, 'seed', { min: 0, max: 2 ** 32 - 1 }, 1);
    const traffic = demoTraffic(count, seed);
    const pcapFile = stringOption(parsed, 'pcap');
    const pcap = pcapFile === undefined ? undefined : new PcapngWriter();
    const savePcap = () => {
      if (pcapFile !== undefined && pcap !== undefined) writeFileSync(pcapFile, pcap.bytes());
    };
    const objectFile = prog !== undefined && !(prog in DEMO_PROGRAMS) ? prog : stringOption(parsed, 'object');
    const listed = listPrograms(parsed, objectFile, out, parsed.values.json === true);
    if (listed !== undefined) return listed;
    if (objectFile !== undefined) {
      if (program !== undefined) throw new UsageError('give --program or --object, not both');
      const bytes = readInputFile(objectFile, prog === undefined ? '--object' : '--prog');
      let result;
      try {
        result = runObjectDemo(
          bytes,
          programSelector(parsed),
          traffic,
          pcap,
          mapSizesOf(parsed),
          verifyMode,
          progress,
        );
      } catch (error) {
        if (error instanceof ElfError) throw new UsageError(`${objectFile}: ${error.message}`);
        throw error;
      }
      const { offloaded: o, native: n } = result;
      // A refused offload is no comparison: driver mode ran alone, so nothing can agree.
      const refused = o.errno !== 0;
      const agree =
        !refused &&
        JSON.stringify(o.maps) === JSON.stringify(n.maps) &&
        JSON.stringify(o.actions) === JSON.stringify(n.actions);
      if (parsed.values.json)
        out.stdout(jsonText({ frames: count, seed, object: objectFile, ...result, refused, agree }));
      else {
        for (const line of objectTable(objectFile, count, result)) out.stdout(line);
        out.stdout(
          refused
            ? 'the device refused the offload; the program ran in driver mode only'
            : agree
              ? 'offloaded and driver mode agree on every counter and map'
              : 'MISMATCH between offloaded and driver mode',
        );
      }
      savePcap();
      return agree ? EXIT.ok : EXIT.failed;
    }
    const names = (program === undefined ? Object.keys(DEMO_PROGRAMS) : [program]) as DemoProgramName[];
    const results = names.map((name) => ({ name, ...runDemo(name, traffic, pcap, progress) }));
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
