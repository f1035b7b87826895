/**
 * The wire structures of the spec, one layout each. These layouts are the single source of truth:
 * the codecs run them, the spec's struct tables and the C header are generated from them.
 *
 * @module
 */
import {
  BpfMapType,
  BpfUpdateFlag,
  BPF_LD_IMM64,
  HELPER_BITMAP_BYTES,
  IsaGroup,
  LogLevel,
  NextKeyFlag,
  OFFLOADABLE_HELPER_IDS,
  ProgFeature,
  ProgLoadFlag,
  QueryFlag,
  TunXdpOffloadOp,
  VerifyMode,
  VIRTIO_NET_CTRL_XDP_OFFLOAD,
  VIRTIO_NET_ERR,
  VIRTIO_NET_OK,
  XdpCommand,
  XdpStatus,
  invert,
} from './constants.js';
import { CodecError } from './errors.js';
import {
  arrayOf,
  ascii,
  bytes,
  fixedBytes,
  intOf,
  le16,
  le16Enum,
  le32,
  le32Enum,
  le64,
  nibblePair,
  reserved,
  s16,
  s32,
  u8,
} from './fields.js';
import { defineLayout, type ValueOf } from './layout.js';

/** The two bytes that open every control-queue command (`struct virtio_net_ctrl_hdr`). */
export const ctrlHeader = defineLayout({
  cName: 'virtio_net_ctrl_hdr',
  doc: 'Control virtqueue command header (device-readable).',
  external: '<linux/virtio_net.h>',
  fields: [
    u8('class', 'Command class; VIRTIO_NET_CTRL_XDP_OFFLOAD (10) for every command of this section.', {
      values: { [VIRTIO_NET_CTRL_XDP_OFFLOAD]: 'VIRTIO_NET_CTRL_XDP_OFFLOAD' },
    }),
    u8('cmd', 'Command within the class (VIRTIO_NET_CTRL_XDP_*).', { values: invert(XdpCommand) }),
  ],
});

/** The `ack` byte that opens the device-writable part. */
export const ctrlAck = defineLayout({
  cName: 'virtio_net_ctrl_ack',
  external: '<linux/virtio_net.h>',
  doc: 'The first device-writable byte: VIRTIO_NET_OK (0) or VIRTIO_NET_ERR (1).',
  fields: [
    u8('ack', 'VIRTIO_NET_OK when status is OK, else VIRTIO_NET_ERR.', {
      values: { [VIRTIO_NET_OK]: 'VIRTIO_NET_OK', [VIRTIO_NET_ERR]: 'VIRTIO_NET_ERR' },
    }),
  ],
});

/** The status header written right after `ack` for every command of the class. */
export const xdpStatus = defineLayout({
  cName: 'virtio_net_xdp_status',
  doc: 'Status header; device-writable, immediately after ack.',
  fields: [
    le16Enum('status', 'VIRTIO_NET_XDP_S_*: OK or the errno-like reason of the failure.', XdpStatus),
    reserved('reserved', 2),
    le32('result_len', 'Number of command-specific result bytes the device wrote after this header.'),
  ],
});

/** Bit `n` of `map_types` stands for map type `n`. */
const MAP_TYPE_BITS: Record<string, bigint> = Object.fromEntries(
  Object.entries(BpfMapType).map(([name, value]) => [name, 1n << BigInt(value)]),
);

/** Result of `CAPS_GET`. */
export const xdpCaps = defineLayout({
  cName: 'virtio_net_xdp_caps',
  doc: 'Capabilities and limits of the device (CAPS_GET result).',
  fields: [
    le32('max_maps', 'Maximum number of maps that may exist at once.'),
    le32('max_entries', 'Maximum max_entries of one map.'),
    le64(
      'max_map_memory',
      'Maximum total map memory in bytes, as the device accounts it (see the limits section).',
    ),
    le32('max_key_size', 'Maximum key_size of a map, in bytes.'),
    le32('max_value_size', 'Maximum value_size of a map, in bytes.'),
    le32('max_insns', 'Maximum insn_cnt of a program (ld_imm64 counts as two).'),
    le32('max_log_size', 'Maximum log_size the device honours; larger requests are clamped to it.'),
    le64(
      'map_types',
      'Bit n set: map type n can be created (VIRTIO_NET_XDP_MAP_TYPE_* are the defined ones).',
      {
        flags: MAP_TYPE_BITS,
      },
    ),
    le32('isa_groups', 'RFC 9669 conformance groups the device executes (VIRTIO_NET_XDP_ISA_*).', {
      flags: IsaGroup,
    }),
    le32('prog_features', 'Program features beyond RFC 9669 (VIRTIO_NET_XDP_PROG_F_*).', {
      flags: ProgFeature,
    }),
    le16('xdp_headroom', 'Bytes of headroom before the packet data (bpf_xdp_adjust_head can grow into it).'),
    le16('max_frame_len', 'Largest frame, in bytes, given to the program in one buffer.'),
    le32(
      'max_batch',
      'Most elements one MAP_UPDATE_BATCH or MAP_LOOKUP_BATCH carries; 0: no batch commands.',
    ),
    fixedBytes(
      'helpers',
      'Bitmap of callable helpers: bit (id % 8) of byte (id / 8) set means helper id is supported.',
      HELPER_BITMAP_BYTES,
    ),
    le16(
      'percpu_slots',
      'Values each element of a per-CPU map holds: one slot per queue pair, at least 1 (X.7.2).',
      { min: 1 },
    ),
    le16Enum('verify_mode', 'How the host verifies programs: VIRTIO_NET_XDP_VERIFY_* (X.8.3).', VerifyMode),
    reserved('reserved', 4),
  ],
  rule: (value, base) => {
    const offset = base + 56;
    value.helpers.forEach((byte, i) => {
      for (let bit = 0; bit < 8; bit++) {
        if ((byte >> bit) & 1 && !OFFLOADABLE_HELPER_IDS.has(i * 8 + bit)) {
          throw new CodecError(
            'reserved',
            'helpers',
            offset + i,
            `helper id ${i * 8 + bit} is not offloadable`,
          );
        }
      }
    });
  },
});

/** Request of `MAP_CREATE`. */
export const xdpMapCreate = defineLayout({
  cName: 'virtio_net_xdp_map_create',
  doc: 'MAP_CREATE request (device-readable).',
  fields: [
    le32Enum('map_type', 'BPF_MAP_TYPE_*: one of the offloadable types (X.7).', BpfMapType),
    le32('key_size', 'Key size in bytes (4 for an array).', { min: 1 }),
    le32('value_size', 'Value size in bytes.', { min: 1 }),
    le32('max_entries', 'Maximum number of elements.', { min: 1 }),
    le32('map_flags', 'Creation flags; none are defined, so zero ([drv-wire-well-formed]).', { flags: {} }),
    reserved('reserved', 4),
  ],
});

/** `MAP_CREATE` result and `MAP_FREE` request: a device-assigned map handle. */
export const xdpMapHandle = defineLayout({
  cName: 'virtio_net_xdp_map_handle',
  doc: 'A map handle: MAP_CREATE result (device-writable) and MAP_FREE request (device-readable).',
  fields: [le32('map_handle', 'Device-assigned map handle; never 0.', { min: 1 }), reserved('reserved', 4)],
});

const handleField = () => le32('map_handle', 'Handle returned by MAP_CREATE.', { min: 1 });
const keySizeField = () =>
  le32('key_size', "Key size in bytes; the map's key_size ([drv-map-sizes]).", { min: 1 });

/** Request of `MAP_UPDATE`. */
export const xdpMapUpdate = defineLayout({
  cName: 'virtio_net_xdp_map_update',
  doc: 'MAP_UPDATE request (device-readable).',
  fields: [
    handleField(),
    keySizeField(),
    le32('value_size', "Value size in bytes; the map's value_size ([drv-map-sizes]).", { min: 1 }),
    le32('flags', 'BPF_ANY (0), BPF_NOEXIST (1) or BPF_EXIST (2).', { values: invert(BpfUpdateFlag) }),
    bytes('key', 'The key.', 'key_size', (s) => intOf(s, 'key_size')),
    bytes('value', 'The value.', 'value_size', (s) => intOf(s, 'value_size')),
  ],
});

/** Request of `MAP_LOOKUP`. */
export const xdpMapLookup = defineLayout({
  cName: 'virtio_net_xdp_map_lookup',
  doc: 'MAP_LOOKUP request (device-readable); the value comes back as the result.',
  fields: [
    handleField(),
    keySizeField(),
    le32('value_size', "Size of the value result; the map's value_size ([drv-map-sizes]).", { min: 1 }),
    reserved('reserved', 4),
    bytes('key', 'The key.', 'key_size', (s) => intOf(s, 'key_size')),
  ],
});

/** Request of `MAP_DELETE`. */
export const xdpMapDelete = defineLayout({
  cName: 'virtio_net_xdp_map_delete',
  doc: 'MAP_DELETE request (device-readable).',
  fields: [handleField(), keySizeField(), bytes('key', 'The key.', 'key_size', (s) => intOf(s, 'key_size'))],
});

/** Request of `MAP_GET_NEXT_KEY`. */
export const xdpMapGetNextKey = defineLayout({
  cName: 'virtio_net_xdp_map_get_next_key',
  doc: 'MAP_GET_NEXT_KEY request (device-readable); the next key comes back as the result.',
  fields: [
    handleField(),
    keySizeField(),
    le32('flags', 'VIRTIO_NET_XDP_NEXT_KEY_F_FIRST (1): no key follows; return the first key.', {
      flags: NextKeyFlag,
    }),
    reserved('reserved', 4),
    bytes('key', 'The current key; absent (0 bytes) when FIRST is set.', 'FIRST ? 0 : key_size', (s) =>
      intOf(s, 'flags') & NextKeyFlag.FIRST ? 0 : intOf(s, 'key_size'),
    ),
  ],
});

/** The bytes of `count` elements, each a key then a value, sized by the request's fields. */
const elementsField = (
  doc: string,
  count: (s: Readonly<Record<string, unknown>>, outer: unknown) => number,
) => bytes('elements', doc, 'count × (key_size + value_size)', count);

/** Request of `MAP_UPDATE_BATCH`. */
export const xdpMapUpdateBatch = defineLayout({
  cName: 'virtio_net_xdp_map_update_batch',
  doc: 'MAP_UPDATE_BATCH request (device-readable): count elements, all applied or none.',
  fields: [
    handleField(),
    keySizeField(),
    le32('value_size', "Value size in bytes; the map's value_size ([drv-map-sizes]).", { min: 1 }),
    le32('flags', 'BPF_ANY (0), BPF_NOEXIST (1) or BPF_EXIST (2), for every element.', {
      values: invert(BpfUpdateFlag),
    }),
    le32('count', 'Number of elements; at least 1, at most max_batch.', { min: 1 }),
    reserved('reserved', 4),
    elementsField(
      'The elements in order: each a key of key_size bytes, then a value of value_size bytes.',
      (s) => intOf(s, 'count') * (intOf(s, 'key_size') + intOf(s, 'value_size')),
    ),
  ],
});

/** Request of `MAP_LOOKUP_BATCH`. */
export const xdpMapLookupBatch = defineLayout({
  cName: 'virtio_net_xdp_map_lookup_batch',
  doc: "MAP_LOOKUP_BATCH request (device-readable): up to max_count elements after a key, in the map's order.",
  fields: [
    handleField(),
    keySizeField(),
    le32('value_size', "Value size in bytes; the map's value_size ([drv-map-sizes]).", { min: 1 }),
    le32('flags', 'VIRTIO_NET_XDP_NEXT_KEY_F_FIRST (1): no key follows; start at the first key.', {
      flags: NextKeyFlag,
    }),
    le32('max_count', 'Most elements to return; at least 1, at most max_batch.', { min: 1 }),
    reserved('reserved', 4),
    bytes(
      'key',
      'The key to continue after; absent (0 bytes) when FIRST is set.',
      'FIRST ? 0 : key_size',
      (s) => (intOf(s, 'flags') & NextKeyFlag.FIRST ? 0 : intOf(s, 'key_size')),
    ),
  ],
});

/** Result of `MAP_LOOKUP_BATCH`. */
export const xdpMapBatch = defineLayout({
  cName: 'virtio_net_xdp_map_batch',
  doc: 'MAP_LOOKUP_BATCH result (device-writable): count elements, each a key then its value.',
  fields: [
    le32('count', "Number of elements returned: 1 to the request's max_count.", { min: 1 }),
    reserved('reserved', 4),
    elementsField(
      "The elements in the map's order: each a key of key_size bytes, then its value of value_size bytes.",
      (s, outer) => intOf(s, 'count') * (requestInt(outer, 'key_size') + requestInt(outer, 'value_size')),
    ),
  ],
  rule: (value, base, outer) => {
    const max = requestInt(outer, 'max_count');
    if (value.count > max)
      throw new CodecError('range', 'count', base, `${value.count} elements for a max_count of ${max}`);
  },
});

/**
 * `struct bpf_insn` in the RFC 9669 little-endian encoding. The spec's header declares it as
 * `struct virtio_net_xdp_insn`, with both register nibbles in one byte: Linux's own `struct
 * bpf_insn` uses bit-fields, whose order follows the host's, so on a big-endian host it does not
 * lay out the wire. Always little-endian, whatever the guest ([drv-prog-le]).
 */
export const bpfInsn = defineLayout({
  cName: 'bpf_insn',
  cStruct: 'virtio_net_xdp_insn',
  doc: 'One eBPF instruction slot, RFC 9669 encoding, little-endian whatever the host (the header declares it as struct virtio_net_xdp_insn).',
  fields: [
    u8('code', 'Opcode.'),
    ...nibblePair(
      'dst_reg',
      'Destination register (low nibble).',
      'src_reg',
      'Source register (high nibble).',
    ),
    // little-endian two's complement on every host: __le, not the host-order __s16 and __s32
    s16('off', 'Signed offset.', { cType: '__le16' }),
    s32('imm', 'Signed immediate.', { cType: '__le32' }),
  ],
});

/** A decoded instruction slot. */
export type BpfInsn = ValueOf<typeof bpfInsn>;

/**
 * Whether a slot may be the second slot of an `ld_imm64`: it exists and carries only the upper 32
 * bits of the immediate (code, registers and offset zero). The one statement of the rule, for the
 * codec, the engine's loader and the verifier.
 */
export function isLdImm64SecondSlot(slot: BpfInsn | undefined): boolean {
  return slot !== undefined && slot.code === 0 && slot.dst_reg === 0 && slot.src_reg === 0 && slot.off === 0;
}

/**
 * The program-level framing rule: an `ld_imm64` occupies two slots, and its second slot carries only
 * the upper 32 bits of the immediate (code, registers and offset zero) ([dev-prog-wire]). Offsets
 * are of the first instruction byte in the buffer; `base` is where the instruction array starts.
 *
 * @throws CodecError (`truncated` or `reserved`) naming the slot and its byte offset.
 */
export function checkInsnPairs(insns: readonly BpfInsn[], base: number, field = 'insns'): void {
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i] as BpfInsn;
    if (insn.code !== BPF_LD_IMM64) continue;
    const next = insns[i + 1];
    if (next === undefined) {
      throw new CodecError('truncated', `${field}[${i}]`, base + i * 8, 'ld_imm64 needs a second slot');
    }
    if (!isLdImm64SecondSlot(next)) {
      throw new CodecError(
        'reserved',
        `${field}[${i + 1}]`,
        base + (i + 1) * 8,
        'second slot of ld_imm64 must have code, registers and offset zero',
      );
    }
    i++;
  }
}

/**
 * The fields that carry a program, in PROG_LOAD and (after the slot) PROG_ARRAY_LOAD, and their
 * rule: a log size exactly when a log is asked for, and whole `ld_imm64` pairs. `at` is where the
 * fields start in the command's data.
 */
function programFields(at: number) {
  return {
    fields: [
      le32('insn_cnt', 'Number of instruction slots that follow.', { min: 1 }),
      le32('log_size', 'Size of the log area the driver provides in the result; 0 with log_level NONE.'),
      le32Enum('log_level', 'VIRTIO_NET_XDP_LOG_NONE (0), _BASIC (1) or _VERBOSE (2).', LogLevel),
      le32('prog_flags', 'VIRTIO_NET_XDP_PROG_LOAD_F_GPL_COMPATIBLE (1).', { flags: ProgLoadFlag }),
      arrayOf('insns', 'The program.', bpfInsn, 'insn_cnt', (s) => intOf(s, 'insn_cnt')),
    ] as const,
    rule: (value: { log_level: number; log_size: number; insns: readonly BpfInsn[] }, base: number) => {
      if ((value.log_level === LogLevel.NONE) !== (value.log_size === 0)) {
        throw new CodecError(
          'inconsistent',
          'log_size',
          base + at + 4,
          'log_size must be 0 exactly when log_level is NONE',
        );
      }
      checkInsnPairs(value.insns, base + at + 16);
    },
  };
}

const programOfLoad = programFields(0);
/** Request of `PROG_LOAD`. */
export const xdpProgLoad = defineLayout({
  cName: 'virtio_net_xdp_prog_load',
  doc: 'PROG_LOAD request (device-readable).',
  fields: programOfLoad.fields,
  rule: programOfLoad.rule,
});

const programOfArrayLoad = programFields(8);
/** Request of `PROG_ARRAY_LOAD`: a slot of a PROG_ARRAY map, then PROG_LOAD's fields. */
export const xdpProgArrayLoad = defineLayout({
  cName: 'virtio_net_xdp_prog_array_load',
  doc: 'PROG_ARRAY_LOAD request (device-readable): a program for one slot of a PROG_ARRAY map.',
  fields: [
    le32('map_handle', 'Handle of a BPF_MAP_TYPE_PROG_ARRAY map.'),
    le32('index', "The slot: below the map's max_entries."),
    ...programOfArrayLoad.fields,
  ],
  rule: programOfArrayLoad.rule,
});

/** What a result layout may consult of its request. */
interface RequestContext {
  readonly request: Readonly<Record<string, unknown>>;
}
function requestInt(outer: unknown, key: string): number {
  const request = (outer as Partial<RequestContext> | undefined)?.request;
  return request === undefined ? NaN : intOf(request, key);
}

/** Result of `PROG_LOAD`. */
export const xdpProgLoadResult = defineLayout({
  cName: 'virtio_net_xdp_prog_load_result',
  doc: 'PROG_LOAD result (device-writable), written on success and on verifier rejection.',
  fields: [
    le32('insns_processed', 'Instructions the verifier processed (its measure of effort).'),
    le16Enum('verify_mode', "The caps' verify_mode the program was verified under (X.8.3).", VerifyMode),
    reserved('reserved', 2),
    le32('log_len', 'Bytes of log that follow; at most the request log_size.'),
    ascii('log', 'Verifier log: printable ASCII, tab and newline, no terminator.', 'log_len', (s) =>
      intOf(s, 'log_len'),
    ),
  ],
  rule: (value, base, outer) => {
    const limit = requestInt(outer, 'log_size');
    if (!(value.log_len <= limit)) {
      throw new CodecError(
        'length',
        'log_len',
        base + 8,
        `${value.log_len} exceeds the request's log_size ${limit}`,
      );
    }
  },
});

/** Result of `MAP_LOOKUP`. */
export const xdpMapValue = defineLayout({
  cName: 'virtio_net_xdp_map_value',
  doc: 'MAP_LOOKUP result (device-writable): the value, request value_size bytes.',
  fields: [bytes('value', 'The value.', 'value_size', (_s, outer) => requestInt(outer, 'value_size'))],
});

/** Result of `MAP_GET_NEXT_KEY`. */
export const xdpMapKey = defineLayout({
  cName: 'virtio_net_xdp_map_key',
  doc: 'MAP_GET_NEXT_KEY result (device-writable): the next key, request key_size bytes.',
  fields: [bytes('next_key', 'The next key.', 'key_size', (_s, outer) => requestInt(outer, 'key_size'))],
});

/** Result of `QUERY`. */
export const xdpQuery = defineLayout({
  cName: 'virtio_net_xdp_query',
  doc: 'QUERY result (device-writable): offload state and per-action counters.',
  fields: [
    le32('flags', 'VIRTIO_NET_XDP_QUERY_F_PROG_ATTACHED (1).', { flags: QueryFlag }),
    le32('insn_cnt', 'insn_cnt of the attached program; 0 when none.'),
    le32('map_count', 'Number of maps that exist.'),
    reserved('reserved', 4),
    le64('map_memory', 'Map memory in use, in bytes, as the device accounts it.'),
    le64('packets', 'Packets the attached programs have run on since reset.'),
    le64('aborted', 'Runs that returned XDP_ABORTED or faulted.'),
    le64('drop', 'Runs that returned XDP_DROP (or an undefined action).'),
    le64('pass', 'Runs that returned XDP_PASS.'),
    le64('tx', 'Runs that returned XDP_TX.'),
    le64('redirect', 'Runs that returned XDP_REDIRECT.'),
  ],
  rule: (value, base) => {
    if (!(value.flags & QueryFlag.PROG_ATTACHED) && value.insn_cnt !== 0) {
      throw new CodecError('inconsistent', 'insn_cnt', base + 4, 'must be 0 when no program is attached');
    }
  },
});

/** Argument of the tun/tap ioctl `TUNXDPOFFLOAD` (host byte order; little-endian here). */
export const tunXdpOffload = defineLayout({
  cName: 'tun_xdp_offload',
  doc: 'Argument of TUNXDPOFFLOAD (host byte order; the codec encodes a little-endian host).',
  fields: [
    le32('op', 'TUN_XDP_OFFLOAD_ATTACH (1), _DETACH (2) or _QUERY (3).', {
      values: invert(TunXdpOffloadOp),
      cType: '__u32',
      wire: 'u32',
    }),
    s32('prog_fd', 'ATTACH: fd of a loaded XDP program; otherwise -1.', { min: -1 }),
    le32('flags', 'None defined; zero.', { flags: {}, cType: '__u32', wire: 'u32' }),
    le32('prog_id', 'QUERY (out): id of the attached program, 0 if none; zero on input.', {
      cType: '__u32',
      wire: 'u32',
    }),
    le64('packets', 'QUERY (out): packets the program ran on.', { cType: '__u64' }),
    le64('aborted', 'QUERY (out): XDP_ABORTED runs and faults.', { cType: '__u64' }),
    le64('drop', 'QUERY (out): XDP_DROP runs.', { cType: '__u64' }),
    le64('pass', 'QUERY (out): XDP_PASS runs.', { cType: '__u64' }),
    le64('tx', 'QUERY (out): XDP_TX runs.', { cType: '__u64' }),
    le64('redirect', 'QUERY (out): XDP_REDIRECT runs.', { cType: '__u64' }),
  ],
  rule: (value, base) => {
    if ((value.op === TunXdpOffloadOp.ATTACH) !== value.prog_fd >= 0) {
      throw new CodecError('inconsistent', 'prog_fd', base + 4, 'must be an fd for ATTACH and -1 otherwise');
    }
  },
});

/** Every layout, in the order the spec presents them. */
export const ALL_LAYOUTS = [
  ctrlHeader,
  ctrlAck,
  xdpStatus,
  xdpCaps,
  xdpMapCreate,
  xdpMapHandle,
  xdpMapUpdate,
  xdpMapLookup,
  xdpMapValue,
  xdpMapDelete,
  xdpMapGetNextKey,
  xdpMapKey,
  xdpMapUpdateBatch,
  xdpMapLookupBatch,
  xdpMapBatch,
  bpfInsn,
  xdpProgLoad,
  xdpProgLoadResult,
  xdpProgArrayLoad,
  xdpQuery,
  tunXdpOffload,
] as const;
