/**
 * BPF maps with Linux semantics: `BPF_MAP_TYPE_ARRAY` and `BPF_MAP_TYPE_HASH`, the errno of every
 * failure, update flags, get-next-key (with the "first key" and "key not found" cases), and value
 * pointers that stay valid for the program that obtained them. Per-CPU variants are not offloadable
 * (the spec's `map_types` defines only these two) and are refused at creation.
 *
 * @module
 */
import { BpfMapType, BpfUpdateFlag } from '../../codec/index.js';
import type { AddressSpace, Region } from './memory.js';

/** Linux errno values the map operations return (negated in helpers, as Linux does). */
export const Errno = {
  /** No such element. */
  ENOENT: 2,
  /** Full, or an index out of range. */
  E2BIG: 7,
  /** Invalid argument. */
  EINVAL: 22,
  /** The element exists. */
  EEXIST: 17,
  /** Out of memory. */
  ENOMEM: 12,
  /** Not supported. */
  EOPNOTSUPP: 95,
} as const;

/** What a map is created with. */
export interface MapDefinition {
  /** `BPF_MAP_TYPE_HASH` (1) or `BPF_MAP_TYPE_ARRAY` (2). */
  readonly type: number;
  /** Key size in bytes (4 for an array). */
  readonly keySize: number;
  /** Value size in bytes. */
  readonly valueSize: number;
  /** Maximum number of elements. */
  readonly maxEntries: number;
}

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

function checkSizes(key: Uint8Array, keySize: number): boolean {
  return key.length === keySize;
}

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
  if (valueSize > 1 << 20 || (type === BpfMapType.HASH && keySize > 512)) {
    throw new MapCreateError(Errno.E2BIG, 'key or value too large');
  }
}

class ArrayMap implements BpfMap {
  readonly region: Region;
  private readonly storage: Uint8Array;
  private readonly elements: (Region | undefined)[] = [];

  constructor(
    readonly definition: MapDefinition,
    private readonly space: AddressSpace,
  ) {
    this.storage = new Uint8Array(definition.valueSize * definition.maxEntries);
    this.region = space.alloc('map', new Uint8Array(0), false, this);
  }

  private index(key: Uint8Array, at = 0): number {
    return (
      (key[at] as number) |
      ((key[at + 1] as number) << 8) |
      ((key[at + 2] as number) << 16) |
      ((key[at + 3] as number) << 24)
    );
  }

  valueRegion(key: Uint8Array): Region | undefined {
    return checkSizes(key, 4) ? this.valueRegionAt(key, 0) : undefined;
  }

  valueRegionAt(bytes: Uint8Array, at: number): Region | undefined {
    const i = this.index(bytes, at) >>> 0;
    if (i >= this.definition.maxEntries) return undefined;
    let region = this.elements[i];
    if (region === undefined) {
      const size = this.definition.valueSize;
      region = this.space.alloc('map-value', this.storage.subarray(i * size, (i + 1) * size), true, this);
      this.elements[i] = region;
    }
    return region;
  }

  lookup(key: Uint8Array): Uint8Array | number {
    const region = this.valueRegion(key);
    return region === undefined ? Errno.ENOENT : Uint8Array.from(region.bytes);
  }

  update(key: Uint8Array, value: Uint8Array, flags: number): number {
    if (flags > BpfUpdateFlag.EXIST) return Errno.EINVAL;
    const i = this.index(key) >>> 0;
    if (i >= this.definition.maxEntries) return Errno.E2BIG;
    if (flags === BpfUpdateFlag.NOEXIST) return Errno.EEXIST; // every index of an array exists
    const size = this.definition.valueSize;
    this.storage.set(value.subarray(0, size), i * size);
    return 0;
  }

  delete(): number {
    return Errno.EINVAL;
  }

  nextKey(key: Uint8Array | null): Uint8Array | number {
    const n = this.definition.maxEntries;
    const i = key === null ? n : this.index(key) >>> 0;
    const next = i >= n ? 0 : i + 1;
    if (next >= n) return Errno.ENOENT;
    return Uint8Array.of(next & 0xff, (next >>> 8) & 0xff, (next >>> 16) & 0xff, next >>> 24);
  }

  entries(): [Uint8Array, Uint8Array][] {
    const size = this.definition.valueSize;
    return Array.from({ length: this.definition.maxEntries }, (_, i) => [
      Uint8Array.of(i & 0xff, (i >>> 8) & 0xff, (i >>> 16) & 0xff, i >>> 24),
      this.storage.slice(i * size, (i + 1) * size),
    ]);
  }

  destroy(): void {
    for (const r of this.elements) if (r !== undefined) this.space.release(r);
    this.space.release(this.region);
  }
}

interface HashElement {
  readonly key: Uint8Array;
  region: Region;
}

function keyOf(key: Uint8Array): string {
  let s = '';
  for (const b of key) s += String.fromCharCode(b);
  return s;
}

class HashMap implements BpfMap {
  readonly region: Region;
  private readonly elements = new Map<string, HashElement>();

  constructor(
    readonly definition: MapDefinition,
    private readonly space: AddressSpace,
  ) {
    this.region = space.alloc('map', new Uint8Array(0), false, this);
  }

  valueRegion(key: Uint8Array): Region | undefined {
    if (!checkSizes(key, this.definition.keySize)) return undefined;
    return this.elements.get(keyOf(key))?.region;
  }

  valueRegionAt(bytes: Uint8Array, at: number): Region | undefined {
    return this.elements.get(keyOf(bytes.subarray(at, at + this.definition.keySize)))?.region;
  }

  lookup(key: Uint8Array): Uint8Array | number {
    const region = this.valueRegion(key);
    return region === undefined ? Errno.ENOENT : Uint8Array.from(region.bytes);
  }

  update(key: Uint8Array, value: Uint8Array, flags: number): number {
    if (flags > BpfUpdateFlag.EXIST) return Errno.EINVAL;
    const k = keyOf(key);
    const old = this.elements.get(k);
    if (old !== undefined && flags === BpfUpdateFlag.NOEXIST) return Errno.EEXIST;
    if (old === undefined && flags === BpfUpdateFlag.EXIST) return Errno.ENOENT;
    if (old === undefined && this.elements.size >= this.definition.maxEntries) return Errno.E2BIG;
    // Like Linux, a replacement is a new element: a program still holding the old value pointer
    // keeps reading the old value until it ends.
    const region = this.space.alloc(
      'map-value',
      Uint8Array.from(value.subarray(0, this.definition.valueSize)),
      true,
      this,
    );
    if (old !== undefined) {
      this.space.release(old.region);
      old.region = region;
    } else {
      this.elements.set(k, { key: Uint8Array.from(key), region });
    }
    return 0;
  }

  delete(key: Uint8Array): number {
    const k = keyOf(key);
    const old = this.elements.get(k);
    if (old === undefined) return Errno.ENOENT;
    this.elements.delete(k);
    this.space.release(old.region);
    return 0;
  }

  nextKey(key: Uint8Array | null): Uint8Array | number {
    const keys = [...this.elements.values()];
    if (keys.length === 0) return Errno.ENOENT;
    const at = key === null ? -1 : keys.findIndex((e) => keyOf(e.key) === keyOf(key));
    // A key that is not in the map restarts the iteration, as Linux's hash map does.
    const next = keys[at + 1];
    return next === undefined ? Errno.ENOENT : Uint8Array.from(next.key);
  }

  entries(): [Uint8Array, Uint8Array][] {
    return [...this.elements.values()].map((e) => [Uint8Array.from(e.key), Uint8Array.from(e.region.bytes)]);
  }

  destroy(): void {
    for (const e of this.elements.values()) this.space.release(e.region);
    this.space.release(this.region);
  }
}

/** Creates a map in an address space; throws {@link MapCreateError} as Linux would refuse it. */
export function createMap(def: MapDefinition, space: AddressSpace): BpfMap {
  checkDefinition(def);
  return def.type === BpfMapType.ARRAY ? new ArrayMap(def, space) : new HashMap(def, space);
}

/** The map a map pointer's region belongs to. */
export function mapOfRegion(region: Region | undefined): BpfMap | undefined {
  return region?.kind === 'map' ? (region.owner as BpfMap) : undefined;
}
