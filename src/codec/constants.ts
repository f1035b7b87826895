/**
 * Every number the spec allocates or relies on, each defined once. The C header's `#define`s are
 * generated from these tables.
 *
 * @module
 */

/** Feature bit: the device can verify and run offloaded XDP programs. Requires `VIRTIO_NET_F_CTRL_VQ`. */
export const VIRTIO_NET_F_XDP_OFFLOAD = 71;
/** Feature bit of the control virtqueue, which the offload feature requires. */
export const VIRTIO_NET_F_CTRL_VQ = 17;

/** A feature bit as a bit set (feature bits go up to 127, beyond a number's bit operations). */
export const featureBit = (bit: number): bigint => 1n << BigInt(bit);

/** The control class of XDP offload commands. */
export const VIRTIO_NET_CTRL_XDP_OFFLOAD = 10;

/** The `ack` values of the virtio-net control virtqueue. */
export const VIRTIO_NET_OK = 0;
/** See {@link VIRTIO_NET_OK}. */
export const VIRTIO_NET_ERR = 1;

/** The commands of class {@link VIRTIO_NET_CTRL_XDP_OFFLOAD}, by spec name. */
export const XdpCommand = {
  /** Read the capabilities and limits (X.6). */
  CAPS_GET: 0,
  /** Create a map; returns its handle (X.7). */
  MAP_CREATE: 1,
  /** Free a map (X.7). */
  MAP_FREE: 2,
  /** Create or replace an element (X.7). */
  MAP_UPDATE: 3,
  /** Read an element (X.7). */
  MAP_LOOKUP: 4,
  /** Delete an element (X.7). */
  MAP_DELETE: 5,
  /** Iterate over keys (X.7). */
  MAP_GET_NEXT_KEY: 6,
  /** Verify and attach a program (X.8). */
  PROG_LOAD: 7,
  /** Detach and discard the program (X.8). */
  PROG_UNLOAD: 8,
  /** Read the offload state and counters (X.8). */
  QUERY: 9,
  /** Create or replace many elements at once, all or none (X.7). */
  MAP_UPDATE_BATCH: 10,
  /** Read many elements at once, in iteration order (X.7). */
  MAP_LOOKUP_BATCH: 11,
  /** Verify a program and place it in a slot of a PROG_ARRAY map, for tail calls (X.8). */
  PROG_ARRAY_LOAD: 12,
} as const;
/** A command's spec name. */
export type XdpCommandName = keyof typeof XdpCommand;

/**
 * The Linux errno values the project uses, in one table: the wire's statuses are a subset
 * ({@link XdpStatus}), and the engine, verifier, tap and driver return these numbers.
 */
export const Errno = {
  /** No such file or entry. */
  ENOENT: 2,
  /** I/O error (a driver's answer to a device that broke the spec). */
  EIO: 5,
  /** Argument list too long: above a size limit. */
  E2BIG: 7,
  /** Bad file descriptor or handle. */
  EBADF: 9,
  /** Try again: the operation cannot be done now. */
  EAGAIN: 11,
  /** Out of memory. */
  ENOMEM: 12,
  /** Permission denied: the verifier refused an unsafe program. */
  EACCES: 13,
  /** Bad address (the verifier's "too complex" at 8,193 pending paths). */
  EFAULT: 14,
  /** Busy. */
  EBUSY: 16,
  /** Exists. */
  EEXIST: 17,
  /** Invalid argument. */
  EINVAL: 22,
  /** Not a typewriter: an ioctl the file does not know. */
  ENOTTY: 25,
  /** No space left: a count limit. */
  ENOSPC: 28,
  /** Result out of range (strtol). */
  ERANGE: 34,
  /** Operation not supported. */
  EOPNOTSUPP: 95,
  /** Linux's internal ENOTSUPP, which the verifier returns to user space as it is. */
  ENOTSUPP: 524,
} as const;

/** Status codes (the errno values Linux uses for the same conditions). */
export const XdpStatus = {
  /** Success. */
  OK: 0,
  /** No such key; end of iteration; no program to unload. */
  ENOENT: Errno.ENOENT,
  /** The device failed for a reason of its own (a host operation it needs failed); nothing changed. */
  EIO: Errno.EIO,
  /** Above a size limit; map full; array index out of range. */
  E2BIG: Errno.E2BIG,
  /** Unknown map handle. */
  EBADF: Errno.EBADF,
  /** Not now: a live migration is in progress, and the command would create state that blocks it; nothing changed. */
  EAGAIN: Errno.EAGAIN,
  /** Map memory limit reached. */
  ENOMEM: Errno.ENOMEM,
  /** The verifier rejected the program. */
  EACCES: Errno.EACCES,
  /** Map in use by the loaded program. */
  EBUSY: Errno.EBUSY,
  /** Key exists (BPF_NOEXIST). */
  EEXIST: Errno.EEXIST,
  /** Malformed command or invalid combination of values. */
  EINVAL: Errno.EINVAL,
  /** Map count limit reached. */
  ENOSPC: Errno.ENOSPC,
  /** Undefined command or unsupported map type. */
  EOPNOTSUPP: Errno.EOPNOTSUPP,
} as const;
/** A status the table defines (`VIRTIO_NET_XDP_S_*`). */
export type XdpStatusValue = (typeof XdpStatus)[keyof typeof XdpStatus];
/** A status's spec name. */
export type XdpStatusName = keyof typeof XdpStatus;

/** Map types that can be offloaded (Linux `enum bpf_map_type` values). */
export const BpfMapType = {
  /** `BPF_MAP_TYPE_HASH`. */
  HASH: 1,
  /** `BPF_MAP_TYPE_ARRAY`. */
  ARRAY: 2,
  /**
   * `BPF_MAP_TYPE_PROG_ARRAY`: slots of programs for `bpf_tail_call`, filled by PROG_ARRAY_LOAD
   * (X.7.4).
   */
  PROG_ARRAY: 3,
  /** `BPF_MAP_TYPE_PERCPU_HASH`: a hash whose every element holds one value per slot (X.7.2). */
  PERCPU_HASH: 5,
  /** `BPF_MAP_TYPE_PERCPU_ARRAY`: an array whose every element holds one value per slot (X.7.2). */
  PERCPU_ARRAY: 6,
  /** `BPF_MAP_TYPE_LRU_HASH`: a hash that makes room for a new key by evicting one (X.7.3). */
  LRU_HASH: 9,
  /** `BPF_MAP_TYPE_LPM_TRIE`: longest-prefix match over `{ __u32 prefixlen; data }` keys (X.7.4). */
  LPM_TRIE: 11,
} as const;

/** A defined map type's number: `1 | 2 | 3 | 5 | 6 | 9 | 11`. */
export type BpfMapTypeValue = (typeof BpfMapType)[keyof typeof BpfMapType];

/** `MAP_UPDATE` flags (Linux `BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`): an enumeration, not a bit set. */
export const BpfUpdateFlag = {
  /** `BPF_ANY`: create or replace. */
  ANY: 0,
  /** `BPF_NOEXIST`: create only. */
  NOEXIST: 1,
  /** `BPF_EXIST`: replace only. */
  EXIST: 2,
} as const;

/** `MAP_GET_NEXT_KEY` flags. */
export const NextKeyFlag = {
  /** No key is given: the device returns the first key. */
  FIRST: 1,
} as const;

/** `PROG_LOAD` flags. */
export const ProgLoadFlag = {
  /** The program's license is GPL-compatible (lets it call GPL-only helpers, as in Linux). */
  GPL_COMPATIBLE: 1,
} as const;

/**
 * How the device's host verifies offloaded programs (`verify_mode` in CAPS_GET and in PROG_LOAD's
 * result, X.8.3): the host operator chooses it, never the guest.
 */
export const VerifyMode = {
  /**
   * As a loader holding CAP_BPF and CAP_NET_ADMIN only (the default): Spectre v1 and v4
   * mitigations on, no pointer arithmetic beyond what an unprivileged loader may do, no pointer
   * comparisons or leaks.
   */
  CAP_BPF: 0,
  /**
   * As root (CAP_SYS_ADMIN, with CAP_PERFMON): the operator declared its guests trusted; pointer
   * subtraction and variable packet offsets are accepted without speculation barriers.
   */
  TRUSTED: 1,
} as const;
/** A defined `verify_mode`: `0 | 1`. */
export type VerifyModeValue = (typeof VerifyMode)[keyof typeof VerifyMode];

/** `PROG_LOAD` log levels (Linux's `log_level` values). */
export const LogLevel = {
  /** No log. */
  NONE: 0,
  /** Linux log level 1. */
  BASIC: 1,
  /** Linux log level 2. */
  VERBOSE: 2,
} as const;
/** A defined `log_level`: `0 | 1 | 2`. */
export type LogLevelValue = (typeof LogLevel)[keyof typeof LogLevel];

/** RFC 9669 conformance groups, as bits of `isa_groups`. */
export const IsaGroup = {
  /** RFC 9669 base32. */
  BASE32: 1 << 0,
  /** RFC 9669 base64. */
  BASE64: 1 << 1,
  /** RFC 9669 atomic32. */
  ATOMIC32: 1 << 2,
  /** RFC 9669 atomic64. */
  ATOMIC64: 1 << 3,
  /** RFC 9669 divmul32. */
  DIVMUL32: 1 << 4,
  /** RFC 9669 divmul64. */
  DIVMUL64: 1 << 5,
  /* Bit 6, RFC 9669's packet group (LD_ABS and LD_IND), is reserved: XDP programs cannot use them. */
  /** RFC 9669 callx: `call` through a register (opcode 0x8d). */
  CALLX: 1 << 7,
} as const;

/** Program features beyond RFC 9669, as bits of `prog_features`. */
export const ProgFeature = {
  /** BPF-to-BPF calls (`call` with `src_reg` = 1). */
  BPF_TO_BPF_CALLS: 1 << 0,
  /** `ld_imm64` with `src_reg` = 2 (`BPF_PSEUDO_MAP_VALUE`): direct map-value addresses. */
  MAP_VALUE_ADDR: 1 << 1,
  /** `bpf_xdp_adjust_meta` and `data_meta`. */
  DATA_META: 1 << 2,
} as const;

/** `QUERY` result flags. */
export const QueryFlag = {
  /** A program is loaded and attached. */
  PROG_ATTACHED: 1,
} as const;

/**
 * The helpers an offloaded program may call, by Linux `BPF_FUNC_*` id. A device advertises a subset
 * in `helpers`; no other id may be advertised. The 2019 RFC also listed `csum_update` (40), which
 * Linux offers to skb programs only (its verifier refuses it in XDP programs), so it is left out.
 */
export const OffloadHelper = {
  /** `bpf_map_lookup_elem` (`BPF_FUNC_map_lookup_elem`). */
  map_lookup_elem: 1,
  /** `bpf_map_update_elem` (`BPF_FUNC_map_update_elem`). */
  map_update_elem: 2,
  /** `bpf_map_delete_elem` (`BPF_FUNC_map_delete_elem`). */
  map_delete_elem: 3,
  /** `bpf_ktime_get_ns` (`BPF_FUNC_ktime_get_ns`): a monotonic clock whose origin is the device's (X.6). */
  ktime_get_ns: 5,
  /** `bpf_get_prandom_u32` (`BPF_FUNC_get_prandom_u32`). */
  get_prandom_u32: 7,
  /** `bpf_get_smp_processor_id` (`BPF_FUNC_get_smp_processor_id`): the slot of the queue the program runs for, never a host CPU number (X.9). */
  get_smp_processor_id: 8,
  /** `bpf_tail_call` (`BPF_FUNC_tail_call`): continues in a program of a PROG_ARRAY slot, at most 33 times a run (X.8). */
  tail_call: 12,
  /** `bpf_redirect` (`BPF_FUNC_redirect`): the ifindex names nothing; REDIRECT, or ABORTED for nonzero flags. */
  redirect: 23,
  /** `bpf_csum_diff` (`BPF_FUNC_csum_diff`). */
  csum_diff: 28,
  /** `bpf_xdp_adjust_head` (`BPF_FUNC_xdp_adjust_head`). */
  xdp_adjust_head: 44,
  /** `bpf_xdp_adjust_meta` (`BPF_FUNC_xdp_adjust_meta`). */
  xdp_adjust_meta: 54,
  /** `bpf_xdp_adjust_tail` (`BPF_FUNC_xdp_adjust_tail`). */
  xdp_adjust_tail: 65,
  /** `bpf_strtol` (`BPF_FUNC_strtol`). */
  strtol: 105,
  /** `bpf_strtoul` (`BPF_FUNC_strtoul`). */
  strtoul: 106,
  /** `bpf_xdp_load_bytes` (`BPF_FUNC_xdp_load_bytes`). */
  xdp_load_bytes: 189,
  /** `bpf_xdp_store_bytes` (`BPF_FUNC_xdp_store_bytes`). */
  xdp_store_bytes: 190,
  /** `bpf_ktime_get_coarse_ns` (`BPF_FUNC_ktime_get_coarse_ns`): the same clock as ktime_get_ns, at a coarser resolution the device chooses. */
  ktime_get_coarse_ns: 160,
} as const;

/**
 * `BPF_FUNC_redirect_map`: not offloadable, since every map type it takes (DEVMAP, CPUMAP, XSKMAP)
 * names a host interface, CPU or socket; the engine refuses it at run time in driver mode too.
 */
export const BPF_FUNC_REDIRECT_MAP = 51;

/** Every id of {@link OffloadHelper}: the helpers a device may offer. */
export const OFFLOADABLE_HELPER_IDS: ReadonlySet<number> = new Set(Object.values(OffloadHelper));

/** Size of the helper bitmap in bytes (256 ids; Linux's last helper id is 211). */
export const HELPER_BITMAP_BYTES = 32;

/** `enum xdp_action`. */
export const XdpAction = {
  /** `XDP_ABORTED`: error; discard. */
  ABORTED: 0,
  /** `XDP_DROP`: discard. */
  DROP: 1,
  /** `XDP_PASS`: deliver. */
  PASS: 2,
  /** `XDP_TX`: send back out. */
  TX: 3,
  /** `XDP_REDIRECT`: send elsewhere. */
  REDIRECT: 4,
} as const;

/** `ld_imm64` `src_reg` values the wire format gives meaning to. */
export const BpfPseudo = {
  /** `imm` carries a device map handle (Linux: `BPF_PSEUDO_MAP_FD`). */
  MAP_FD: 1,
  /** `imm` carries a map handle and the next slot's `imm` an offset into its value (`BPF_PSEUDO_MAP_VALUE`). */
  MAP_VALUE: 2,
} as const;

/** The `ld_imm64` opcode (`BPF_LD | BPF_IMM | BPF_DW`), which spans two instruction slots. */
export const BPF_LD_IMM64 = 0x18;

/** tun/tap: `TUNGETFEATURES` reports this bit when the tap can run an offloaded XDP program. */
export const IFF_XDP_OFFLOAD = 0x00010000;

/** tun/tap ioctl number of `TUNXDPOFFLOAD`. */
export const TUN_XDP_OFFLOAD_NR = 233;

/** Operations of `TUNXDPOFFLOAD`. */
export const TunXdpOffloadOp = {
  /** Attach `prog_fd`, replacing any attached program. */
  ATTACH: 1,
  /** Detach the attached program. */
  DETACH: 2,
  /** Read `prog_id` and the counters. */
  QUERY: 3,
} as const;

/** Size in bytes of `struct tun_xdp_offload`, the ioctl argument. */
export const TUN_XDP_OFFLOAD_SIZE = 64;

/** Linux `_IOWR(type, nr, size)` on x86-64: direction 3 in bits 30-31, size in 16-29. */
export function iowr(type: number, nr: number, size: number): number {
  return ((3 << 30) | (size << 16) | (type << 8) | nr) >>> 0;
}

/** Linux `_IOW(type, nr, size)` on x86-64: direction 1 in bits 30-31, size in 16-29. */
export function iow(type: number, nr: number, size: number): number {
  return ((1 << 30) | (size << 16) | (type << 8) | nr) >>> 0;
}

/**
 * tun/tap: `TUNSETTXFILTER` = `_IOW('T', 209, unsigned int)`, Linux's destination-MAC filter on the
 * tap's transmit path (toward the reader), applied before the frame is queued for the reader and so
 * before the offload hook.
 */
export const TUNSETTXFILTER = iow(0x54, 209, 4);

/** `struct tun_filter` `flags`: pass every multicast frame. */
export const TUN_FLT_ALLMULTI = 0x0001;

/** Feature bit of the control class's receive filter (VIRTIO 1.4 5.1.6.5.1: RX modes and MAC table). */
export const VIRTIO_NET_F_CTRL_RX = 18;

/** The control class of the receive modes (VIRTIO 1.4 5.1.6.5.1). */
export const VIRTIO_NET_CTRL_RX = 0;

/** Commands of class {@link VIRTIO_NET_CTRL_RX} that VIRTIO_NET_F_CTRL_RX provides. */
export const RxModeCommand = {
  /** Promiscuous mode on (1) or off (0). */
  PROMISC: 0,
  /** All-multicast mode on (1) or off (0). */
  ALLMULTI: 1,
} as const;

/** The control class of MAC address filtering (VIRTIO 1.4 5.1.6.5.2). */
export const VIRTIO_NET_CTRL_MAC = 1;

/** `VIRTIO_NET_CTRL_MAC_TABLE_SET`: the unicast and multicast address tables. */
export const VIRTIO_NET_CTRL_MAC_TABLE_SET = 0;

/** `TUNXDPOFFLOAD` = `_IOWR('T', 233, struct tun_xdp_offload)`. */
export const TUNXDPOFFLOAD = iowr(0x54, TUN_XDP_OFFLOAD_NR, TUN_XDP_OFFLOAD_SIZE);

/** Reverse lookup: the spec name of a value in a constant table, if any. */
export function nameOf<T extends Readonly<Record<string, number>>>(
  table: T,
  value: number,
): keyof T | undefined {
  for (const [name, v] of Object.entries(table)) if (v === value) return name;
  return undefined;
}

/** Inverts a name → value table for enumerated fields. */
export function invert(table: Readonly<Record<string, number>>): Readonly<Record<number, string>> {
  const out: Record<number, string> = {};
  for (const [name, value] of Object.entries(table)) out[value] = name;
  return out;
}
