/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause */
/*
 * virtio-net XDP offload: wire structures and constants (VIRTIO_NET_F_XDP_OFFLOAD).
 * Generated from the codec layouts by `npm run gen`; the spec text is normative, and this
 * header is checked against the codecs byte for byte by the test suite. Do not edit.
 * All fields are little-endian.
 */
#ifndef VIRTIO_NET_XDP_OFFLOAD_H
#define VIRTIO_NET_XDP_OFFLOAD_H

#include <linux/types.h>
#include <linux/bpf.h>        /* BPF_MAP_TYPE_*, BPF_ANY..., BPF_FUNC_* */
#include <linux/virtio_net.h> /* struct virtio_net_ctrl_hdr, virtio_net_ctrl_ack */

/* Feature bit (requires VIRTIO_NET_F_CTRL_VQ) and control class */
#define VIRTIO_NET_F_XDP_OFFLOAD 71
#define VIRTIO_NET_CTRL_XDP_OFFLOAD 10

/* Commands of class VIRTIO_NET_CTRL_XDP_OFFLOAD */
#define VIRTIO_NET_CTRL_XDP_CAPS_GET 0
#define VIRTIO_NET_CTRL_XDP_MAP_CREATE 1
#define VIRTIO_NET_CTRL_XDP_MAP_FREE 2
#define VIRTIO_NET_CTRL_XDP_MAP_UPDATE 3
#define VIRTIO_NET_CTRL_XDP_MAP_LOOKUP 4
#define VIRTIO_NET_CTRL_XDP_MAP_DELETE 5
#define VIRTIO_NET_CTRL_XDP_MAP_GET_NEXT_KEY 6
#define VIRTIO_NET_CTRL_XDP_PROG_LOAD 7
#define VIRTIO_NET_CTRL_XDP_PROG_UNLOAD 8
#define VIRTIO_NET_CTRL_XDP_QUERY 9
#define VIRTIO_NET_CTRL_XDP_MAP_UPDATE_BATCH 10
#define VIRTIO_NET_CTRL_XDP_MAP_LOOKUP_BATCH 11
#define VIRTIO_NET_CTRL_XDP_PROG_ARRAY_LOAD 12

/* Status codes (Linux errno values) */
#define VIRTIO_NET_XDP_S_OK 0
#define VIRTIO_NET_XDP_S_ENOENT 2
#define VIRTIO_NET_XDP_S_EIO 5
#define VIRTIO_NET_XDP_S_E2BIG 7
#define VIRTIO_NET_XDP_S_EBADF 9
#define VIRTIO_NET_XDP_S_EAGAIN 11
#define VIRTIO_NET_XDP_S_ENOMEM 12
#define VIRTIO_NET_XDP_S_EACCES 13
#define VIRTIO_NET_XDP_S_EBUSY 16
#define VIRTIO_NET_XDP_S_EEXIST 17
#define VIRTIO_NET_XDP_S_EINVAL 22
#define VIRTIO_NET_XDP_S_ENOSPC 28
#define VIRTIO_NET_XDP_S_EOPNOTSUPP 95

/* MAP_GET_NEXT_KEY flags */
#define VIRTIO_NET_XDP_NEXT_KEY_F_FIRST 1

/* PROG_LOAD flags */
#define VIRTIO_NET_XDP_PROG_LOAD_F_GPL_COMPATIBLE 1

/* PROG_LOAD log levels */
#define VIRTIO_NET_XDP_LOG_NONE 0
#define VIRTIO_NET_XDP_LOG_BASIC 1
#define VIRTIO_NET_XDP_LOG_VERBOSE 2

/* Offloadable map types (Linux enum bpf_map_type values; map_types bits) */
#define VIRTIO_NET_XDP_MAP_TYPE_HASH 1
#define VIRTIO_NET_XDP_MAP_TYPE_ARRAY 2
#define VIRTIO_NET_XDP_MAP_TYPE_PROG_ARRAY 3
#define VIRTIO_NET_XDP_MAP_TYPE_PERCPU_HASH 5
#define VIRTIO_NET_XDP_MAP_TYPE_PERCPU_ARRAY 6
#define VIRTIO_NET_XDP_MAP_TYPE_LRU_HASH 9
#define VIRTIO_NET_XDP_MAP_TYPE_LPM_TRIE 11

/* verify_mode values */
#define VIRTIO_NET_XDP_VERIFY_CAP_BPF 0
#define VIRTIO_NET_XDP_VERIFY_TRUSTED 1

/* isa_groups bits: RFC 9669 conformance groups */
#define VIRTIO_NET_XDP_ISA_BASE32 0x01
#define VIRTIO_NET_XDP_ISA_BASE64 0x02
#define VIRTIO_NET_XDP_ISA_ATOMIC32 0x04
#define VIRTIO_NET_XDP_ISA_ATOMIC64 0x08
#define VIRTIO_NET_XDP_ISA_DIVMUL32 0x10
#define VIRTIO_NET_XDP_ISA_DIVMUL64 0x20
#define VIRTIO_NET_XDP_ISA_CALLX 0x80

/* prog_features bits */
#define VIRTIO_NET_XDP_PROG_F_BPF_TO_BPF_CALLS 0x01
#define VIRTIO_NET_XDP_PROG_F_MAP_VALUE_ADDR 0x02
#define VIRTIO_NET_XDP_PROG_F_DATA_META 0x04

/* QUERY flags */
#define VIRTIO_NET_XDP_QUERY_F_PROG_ATTACHED 1

/* Size of the helpers bitmap */
#define VIRTIO_NET_XDP_HELPER_BITMAP_BYTES 32

/* Status header; device-writable, immediately after ack. */
struct virtio_net_xdp_status {
	__le16 status;
	__le16 reserved;
	__le32 result_len;
};

/* Capabilities and limits of the device (CAPS_GET result). */
struct virtio_net_xdp_caps {
	__le32 max_maps;
	__le32 max_entries;
	__le64 max_map_memory;
	__le32 max_key_size;
	__le32 max_value_size;
	__le32 max_insns;
	__le32 max_log_size;
	__le64 map_types;
	__le32 isa_groups;
	__le32 prog_features;
	__le16 xdp_headroom;
	__le16 max_frame_len;
	__le32 max_batch;
	__u8 helpers[32];
	__le16 percpu_slots;
	__le16 verify_mode;
	__le32 reserved;
};

/* MAP_CREATE request (device-readable). */
struct virtio_net_xdp_map_create {
	__le32 map_type;
	__le32 key_size;
	__le32 value_size;
	__le32 max_entries;
	__le32 map_flags;
	__le32 reserved;
};

/* A map handle: MAP_CREATE result (device-writable) and MAP_FREE request (device-readable). */
struct virtio_net_xdp_map_handle {
	__le32 map_handle;
	__le32 reserved;
};

/* MAP_UPDATE request (device-readable). */
struct virtio_net_xdp_map_update {
	__le32 map_handle;
	__le32 key_size;
	__le32 value_size;
	__le32 flags;
	__u8 key_value[]; /* key, then value */
};

/* MAP_LOOKUP request (device-readable); the value comes back as the result. */
struct virtio_net_xdp_map_lookup {
	__le32 map_handle;
	__le32 key_size;
	__le32 value_size;
	__le32 reserved;
	__u8 key[];
};

/* MAP_LOOKUP result (device-writable): the value, request value_size bytes. */
/* struct virtio_net_xdp_map_value is a bare byte string: u8[value_size] value. */

/* MAP_DELETE request (device-readable). */
struct virtio_net_xdp_map_delete {
	__le32 map_handle;
	__le32 key_size;
	__u8 key[];
};

/* MAP_GET_NEXT_KEY request (device-readable); the next key comes back as the result. */
struct virtio_net_xdp_map_get_next_key {
	__le32 map_handle;
	__le32 key_size;
	__le32 flags;
	__le32 reserved;
	__u8 key[];
};

/* MAP_GET_NEXT_KEY result (device-writable): the next key, request key_size bytes. */
/* struct virtio_net_xdp_map_key is a bare byte string: u8[key_size] next_key. */

/* MAP_UPDATE_BATCH request (device-readable): count elements, all applied or none. */
struct virtio_net_xdp_map_update_batch {
	__le32 map_handle;
	__le32 key_size;
	__le32 value_size;
	__le32 flags;
	__le32 count;
	__le32 reserved;
	__u8 elements[];
};

/* MAP_LOOKUP_BATCH request (device-readable): up to max_count elements after a key, in the map's order. */
struct virtio_net_xdp_map_lookup_batch {
	__le32 map_handle;
	__le32 key_size;
	__le32 value_size;
	__le32 flags;
	__le32 max_count;
	__le32 reserved;
	__u8 key[];
};

/* MAP_LOOKUP_BATCH result (device-writable): count elements, each a key then its value. */
struct virtio_net_xdp_map_batch {
	__le32 count;
	__le32 reserved;
	__u8 elements[];
};

/* One eBPF instruction slot, RFC 9669 encoding, little-endian whatever the host (the header declares it as struct virtio_net_xdp_insn). */
struct virtio_net_xdp_insn {
	__u8 code;
	__u8 dst_src_reg; /* dst_reg bits 0-3, src_reg bits 4-7 */
	__le16 off;
	__le32 imm;
};

/* PROG_LOAD request (device-readable). */
struct virtio_net_xdp_prog_load {
	__le32 insn_cnt;
	__le32 log_size;
	__le32 log_level;
	__le32 prog_flags;
	struct virtio_net_xdp_insn insns[];
};

/* PROG_LOAD result (device-writable), written on success and on verifier rejection. */
struct virtio_net_xdp_prog_load_result {
	__le32 insns_processed;
	__le16 verify_mode;
	__le16 reserved;
	__le32 log_len;
	char log[];
};

/* PROG_ARRAY_LOAD request (device-readable): a program for one slot of a PROG_ARRAY map. */
struct virtio_net_xdp_prog_array_load {
	__le32 map_handle;
	__le32 index;
	__le32 insn_cnt;
	__le32 log_size;
	__le32 log_level;
	__le32 prog_flags;
	struct virtio_net_xdp_insn insns[];
};

/* QUERY result (device-writable): offload state and per-action counters. */
struct virtio_net_xdp_query {
	__le32 flags;
	__le32 insn_cnt;
	__le32 map_count;
	__le32 reserved;
	__le64 map_memory;
	__le64 packets;
	__le64 aborted;
	__le64 drop;
	__le64 pass;
	__le64 tx;
	__le64 redirect;
};

/* The register nibbles of struct virtio_net_xdp_insn, the same on every host */
#define VIRTIO_NET_XDP_INSN_DST_REG(insn) ((insn)->dst_src_reg & 0x0f)
#define VIRTIO_NET_XDP_INSN_SRC_REG(insn) ((insn)->dst_src_reg >> 4)
#define VIRTIO_NET_XDP_INSN_REGS(dst, src) ((__u8)(((src) & 0x0f) << 4 | ((dst) & 0x0f)))

#endif /* VIRTIO_NET_XDP_OFFLOAD_H */
