/**
 * The data of every command and result as plain interfaces, for readers of the types: the same
 * shapes the codec's layouts decode to (`RequestData`, `ResultData`), written out with their
 * fields' meanings. The compiler checks each against its layout both ways (below), so neither can
 * drift from the other.
 *
 * @module
 */
import type { COMMAND_FRAMES, DataOf } from './control.js';
import type { BpfMapTypeValue, LogLevelValue, VerifyModeValue, XdpCommandName } from './constants.js';
import type { BpfInsn } from './structs.js';

/** Capabilities and limits of the device (CAPS_GET result). (`struct virtio_net_xdp_caps`) */
export interface CapsResult {
  /** Maximum number of maps that may exist at once. */
  readonly max_maps: number;
  /** Maximum max_entries of one map. */
  readonly max_entries: number;
  /** Maximum total map memory in bytes, as the device accounts it (see the limits section). */
  readonly max_map_memory: bigint;
  /** Maximum key_size of a map, in bytes. */
  readonly max_key_size: number;
  /** Maximum value_size of a map, in bytes. */
  readonly max_value_size: number;
  /** Maximum insn_cnt of a program (ld_imm64 counts as two). */
  readonly max_insns: number;
  /** Maximum log_size the device honours; larger requests are clamped to it. */
  readonly max_log_size: number;
  /** Bit n set: map type n can be created (VIRTIO_NET_XDP_MAP_TYPE_* are the defined ones). */
  readonly map_types: bigint;
  /** RFC 9669 conformance groups the device executes (VIRTIO_NET_XDP_ISA_*). */
  readonly isa_groups: number;
  /** Program features beyond RFC 9669 (VIRTIO_NET_XDP_PROG_F_*). */
  readonly prog_features: number;
  /** Bytes of headroom before the packet data (bpf_xdp_adjust_head can grow into it). */
  readonly xdp_headroom: number;
  /** Largest frame, in bytes, given to the program in one buffer. */
  readonly max_frame_len: number;
  /** Most elements one MAP_UPDATE_BATCH or MAP_LOOKUP_BATCH carries; 0: no batch commands. */
  readonly max_batch: number;
  /** Bitmap of callable helpers: bit (id % 8) of byte (id / 8) set means helper id is supported. */
  readonly helpers: Uint8Array;
  /** Values each element of a per-CPU map holds: one slot per queue pair, at least 1 (X.7.2). */
  readonly percpu_slots: number;
  /** How the host verifies programs: VIRTIO_NET_XDP_VERIFY_* (X.8.3). */
  readonly verify_mode: VerifyModeValue;
}

/** MAP_CREATE request (device-readable). (`struct virtio_net_xdp_map_create`) */
export interface MapCreateRequest {
  /** BPF_MAP_TYPE_*: one of the offloadable types (X.7). */
  readonly map_type: BpfMapTypeValue;
  /** Key size in bytes (4 for an array). */
  readonly key_size: number;
  /** Value size in bytes. */
  readonly value_size: number;
  /** Maximum number of elements. */
  readonly max_entries: number;
  /** Creation flags; none are defined, so zero ([drv-wire-well-formed]). */
  readonly map_flags: number;
}

/** A map handle: MAP_CREATE result (device-writable) and MAP_FREE request (device-readable). (`struct virtio_net_xdp_map_handle`) */
export interface MapHandleData {
  /** Device-assigned map handle; never 0. */
  readonly map_handle: number;
}

/** MAP_UPDATE request (device-readable). (`struct virtio_net_xdp_map_update`) */
export interface MapUpdateRequest {
  /** Handle returned by MAP_CREATE. */
  readonly map_handle: number;
  /** Key size in bytes; the map's key_size ([drv-map-sizes]). */
  readonly key_size: number;
  /** Value size in bytes; the map's value_size ([drv-map-sizes]). */
  readonly value_size: number;
  /** BPF_ANY (0), BPF_NOEXIST (1) or BPF_EXIST (2). */
  readonly flags: number;
  /** The key. */
  readonly key: Uint8Array;
  /** The value. */
  readonly value: Uint8Array;
}

/** MAP_LOOKUP request (device-readable); the value comes back as the result. (`struct virtio_net_xdp_map_lookup`) */
export interface MapLookupRequest {
  /** Handle returned by MAP_CREATE. */
  readonly map_handle: number;
  /** Key size in bytes; the map's key_size ([drv-map-sizes]). */
  readonly key_size: number;
  /** Size of the value result; the map's value_size ([drv-map-sizes]). */
  readonly value_size: number;
  /** The key. */
  readonly key: Uint8Array;
}

/** MAP_LOOKUP result (device-writable): the value, request value_size bytes. (`struct virtio_net_xdp_map_value`) */
export interface MapValueResult {
  /** The value. */
  readonly value: Uint8Array;
}

/** MAP_DELETE request (device-readable). (`struct virtio_net_xdp_map_delete`) */
export interface MapDeleteRequest {
  /** Handle returned by MAP_CREATE. */
  readonly map_handle: number;
  /** Key size in bytes; the map's key_size ([drv-map-sizes]). */
  readonly key_size: number;
  /** The key. */
  readonly key: Uint8Array;
}

/** MAP_GET_NEXT_KEY request (device-readable); the next key comes back as the result. (`struct virtio_net_xdp_map_get_next_key`) */
export interface MapGetNextKeyRequest {
  /** Handle returned by MAP_CREATE. */
  readonly map_handle: number;
  /** Key size in bytes; the map's key_size ([drv-map-sizes]). */
  readonly key_size: number;
  /** VIRTIO_NET_XDP_NEXT_KEY_F_FIRST (1): no key follows; return the first key. */
  readonly flags: number;
  /** The current key; absent (0 bytes) when FIRST is set. */
  readonly key: Uint8Array;
}

/** MAP_GET_NEXT_KEY result (device-writable): the next key, request key_size bytes. (`struct virtio_net_xdp_map_key`) */
export interface MapKeyResult {
  /** The next key. */
  readonly next_key: Uint8Array;
}

/** MAP_UPDATE_BATCH request (device-readable): count elements, all applied or none. (`struct virtio_net_xdp_map_update_batch`) */
export interface MapUpdateBatchRequest {
  /** Handle returned by MAP_CREATE. */
  readonly map_handle: number;
  /** Key size in bytes; the map's key_size ([drv-map-sizes]). */
  readonly key_size: number;
  /** Value size in bytes; the map's value_size ([drv-map-sizes]). */
  readonly value_size: number;
  /** BPF_ANY (0), BPF_NOEXIST (1) or BPF_EXIST (2), for every element. */
  readonly flags: number;
  /** Number of elements; at least 1, at most max_batch. */
  readonly count: number;
  /** The elements in order: each a key of key_size bytes, then a value of value_size bytes. */
  readonly elements: Uint8Array;
}

/** MAP_LOOKUP_BATCH request (device-readable): up to max_count elements after a key, in the map's order. (`struct virtio_net_xdp_map_lookup_batch`) */
export interface MapLookupBatchRequest {
  /** Handle returned by MAP_CREATE. */
  readonly map_handle: number;
  /** Key size in bytes; the map's key_size ([drv-map-sizes]). */
  readonly key_size: number;
  /** Value size in bytes; the map's value_size ([drv-map-sizes]). */
  readonly value_size: number;
  /** VIRTIO_NET_XDP_NEXT_KEY_F_FIRST (1): no key follows; start at the first key. */
  readonly flags: number;
  /** Most elements to return; at least 1, at most max_batch. */
  readonly max_count: number;
  /** The key to continue after; absent (0 bytes) when FIRST is set. */
  readonly key: Uint8Array;
}

/** MAP_LOOKUP_BATCH result (device-writable): count elements, each a key then its value. (`struct virtio_net_xdp_map_batch`) */
export interface MapBatchResult {
  /** Number of elements returned: 1 to the request's max_count. */
  readonly count: number;
  /** The elements in the map's order: each a key of key_size bytes, then its value of value_size bytes. */
  readonly elements: Uint8Array;
}

/** PROG_LOAD request (device-readable). (`struct virtio_net_xdp_prog_load`) */
export interface ProgLoadRequest {
  /** Number of instruction slots that follow. */
  readonly insn_cnt: number;
  /** Size of the log area the driver provides in the result; 0 with log_level NONE. */
  readonly log_size: number;
  /** VIRTIO_NET_XDP_LOG_NONE (0), _BASIC (1) or _VERBOSE (2). */
  readonly log_level: LogLevelValue;
  /** VIRTIO_NET_XDP_PROG_LOAD_F_GPL_COMPATIBLE (1). */
  readonly prog_flags: number;
  /** The program. */
  readonly insns: BpfInsn[];
}

/** PROG_ARRAY_LOAD request (device-readable): a program for one slot of a PROG_ARRAY map. (`struct virtio_net_xdp_prog_array_load`) */
export interface ProgArrayLoadRequest {
  /** Handle of a BPF_MAP_TYPE_PROG_ARRAY map. */
  readonly map_handle: number;
  /** The slot: below the map's max_entries. */
  readonly index: number;
  /** Number of instruction slots that follow. */
  readonly insn_cnt: number;
  /** Size of the log area the driver provides in the result; 0 with log_level NONE. */
  readonly log_size: number;
  /** VIRTIO_NET_XDP_LOG_NONE (0), _BASIC (1) or _VERBOSE (2). */
  readonly log_level: LogLevelValue;
  /** VIRTIO_NET_XDP_PROG_LOAD_F_GPL_COMPATIBLE (1). */
  readonly prog_flags: number;
  /** The program. */
  readonly insns: BpfInsn[];
}

/** PROG_LOAD result (device-writable), written on success and on verifier rejection. (`struct virtio_net_xdp_prog_load_result`) */
export interface ProgLoadResult {
  /** Instructions the verifier processed (its measure of effort). */
  readonly insns_processed: number;
  /** The caps' verify_mode the program was verified under (X.8.3). */
  readonly verify_mode: VerifyModeValue;
  /** Bytes of log that follow; at most the request log_size. */
  readonly log_len: number;
  /** Verifier log: printable ASCII, tab and newline, no terminator. */
  readonly log: string;
}

/** QUERY result (device-writable): offload state and per-action counters. (`struct virtio_net_xdp_query`) */
export interface QueryResult {
  /** VIRTIO_NET_XDP_QUERY_F_PROG_ATTACHED (1). */
  readonly flags: number;
  /** insn_cnt of the attached program; 0 when none. */
  readonly insn_cnt: number;
  /** Number of maps that exist. */
  readonly map_count: number;
  /** Map memory in use, in bytes, as the device accounts it. */
  readonly map_memory: bigint;
  /** Packets the attached programs have run on since reset. */
  readonly packets: bigint;
  /** Runs that returned XDP_ABORTED or faulted. */
  readonly aborted: bigint;
  /** Runs that returned XDP_DROP (or an undefined action). */
  readonly drop: bigint;
  /** Runs that returned XDP_PASS. */
  readonly pass: bigint;
  /** Runs that returned XDP_TX. */
  readonly tx: bigint;
  /** Runs that returned XDP_REDIRECT. */
  readonly redirect: bigint;
}

/** The data of each command's request, by command (null for a command without data). */
export interface RequestDataMap {
  /** CAPS_GET carries no data. */
  readonly CAPS_GET: null;
  /** MAP_CREATE. */
  readonly MAP_CREATE: MapCreateRequest;
  /** MAP_FREE: the handle. */
  readonly MAP_FREE: MapHandleData;
  /** MAP_UPDATE. */
  readonly MAP_UPDATE: MapUpdateRequest;
  /** MAP_LOOKUP. */
  readonly MAP_LOOKUP: MapLookupRequest;
  /** MAP_DELETE. */
  readonly MAP_DELETE: MapDeleteRequest;
  /** MAP_GET_NEXT_KEY. */
  readonly MAP_GET_NEXT_KEY: MapGetNextKeyRequest;
  /** PROG_LOAD. */
  readonly PROG_LOAD: ProgLoadRequest;
  /** PROG_UNLOAD carries no data. */
  readonly PROG_UNLOAD: null;
  /** QUERY carries no data. */
  readonly QUERY: null;
  /** MAP_UPDATE_BATCH. */
  readonly MAP_UPDATE_BATCH: MapUpdateBatchRequest;
  /** MAP_LOOKUP_BATCH. */
  readonly MAP_LOOKUP_BATCH: MapLookupBatchRequest;
  /** PROG_ARRAY_LOAD. */
  readonly PROG_ARRAY_LOAD: ProgArrayLoadRequest;
}

/** The result of each command, by command (null for a command without one). */
export interface ResultDataMap {
  /** CAPS_GET: the capabilities. */
  readonly CAPS_GET: CapsResult;
  /** MAP_CREATE: the new map's handle. */
  readonly MAP_CREATE: MapHandleData;
  /** MAP_FREE has no result. */
  readonly MAP_FREE: null;
  /** MAP_UPDATE has no result. */
  readonly MAP_UPDATE: null;
  /** MAP_LOOKUP: the value. */
  readonly MAP_LOOKUP: MapValueResult;
  /** MAP_DELETE has no result. */
  readonly MAP_DELETE: null;
  /** MAP_GET_NEXT_KEY: the next key. */
  readonly MAP_GET_NEXT_KEY: MapKeyResult;
  /** PROG_LOAD: what the verifier did, and its log. */
  readonly PROG_LOAD: ProgLoadResult;
  /** PROG_UNLOAD has no result. */
  readonly PROG_UNLOAD: null;
  /** QUERY: the offload state and counters. */
  readonly QUERY: QueryResult;
  /** MAP_UPDATE_BATCH has no result. */
  readonly MAP_UPDATE_BATCH: null;
  /** MAP_LOOKUP_BATCH: the elements. */
  readonly MAP_LOOKUP_BATCH: MapBatchResult;
  /** PROG_ARRAY_LOAD: what the verifier did, and its log (PROG_LOAD's result). */
  readonly PROG_ARRAY_LOAD: ProgLoadResult;
}

/** `true` only when A and B hold the same values: each assignable to the other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Frames = typeof COMMAND_FRAMES;
/** Every command whose written-out request or result differs from its layout's. */
type Drift = {
  [C in XdpCommandName]: Same<RequestDataMap[C], DataOf<Frames[C]['request']>> extends true
    ? Same<ResultDataMap[C], DataOf<Frames[C]['result']>> extends true
      ? never
      : C
    : C;
}[XdpCommandName];
/** Compiles only while no interface drifts from its layout (the error names the command). */
const shapesMatchLayouts: [Drift] extends [never] ? true : Drift = true;
void shapesMatchLayouts;
