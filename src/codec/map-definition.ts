/**
 * The one shape of a map definition inside the package, and its conversions at the wire: a
 * MAP_CREATE request carries the same four facts in the wire's field names.
 *
 * @module
 */
import type { BpfMapTypeValue } from './constants.js';
import type { RequestData } from './control.js';

/** What a map is created with. */
export interface MapDefinition {
  /** A `BPF_MAP_TYPE_*` number (any: what a guest's object names; the wire takes the defined ones). */
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

/**
 * The MAP_CREATE request data for a definition. A definition may name any type number (a guest's
 * object can); the request's encoder refuses one the spec does not define, with a CodecError.
 */
export function mapCreateOf(def: MapDefinition, mapFlags = 0): RequestData['MAP_CREATE'] {
  return {
    map_type: def.type as BpfMapTypeValue,
    key_size: def.keySize,
    value_size: def.valueSize,
    max_entries: def.maxEntries,
    map_flags: mapFlags,
  };
}
