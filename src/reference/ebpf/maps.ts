/**
 * BPF maps with Linux semantics: the array, hash, per-CPU, LRU hash and LPM trie types (the program
 * array is in `prog-array.ts`), the errno of every failure, update flags, get-next-key (with the
 * "first key" and "key not found" cases), and value pointers that stay valid for the program that
 * obtained them.
 *
 * Storage is preallocated at creation, as Linux preallocates both types: one slab of values (and,
 * for a hash, one of keys and an open-addressing index over typed arrays), so the memory a map holds
 * is a fixed multiple of what the device accounts for it, whatever is stored. A value becomes a
 * region only when a program looks it up; those regions are cached for later runs up to a small
 * bound and otherwise released when the run ends.
 *
 * @module
 */
import { BpfMapType, BpfUpdateFlag, Errno, toHex, type MapDefinition } from '../../codec/index.js';
import { indexAt, indexKey, nextIndexKey } from './array-index.js';
import type { AddressSpace, Region } from './memory.js';
import { ProgArray } from './prog-array.js';

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
  /** Values each element holds: the slots of a per-CPU map, 1 for every other type. */
  readonly slots: number;
  /**
   * Bytes of a value as the syscall side (and the wire) carries it: for a per-CPU map, one value
   * per slot, each padded to a multiple of 8 bytes (as Linux's `round_up(value_size, 8)` per CPU);
   * otherwise the value size.
   */
  readonly wireValueSize: number;
  /** The value of a key (a copy, `wireValueSize` bytes), or an errno. */
  lookup(key: Uint8Array): Uint8Array | number;
  /** Creates or replaces an element with a `wireValueSize`-byte value; 0 or an errno. */
  update(key: Uint8Array, value: Uint8Array, flags: number): number;
  /**
   * A program's `bpf_map_update_elem` on slot `slot`: for a per-CPU map only that slot's value is
   * written (a new element's other slots are zero, as Linux's `pcpu_init_value` leaves them).
   */
  updateFromProgram(key: Uint8Array, value: Uint8Array, flags: number, slot: number): number;
  /**
   * The status {@link update} would return for `key` after the elements whose identities are in
   * `pending` were added, without changing anything; when it would add an element, its identity
   * goes into `pending`. A batch checks every element with this before it applies one.
   */
  updateRefusal(key: Uint8Array, flags: number, pending: Set<string>): number;
  /** Deletes an element; 0 or an errno. */
  delete(key: Uint8Array): number;
  /** The key after `key` (the first key when `key` is null or absent), or an errno. */
  nextKey(key: Uint8Array | null): Uint8Array | number;
  /** The region of an element's value in slot `slot`, for a program's lookup; undefined if absent. */
  valueRegion(key: Uint8Array, slot?: number): Region | undefined;
  /** The same, with the key read in place from `bytes` at `at` (no copy on the per-packet path). */
  valueRegionAt(bytes: Uint8Array, at: number, slot: number): Region | undefined;
  /** Every element in iteration order (keys and `wireValueSize`-byte value copies). */
  entries(): [Uint8Array, Uint8Array][];
  /** Frees the map's regions. */
  destroy(): void;
}

/** Value regions a map keeps between runs; beyond this, a run's regions are released when it ends. */
export const CACHED_VALUE_REGIONS = 64;

/** Largest value and hash key sizes, as Linux's limits for these types. */
const MAX_VALUE_SIZE = 1 << 20;
const MAX_HASH_KEY_SIZE = 512;
/** Linux's `PCPU_MIN_UNIT_SIZE`: a per-CPU value, rounded up to 8, may not exceed it. */
const MAX_PERCPU_VALUE_SIZE = 32768;
/** An LPM trie key: a 4-byte prefix length and 1 to 256 bytes of data. */
const LPM_KEY_MIN = 5;
const LPM_KEY_MAX = 4 + 256;

const up8 = (n: number) => Math.ceil(n / 8) * 8;

/** Whether a map type keeps one value per slot. */
export function isPerCpu(type: number): boolean {
  return type === BpfMapType.PERCPU_ARRAY || type === BpfMapType.PERCPU_HASH;
}

/** Whether a map type is one of the array types (4-byte index keys, every index present). */
export function isArrayType(type: number): boolean {
  return type === BpfMapType.ARRAY || type === BpfMapType.PERCPU_ARRAY;
}

/** The value size the syscall side carries for a definition with `slots` slots per value. */
export function wireValueSize(def: MapDefinition, slots: number): number {
  return isPerCpu(def.type) ? slots * up8(def.valueSize) : def.valueSize;
}

const TYPES: ReadonlySet<number> = new Set(Object.values(BpfMapType));

/**
 * Validates a definition as Linux's map_create does for these types.
 *
 * @throws MapCreateError with the errno Linux's BPF_MAP_CREATE returns (EINVAL, E2BIG).
 */
export function checkDefinition(def: MapDefinition): void {
  const { type, keySize, valueSize, maxEntries } = def;
  if (!TYPES.has(type)) throw new MapCreateError(Errno.EINVAL, `map type ${type} is not offloadable`);
  if (keySize === 0 || valueSize === 0 || maxEntries === 0)
    throw new MapCreateError(Errno.EINVAL, 'zero size');
  if (isArrayType(type) && keySize !== 4) throw new MapCreateError(Errno.EINVAL, 'an array key is 4 bytes');
  if (type === BpfMapType.PROG_ARRAY && (keySize !== 4 || valueSize !== 4))
    throw new MapCreateError(Errno.EINVAL, 'a program array has 4-byte keys and 4-byte values');
  if (type === BpfMapType.LPM_TRIE && (keySize < LPM_KEY_MIN || keySize > LPM_KEY_MAX))
    throw new MapCreateError(Errno.EINVAL, 'an LPM trie key is a 4-byte prefix length and 1 to 256 bytes');
  if (isPerCpu(type) && up8(valueSize) > MAX_PERCPU_VALUE_SIZE)
    throw new MapCreateError(Errno.E2BIG, 'a per-CPU value is at most 32768 bytes');
  if (valueSize > MAX_VALUE_SIZE || (!isArrayType(type) && keySize > MAX_HASH_KEY_SIZE)) {
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
 * Bytes a map's storage takes: the value slab of an array (one value per slot); for a hash or a
 * trie, the key and value slabs, the index (at most 4 buckets of 4 bytes per entry) and 20 bytes
 * of links and hash per entry. Preallocated, so that what a map holds stays a fixed multiple of
 * what the device accounts for it, whatever the guest stores ([dev-resource-bounded]).
 */
export function mapFootprint(def: MapDefinition, slots = 1): number {
  const { keySize, valueSize, maxEntries } = def;
  const values = maxEntries * valueSize * (isPerCpu(def.type) ? slots : 1);
  if (isArrayType(def.type)) return values;
  if (def.type === BpfMapType.PROG_ARRAY) return maxEntries * 16; // a reference and a serial per slot
  return values + maxEntries * (keySize + 20) + hashBuckets(maxEntries) * 4;
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
function releaseMap(space: AddressSpace, region: Region, regions: ValueRegions, footprint: number): void {
  regions.destroy();
  space.release(region);
  space.unreserve(footprint);
}

/**
 * Element values over one slab: `slots` values of `valueSize` bytes per element, contiguous, and
 * their conversions to and from the syscall side's layout (each slot padded to 8 bytes).
 */
class ValueSlab {
  readonly bytes: Uint8Array;
  readonly wireSize: number;

  constructor(
    readonly valueSize: number,
    readonly slots: number,
    readonly perCpu: boolean,
    elements: number,
  ) {
    this.bytes = new Uint8Array(valueSize * slots * elements);
    this.wireSize = perCpu ? slots * up8(valueSize) : valueSize;
  }

  /** The index of an element's value in slot `slot` (the unit {@link ValueRegions} counts in). */
  unit(element: number, slot: number): number {
    return element * this.slots + (this.perCpu ? slot : 0);
  }

  /** A copy of an element's values in the syscall layout. */
  read(element: number): Uint8Array {
    const { valueSize, slots } = this;
    const base = element * slots * valueSize;
    if (!this.perCpu) return this.bytes.slice(base, base + valueSize);
    const out = new Uint8Array(this.wireSize);
    const stride = up8(valueSize);
    for (let s = 0; s < slots; s++)
      out.set(this.bytes.subarray(base + s * valueSize, base + (s + 1) * valueSize), s * stride);
    return out;
  }

  /** Writes an element's values from the syscall layout. */
  write(element: number, value: Uint8Array): void {
    const { valueSize, slots } = this;
    const base = element * slots * valueSize;
    if (!this.perCpu) {
      this.bytes.set(value.subarray(0, valueSize), base);
      return;
    }
    const stride = up8(valueSize);
    for (let s = 0; s < slots; s++)
      this.bytes.set(value.subarray(s * stride, s * stride + valueSize), base + s * valueSize);
  }

  /** Writes one slot's value (a program's update); `fresh` zeroes the element's other slots. */
  writeSlot(element: number, slot: number, value: Uint8Array, fresh: boolean): void {
    const { valueSize, slots } = this;
    const base = element * slots * valueSize;
    if (fresh && this.perCpu) this.bytes.fill(0, base, base + slots * valueSize);
    this.bytes.set(value.subarray(0, valueSize), base + (this.perCpu ? slot : 0) * valueSize);
  }
}

/** `BPF_MAP_TYPE_ARRAY` and `BPF_MAP_TYPE_PERCPU_ARRAY`. */
class ArrayMap implements BpfMap {
  readonly region: Region;
  readonly slots: number;
  readonly wireValueSize: number;
  private readonly slab: ValueSlab;
  private readonly regions: ValueRegions;

  /** An array holds every index. */
  get elementCount(): number {
    return this.definition.maxEntries;
  }

  constructor(
    readonly definition: MapDefinition,
    private readonly space: AddressSpace,
    slots: number,
    private readonly footprint: number,
  ) {
    const perCpu = isPerCpu(definition.type);
    this.slots = perCpu ? slots : 1;
    this.slab = new ValueSlab(definition.valueSize, this.slots, perCpu, definition.maxEntries);
    this.wireValueSize = this.slab.wireSize;
    this.region = space.alloc('map', new Uint8Array(0), false, this);
    // Element 0 is pinned: a loaded program may hold its address as a constant (BPF_PSEUDO_MAP_VALUE).
    this.regions = new ValueRegions(space, this, this.slab.bytes, definition.valueSize, 0);
  }

  valueRegion(key: Uint8Array, slot = 0): Region | undefined {
    return key.length === 4 ? this.valueRegionAt(key, 0, slot) : undefined;
  }

  valueRegionAt(bytes: Uint8Array, at: number, slot: number): Region | undefined {
    const i = indexAt(bytes, at);
    return i < this.definition.maxEntries ? this.regions.of(this.slab.unit(i, slot)) : undefined;
  }

  lookup(key: Uint8Array): Uint8Array | number {
    if (key.length !== 4) return Errno.ENOENT;
    const i = indexAt(key, 0);
    return i >= this.definition.maxEntries ? Errno.ENOENT : this.slab.read(i); // [dev-map-lookup-missing]
  }

  updateRefusal(key: Uint8Array, flags: number): number {
    if (flags > BpfUpdateFlag.EXIST) return Errno.EINVAL;
    if (indexAt(key, 0) >= this.definition.maxEntries) return Errno.E2BIG; // [dev-map-update-space]
    // [dev-map-update-flags]: every index of an array exists
    return flags === BpfUpdateFlag.NOEXIST ? Errno.EEXIST : 0;
  }

  update(key: Uint8Array, value: Uint8Array, flags: number): number {
    const refused = this.updateRefusal(key, flags);
    // In place, as Linux updates an array element: a program holding its pointer sees the new value.
    if (refused === 0) this.slab.write(indexAt(key, 0), value);
    return refused;
  }

  updateFromProgram(key: Uint8Array, value: Uint8Array, flags: number, slot: number): number {
    const refused = this.updateRefusal(key, flags);
    if (refused === 0) this.slab.writeSlot(indexAt(key, 0), slot, value, false);
    return refused;
  }

  delete(): number {
    return Errno.EINVAL; // [dev-map-delete]
  }

  nextKey(key: Uint8Array | null): Uint8Array | number {
    return nextIndexKey(key, this.definition.maxEntries);
  }

  entries(): [Uint8Array, Uint8Array][] {
    return Array.from({ length: this.definition.maxEntries }, (_, i) => [indexKey(i), this.slab.read(i)]);
  }

  destroy(): void {
    releaseMap(this.space, this.region, this.regions, this.footprint);
  }
}

const NONE = -1;

/** A per-map secret for the index's hash, so a guest cannot choose keys that all collide. */
function hashSeed(): number {
  return (crypto.getRandomValues(new Uint32Array(1))[0] as number) | 0;
}

/** A doubly linked list over slot numbers, in typed arrays: O(1) append, removal and front. */
class SlotList {
  readonly prev: Int32Array;
  readonly next: Int32Array;
  head = NONE;
  tail = NONE;

  constructor(size: number) {
    this.prev = new Int32Array(size);
    this.next = new Int32Array(size);
  }

  append(slot: number): void {
    this.prev[slot] = this.tail;
    this.next[slot] = NONE;
    if (this.tail === NONE) this.head = slot;
    else this.next[this.tail] = slot;
    this.tail = slot;
  }

  remove(slot: number): void {
    const p = this.prev[slot] as number;
    const n = this.next[slot] as number;
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
  }
}

/**
 * Keys over a preallocated slab with an open-addressing index (linear probing, at most half full,
 * deletion by backward shift, so no tombstones), a free list, and a list of used slots in
 * insertion order for get-next-key. Every operation costs O(key size), expected. The hash types
 * and the LPM trie keep their elements in it; `identity` bytes (a trie's masked prefix) are what
 * it indexes.
 */
class KeyTable {
  readonly keys: Uint8Array;
  private readonly buckets: Int32Array;
  private readonly mask: number;
  private readonly hashes: Int32Array;
  private readonly ids: Uint8Array;
  /** Used slots in insertion order. */
  readonly order: SlotList;
  private freeHead: number;
  private readonly freeNext: Int32Array;
  size = 0;
  private readonly seed = hashSeed();

  constructor(
    readonly keySize: number,
    readonly maxEntries: number,
  ) {
    this.keys = new Uint8Array(keySize * maxEntries);
    this.ids = new Uint8Array(keySize * maxEntries);
    const buckets = hashBuckets(maxEntries);
    this.buckets = new Int32Array(buckets);
    this.mask = buckets - 1;
    this.hashes = new Int32Array(maxEntries);
    this.order = new SlotList(maxEntries);
    this.freeNext = new Int32Array(maxEntries);
    for (let i = 0; i < maxEntries; i++) this.freeNext[i] = i + 1 < maxEntries ? i + 1 : NONE;
    this.freeHead = maxEntries > 0 ? 0 : NONE;
  }

  get full(): boolean {
    return this.freeHead === NONE;
  }

  hash(bytes: Uint8Array, at: number): number {
    // FNV-1a, seeded, with a final avalanche so the low bits (the bucket) depend on every byte.
    let h = 0x811c9dc5 ^ this.seed;
    for (let i = 0, n = this.keySize; i < n; i++) h = Math.imul(h ^ (bytes[at + i] as number), 0x01000193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    return h ^ (h >>> 13);
  }

  private same(slot: number, bytes: Uint8Array, at: number): boolean {
    const n = this.keySize;
    const base = slot * n;
    const ids = this.ids;
    for (let i = 0; i < n; i++) if (ids[base + i] !== bytes[at + i]) return false;
    return true;
  }

  /** The bucket holding the identity, or the empty bucket where it would go (negated, minus one). */
  private find(bytes: Uint8Array, at: number, h: number): number {
    const { buckets, mask, hashes } = this;
    for (let b = h & mask; ; b = (b + 1) & mask) {
      const entry = buckets[b] as number;
      if (entry === 0) return -b - 1;
      const slot = entry - 1;
      if (hashes[slot] === h && this.same(slot, bytes, at)) return b;
    }
  }

  /** The slot of an identity, or NONE. */
  slotOf(id: Uint8Array, at = 0): number {
    const b = this.find(id, at, this.hash(id, at));
    return b < 0 ? NONE : (this.buckets[b] as number) - 1;
  }

  /** Adds an identity absent from the table (the caller checked) with its key; the slot. */
  add(id: Uint8Array, key: Uint8Array): number {
    const slot = this.freeHead;
    if (slot === NONE) throw new Error('key table full');
    const h = this.hash(id, 0);
    const b = this.find(id, 0, h);
    this.freeHead = this.freeNext[slot] as number;
    const n = this.keySize;
    this.ids.set(id.subarray(0, n), slot * n);
    this.keys.set(key.subarray(0, n), slot * n);
    this.hashes[slot] = h;
    this.buckets[-b - 1] = slot + 1;
    this.order.append(slot);
    this.size++;
    return slot;
  }

  /** Removes a used slot. */
  remove(slot: number): void {
    const n = this.keySize;
    const b = this.find(this.ids, slot * n, this.hashes[slot] as number);
    this.unindex(b);
    this.order.remove(slot);
    this.freeNext[slot] = this.freeHead;
    this.freeHead = slot;
    this.size--;
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

  keyOf(slot: number): Uint8Array {
    const n = this.keySize;
    return this.keys.slice(slot * n, (slot + 1) * n);
  }

  /** Replaces the stored key bytes of a slot (a trie keeps the data as last written). */
  setKey(slot: number, key: Uint8Array): void {
    this.keys.set(key.subarray(0, this.keySize), slot * this.keySize);
  }
}

/**
 * `BPF_MAP_TYPE_HASH`, `PERCPU_HASH` and `LRU_HASH` over a {@link KeyTable}. An LRU hash never
 * refuses a new key for space: it evicts the element used least recently (updated or looked up
 * by a program), one of the choices X.7.3 allows.
 */
class HashMap implements BpfMap {
  readonly region: Region;
  readonly slots: number;
  readonly wireValueSize: number;
  private readonly table: KeyTable;
  private readonly slab: ValueSlab;
  private readonly regions: ValueRegions;
  /** Least recently used first (LRU hash only). */
  private readonly recency: SlotList | undefined;

  /** Elements the hash holds. */
  get elementCount(): number {
    return this.table.size;
  }

  constructor(
    readonly definition: MapDefinition,
    private readonly space: AddressSpace,
    slots: number,
    private readonly footprint: number,
  ) {
    const { keySize, valueSize, maxEntries, type } = definition;
    const perCpu = isPerCpu(type);
    this.slots = perCpu ? slots : 1;
    this.table = new KeyTable(keySize, maxEntries);
    this.slab = new ValueSlab(valueSize, this.slots, perCpu, maxEntries);
    this.wireValueSize = this.slab.wireSize;
    this.recency = type === BpfMapType.LRU_HASH ? new SlotList(maxEntries) : undefined;
    this.region = space.alloc('map', new Uint8Array(0), false, this);
    this.regions = new ValueRegions(space, this, this.slab.bytes, valueSize, NONE);
  }

  private touch(slot: number): void {
    const recency = this.recency;
    if (recency === undefined || recency.tail === slot) return;
    recency.remove(slot);
    recency.append(slot);
  }

  valueRegion(key: Uint8Array, slot = 0): Region | undefined {
    return key.length === this.definition.keySize ? this.valueRegionAt(key, 0, slot) : undefined;
  }

  valueRegionAt(bytes: Uint8Array, at: number, slot: number): Region | undefined {
    const element = this.table.slotOf(bytes, at);
    if (element === NONE) return undefined;
    this.touch(element);
    return this.regions.of(this.slab.unit(element, slot));
  }

  lookup(key: Uint8Array): Uint8Array | number {
    if (key.length !== this.definition.keySize) return Errno.ENOENT;
    const element = this.table.slotOf(key);
    return element === NONE ? Errno.ENOENT : this.slab.read(element); // [dev-map-lookup-missing]
  }

  updateRefusal(key: Uint8Array, flags: number, pending: Set<string>): number {
    if (flags > BpfUpdateFlag.EXIST) return Errno.EINVAL;
    const id = toHex(key);
    const exists = pending.has(id) || this.table.slotOf(key) !== NONE;
    // [dev-map-update-flags]
    if (exists) return flags === BpfUpdateFlag.NOEXIST ? Errno.EEXIST : 0;
    if (flags === BpfUpdateFlag.EXIST) return Errno.ENOENT;
    // [dev-map-update-space]; an LRU hash makes room instead ([dev-map-lru-evict])
    if (this.recency === undefined && this.table.size + pending.size >= this.definition.maxEntries)
      return Errno.E2BIG;
    pending.add(id);
    return 0;
  }

  /** The element for an update, made when absent; an errno when the flags or space refuse it. */
  private element(key: Uint8Array, flags: number): { element: number; fresh: boolean } | number {
    if (flags > BpfUpdateFlag.EXIST) return Errno.EINVAL;
    const found = this.table.slotOf(key);
    if (found !== NONE) {
      if (flags === BpfUpdateFlag.NOEXIST) return Errno.EEXIST;
      // Like Linux, a replacement is a new element: a program still holding the old value pointer
      // keeps reading the old value until it ends.
      this.detachElement(found);
      this.touch(found);
      return { element: found, fresh: false };
    }
    if (flags === BpfUpdateFlag.EXIST) return Errno.ENOENT;
    if (this.table.full) {
      const recency = this.recency;
      if (recency === undefined) return Errno.E2BIG;
      this.remove(recency.head); // [dev-map-lru-evict]: exactly one other element goes
    }
    const element = this.table.add(key, key);
    this.recency?.append(element);
    return { element, fresh: true };
  }

  update(key: Uint8Array, value: Uint8Array, flags: number): number {
    const got = this.element(key, flags);
    if (typeof got === 'number') return got;
    this.slab.write(got.element, value);
    return 0;
  }

  updateFromProgram(key: Uint8Array, value: Uint8Array, flags: number, slot: number): number {
    const got = this.element(key, flags);
    if (typeof got === 'number') return got;
    this.slab.writeSlot(got.element, slot, value, got.fresh);
    return 0;
  }

  private detachElement(element: number): void {
    for (let s = 0; s < this.slots; s++) this.regions.detach(this.slab.unit(element, s));
  }

  private remove(element: number): void {
    this.detachElement(element);
    this.recency?.remove(element);
    this.table.remove(element);
  }

  delete(key: Uint8Array): number {
    if (key.length !== this.definition.keySize) return Errno.ENOENT;
    const element = this.table.slotOf(key);
    if (element === NONE) return Errno.ENOENT; // [dev-map-delete]
    this.remove(element);
    return 0;
  }

  nextKey(key: Uint8Array | null): Uint8Array | number {
    const { table } = this;
    if (table.size === 0) return Errno.ENOENT;
    // A key that is not in the map restarts the iteration, as Linux's hash map does.
    const slot = key === null || key.length !== this.definition.keySize ? NONE : table.slotOf(key);
    const next = slot === NONE ? table.order.head : (table.order.next[slot] as number);
    return next === NONE ? Errno.ENOENT : table.keyOf(next);
  }

  entries(): [Uint8Array, Uint8Array][] {
    const out: [Uint8Array, Uint8Array][] = [];
    const { order } = this.table;
    for (let s = order.head; s !== NONE; s = order.next[s] as number)
      out.push([this.table.keyOf(s), this.slab.read(s)]);
    return out;
  }

  destroy(): void {
    releaseMap(this.space, this.region, this.regions, this.footprint);
  }
}

/**
 * `BPF_MAP_TYPE_LPM_TRIE` with Linux 6.1's semantics: keys are a little-endian `__u32 prefixlen`
 * and `key_size - 4` bytes of data; an element is identified by its prefix (the data's first
 * `prefixlen` bits); a lookup finds the longest stored prefix of the key's first `prefixlen` bits;
 * an update of a full trie is ENOSPC even when it would replace an element (6.1 checks the count
 * first); get-next-key walks the trie's post-order (longer prefixes before the prefixes they
 * extend; a 0 bit before a 1 bit: [dev-map-lpm-order]), and returns the data as the element's
 * last update wrote it.
 */
class LpmTrie implements BpfMap {
  readonly region: Region;
  readonly slots = 1;
  readonly wireValueSize: number;
  private readonly table: KeyTable;
  private readonly slab: ValueSlab;
  private readonly regions: ValueRegions;
  private readonly maxPrefix: number;
  /** Count of stored elements by prefix length, to look up only lengths that exist. */
  private readonly lengths = new Map<number, number>();
  /** Stored prefix lengths, longest first, rebuilt when the set of lengths changes. */
  private lengthsDesc: number[] = [];
  /** Used slots in get-next-key order, rebuilt after a change. */
  private walk: number[] | undefined;
  private readonly probe: Uint8Array;

  get elementCount(): number {
    return this.table.size;
  }

  constructor(
    readonly definition: MapDefinition,
    private readonly space: AddressSpace,
    private readonly footprint: number,
  ) {
    const { keySize, valueSize, maxEntries } = definition;
    this.maxPrefix = (keySize - 4) * 8;
    this.table = new KeyTable(keySize, maxEntries);
    this.slab = new ValueSlab(valueSize, 1, false, maxEntries);
    this.wireValueSize = valueSize;
    this.probe = new Uint8Array(keySize);
    this.region = space.alloc('map', new Uint8Array(0), false, this);
    this.regions = new ValueRegions(space, this, this.slab.bytes, valueSize, NONE);
  }

  /** Writes into `out` the identity of the first `len` bits of the key at `bytes[at]`. */
  private identity(bytes: Uint8Array, at: number, len: number, out: Uint8Array): Uint8Array {
    out.fill(0);
    out[0] = len & 0xff;
    out[1] = (len >>> 8) & 0xff;
    const full = len >>> 3;
    for (let i = 0; i < full; i++) out[4 + i] = bytes[at + 4 + i] as number;
    const rest = len & 7;
    if (rest !== 0) out[4 + full] = (bytes[at + 4 + full] as number) & (0xff << (8 - rest));
    return out;
  }

  private longestMatch(bytes: Uint8Array, at: number): number {
    const len = Math.min(indexAt(bytes, at), this.maxPrefix);
    for (const l of this.lengthsDesc) {
      if (l > len) continue;
      const slot = this.table.slotOf(this.identity(bytes, at, l, this.probe));
      if (slot !== NONE) return slot;
    }
    return NONE;
  }

  valueRegion(key: Uint8Array): Region | undefined {
    return key.length === this.definition.keySize ? this.valueRegionAt(key, 0) : undefined;
  }

  valueRegionAt(bytes: Uint8Array, at: number): Region | undefined {
    const slot = this.longestMatch(bytes, at);
    return slot === NONE ? undefined : this.regions.of(slot);
  }

  lookup(key: Uint8Array): Uint8Array | number {
    if (key.length !== this.definition.keySize) return Errno.ENOENT;
    const slot = this.longestMatch(key, 0);
    return slot === NONE ? Errno.ENOENT : this.slab.read(slot);
  }

  /** The exact element of a key (same prefix length and prefix), or NONE. */
  private exact(key: Uint8Array, pending?: Set<string>): { slot: number; id: Uint8Array; known: boolean } {
    const id = this.identity(key, 0, indexAt(key, 0), new Uint8Array(this.definition.keySize));
    const slot = this.table.slotOf(id);
    return { slot, id, known: slot !== NONE || (pending?.has(toHex(id)) ?? false) };
  }

  updateRefusal(key: Uint8Array, flags: number, pending: Set<string>): number {
    if (flags > BpfUpdateFlag.EXIST || indexAt(key, 0) > this.maxPrefix) return Errno.EINVAL;
    if (this.table.size + pending.size >= this.definition.maxEntries) return Errno.ENOSPC;
    const { id, known } = this.exact(key, pending);
    if (known) return flags === BpfUpdateFlag.NOEXIST ? Errno.EEXIST : 0;
    if (flags === BpfUpdateFlag.EXIST) return Errno.ENOENT;
    pending.add(toHex(id));
    return 0;
  }

  update(key: Uint8Array, value: Uint8Array, flags: number): number {
    const refused = this.updateRefusal(key, flags, new Set());
    if (refused !== 0) return refused;
    const { slot, id } = this.exact(key);
    if (slot !== NONE) {
      this.regions.detach(slot);
      this.table.setKey(slot, key);
      this.slab.write(slot, value);
      return 0;
    }
    const added = this.table.add(id, key);
    this.slab.write(added, value);
    const len = indexAt(key, 0);
    const count = this.lengths.get(len) ?? 0;
    this.lengths.set(len, count + 1);
    if (count === 0) this.lengthsDesc = [...this.lengths.keys()].sort((x, y) => y - x);
    this.walk = undefined;
    return 0;
  }

  updateFromProgram(key: Uint8Array, value: Uint8Array, flags: number): number {
    return this.update(key, value, flags);
  }

  delete(key: Uint8Array): number {
    if (key.length !== this.definition.keySize) return Errno.ENOENT;
    if (indexAt(key, 0) > this.maxPrefix) return Errno.EINVAL;
    const { slot } = this.exact(key);
    if (slot === NONE) return Errno.ENOENT;
    this.regions.detach(slot);
    this.table.remove(slot);
    const len = indexAt(key, 0);
    const count = (this.lengths.get(len) ?? 1) - 1;
    if (count === 0) {
      this.lengths.delete(len);
      this.lengthsDesc = this.lengthsDesc.filter((l) => l !== len);
    } else this.lengths.set(len, count);
    this.walk = undefined;
    return 0;
  }

  /** Post-order of the trie: a prefix after every prefix that extends it; else the 0 branch first. */
  private order(): number[] {
    if (this.walk !== undefined) return this.walk;
    const slots: number[] = [];
    const { order } = this.table;
    for (let s = order.head; s !== NONE; s = order.next[s] as number) slots.push(s);
    const keys = this.table.keys;
    const n = this.definition.keySize;
    const bit = (slot: number, i: number) =>
      ((keys[slot * n + 4 + (i >>> 3)] as number) >> (7 - (i & 7))) & 1;
    slots.sort((a, b) => {
      const la = indexAt(keys, a * n);
      const lb = indexAt(keys, b * n);
      const common = Math.min(la, lb);
      for (let i = 0; i < common; i++) {
        const d = bit(a, i) - bit(b, i);
        if (d !== 0) return d;
      }
      return lb - la;
    });
    this.walk = slots;
    return slots;
  }

  nextKey(key: Uint8Array | null): Uint8Array | number {
    const walk = this.order();
    if (walk.length === 0) return Errno.ENOENT;
    const valid = key !== null && key.length === this.definition.keySize && indexAt(key, 0) <= this.maxPrefix;
    const slot = valid ? this.exact(key).slot : NONE;
    const at = slot === NONE ? -1 : walk.indexOf(slot);
    const next = walk[at + 1];
    return next === undefined ? Errno.ENOENT : this.table.keyOf(next);
  }

  entries(): [Uint8Array, Uint8Array][] {
    return this.order().map((s) => [this.table.keyOf(s), this.slab.read(s)]);
  }

  destroy(): void {
    releaseMap(this.space, this.region, this.regions, this.footprint);
  }
}

/**
 * Creates a map in an address space; throws {@link MapCreateError} as Linux would refuse it.
 * `slots` is the number of values each element of a per-CPU map holds (ignored for other types).
 * Each type is Linux 6.1's ([dev-map-types-linux]); a new array reads as zeros and a new hash is
 * empty ([dev-map-initial]).
 *
 * @throws MapCreateError for a definition Linux refuses, or ENOMEM beyond the host's budget.
 * @throws RangeError for a slot count outside 1 to 65535 (a caller's error, not a guest's).
 */
export function createMap(def: MapDefinition, space: AddressSpace, slots = 1): BpfMap {
  checkDefinition(def);
  if (!Number.isInteger(slots) || slots < 1 || slots > 0xffff) throw new RangeError(`slots ${slots}`);
  const bytes = mapFootprint(def, slots);
  if (!space.reserve(bytes))
    throw new MapCreateError(Errno.ENOMEM, `${bytes} bytes of map storage are beyond the host's budget`);
  try {
    if (isArrayType(def.type)) return new ArrayMap(def, space, slots, bytes);
    if (def.type === BpfMapType.PROG_ARRAY) return new ProgArray(def, space, bytes);
    if (def.type === BpfMapType.LPM_TRIE) return new LpmTrie(def, space, bytes);
    return new HashMap(def, space, slots, bytes);
  } catch (error) {
    space.unreserve(bytes);
    throw error;
  }
}

/** The map a map pointer's region belongs to. */
export function mapOfRegion(region: Region | undefined): BpfMap | undefined {
  return region?.kind === 'map' ? (region.owner as BpfMap) : undefined;
}
