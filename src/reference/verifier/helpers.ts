/**
 * Helper prototypes as Linux 6.1 gives them to XDP programs (`xdp_func_proto` and the base
 * prototypes): argument types, return type, and whether the helper moves packet data.
 *
 * @module
 */

/** What a helper argument must be. */
export type ArgType =
  | 'anything'
  | 'ctx'
  | 'map'
  | 'key'
  | 'value'
  | 'mem'
  | 'mem_or_null'
  | 'uninit_mem'
  | 'long'
  | 'size'
  | 'size_or_zero'
  | 'scalar';

/** A helper prototype. */
export interface HelperProto {
  /** Its arguments, r1 first. */
  readonly args: readonly ArgType[];
  /** What r0 holds after the call. */
  readonly ret: 'int' | 'u32' | 'map_value_or_null' | 'void';
  /** Invalidates packet pointers (the adjust helpers). */
  readonly changesPacket?: boolean;
  /** Offered only to loaders with CAP_PERFMON. */
  readonly privileged?: boolean;
  /** Map types it accepts, when it takes a map (Linux's `check_map_func_compatibility`). */
  readonly mapTypes?: readonly number[];
}

/**
 * Map types that only some helpers take (the map side of Linux's `check_map_func_compatibility`):
 * a program array goes to `bpf_tail_call` alone.
 */
export const MAP_TYPE_HELPERS: ReadonlyMap<number, readonly number[]> = new Map([[3, [12]]]);

/** The helpers Linux 6.1 offers XDP programs that this model knows, by id. */
export const HELPERS: ReadonlyMap<number, HelperProto> = new Map<number, HelperProto>([
  [1, { args: ['map', 'key'], ret: 'map_value_or_null' }],
  [2, { args: ['map', 'key', 'value', 'anything'], ret: 'int' }],
  [3, { args: ['map', 'key'], ret: 'int' }],
  [5, { args: [], ret: 'int' }],
  [6, { args: ['mem', 'size'], ret: 'int', privileged: true }],
  [7, { args: [], ret: 'u32' }],
  [8, { args: [], ret: 'u32' }],
  // RET_VOID: r0 is not readable after the call (it falls through only when the tail call fails)
  [12, { args: ['ctx', 'map', 'anything'], ret: 'void', mapTypes: [3] }],
  [23, { args: ['anything', 'anything'], ret: 'int' }],
  [28, { args: ['mem_or_null', 'size_or_zero', 'mem_or_null', 'size_or_zero', 'anything'], ret: 'int' }],
  [44, { args: ['ctx', 'anything'], ret: 'int', changesPacket: true }],
  [51, { args: ['map', 'anything', 'anything'], ret: 'int', mapTypes: [14, 16, 17, 25] }],
  [54, { args: ['ctx', 'anything'], ret: 'int', changesPacket: true }],
  [65, { args: ['ctx', 'anything'], ret: 'int', changesPacket: true }],
  [105, { args: ['mem', 'size', 'anything', 'long'], ret: 'int' }],
  [106, { args: ['mem', 'size', 'anything', 'long'], ret: 'int' }],
  [189, { args: ['ctx', 'anything', 'uninit_mem', 'size'], ret: 'int' }],
  [190, { args: ['ctx', 'anything', 'mem', 'size'], ret: 'int' }],
  [160, { args: [], ret: 'int' }],
]);

const NAMES: Record<number, string> = {
  1: 'map_lookup_elem',
  2: 'map_update_elem',
  3: 'map_delete_elem',
  5: 'ktime_get_ns',
  6: 'trace_printk',
  7: 'get_prandom_u32',
  8: 'get_smp_processor_id',
  10: 'l3_csum_replace',
  11: 'l4_csum_replace',
  12: 'tail_call',
  23: 'redirect',
  28: 'csum_diff',
  40: 'csum_update',
  44: 'xdp_adjust_head',
  51: 'redirect_map',
  54: 'xdp_adjust_meta',
  65: 'xdp_adjust_tail',
  105: 'strtol',
  106: 'strtoul',
  189: 'xdp_load_bytes',
  190: 'xdp_store_bytes',
  160: 'ktime_get_coarse_ns',
};

/** `bpf_<name>` as the kernel's log spells a helper, or `unknown`. */
export function helperName(id: number): string {
  const name = NAMES[id];
  return name === undefined ? 'unknown' : `bpf_${name}`;
}
