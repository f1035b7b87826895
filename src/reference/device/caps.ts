/**
 * The capabilities a device advertises (spec section X.6): checked once, when the device is built,
 * so that CAPS_GET can only ever return what the spec allows.
 *
 * @module
 */
import {
  BpfMapType,
  CodecError,
  capsBelowMinimum,
  helperBitSet,
  OffloadHelper,
  xdpCaps,
  type Caps,
} from '../../codec/index.js';
import type { MapLimits } from './maps.js';

/** A CAPS_GET result (the codec's {@link Caps}). */
export type DeviceCaps = Caps;

/** Why a capability set cannot be advertised: the field and what is wrong with it. */
export class CapsError extends Error {
  /** The caps field at fault. */
  readonly field: string;

  constructor(field: string, detail: string) {
    super(`${field}: ${detail}`);
    this.name = 'CapsError';
    this.field = field;
  }
}

/**
 * Checks a capability set against [dev-caps-defined-bits] (through the codec's encoder, which
 * refuses reserved fields, undefined bits and helper ids outside the offloadable table) and
 * [dev-caps-minimum] and [dev-caps-tail-call].
 *
 * @throws CapsError naming the field at fault.
 */
export function checkCaps(caps: DeviceCaps): void {
  try {
    xdpCaps.encode(caps);
  } catch (error) {
    if (error instanceof CodecError) throw new CapsError(error.field, error.message);
    throw error;
  }
  const below = capsBelowMinimum(caps);
  if (below !== undefined) throw new CapsError(below.field, below.detail);
  // [dev-caps-tail-call]: the helper only with the map type it needs
  if (
    helperBitSet(caps.helpers, OffloadHelper.tail_call) &&
    ((caps.map_types >> BigInt(BpfMapType.PROG_ARRAY)) & 1n) === 0n
  )
    throw new CapsError('helpers', 'tail_call is offered without BPF_MAP_TYPE_PROG_ARRAY');
}

/** The helper ids a capability set advertises. */
export function advertisedHelpers(caps: DeviceCaps): Set<number> {
  const ids = new Set<number>();
  for (let id = 0; id < caps.helpers.length * 8; id++) if (helperBitSet(caps.helpers, id)) ids.add(id);
  return ids;
}

/** The map-table limits a capability set advertises. */
export function mapLimitsOf(caps: DeviceCaps): MapLimits {
  return {
    maxMaps: caps.max_maps,
    maxEntries: caps.max_entries,
    maxKeySize: caps.max_key_size,
    maxValueSize: caps.max_value_size,
    maxMapMemory: caps.max_map_memory,
    mapTypes: caps.map_types,
    maxBatch: caps.max_batch,
    percpuSlots: caps.percpu_slots,
    maxInsns: caps.max_insns,
  };
}
