/**
 * BPF maps with Linux semantics: `BPF_MAP_TYPE_ARRAY` and `BPF_MAP_TYPE_HASH`, the errno of every
 * failure, update flags, get-next-key (with the "first key" and "key not found" cases), and value
 * pointers that stay valid for the program that obtained them. Per-CPU variants are not offloadable
 * (the spec's `map_types` defines only these two) and are refused at creation.
 *
 * Storage is preallocated at creation, as Linux preallocates both types: one slab of values (and,
 * for a hash, one of keys and an open-addressing index over typed arrays), so the memory a map holds
 * is a fixed multiple of what the device accounts for it, whatever is stored. A value becomes a
 * region only when a program looks it up; those regions are cached for later runs up to a small
 * bound and otherwise released when the run ends.
 *
 * @module
 */
import { BpfMapType, BpfUpdateFlag, Errno, type MapDefinition } from '../../codec/index.js';
import type { AddressSpace, Region } from './memory.js';

/** Linux errno values the map operations return (negated in helpers, as Linux does). */
export { Errno };
export type { MapDefinition };

/** Thrown when a definition is refused; `errno` is what Linux's BPF_MAP_CREATE returns. */
export class MapCreateError extends Error {
  /** The errno. */
  readonly errno: number;
  constructor(errno: number, message: string) {
    super(message);
    this.name = 'MapCreateError';
    this.errno = errno;
  }
}

/** A map: the operations the syscall side (and the device's control commands) use. */
export interface BpfMap {
  /** What the map was created with. */
  readonly definition: MapDefinition;
  /** The region a map pointer (`ld_imm64` with a map) names. */
  readonly region: Region;
  /** Elements the map holds (an array always holds `max_entries`). */
  readonly elementCount: number;
  /** The value of a key (a copy), or an errno. */
  lookup(key: Uint8Array): Uint8Array | number;
  /** Creates or replaces an element; 0 or an errno. */
  update(key: Uint8Array, value: Uint8Array, flags: number): number;
  /** Deletes an element; 0 or an errno. */
  delete(key: Uint8Array): number;
  /** The key after `key` (the first key when `key` is null or absent), or an errno. */
  nextKey(key: Uint8Array | null): Uint8Array | number;
  /** The region of an element's value, for a program's `bpf_map_lookup_elem`; undefined if absent. */
  valueRegion(key: Uint8Array): Region | undefined;
  /** The same, with the key read in place from `bytes` at `at` (no copy on the per-packet path). */
  valueRegionAt(bytes: Uint8Array, at: number): Region | undefined;
  /** Every element in iteration order (keys and value copies). */
  entries(): [Uint8Array, Uint8Array][];
  /** Frees the map's regions. */
  destroy(): void;
}

/** Value regions a map keeps between runs; beyond this, a run's regions are released when it ends. */
export const CACHED_VALUE_REGIONS = 64;

/** Largest value and hash key sizes, as Linux's limits for these types. */
const MAX_VALUE_SIZE = 1 << 20;
const MAX_HASH_KEY_SIZE = 512;

/** Validates a definition as Linux's map_create does for these types. */
export function checkDefinition(def: MapDefinition): void {
  const { type, keySize, valueSize, maxEntries } = def;
  if (type !== BpfMapType.ARRAY && type !== BpfMapType.HASH) {
    throw new MapCreateError(Errno.EINVAL, `map type ${type} is not offloadable`);
  }
  if (keySize === 0 || valueSize === 0 || maxEntries === 0)
    throw new MapCreateError(Errno.EINVAL, 'zero size');
  if (type === BpfMapType.ARRAY && keySize !== 4)
    throw new MapCreateError(Errno.EINVAL, 'an array key is 4 bytes');
  if (valueSize > MAX_VALUE_SIZE || (type === BpfMapType.HASH && keySize > MAX_HASH_KEY_SIZE)) {
    throw new MapCreateError(Errno.E2BIG, 'key or value too large');
  }
}

/** Buckets of a hash map's index: a power of two, at least 8, so the index is at most half full. */
function hashBuckets(maxEntries: number): number {
  let buckets = 8;
  while (buckets < 2 * maxEntries) buckets *= 2;
  return buckets;
}

/**
 * Bytes a map's storage takes: the value slab of an array; for a hash, the key and value slabs,
 * the index (at most 4 buckets of 4 bytes per entry) and 12 bytes of links and hash per entry.
 */
export function mapFootprint(def: MapDefinition): number {
  const { keySize, valueSize, maxEntries } = def;
  if (def.type === BpfMapType.ARRAY) return maxEntries * valueSize;
  return maxEntries * (keySize + valueSize + 12) + hashBuckets(maxEntries) * 4;
}

/**
 * The regions programs obtained for a map's values, by slot. A region is created on a program's
 * first lookup of a slot and kept while the cache is small, so steady traffic allocates nothing;
 * when a slot's value is replaced or freed while a run may hold its pointer, the region is detached
 * onto a copy of the old bytes (the program keeps reading what it looked up, as under Linux's RCU).
 */
class ValueRegions {
  private readonly bySlot = new Map<number, Region>();
  private trimQueued = false;

  constructor(
    private readonly space: AddressSpace,
    private readonly owner: BpfMap,
    private readonly values: Uint8Array,
    private readonly valueSize: number,
    private readonly pinned: number,
  ) {}

  /** The region of a slot's value, created on first use. */
  of(slot: number): Region {
    let region = this.bySlot.get(slot);
    if (region === undefined) {
      const size = this.valueSize;
      region = this.space.alloc(
        'map-value',
        this.values.subarray(slot * size, (slot + 1) * size),
        true,
        this.owner,
      );
      this.bySlot.set(slot, region);
      if (this.bySlot.size > CACHED_VALUE_REGIONS && !this.trimQueued) {
        this.trimQueued = true;
        this.space.afterRun(() => this.trim());
      }
    }
    return region;
  }

  /** Called before a slot's bytes change or the slot is freed: no region keeps seeing the slot. */
  detach(slot: number): void {
    const region = this.bySlot.get(slot);
    if (region === undefined) return;
    this.bySlot.delete(slot);
    if (this.space.running) {
      region.bytes = region.bytes.slice();
      region.view = new DataView(region.bytes.buffer);
    }
    this.space.release(region);
  }

  /** Releases every cached region except the pinned slot's. */
  trim(): void {
    this.trimQueued = false;
    if (this.bySlot.size <= CACHED_VALUE_REGIONS) return;
    for (const [slot, region] of this.bySlot) {
      if (slot === this.pinned) continue;
      this.bySlot.delete(slot);
      this.space.release(region);
    }
  }

  /** Releases every region. */
  destroy(): void {
    for (const region of this.bySlot.values()) this.space.release(region);
    this.bySlot.clear();
  }
}

/** Gives back what a map holds: its value regions, its own region and its reservation. */
function releaseMap(space: AddressSpace, region: Region, regions: ValueRegions, def: MapDefinition): void {
  regions.destroy();
  space.release(region);
  space.unreserve(mapFootprint(def));
}

function indexAt(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] as number) |
      ((bytes[at + 1] as number) << 8) |
      ((bytes[at + 2] as number) << 16) |
      ((bytes[at + 3] as number) << 24)) >>>
    0
  );
}

function indexKey(i: number): Uint8Array {
  return Uint8Array.of(i & 0xff, (i >>> 8) & 0xff, (i >>> 16) & 0xff, i >>> 24);
}

class ArrayMap implements BpfMap {
  readonly region: Region;
  private readonly storage: Uint8Array;
  private readonly regions: ValueRegions;

  /** An array holds every index. */
  get elementCount(): number {
    return this.definition.maxEntries;
  }

  constructor(
    readonly definition: MapDefinition,
    private readonly space: AddressSpace,
  ) {
    this.storage = new Uint8Array(definition.valueSize * definition.maxEntries);
    this.region = space.alloc('map', new Uint8Array(0), false, this);
    // Element 0 is pinned: a loaded program may hold its address as a constant (BPF_PSEUDO_MAP_VALUE).
    this.regions = new ValueRegions(space, this, this.storage, definition.valueSize, 0);
  }

  valueRegion(key: Uint8Array): Region | undefined {
    return key.length === 4 ? this.valueRegionAt(key, 0) : undefined;
  }

  valueRegionAt(bytes: Uint8Array, at: number): Region | undefined {
    const i = indexAt(bytes, at);
    return i < this.definition.maxEntries ? this.regions.of(i) : undefined;
  }

  lookup(key: Uint8Array): Uint8Array | number {
    if (key.length !== 4) return Errno.ENOENT;
    const i = indexAt(key, 0);
    if (i >= this.definition.maxEntries) return Errno.ENOENT;
    const size = this.definition.valueSize;
    return this.storage.slice(i * size, (i + 1) * size);
  }

  update(key: Uint8Array, value: Uint8Array, flags: number): number {
    if (flags > BpfUpdateFlag.EXIST) return Errno.EINVAL;
    const i = indexAt(key, 0);
    if (i >= this.definition.maxEntries) return Errno.E2BIG;
    if (flags === BpfUpdateFlag.NOEXIST) return Errno.EEXIST; // every index of an array exists
    // In place, as Linux updates an array element: a program holding its pointer sees the new value.
    const size = this.definition.valueSize;
    this.storage.set(value.subarray(0, size), i * size);
    return 0;
  }

  delete(): number {
    return Errno.EINVAL;
  }

  nextKey(key: Uint8Array | null): Uint8Array | number {
    const n = this.definition.maxEntries;
    const i = key === null ? n : indexAt(key, 0);
    const next = i >= n ? 0 : i + 1;
    return next >= n ? Errno.ENOENT : indexKey(next);
  }

  entries(): [Uint8Array, Uint8Array][] {
    const size = this.definition.valueSize;
    return Array.from({ length: this.definition.maxEntries }, (_, i) => [
      indexKey(i),
      this.storage.slice(i * size, (i + 1) * size),
    ]);
  }

  destroy(): void {
    releaseMap(this.space, this.region, this.regions, this.definition);
  }
}

const NONE = -1;

/** A per-map secret for the index's hash, so a guest cannot choose keys that all collide. */
function hashSeed(): number {
  return (crypto.getRandomValues(new Uint32Array(1))[0] as number) | 0;
}

/**
 * A hash map over preallocated slabs: `maxEntries` key and value slots, an open-addressing index
 * (linear probing, at most half full, deletion by backward shift, so no tombstones), and a doubly
 * linked list of slots in insertion order for get-next-key. Every operation costs O(key size),
 * expected; nothing is copied per call.
 */
class HashMap implements BpfMap {
  readonly region: Region;
  private readonly keys: Uint8Array;
  private readonly values: Uint8Array;
  /** Index buckets: slot + 1, or 0 when empty. */
  private readonly buckets: Int32Array;
  private readonly mask: number;
  /** Each used slot's hash. */
  private readonly hashes: Int32Array;
  /** Insertion-order links of used slots; `next` also chains the free slots. */
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private head = NONE;
  private tail = NONE;
  private freeHead: number;
  private size = 0;

  /** Elements the hash holds. */
  get elementCount(): number {
    return this.size;
  }
  private readonly seed = hashSeed();
  private readonly regions: ValueRegions;

  constructor(
    readonly definition: MapDefinition,
    private readonly space: AddressSpace,
  ) {
    const { keySize, valueSize, maxEntries } = definition;
    this.keys = new Uint8Array(keySize * maxEntries);
    this.values = new Uint8Array(valueSize * maxEntries);
    const buckets = hashBuckets(maxEntries);
    this.buckets = new Int32Array(buckets);
    this.mask = buckets - 1;
    this.hashes = new Int32Array(maxEntries);
    this.prev = new Int32Array(maxEntries);
    this.next = new Int32Array(maxEntries);
    for (let i = 0; i < maxEntries; i++) this.next[i] = i + 1 < maxEntries ? i + 1 : NONE;
    this.freeHead = 0;
    this.region = space.alloc('map', new Uint8Array(0), false, this);
    this.regions = new ValueRegions(space, this, this.values, valueSize, NONE);
  }

  private hash(bytes: Uint8Array, at: number): number {
    // FNV-1a, seeded, with a final avalanche so the low bits (the bucket) depend on every byte.
    let h = 0x811c9dc5 ^ this.seed;
    for (let i = 0, n = this.definition.keySize; i < n; i++)
      h = Math.imul(h ^ (bytes[at + i] as number), 0x01000193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    return h ^ (h >>> 13);
  }

  private sameKey(slot: number, bytes: Uint8Array, at: number): boolean {
    const n = this.definition.keySize;
    const base = slot * n;
    const keys = this.keys;
    for (let i = 0; i < n; i++) if (keys[base + i] !== bytes[at + i]) return false;
    return true;
  }

  /** The bucket holding the key, or the empty bucket where it would go (negated, minus one). */
  private find(bytes: Uint8Array, at: number, h: number): number {
    const { buckets, mask, hashes } = this;
    for (let b = h & mask; ; b = (b + 1) & mask) {
      const entry = buckets[b] as number;
      if (entry === 0) return -b - 1;
      const slot = entry - 1;
      if (hashes[slot] === h && this.sameKey(slot, bytes, at)) return b;
    }
  }

  private slotAt(bytes: Uint8Array, at: number): number {
    const b = this.find(bytes, at, this.hash(bytes, at));
    return b < 0 ? NONE : (this.buckets[b] as number) - 1;
  }

  valueRegion(key: Uint8Array): Region | undefined {
    return key.length === this.definition.keySize ? this.valueRegionAt(key, 0) : undefined;
  }

  valueRegionAt(bytes: Uint8Array, at: number): Region | undefined {
    const slot = this.slotAt(bytes, at);
    return slot === NONE ? undefined : this.regions.of(slot);
  }

  lookup(key: Uint8Array): Uint8Array | number {
    if (key.length !== this.definition.keySize) return Errno.ENOENT;
    const slot = this.slotAt(key, 0);
    if (slot === NONE) return Errno.ENOENT;
    const size = this.definition.valueSize;
    return this.values.slice(slot * size, (slot + 1) * size);
  }

  update(key: Uint8Array, value: Uint8Array, flags: number): number {
    if (flags > BpfUpdateFlag.EXIST) return Errno.EINVAL;
    const h = this.hash(key, 0);
    const b = this.find(key, 0, h);
    const { valueSize } = this.definition;
    if (b >= 0) {
      if (flags === BpfUpdateFlag.NOEXIST) return Errno.EEXIST;
      // Like Linux, a replacement is a new element: a program still holding the old value pointer
      // keeps reading the old value until it ends.
      const slot = (this.buckets[b] as number) - 1;
      this.regions.detach(slot);
      this.values.set(value.subarray(0, valueSize), slot * valueSize);
      return 0;
    }
    if (flags === BpfUpdateFlag.EXIST) return Errno.ENOENT;
    const slot = this.freeHead;
    if (slot === NONE) return Errno.E2BIG;
    this.freeHead = this.next[slot] as number;
    const { keySize } = this.definition;
    this.keys.set(key.subarray(0, keySize), slot * keySize);
    this.values.set(value.subarray(0, valueSize), slot * valueSize);
    this.hashes[slot] = h;
    this.buckets[-b - 1] = slot + 1;
    this.prev[slot] = this.tail;
    this.next[slot] = NONE;
    if (this.tail === NONE) this.head = slot;
    else this.next[this.tail] = slot;
    this.tail = slot;
    this.size++;
    return 0;
  }

  delete(key: Uint8Array): number {
    if (key.length !== this.definition.keySize) return Errno.ENOENT;
    const b = this.find(key, 0, this.hash(key, 0));
    if (b < 0) return Errno.ENOENT;
    const slot = (this.buckets[b] as number) - 1;
    this.regions.detach(slot);
    this.unindex(b);
    const p = this.prev[slot] as number;
    const n = this.next[slot] as number;
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
    this.next[slot] = this.freeHead;
    this.freeHead = slot;
    this.size--;
    return 0;
  }

  /** Empties bucket `b`, moving later entries of its probe run back so every key stays findable. */
  private unindex(b: number): void {
    const { buckets, mask, hashes } = this;
    let hole = b;
    for (let i = (b + 1) & mask; ; i = (i + 1) & mask) {
      const entry = buckets[i] as number;
      if (entry === 0) break;
      const home = (hashes[entry - 1] as number) & mask;
      // The entry may fill the hole when its home is not in the cyclic range (hole, i].
      if (((i - home) & mask) >= ((i - hole) & mask)) {
        buckets[hole] = entry;
        hole = i;
      }
    }
    buckets[hole] = 0;
  }

  nextKey(key: Uint8Array | null): Uint8Array | number {
    if (this.size === 0) return Errno.ENOENT;
    // A key that is not in the map restarts the iteration, as Linux's hash map does.
    const slot = key === null || key.length !== this.definition.keySize ? NONE : this.slotAt(key, 0);
    const next = slot === NONE ? this.head : (this.next[slot] as number);
    return next === NONE ? Errno.ENOENT : this.keyOf(next);
  }

  private keyOf(slot: number): Uint8Array {
    const n = this.definition.keySize;
    return this.keys.slice(slot * n, (slot + 1) * n);
  }

  entries(): [Uint8Array, Uint8Array][] {
    const out: [Uint8Array, Uint8Array][] = [];
    const size = this.definition.valueSize;
    for (let s = this.head; s !== NONE; s = this.next[s] as number)
      out.push([this.keyOf(s), this.values.slice(s * size, (s + 1) * size)]);
    return out;
  }

  destroy(): void {
    releaseMap(this.space, this.region, this.regions, this.definition);
  }
}

/** Creates a map in an address space; throws {@link MapCreateError} as Linux would refuse it. */
export function createMap(def: MapDefinition, space: AddressSpace): BpfMap {
  checkDefinition(def);
  const bytes = mapFootprint(def);
  if (!space.reserve(bytes))
    throw new MapCreateError(Errno.ENOMEM, `${bytes} bytes of map storage are beyond the host's budget`);
  try {
    return def.type === BpfMapType.ARRAY ? new ArrayMap(def, space) : new HashMap(def, space);
  } catch (error) {
    space.unreserve(bytes);
    throw error;
  }
}

/** The map a map pointer's region belongs to. */
export function mapOfRegion(region: Region | undefined): BpfMap | undefined {
  return region?.kind === 'map' ? (region.owner as BpfMap) : undefined;
}
