/**
 * The engine's memory: a set of bounded regions (context, packet, stack, map values, plain memory).
 * A pointer is a 64-bit value whose upper word names a region (the layout's tag plus the region's
 * id) and whose lower word is the layout's bias plus an offset into it, so pointer arithmetic is
 * plain 64-bit arithmetic and every access is checked against the region's window.
 *
 * The layout is what a host address would be: the same program sees different pointer values on
 * two address spaces with different layouts. Running an accepted program on two such spaces and
 * comparing every byte it wrote to maps and packets exposes any pointer that leaked into data.
 *
 * @module
 */
import { EngineFault } from './fault.js';

/** What a region is. */
export type RegionKind = 'mem' | 'stack' | 'packet' | 'ctx' | 'map' | 'map-value';

/** A bounded region of memory. */
export interface Region {
  /** Identifier; the pointer's upper word is the layout's tag plus `id`. */
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

/** Where an address space puts its regions. */
export interface AddressLayout {
  /** Upper word of region 0's pointers; region `id` is at `tag + id`. A multiple of 2^24 in [2^24, 2^31). */
  readonly tag: number;
  /**
   * Added to every offset to form a pointer's lower word: in [2^30, 2^31) and a multiple of 8, so
   * the lower word of a pointer into any region (at most 2^30 bytes) is never 0 and never wraps.
   */
  readonly bias: number;
}

const MAX_REGIONS = 0x00ffffff;

/**
 * Bytes of map storage one address space may hold: what an engine (or a device's host engine)
 * allocates, whatever objects or guests ask of it, as a host's memory cgroup would bound it.
 */
export const SPACE_MEMORY_LIMIT = 1 << 30;
const TAG_UNIT = 0x01000000;
const BIAS_MIN = 0x40000000;

/** The layout of an address space made without a seed. */
export const DEFAULT_LAYOUT: AddressLayout = { tag: 0x7f000000, bias: BIAS_MIN };

/**
 * A layout drawn from `seed`; seeds that differ give layouts that differ in both tag and bias
 * (seed 0 is {@link DEFAULT_LAYOUT}).
 */
export function seededLayout(seed: number): AddressLayout {
  if (seed === 0) return DEFAULT_LAYOUT;
  // splitmix-style scrambling, so nearby seeds give unrelated layouts
  let x = Math.imul((seed ^ (seed >>> 16)) | 0, 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  x ^= x >>> 16;
  const tags = 0x7f - 1; // tag units 1 .. 0x7e, so tag + MAX_REGIONS stays below 2^31
  const tag = (1 + ((x >>> 0) % tags)) * TAG_UNIT;
  const bias = BIAS_MIN + ((Math.imul(x, 0x2545f491) >>> 3) % (BIAS_MIN / 8)) * 8;
  return { tag: tag === DEFAULT_LAYOUT.tag ? TAG_UNIT : tag, bias: bias === BIAS_MIN ? BIAS_MIN + 8 : bias };
}

const EMPTY = new Uint8Array(0);

/** The region table of one engine instance. */
export class AddressSpace {
  /** Upper word of region 0 (see {@link AddressLayout}). */
  readonly tag: number;
  /** Lower-word bias (see {@link AddressLayout}). */
  readonly bias: number;
  private readonly table: (Region | undefined)[] = [undefined];
  private readonly free: number[] = [];
  private readonly released: number[] = [];
  private readonly tasks: (() => void)[] = [];
  private inRun = false;
  private reservedBytes = 0;

  constructor(layout: AddressLayout = DEFAULT_LAYOUT) {
    this.tag = layout.tag;
    this.bias = layout.bias;
  }

  /** The upper word of pointers into `region`. */
  hiOf(region: Region): number {
    return this.tag + region.id;
  }

  /** The lower word of a pointer to offset `off` of any region. */
  loOf(off: number): number {
    return (this.bias + off) | 0;
  }

  /** The offset a pointer's lower word names (a huge value when below the bias: out of every window). */
  offsetOf(lo: number): number {
    return (lo - this.bias) >>> 0;
  }

  /** A pointer to offset `off` of a region, as a bigint (for APIs and tests). */
  pointer(region: Region, off = 0): bigint {
    return (BigInt(this.hiOf(region)) << 32n) | BigInt(this.loOf(off) >>> 0);
  }

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

  /** Whether a program is running (between {@link beginRun} and {@link endRun}). */
  get running(): boolean {
    return this.inRun;
  }

  /** A program starts: regions released from now on stay resolvable until {@link endRun}. */
  beginRun(): void {
    this.inRun = true;
  }

  /** The program ended: frees the regions released during the run and runs the queued tasks. */
  endRun(): void {
    this.inRun = false;
    if (this.released.length > 0) {
      for (const id of this.released) this.drop(id);
      this.released.length = 0;
    }
    // Most runs queue nothing: allocate only when a task is there (this is the per-packet path).
    if (this.tasks.length > 0) for (const task of this.tasks.splice(0)) task();
  }

  /**
   * Releases a region. Outside a run its id is free at once; during one it stays resolvable until
   * the run ends, as an RCU-protected element stays readable until the program that found it ends.
   */
  release(region: Region): void {
    if (this.inRun) this.released.push(region.id);
    else this.drop(region.id);
  }

  /** Queues `task` for the end of the current run, or of the next one when none is running. */
  afterRun(task: () => void): void {
    this.tasks.push(task);
  }

  /** Bytes of map storage held in this space (see {@link reserve}). */
  get reserved(): number {
    return this.reservedBytes;
  }

  /**
   * Takes `bytes` of the space's storage budget (1 GiB, `SPACE_MEMORY_LIMIT`) before a map
   * allocates them; false, and nothing taken, when the budget would be exceeded.
   */
  reserve(bytes: number): boolean {
    if (this.reservedBytes + bytes > SPACE_MEMORY_LIMIT) return false;
    this.reservedBytes += bytes;
    return true;
  }

  /** Gives back what {@link reserve} took. */
  unreserve(bytes: number): void {
    this.reservedBytes -= bytes;
  }

  /** Regions that exist now (for resource checks). */
  get live(): number {
    return this.table.length - 1 - this.free.length;
  }

  private drop(id: number): void {
    if (this.table[id] === undefined) return;
    this.table[id] = undefined;
    this.free.push(id);
  }

  /** The region a pointer's upper word names, or undefined. */
  regionOf(hi: number): Region | undefined {
    const id = hi - this.tag;
    return id > 0 && id < this.table.length ? this.table[id] : undefined;
  }

  /**
   * Checks an access of `size` bytes at pointer (hi, lo) and returns the region; the offset into its
   * backing bytes is {@link offsetOf}(lo). Faults when the pointer names no region or the access leaves its window.
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
    const off = this.offsetOf(lo);
    if (off < region.start || off + size > region.end) {
      throw new EngineFault(
        'out-of-bounds',
        pc,
        `${size}-byte access at ${region.kind}${off >= 0x80000000 ? `-${2 ** 32 - off}` : `+${off}`}, window [${region.start}, ${region.end})`,
      );
    }
    if (write && !region.writable) throw new EngineFault('read-only', pc, `write to ${region.kind}`);
    return region;
  }
}
