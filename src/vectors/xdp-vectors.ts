/**
 * Replays XDP run vectors (a real kernel's BPF_PROG_TEST_RUN answers) through the engine: each run's
 * refusal errno, or its retval and output bytes, and every map's contents after it, must be the same.
 *
 * @module
 */
import { XdpAction, nameOf, parseHex, toHex, type MapDefinition } from '../codec/index.js';
import {
  TestRunError,
  XdpEngine,
  isArrayType,
  isProgArray,
  slotsFromBytes,
  type BpfMap,
} from '../reference/ebpf/index.js';
import type { VectorOutcome } from './codec-vectors.js';
import { schemaErrors } from './schema.js';
import type { PacketSink } from '../harness/pcapng.js';

/** The format tag of XDP run vector files. */
export const XDP_RUNS_FORMAT = 'virtio-xdp-offload/xdp-runs/1';

/** A map as vector files describe it (created in order as handles 1, 2, ...). */
export interface VectorMapDefinition {
  /** Its handle. */
  readonly handle: number;
  /** A `BPF_MAP_TYPE_*` the spec offloads. */
  readonly type: number;
  /** Key size in bytes. */
  readonly key_size: number;
  /** Value size in bytes. */
  readonly value_size: number;
  /** Maximum number of elements. */
  readonly max_entries: number;
  /** Global data: the initial value of element 0, hex. */
  readonly data?: string;
}

/** The definition of a vector file's map (the one conversion from the file's field names). */
export function definitionOfVectorMap(m: VectorMapDefinition): MapDefinition {
  return { type: m.type, keySize: m.key_size, valueSize: m.value_size, maxEntries: m.max_entries };
}

/** A vector file's maps by handle, as definitions. */
export function vectorMapTable(maps: readonly VectorMapDefinition[]): Map<number, MapDefinition> {
  return new Map(maps.map((m) => [m.handle, definitionOfVectorMap(m)]));
}

/** How a vector file writes a map definition with its handle. */
export function vectorMapOf(def: MapDefinition, handle: number): VectorMapDefinition {
  return {
    handle,
    type: def.type,
    key_size: def.keySize,
    value_size: def.valueSize,
    max_entries: def.maxEntries,
  };
}

/** One map's contents after a run: [key, value] pairs in hex, sorted by key. */
export interface VectorMapContents {
  /** The map's handle. */
  readonly handle: number;
  /** Its elements (arrays: only nonzero values). */
  readonly entries: readonly (readonly [string, string])[];
}

/** One run of an XDP run vector file. */
export interface XdpRunVector {
  /** Name of the frame. */
  readonly name: string;
  /** The frame, hex. */
  readonly packet: string;
  /** The errno of a refused run, else 0. */
  readonly errno: number;
  /** The program's return value (null when refused). */
  readonly retval: number | null;
  /** The bytes from data_meta to data_end after the run (null when refused). */
  readonly output: string | null;
  /** Map contents after the run. */
  readonly maps: readonly VectorMapContents[];
}

/** A program in a program array's slot, as a vector file carries it. */
export interface XdpSlotVector {
  /** The program array's handle. */
  readonly map: number;
  /** The slot. */
  readonly index: number;
  /** The program. */
  readonly program: {
    /** Its name. */
    readonly name: string;
    /** Instruction slots, hex (map references as the file's handles). */
    readonly insns: string;
  };
}

/** An XDP run vector file. */
export interface XdpRunFile {
  /** The format tag. */
  readonly format: typeof XDP_RUNS_FORMAT;
  /** The kernel that answered. */
  readonly kernel: string;
  /** The program. */
  readonly program: {
    /** Its name. */
    readonly name: string;
    /** Where its source is. */
    readonly source: string;
    /** Instruction slots, hex. */
    readonly insns: string;
  };
  /** Its maps, created in order. */
  readonly maps: readonly VectorMapDefinition[];
  /** Programs placed in program-array slots before the program loads. */
  readonly slots?: readonly XdpSlotVector[];
  /** Whether the kernel accepted the program. */
  readonly load: {
    /** It loaded. */
    readonly accepted: boolean;
    /** 0, or the errno of the refusal. */
    readonly errno: number;
    /** Log lines of a refusal. */
    readonly log: readonly string[];
  };
  /** The runs, in order. */
  readonly runs: readonly XdpRunVector[];
}

/** `XDP_PASS`, ..., or the number of an undefined action. */
export function actionName(action: number): string {
  const name = nameOf(XdpAction, action);
  return name === undefined ? `action ${action}` : `XDP_${name}`;
}

/** Map contents as the vectors record them: arrays' nonzero elements, hashes' every element, by key. */
export function mapContents(map: BpfMap): [string, string][] {
  return map
    .entries()
    .filter(([, v]) => !isArrayType(map.definition.type) || v.some((b) => b !== 0))
    .map(([k, v]): [string, string] => [toHex(k), toHex(v)])
    .sort(([a], [b]) => a.localeCompare(b));
}

/** Schema-checks and replays an XDP run file (each run's frame in and out to `sink`, if given). */
export function replayXdpRunFile(document: unknown, sink?: PacketSink): VectorOutcome[] {
  const errors = schemaErrors('xdp-runs.schema.json', document);
  if (errors.length > 0) return [{ name: 'schema', passed: false, detail: errors.join('; ') }];
  const file = document as XdpRunFile;
  const engine = new XdpEngine();
  for (const m of file.maps) {
    const handle = engine.createMap(definitionOfVectorMap(m));
    if (handle !== m.handle)
      return [{ name: 'maps', passed: false, detail: `map ${m.handle} got handle ${handle}` }];
    const data = m.data === undefined ? undefined : parseHex(m.data);
    if (data !== undefined && engine.map(handle)?.update(new Uint8Array(4), data, 0) !== 0)
      return [{ name: 'maps', passed: false, detail: `map ${m.handle}: its data does not fit element 0` }];
  }
  for (const slot of file.slots ?? []) {
    const array = engine.map(slot.map);
    const insns = slotsFromBytes(parseHex(slot.program.insns) ?? new Uint8Array(0));
    const placed = isProgArray(array)
      ? array.set(slot.index, { program: engine.load(insns), insnCnt: insns.length, handles: new Set() })
      : -1;
    if (placed !== 0)
      return [
        {
          name: 'slots',
          passed: false,
          detail: `${slot.program.name} does not go into slot ${slot.index} of map ${slot.map}`,
        },
      ];
  }
  if (!file.load.accepted)
    return [{ name: 'load', passed: true, detail: 'the kernel refused the program; no runs' }];
  const program = engine.load(slotsFromBytes(parseHex(file.program.insns) ?? new Uint8Array(0)));
  return file.runs.map((run, i) => {
    const name = `${file.program.name}/${i}:${run.name}`;
    const fail = (detail: string): VectorOutcome => ({ name, passed: false, detail });
    let result;
    const packet = parseHex(run.packet) ?? new Uint8Array(0);
    try {
      result = engine.run(program, packet);
      sink?.record('from-host', packet, `${name}: ${actionName(result.retval)}`);
      if (result.action === XdpAction.PASS)
        sink?.record('to-guest', result.output, `${name}: output of XDP_PASS`);
      if (result.action === XdpAction.TX) sink?.record('to-host', result.output, `${name}: output of XDP_TX`);
    } catch (error) {
      if (!(error instanceof TestRunError)) throw error;
      sink?.record('from-host', packet, `${name}: refused with errno ${error.errno}`);
      return error.errno === run.errno
        ? { name, passed: true, detail: '' }
        : fail(`refused with errno ${error.errno}, kernel ${run.errno}`);
    }
    if (run.errno !== 0)
      return fail(`ran (retval ${result.retval}); the kernel refused with errno ${run.errno}`);
    if (result.retval !== run.retval)
      return fail(
        `retval ${result.retval}, kernel ${String(run.retval)}${result.fault ? ` (${result.fault.message})` : ''}`,
      );
    const output = toHex(result.output);
    if (output !== run.output) return fail(`output ${output}\n   kernel ${String(run.output)}`);
    for (const m of run.maps) {
      const map = engine.map(m.handle);
      const got = map === undefined ? [] : mapContents(map);
      if (JSON.stringify(got) !== JSON.stringify(m.entries)) {
        return fail(`map ${m.handle}: ${JSON.stringify(got)}, kernel ${JSON.stringify(m.entries)}`);
      }
    }
    return { name, passed: true, detail: '' };
  });
}
