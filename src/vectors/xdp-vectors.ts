/**
 * Replays XDP run vectors (a real kernel's BPF_PROG_TEST_RUN answers) through the engine: each run's
 * refusal errno, or its retval and output bytes, and every map's contents after it, must be the same.
 *
 * @module
 */
import { XdpAction, nameOf, parseHex, toHex, type MapDefinition } from '../codec/index.js';
import { isArrayType, type BpfMap } from '../reference/ebpf/index.js';
import {
  ReferenceEngine,
  type EngineDump,
  type EngineRequest,
  type EngineRun,
  type EngineUnderTest,
} from '../harness/kit/engine-protocol.js';
import { ErrorReply, exchangeRequest, runExchange, runExchangeAsync } from '../harness/kit/line-protocol.js';
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

type EngineReply = EngineRun | EngineDump | Record<string, never>;
type EngineExchange<T> = Generator<EngineRequest, T, EngineReply>;

/** Asks the engine one request within an exchange. */
const askEngine = <R extends EngineReply>(request: EngineRequest) =>
  exchangeRequest<EngineRequest, R, EngineReply>(request);

/** The runs of a file on an engine: loaded, then each run compared with the kernel's answer. */
function* replayRuns(file: XdpRunFile, sink: PacketSink | undefined): EngineExchange<VectorOutcome[]> {
  if (!file.load.accepted)
    return [{ name: 'load', passed: true, detail: 'the kernel refused the program; no runs' }];
  try {
    yield* askEngine({
      op: 'load',
      maps: file.maps,
      slots: (file.slots ?? []).map((s) => ({ map: s.map, index: s.index, insns: s.program.insns })),
      insns: file.program.insns,
    });
  } catch (error) {
    if (!(error instanceof ErrorReply)) throw error;
    return [{ name: 'load', passed: false, detail: error.message }];
  }
  const outcomes: VectorOutcome[] = [];
  for (const [i, run] of file.runs.entries()) {
    const name = `${file.program.name}/${i}:${run.name}`;
    const fail = (detail: string): VectorOutcome => ({ name, passed: false, detail });
    const packet = parseHex(run.packet) ?? new Uint8Array(0);
    const result = yield* askEngine<EngineRun>({ op: 'run', packet: run.packet });
    if (result.errno !== 0 || result.retval === null || result.output === null) {
      sink?.record('from-host', packet, `${name}: refused with errno ${result.errno}`);
      outcomes.push(
        result.errno === run.errno
          ? { name, passed: true, detail: '' }
          : fail(`refused with errno ${result.errno}, kernel ${run.errno}`),
      );
      continue;
    }
    const output = parseHex(result.output) ?? new Uint8Array(0);
    sink?.record('from-host', packet, `${name}: ${actionName(result.retval)}`);
    if (result.retval === XdpAction.PASS) sink?.record('to-guest', output, `${name}: output of XDP_PASS`);
    if (result.retval === XdpAction.TX) sink?.record('to-host', output, `${name}: output of XDP_TX`);
    if (run.errno !== 0) {
      outcomes.push(fail(`ran (retval ${result.retval}); the kernel refused with errno ${run.errno}`));
      continue;
    }
    if (result.retval !== run.retval) {
      const why = result.fault === undefined ? '' : ` (${result.fault})`;
      outcomes.push(fail(`retval ${result.retval}, kernel ${String(run.retval)}${why}`));
      continue;
    }
    if (result.output !== run.output) {
      outcomes.push(fail(`output ${result.output}\n   kernel ${String(run.output)}`));
      continue;
    }
    let mismatch: string | undefined;
    for (const m of run.maps) {
      const got = (yield* askEngine<EngineDump>({ op: 'dump', handle: m.handle })).entries;
      if (mismatch === undefined && JSON.stringify(got) !== JSON.stringify(m.entries))
        mismatch = `map ${m.handle}: ${JSON.stringify(got)}, kernel ${JSON.stringify(m.entries)}`;
    }
    outcomes.push(mismatch === undefined ? { name, passed: true, detail: '' } : fail(mismatch));
  }
  return outcomes;
}

function checkedRuns(document: unknown): XdpRunFile | VectorOutcome[] {
  const errors = schemaErrors('xdp-runs.schema.json', document);
  if (errors.length > 0) return [{ name: 'schema', passed: false, detail: errors.join('; ') }];
  return document as XdpRunFile;
}

/** Schema-checks and replays an XDP run file on the reference engine (each run's frame in and out to `sink`, if given). */
export function replayXdpRunFile(document: unknown, sink?: PacketSink): VectorOutcome[] {
  const file = checkedRuns(document);
  if (Array.isArray(file)) return file;
  const engine = new ReferenceEngine();
  return runExchange(replayRuns(file, sink), (request): EngineReply => {
    if (request.op === 'load') {
      engine.load(request);
      return {};
    }
    return request.op === 'run' ? engine.run(request.packet) : engine.dump(request.handle);
  });
}

/**
 * Schema-checks and replays an XDP run file on an engine under test.
 *
 * @throws ProtocolFailure when the engine breaks the protocol.
 */
export function replayXdpRunFileOn(document: unknown, engine: EngineUnderTest): Promise<VectorOutcome[]> {
  const file = checkedRuns(document);
  if (Array.isArray(file)) return Promise.resolve(file);
  return runExchangeAsync(replayRuns(file, undefined), async (request): Promise<EngineReply> => {
    if (request.op === 'load') {
      await engine.load(request);
      return {};
    }
    return request.op === 'run' ? engine.run(request.packet) : engine.dump(request.handle);
  });
}
