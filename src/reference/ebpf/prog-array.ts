/**
 * `BPF_MAP_TYPE_PROG_ARRAY`: slots that hold programs, for `bpf_tail_call`. Its values are programs,
 * not bytes: a slot is filled by loading a program into it (the device's PROG_ARRAY_LOAD, a Linux
 * loader's update with a program fd) and emptied by a delete; the byte-valued element operations
 * are refused. Iteration is an array's: every index below `max_entries`, in order.
 *
 * @module
 */
import { Errno, type MapDefinition } from '../../codec/index.js';
import { indexAt, indexKey, nextIndexKey } from './array-index.js';
import type { BpfMap } from './maps.js';
import type { AddressSpace, Region } from './memory.js';
import type { DecodedProgram } from './program.js';

/** Linux's `MAX_TAIL_CALL_CNT`: the tail calls one run may make; a further one falls through. */
export const MAX_TAIL_CALLS = 33;

/** A program in a slot, with what its holder needs to know of it. */
export interface TailProgram {
  /** The program, prepared against the maps it references. */
  readonly program: DecodedProgram;
  /** Its instruction slots. */
  readonly insnCnt: number;
  /** Handles of the maps it references (which may not be freed while it is held). */
  readonly handles: ReadonlySet<number>;
}

/** A program array: `max_entries` slots, each empty or holding one program. */
export class ProgArray implements BpfMap {
  readonly region: Region;
  readonly slots = 1;
  /** A slot's value on the syscall side is a 4-byte program reference (a Linux fd or id). */
  readonly wireValueSize = 4;
  private readonly held: (TailProgram | undefined)[];
  /** Per slot, the load that filled it (0: empty), so that a replaced program shows in `entries`. */
  private readonly loads: Uint32Array;
  private loadCount = 0;

  constructor(
    readonly definition: MapDefinition,
    private readonly space: AddressSpace,
    private readonly footprint: number,
  ) {
    this.held = new Array<TailProgram | undefined>(definition.maxEntries).fill(undefined);
    this.loads = new Uint32Array(definition.maxEntries);
    this.region = space.alloc('map', new Uint8Array(0), false, this);
  }

  /** Occupied slots. */
  get elementCount(): number {
    return this.held.reduce((n, p) => n + (p === undefined ? 0 : 1), 0);
  }

  /** The program of a slot, for a tail call: undefined when the slot is empty or out of range. */
  program(index: number): DecodedProgram | undefined {
    return this.held[index]?.program;
  }

  /** Every held program, by slot. */
  heldPrograms(): [number, TailProgram][] {
    const out: [number, TailProgram][] = [];
    this.held.forEach((p, i) => {
      if (p !== undefined) out.push([i, p]);
    });
    return out;
  }

  /** The status of placing a program into slot `index`: 0, or E2BIG beyond `max_entries`. */
  setRefusal(index: number): number {
    return index >= this.definition.maxEntries ? Errno.E2BIG : 0;
  }

  /** Places a program into a slot, replacing what it held; 0 or the errno of {@link setRefusal}. */
  set(index: number, program: TailProgram): number {
    const refused = this.setRefusal(index);
    if (refused !== 0) return refused;
    this.held[index] = program;
    this.loads[index] = ++this.loadCount;
    return 0;
  }

  /**
   * Program slots have no byte values to read (a Linux lookup would return a host program id), and
   * none to write ([dev-map-prog-array]).
   */
  lookup(): number {
    return Errno.EOPNOTSUPP;
  }

  /** Nor to write: a slot is filled by loading a program into it. */
  update(): number {
    return Errno.EOPNOTSUPP;
  }

  updateFromProgram(): number {
    return Errno.EOPNOTSUPP; // the verifier lets no program pass a program array to an update
  }

  updateRefusal(): number {
    return Errno.EOPNOTSUPP;
  }

  /** Empties a slot: E2BIG beyond `max_entries`, ENOENT when it is empty (Linux's fd arrays; [dev-map-prog-array]). */
  delete(key: Uint8Array): number {
    const index = indexAt(key, 0);
    if (index >= this.definition.maxEntries) return Errno.E2BIG;
    if (this.held[index] === undefined) return Errno.ENOENT;
    this.held[index] = undefined;
    this.loads[index] = 0;
    return 0;
  }

  /** An array's iteration: the index after `key`, from 0 when `key` is null or out of range. */
  nextKey(key: Uint8Array | null): Uint8Array | number {
    return nextIndexKey(key, this.definition.maxEntries);
  }

  valueRegion(): Region | undefined {
    return undefined; // no value a program could point into
  }

  valueRegionAt(): Region | undefined {
    return undefined;
  }

  /** Occupied slots, each with the serial number of the load that filled it (little-endian u32). */
  entries(): [Uint8Array, Uint8Array][] {
    const out: [Uint8Array, Uint8Array][] = [];
    this.loads.forEach((serial, i) => {
      if (serial !== 0) out.push([indexKey(i), indexKey(serial)]);
    });
    return out;
  }

  destroy(): void {
    this.held.fill(undefined);
    this.space.release(this.region);
    this.space.unreserve(this.footprint);
  }
}

/** Whether a map is a program array. */
export function isProgArray(map: BpfMap | undefined): map is ProgArray {
  return map instanceof ProgArray;
}
