/**
 * The engine protocol (`virtio-xdp-offload/engine/1`): how the kit replays XDP run vectors on an eBPF
 * runtime it did not build. The line framing is the device protocol's ({@link spawnLines}); the
 * requests load a program with its maps (and the programs of program-array slots), run it on a
 * frame as `BPF_PROG_TEST_RUN` does, and dump a map. Verification is not the engine's business: a
 * vector whose program the kernel refused is not sent.
 *
 * - `load` `{maps: [{handle, type, key_size, value_size, max_entries, data?}], slots: [{map, index,
 *   insns}], insns}` → `{}`: maps created in order (their handles are the vector's), `data` the
 *   initial value of element 0, slots filled, then the program loaded. Instructions are hex slots.
 * - `run` `{packet}` → `{errno, retval, output}`: errno 0 with the return value and the bytes from
 *   data_meta to data_end after the run, or the errno of a refused run with both null.
 * - `dump` `{handle}` → `{entries: [[key, value], ...]}`: hex, sorted by key; for an array only the
 *   elements that are not all zero.
 *
 * @module
 */
import { parseHex, toHex } from '../../codec/index.js';
import {
  TestRunError,
  XdpEngine,
  isProgArray,
  slotsFromBytes,
  type DecodedProgram,
} from '../../reference/ebpf/index.js';
import { mapContents, definitionOfVectorMap, type VectorMapDefinition } from '../../vectors/xdp-vectors.js';
import { ErrorReply, ProtocolFailure, spawnLines, type LineOptions } from './line-protocol.js';

/** The protocol's name and version, exchanged in `hello`. */
export const ENGINE_PROTOCOL = 'virtio-xdp-offload/engine/1';

/** A program for a slot of a program array. */
export interface EngineSlot {
  /** The program array's handle. */
  readonly map: number;
  /** The slot. */
  readonly index: number;
  /** Its instruction slots, hex. */
  readonly insns: string;
}

/** What the kit asks an engine. */
export type EngineRequest =
  | {
      /** Load a program with its maps. */
      readonly op: 'load';
      /** The maps, created in order. */
      readonly maps: readonly VectorMapDefinition[];
      /** Programs placed in program-array slots first. */
      readonly slots: readonly EngineSlot[];
      /** The program's instruction slots, hex. */
      readonly insns: string;
    }
  | {
      /** Run the loaded program on a frame. */
      readonly op: 'run';
      /** The frame, hex. */
      readonly packet: string;
    }
  | {
      /** A map's elements. */
      readonly op: 'dump';
      /** Its handle. */
      readonly handle: number;
    };

/** What a run gave. */
export interface EngineRun {
  /** 0, or the errno of a refused run. */
  readonly errno: number;
  /** The program's return value (null when refused). */
  readonly retval: number | null;
  /** The bytes from data_meta to data_end after the run, hex (null when refused). */
  readonly output: string | null;
  /** Why the program stopped, when it faulted (informative: not compared). */
  readonly fault?: string;
}

/** A map's elements: [key, value] in hex, sorted by key. */
export interface EngineDump {
  /** The elements. */
  readonly entries: readonly (readonly [string, string])[];
}

/** An engine the kit drives. */
export interface EngineUnderTest {
  /** Its name, from `hello`. */
  readonly implementation: string;
  /** Loads a program. @throws ErrorReply when the engine refuses. */
  load(request: Extract<EngineRequest, { op: 'load' }>): Promise<void>;
  /** Runs it on a frame. */
  run(packet: string): Promise<EngineRun>;
  /** Dumps a map. */
  dump(handle: number): Promise<EngineDump>;
  /** Ends the session. */
  close(): Promise<void>;
}

/** The reference engine behind the protocol: a fresh {@link XdpEngine} per load. */
export class ReferenceEngine {
  private engine = new XdpEngine();
  private program: DecodedProgram | undefined;

  /** Loads a program (throws ErrorReply for a map or slot the engine cannot take). */
  load(request: Extract<EngineRequest, { op: 'load' }>): void {
    const engine = new XdpEngine();
    const refuse = (message: string) => new ErrorReply('load', 'refused', message);
    for (const m of request.maps) {
      const handle = engine.createMap(definitionOfVectorMap(m));
      if (handle !== m.handle) throw refuse(`map ${m.handle} got handle ${handle}`);
      const data = m.data === undefined ? undefined : parseHex(m.data);
      if (data !== undefined && engine.map(handle)?.update(new Uint8Array(4), data, 0) !== 0)
        throw refuse(`map ${m.handle}: its data does not fit element 0`);
    }
    for (const slot of request.slots) {
      const array = engine.map(slot.map);
      const insns = slotsFromBytes(parseHex(slot.insns) ?? new Uint8Array(0));
      const placed = isProgArray(array)
        ? array.set(slot.index, { program: engine.load(insns), insnCnt: insns.length, handles: new Set() })
        : -1;
      if (placed !== 0) throw refuse(`a program does not go into slot ${slot.index} of map ${slot.map}`);
    }
    this.engine = engine;
    this.program = engine.load(slotsFromBytes(parseHex(request.insns) ?? new Uint8Array(0)));
  }

  /** Runs the loaded program. */
  run(packet: string): EngineRun {
    if (this.program === undefined) throw new ErrorReply('run', 'not-started', 'no program: send load first');
    try {
      const result = this.engine.run(this.program, parseHex(packet) ?? new Uint8Array(0));
      return {
        errno: 0,
        retval: result.retval,
        output: toHex(result.output),
        ...(result.fault === undefined ? {} : { fault: result.fault.message }),
      };
    } catch (error) {
      if (!(error instanceof TestRunError)) throw error;
      return { errno: error.errno, retval: null, output: null };
    }
  }

  /** A map's elements. */
  dump(handle: number): EngineDump {
    const map = this.engine.map(handle);
    return { entries: map === undefined ? [] : mapContents(map) };
  }

  /**
   * One request of the protocol, as a line's fields.
   *
   * @throws ErrorReply for a request the engine cannot carry out.
   */
  handle(request: Record<string, unknown>): Record<string, unknown> {
    switch (request.op) {
      case 'hello':
        return { protocol: ENGINE_PROTOCOL, implementation: 'virtio-xdp-offload reference engine' };
      case 'load':
        this.load(checkedLoad(request));
        return {};
      case 'run': {
        if (!isHex(request.packet)) throw new ErrorReply('run', 'bad-request', 'packet: not hex');
        const { errno, retval, output } = this.run(request.packet);
        return { errno, retval, output };
      }
      case 'dump':
        return { ...this.dump(Number(request.handle)) };
      case 'quit':
        return {};
      default:
        throw new ErrorReply(String(request.op), 'unknown-op', 'an operation this engine does not know');
    }
  }
}

const isHex = (v: unknown): v is string => typeof v === 'string' && parseHex(v) !== undefined;
const isHexOrNull = (v: unknown) => v === null || isHex(v);
/** Whole instruction slots in hex. */
const isSlots = (v: unknown): v is string => isHex(v) && v.length % 16 === 0;

/** A `load` request's fields, checked enough that the reference never loads what was not sent. */
function checkedLoad(request: Record<string, unknown>): Extract<EngineRequest, { op: 'load' }> {
  const bad = (what: string) => new ErrorReply('load', 'bad-request', what);
  if (!isSlots(request.insns)) throw bad('insns: not whole instruction slots in hex');
  if (!Array.isArray(request.maps)) throw bad('maps: not an array');
  if (!Array.isArray(request.slots)) throw bad('slots: not an array');
  for (const [i, m] of (request.maps as unknown[]).entries()) {
    const map = (m ?? {}) as Record<string, unknown>;
    for (const field of ['handle', 'type', 'key_size', 'value_size', 'max_entries'])
      if (typeof map[field] !== 'number' || !Number.isInteger(map[field]) || map[field] < 0)
        throw bad(`maps[${i}].${field}: not an integer`);
    if (map.data !== undefined && !isHex(map.data)) throw bad(`maps[${i}].data: not hex`);
  }
  for (const [i, s] of (request.slots as unknown[]).entries())
    if (!isSlots(((s ?? {}) as Record<string, unknown>).insns))
      throw bad(`slots[${i}].insns: not instruction slots`);
  return request as unknown as Extract<EngineRequest, { op: 'load' }>;
}

/**
 * Starts `command` as an engine under test.
 *
 * @throws ProtocolFailure when it does not answer `hello` with this protocol in time.
 */
export async function spawnEngine(command: string, options: LineOptions = {}): Promise<EngineUnderTest> {
  const client = await spawnLines(command, ENGINE_PROTOCOL, options);
  const malformed = (op: string, what: string) =>
    new ProtocolFailure(`the reply to ${op} is malformed: ${what}`);
  return {
    implementation: String(client.hello.implementation),
    load: async (request) => {
      await client.call({ ...request });
    },
    run: async (packet) => {
      const r = await client.call({ op: 'run', packet });
      if (typeof r.errno !== 'number' || !Number.isInteger(r.errno) || r.errno < 0)
        throw malformed('run', 'errno');
      if (r.retval !== null && (typeof r.retval !== 'number' || !Number.isInteger(r.retval)))
        throw malformed('run', 'retval');
      if (!isHexOrNull(r.output)) throw malformed('run', 'output: not hex');
      return { errno: r.errno, retval: r.retval, output: r.output };
    },
    dump: async (handle) => {
      const r = await client.call({ op: 'dump', handle });
      const entries = r.entries;
      if (
        !Array.isArray(entries) ||
        !entries.every(
          (e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'string',
        )
      )
        throw malformed('dump', 'entries: not [[key, value], ...] in hex');
      return { entries: entries as [string, string][] };
    },
    close: () => client.close(),
  };
}
