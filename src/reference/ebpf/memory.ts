/**
 * The engine's memory: a set of bounded regions (context, packet, stack, map values, plain memory).
 * A pointer is a 64-bit value whose upper word names a region and whose lower word is an offset into
 * it, so pointer arithmetic is plain 64-bit arithmetic and every access is checked against the
 * region's window.
 *
 * @module
 */
import { EngineFault } from './fault.js';

/** What a region is. */
export type RegionKind = 'mem' | 'stack' | 'packet' | 'ctx' | 'map' | 'map-value';

/** A bounded region of memory. */
export interface Region {
  /** Identifier; the pointer's upper word is `REGION_TAG + id`. */
  readonly id: number;
  /** What the region holds. */
  readonly kind: RegionKind;
  /** Backing bytes (for `ctx` and `map`, none). */
  bytes: Uint8Array;
  /** A view over the backing bytes. */
  view: DataView;
  /** Accessible window: offsets in [start, end). */
  start: number;
  /** See `start`. */
  end: number;
  /** Whether programs may write it. */
  readonly writable: boolean;
  /** For `map` and `map-value` regions: the map. */
  readonly owner?: unknown;
}

/** Upper-word tag of region pointers; region `id` is at `REGION_TAG + id`. */
export const REGION_TAG = 0x7f000000;
const MAX_REGIONS = 0x00ffffff;

const EMPTY = new Uint8Array(0);

/** The region table of one engine instance. */
export class AddressSpace {
  private readonly table: (Region | undefined)[] = [undefined];
  private readonly free: number[] = [];
  private readonly released: number[] = [];

  /** Allocates a region over `bytes` with window [0, bytes.length). */
  alloc(kind: RegionKind, bytes: Uint8Array = EMPTY, writable = true, owner?: unknown): Region {
    const id = this.free.pop() ?? this.table.length;
    if (id > MAX_REGIONS) throw new RangeError('address space exhausted');
    const region: Region = {
      id,
      kind,
      bytes,
      view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      start: 0,
      end: bytes.length,
      writable,
      ...(owner === undefined ? {} : { owner }),
    };
    this.table[id] = region;
    return region;
  }

  /**
   * Releases a region once no running program can hold a pointer to it: the id stays resolvable
   * until {@link sweep}, as an RCU-protected element stays readable until the program ends.
   */
  release(region: Region): void {
    this.released.push(region.id);
  }

  /** Frees released regions (call between runs). */
  sweep(): void {
    for (const id of this.released) {
      this.table[id] = undefined;
      this.free.push(id);
    }
    this.released.length = 0;
  }

  /** The region a pointer's upper word names, or undefined. */
  regionOf(hi: number): Region | undefined {
    const id = hi - REGION_TAG;
    return id > 0 && id < this.table.length ? this.table[id] : undefined;
  }

  /**
   * Checks an access of `size` bytes at pointer (hi, lo) and returns the byte offset into the
   * region's backing bytes. Faults when the pointer names no region or the access leaves its window.
   */
  check(hi: number, lo: number, size: number, write: boolean, pc: number): Region {
    const region = this.regionOf(hi);
    if (region === undefined) {
      throw new EngineFault(
        'bad-pointer',
        pc,
        `0x${(hi >>> 0).toString(16)}${(lo >>> 0).toString(16).padStart(8, '0')} is not a pointer`,
      );
    }
    const off = lo >>> 0;
    if (off < region.start || off + size > region.end) {
      throw new EngineFault(
        'out-of-bounds',
        pc,
        `${size}-byte access at ${region.kind}+${off}, window [${region.start}, ${region.end})`,
      );
    }
    if (write && !region.writable) throw new EngineFault('read-only', pc, `write to ${region.kind}`);
    return region;
  }
}

/** A pointer to offset `off` of a region, as a bigint (for APIs and tests). */
export function pointerOf(region: Region, off = 0): bigint {
  return (BigInt(REGION_TAG + region.id) << 32n) | BigInt(off >>> 0);
}
