// The oracle corpus: each program with the maps it uses (handles 1, 2, ... in order) and the frames
// it runs on. The kernel's answers for these become the golden XDP run vectors.
import { readFileSync } from 'node:fs';
import { XDP1, XDP2 } from '../src/reference/ebpf/samples.js';
import { assemble, loadElfProgram, type MapDefinition } from '../src/reference/ebpf/index.js';
import type { BpfInsn } from '../src/codec/index.js';
import { handFrames, randomFrames } from './packets.js';

export interface CorpusProgram {
  /** Name; also the vector file's name. */
  readonly name: string;
  /** Where its source lives. */
  readonly source: string;
  /** The instruction slots (map references as handles). */
  readonly insns: BpfInsn[];
  /** Maps, created in order as handles 1, 2, ... */
  readonly maps: readonly MapDefinition[];
  /** Initial value of element 0 of maps that hold global data (by handle - 1). */
  readonly mapData?: readonly (Uint8Array | undefined)[];
  /** Frames to run, in order (maps keep their state between runs). */
  readonly frames: readonly [string, number[]][];
  /** Programs placed in program-array slots before the program loads (the object's declared slots). */
  readonly slots?: readonly CorpusSlot[];
}

/** A program in a program array's slot. */
export interface CorpusSlot {
  /** The program array's handle. */
  readonly map: number;
  /** The slot. */
  readonly index: number;
  /** The program's name in its object. */
  readonly name: string;
  /** Its instruction slots (map references as handles). */
  readonly insns: BpfInsn[];
}

const ARRAY_COUNTERS: MapDefinition = { type: 2, keySize: 4, valueSize: 8, maxEntries: 256 };
const file = (name: string) => assemble(readFileSync(new URL(`programs/${name}.s`, import.meta.url), 'utf8'));
const object = (dir: 'oracle/c' | 'samples', name: string, program?: string) => {
  const base = dir === 'samples' ? '../samples/' : 'c/';
  const bytes = readFileSync(new URL(`${base}${name}.o`, import.meta.url));
  const p = loadElfProgram(bytes, program);
  const prefix = dir === 'samples' ? `sample_${name}` : name;
  const slots = p.slots.map((s) => ({
    map: s.map + 1,
    index: s.index,
    name: s.program,
    insns: loadElfProgram(bytes, s.program).insns,
  }));
  return {
    name: program === undefined ? prefix : `${prefix}_${program}`,
    source: `${dir}/${name}.c (compiled: ${dir}/${name}.o, section ${p.section}${program === undefined ? '' : `, program ${program}`})`,
    insns: p.insns,
    maps: p.maps,
    mapData: p.mapData,
    ...(slots.length === 0 ? {} : { slots }),
  };
};

/** The sample objects of samples/ (each one's first program section). */
export const SAMPLE_OBJECTS = [
  'proto_counter',
  'mac_swap',
  'vlan_ipv6',
  'rate_limit',
  'vlan_encap',
  'trim_tail',
  'percpu_stats',
  'lpm_filter',
  'multi_prog',
  'tail_dispatch',
  'flow_stats',
  'conntrack',
];

/** Frames beyond 3520 bytes: the kernel keeps the rest in fragments. */
const bigFrames = (): [string, number[]][] => [
  [
    'ipv4_udp_3600_frags',
    [...(handFrames().find(([n]) => n === 'ipv4_udp_3520')?.[1] ?? []), ...new Array<number>(80).fill(0xef)],
  ],
];

/** The largest frame a test run can hold (3520 linear bytes and 17 fragments of 4096) and one more byte. */
const limitFrames = (): [string, number[]][] => {
  const max = 3520 + 17 * 4096;
  const frame = (n: number) => Array.from({ length: n }, (_, i) => (i < 12 ? 2 : i * 7) & 0xff);
  return [
    ['max_frags', frame(max)],
    ['max_frags_plus_one', frame(max + 1)],
  ];
};

export function corpus(): CorpusProgram[] {
  const hand = handFrames();
  const programs: Omit<CorpusProgram, 'frames'>[] = [
    {
      name: 'xdp1',
      source: 'src/reference/ebpf/samples.ts (XDP1)',
      insns: assemble(XDP1),
      maps: [ARRAY_COUNTERS],
    },
    {
      name: 'xdp2',
      source: 'src/reference/ebpf/samples.ts (XDP2)',
      insns: assemble(XDP2),
      maps: [ARRAY_COUNTERS],
    },
    {
      name: 'flow_limit',
      source: 'oracle/programs/flow_limit.s',
      insns: file('flow_limit'),
      maps: [{ type: 1, keySize: 4, valueSize: 8, maxEntries: 8 }],
    },
    { name: 'vlan_push', source: 'oracle/programs/vlan_push.s', insns: file('vlan_push'), maps: [] },
    { name: 'tail_fix', source: 'oracle/programs/tail_fix.s', insns: file('tail_fix'), maps: [] },
    {
      name: 'l4_filter',
      source: 'oracle/programs/l4_filter.s',
      insns: file('l4_filter'),
      maps: [
        { type: 2, keySize: 4, valueSize: 4, maxEntries: 1 },
        { type: 2, keySize: 4, valueSize: 8, maxEntries: 3 },
      ],
    },
    { name: 'ip_csum', source: 'oracle/programs/ip_csum.s', insns: file('ip_csum'), maps: [] },
    { name: 'ctx_probe', source: 'oracle/programs/ctx_probe.s', insns: file('ctx_probe'), maps: [] },
    object('oracle/c', 'proto_count'),
    object('oracle/c', 'mac_swap_tx'),
    object('oracle/c', 'encap_trim'),
    ...SAMPLE_OBJECTS.map((name) => object('samples', name)),
    object('samples', 'multi_prog', 'xdp_drop_ipv6'),
    object('samples', 'tail_dispatch', 'xdp_dispatch'),
  ];
  const withFrags = new Set(['xdp1', 'l4_filter', 'tail_fix', 'ctx_probe', 'proto_count', 'encap_trim']);
  return programs.map((p, i) => ({
    ...p,
    frames: [
      ...hand,
      ...(withFrags.has(p.name) ? bigFrames() : []),
      ...(p.name === 'ctx_probe' ? limitFrames() : []),
      ...randomFrames(1000 + i, 50),
    ],
  }));
}
