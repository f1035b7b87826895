/**
 * What the spec requires of a well-formed result beyond its bytes: the capability minimum of
 * [dev-caps-minimum], and a QUERY that agrees with itself and with the capabilities
 * ([dev-query-counters], [dev-caps-enforced]). Devices check their own capabilities with these
 * before advertising them; drivers check every answer with them ([drv-wire-check-result]), since a
 * device that breaks them is lying.
 *
 * @module
 */
import { BpfMapType, IsaGroup, OffloadHelper, QueryFlag } from './constants.js';
import type { CapsResult, QueryResult } from './messages.js';
import { CodecError } from './errors.js';
import { xdpCaps, xdpQuery } from './structs.js';

/** A CAPS_GET result. */
export type Caps = CapsResult;
export type { QueryResult };

/** Whether bit `id` is set in a helper bitmap (`helpers` of the capabilities). */
export function helperBitSet(bitmap: ArrayLike<number>, id: number): boolean {
  return id >= 0 && id < bitmap.length * 8 && (((bitmap[id >> 3] ?? 0) >> (id & 7)) & 1) === 1;
}

/**
 * The first way `caps` falls below [dev-caps-minimum], as a CodecError of kind `range` naming the
 * field and its offset in the CAPS_GET result; undefined when it meets the minimum.
 */
export function capsBelowMinimum(caps: Caps): CodecError | undefined {
  const at = xdpCaps.offsets;
  const minimum: [boolean, keyof Caps, string][] = [
    [
      ((caps.map_types >> BigInt(BpfMapType.ARRAY)) & 1n) === 1n,
      'map_types',
      'BPF_MAP_TYPE_ARRAY is required',
    ],
    [(caps.isa_groups & IsaGroup.BASE32) !== 0, 'isa_groups', 'base32 is required'],
    [(caps.isa_groups & IsaGroup.BASE64) !== 0, 'isa_groups', 'base64 is required'],
    [helperBitSet(caps.helpers, OffloadHelper.map_lookup_elem), 'helpers', 'map_lookup_elem is required'],
    [caps.max_maps >= 1, 'max_maps', 'must be at least 1'],
    [caps.max_entries >= 1, 'max_entries', 'must be at least 1'],
    [caps.max_insns >= 1, 'max_insns', 'must be at least 1'],
    [caps.max_key_size >= 4, 'max_key_size', 'must be at least 4'],
    [caps.max_value_size >= 8, 'max_value_size', 'must be at least 8'],
  ];
  for (const [holds, field, detail] of minimum)
    if (!holds) return new CodecError('range', field, at[field] as number, detail);
  return undefined;
}

/**
 * The first inconsistency of a QUERY result, as a CodecError naming the field and its offset;
 * undefined when it is consistent: `packets` is the sum of the five action counters (modulo 2^64,
 * as they wrap), a program is attached exactly when `insn_cnt` is nonzero, and `insn_cnt`,
 * `map_count` and `map_memory` are within the capabilities.
 */
export function queryInconsistency(query: QueryResult, caps: Caps): CodecError | undefined {
  const at = xdpQuery.offsets;
  const fail = (field: keyof QueryResult, detail: string) =>
    new CodecError('inconsistent', field, at[field] as number, detail);
  const sum = BigInt.asUintN(64, query.aborted + query.drop + query.pass + query.tx + query.redirect);
  if (sum !== query.packets)
    return fail('packets', `${query.packets} packets, but the action counters add up to ${sum}`);
  const attached = (query.flags & QueryFlag.PROG_ATTACHED) !== 0;
  if (attached !== (query.insn_cnt !== 0))
    return fail('insn_cnt', `insn_cnt ${query.insn_cnt} with PROG_ATTACHED ${attached ? 'set' : 'clear'}`);
  if (query.insn_cnt > caps.max_insns)
    return fail('insn_cnt', `${query.insn_cnt} is above max_insns ${caps.max_insns}`);
  if (query.map_count > caps.max_maps)
    return fail('map_count', `${query.map_count} is above max_maps ${caps.max_maps}`);
  if (query.map_memory > caps.max_map_memory)
    return fail('map_memory', `${query.map_memory} is above max_map_memory ${caps.max_map_memory}`);
  if (query.map_count === 0 && query.map_memory !== 0n)
    return fail('map_memory', `${query.map_memory} bytes with no map`);
  return undefined;
}

/** What a program needs of a device, as {@link missingCapability} compares it with the capabilities. */
export interface CapabilityNeeds {
  /** Helper ids the program calls. */
  readonly helpers: Iterable<number>;
  /** `isa_groups` bits its instructions belong to. */
  readonly isaGroups: number;
  /** `prog_features` bits it uses. */
  readonly progFeatures: number;
}

/**
 * The first capability field, in the order `isa_groups`, `prog_features`, `helpers`, that does not
 * cover what a program needs; undefined when the set covers it all. The driver refuses to offload
 * such a program ([drv-caps-respect]); the device refuses the groups and features itself.
 */
export function missingCapability(
  caps: Caps,
  needs: CapabilityNeeds,
): 'isa_groups' | 'prog_features' | 'helpers' | undefined {
  if ((needs.isaGroups & ~caps.isa_groups) !== 0) return 'isa_groups';
  if ((needs.progFeatures & ~caps.prog_features) !== 0) return 'prog_features';
  for (const id of needs.helpers) if (!helperBitSet(caps.helpers, id)) return 'helpers';
  return undefined;
}
