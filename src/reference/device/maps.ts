/**
 * The device's map table (spec section X.7): maps created on the driver's request, named by handles
 * the device assigns, held within the advertised limits. Every command checks everything before it
 * changes anything, so a refused command leaves the table as it was ([dev-wire-reject-unchanged]).
 *
 * @module
 */
import { BpfMapType, XdpStatus, type MapBatchResult } from '../../codec/index.js';
import {
  MapCreateError,
  checkDefinition,
  createMap,
  isArrayType,
  isPerCpu,
  type BpfMap,
  type MapDefinition,
} from '../ebpf/maps.js';
import type { AddressSpace } from '../ebpf/memory.js';

/** The capability fields that bound the map table. */
export interface MapLimits {
  /** `max_maps`. */
  readonly maxMaps: number;
  /** `max_entries`. */
  readonly maxEntries: number;
  /** `max_key_size`. */
  readonly maxKeySize: number;
  /** `max_value_size`. */
  readonly maxValueSize: number;
  /** `max_map_memory`, in accounted bytes. */
  readonly maxMapMemory: bigint;
  /** `map_types`: bit n set when map type n can be created. */
  readonly mapTypes: bigint;
  /** `max_batch`: most elements of one batch command (0: none). */
  readonly maxBatch: number;
  /** `percpu_slots`: values per element of a per-CPU map. */
  readonly percpuSlots: number;
  /** `max_insns`: the largest program a slot of a program array may hold. */
  readonly maxInsns: number;
}

/**
 * Accounted memory of a map, as section X.6 defines it (exact, so bigint): per entry, the value
 * rounded up to 8 bytes (once per slot for a per-CPU map) and, for every type but the arrays, the
 * key rounded up to 8 bytes and 16 bytes more; for a program array, per slot, 8 bytes per
 * instruction of the largest program it may hold.
 */
export function mapMemory(def: MapDefinition, limits: Pick<MapLimits, 'percpuSlots' | 'maxInsns'>): bigint {
  const up8 = (n: number) => BigInt(Math.ceil(n / 8) * 8);
  const entries = BigInt(def.maxEntries);
  const slots = limits.percpuSlots;
  if (def.type === BpfMapType.PROG_ARRAY) return entries * 8n * BigInt(limits.maxInsns);
  const values = up8(def.valueSize) * (isPerCpu(def.type) ? BigInt(slots) : 1n);
  return isArrayType(def.type) ? entries * values : entries * (up8(def.keySize) + values + 16n);
}

/** A status, or a status with the value a successful command returns. */
export interface Outcome<T> {
  /** A `VIRTIO_NET_XDP_S_*` status. */
  readonly status: number;
  /** The result of a successful command. */
  readonly value?: T;
}

const ok = <T>(value: T): Outcome<T> => ({ status: XdpStatus.OK, value });
const fail = (status: number): Outcome<never> => ({ status });

/** The maps of one device, by handle. */
export class DeviceMaps {
  private readonly maps = new Map<number, BpfMap>();
  private nextHandle = 1;

  /**
   * @throws RangeError when the limits promise more than the engine's maps hold (keys up to 512
   * bytes, values up to 1 MiB): a device must not refuse, for size alone, what it advertised.
   */
  constructor(
    private readonly limits: MapLimits,
    private readonly space: AddressSpace,
  ) {
    if (limits.maxKeySize > 512 || limits.maxValueSize > 1 << 20)
      throw new RangeError('map limits exceed what the engine supports (key 512, value 1 MiB)');
  }

  /** Number of maps that exist (QUERY's `map_count`). */
  get count(): number {
    return this.maps.size;
  }

  /** Accounted memory of every map (QUERY's `map_memory`). */
  get memory(): bigint {
    let total = 0n;
    for (const map of this.maps.values()) total += mapMemory(map.definition, this.limits);
    return total;
  }

  /** The map a handle names, for the program loader; undefined for a handle not assigned or freed. */
  get(handle: number): BpfMap | undefined {
    return this.maps.get(handle);
  }

  /** Every map, by handle. */
  all(): IterableIterator<[number, BpfMap]> {
    return this.maps.entries();
  }

  /**
   * MAP_CREATE: checks type, the type's own key and value rules (Linux's, as the engine states
   * them: an array's 4-byte key, an LPM trie's key, a per-CPU value's bound), size limits, count
   * and memory, in that order.
   */
  create(def: MapDefinition): Outcome<number> {
    const { limits } = this;
    // [dev-map-create-type]
    if (def.type >= 64 || ((limits.mapTypes >> BigInt(def.type)) & 1n) === 0n)
      return fail(XdpStatus.EOPNOTSUPP);
    try {
      // the type's own rules: [dev-map-create-array-key], [dev-map-lpm-key], [dev-map-prog-array]
      checkDefinition(def);
    } catch (error) {
      if (!(error instanceof MapCreateError)) throw error;
      return fail(error.errno === XdpStatus.E2BIG ? XdpStatus.E2BIG : XdpStatus.EINVAL);
    }
    if (
      def.keySize > limits.maxKeySize ||
      def.valueSize > limits.maxValueSize ||
      def.maxEntries > limits.maxEntries
    )
      return fail(XdpStatus.E2BIG); // [dev-map-create-limit]
    if (this.maps.size >= limits.maxMaps) return fail(XdpStatus.ENOSPC); // [dev-map-create-count]
    // [dev-map-create-memory]
    if (this.memory + mapMemory(def, limits) > limits.maxMapMemory) return fail(XdpStatus.ENOMEM);
    if (this.nextHandle > 0xffffffff) return fail(XdpStatus.ENOSPC);
    const handle = this.nextHandle++;
    this.maps.set(handle, createMap(def, this.space, limits.percpuSlots));
    return ok(handle);
  }

  /** MAP_FREE: EBADF for an unknown handle, EBUSY while the loaded program references the map. */
  free(handle: number, referenced: ReadonlySet<number>): Outcome<null> {
    const map = this.maps.get(handle);
    if (map === undefined) return fail(XdpStatus.EBADF); // [dev-map-handle-scope]
    if (referenced.has(handle)) return fail(XdpStatus.EBUSY); // [dev-map-free-in-use]
    this.maps.delete(handle);
    map.destroy();
    return ok(null);
  }

  /** MAP_UPDATE. */
  update(
    handle: number,
    keySize: number,
    valueSize: number,
    key: Uint8Array,
    value: Uint8Array,
    flags: number,
  ): Outcome<null> {
    const map = this.sized(handle, keySize, valueSize);
    if (typeof map === 'number') return fail(map);
    const status = map.update(key, value, flags);
    return status === 0 ? ok(null) : fail(status);
  }

  /**
   * MAP_LOOKUP: a copy of the value, never a view the program may write later
   * ([dev-map-element-atomic]: the commands and the datapath run one at a time here, so no word
   * is ever half written).
   */
  lookup(handle: number, keySize: number, valueSize: number, key: Uint8Array): Outcome<Uint8Array> {
    const map = this.sized(handle, keySize, valueSize);
    if (typeof map === 'number') return fail(map);
    const value = map.lookup(key);
    return typeof value === 'number' ? fail(value) : ok(Uint8Array.from(value));
  }

  /** MAP_DELETE. */
  delete(handle: number, keySize: number, key: Uint8Array): Outcome<null> {
    const map = this.sized(handle, keySize, undefined);
    if (typeof map === 'number') return fail(map);
    const status = map.delete(key);
    return status === 0 ? ok(null) : fail(status);
  }

  /** MAP_GET_NEXT_KEY; `key` null for FIRST. */
  nextKey(handle: number, keySize: number, key: Uint8Array | null): Outcome<Uint8Array> {
    const map = this.sized(handle, keySize, undefined);
    if (typeof map === 'number') return fail(map);
    const next = map.nextKey(key);
    return typeof next === 'number' ? fail(next) : ok(next);
  }

  /**
   * MAP_UPDATE_BATCH: every element is checked, in order, against the map as the earlier elements
   * of the batch would leave it; the first that would fail gives the status and nothing is
   * applied. Only then is every element applied ([dev-map-batch-update]).
   */
  updateBatch(
    handle: number,
    keySize: number,
    valueSize: number,
    count: number,
    elements: Uint8Array,
    flags: number,
  ): Outcome<null> {
    if (this.limits.maxBatch === 0) return fail(XdpStatus.EOPNOTSUPP);
    const map = this.sized(handle, keySize, valueSize);
    if (typeof map === 'number') return fail(map);
    if (count > this.limits.maxBatch) return fail(XdpStatus.E2BIG);
    const stride = keySize + valueSize;
    const keyAt = (i: number) => elements.subarray(i * stride, i * stride + keySize);
    const pending = new Set<string>();
    for (let i = 0; i < count; i++) {
      const status = map.updateRefusal(keyAt(i), flags, pending);
      if (status !== XdpStatus.OK) return fail(status);
    }
    for (let i = 0; i < count; i++) {
      const applied = map.update(keyAt(i), elements.subarray(i * stride + keySize, (i + 1) * stride), flags);
      if (applied !== 0) throw new Error(`batch element ${i} failed after its check: ${applied}`);
    }
    return ok(null);
  }

  /**
   * MAP_LOOKUP_BATCH: up to `maxCount` elements after `key` (from the first when null), in the
   * order MAP_GET_NEXT_KEY gives; ENOENT when none follows ([dev-map-batch-lookup]).
   */
  lookupBatch(
    handle: number,
    keySize: number,
    valueSize: number,
    key: Uint8Array | null,
    maxCount: number,
  ): Outcome<MapBatchResult> {
    if (this.limits.maxBatch === 0) return fail(XdpStatus.EOPNOTSUPP);
    const map = this.sized(handle, keySize, valueSize);
    if (typeof map === 'number') return fail(map);
    if (maxCount > this.limits.maxBatch) return fail(XdpStatus.E2BIG);
    const found: Uint8Array[] = [];
    let after = key;
    while (found.length < maxCount * 2) {
      const next = map.nextKey(after);
      if (typeof next === 'number') break;
      const value = map.lookup(next);
      if (typeof value === 'number') break;
      found.push(next, value);
      after = next;
    }
    if (found.length === 0) return fail(XdpStatus.ENOENT);
    const elements = new Uint8Array(found.reduce((n, b) => n + b.length, 0));
    found.reduce((at, b) => (elements.set(b, at), at + b.length), 0);
    return ok({ count: found.length / 2, elements });
  }

  /**
   * Everything the table holds, as plain text: handles, definitions, every element, and the next
   * handle to assign. Two equal snapshots mean an unchanged table ([dev-wire-reject-unchanged]).
   */
  snapshot(): string {
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    const parts = [`next ${this.nextHandle}`];
    for (const [handle, map] of this.maps) {
      const d = map.definition;
      parts.push(`map ${handle} ${d.type}/${d.keySize}/${d.valueSize}/${d.maxEntries}/${map.slots}`);
      for (const [k, v] of map.entries()) parts.push(` ${hex(k)}=${hex(v)}`);
    }
    return parts.join('\n');
  }

  /** Device reset: every map and the handle counter go ([dev-reset]). */
  reset(): void {
    for (const map of this.maps.values()) map.destroy();
    this.maps.clear();
    this.nextHandle = 1;
  }

  /** The map of a handle whose sizes the request repeats correctly, or the status to answer. */
  private sized(handle: number, keySize: number, valueSize: number | undefined): BpfMap | number {
    const map = this.maps.get(handle);
    if (map === undefined) return XdpStatus.EBADF; // [dev-map-handle-scope]
    const def = map.definition;
    // [dev-map-elem-sizes], with a per-CPU map's wire value size ([dev-map-percpu-wire])
    if (def.keySize !== keySize || (valueSize !== undefined && map.wireValueSize !== valueSize))
      return XdpStatus.EINVAL;
    return map;
  }
}
