/**
 * The one shape of a map definition inside the package, and its conversions at the wire: a
 * MAP_CREATE request carries the same four facts in the wire's field names.
 *
 * @module
 */
import type { RequestData } from './control.js';

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

/** The definition a MAP_CREATE request asks for. */
export function definitionOfMapCreate(data: RequestData['MAP_CREATE']): MapDefinition {
  return {
    type: data.map_type,
    keySize: data.key_size,
    valueSize: data.value_size,
    maxEntries: data.max_entries,
  };
}

/** The MAP_CREATE request data for a definition. */
export function mapCreateOf(def: MapDefinition, mapFlags = 0): RequestData['MAP_CREATE'] {
  return {
    map_type: def.type,
    key_size: def.keySize,
    value_size: def.valueSize,
    max_entries: def.maxEntries,
    map_flags: mapFlags,
  };
}
