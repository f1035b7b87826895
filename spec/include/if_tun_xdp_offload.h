/* SPDX-License-Identifier: GPL-2.0+ WITH Linux-syscall-note */
/*
 * Linux tun/tap: offloading a virtio-net guest's XDP program to a tap (proposed additions to
 * <linux/if_tun.h>). Generated from the codec layouts by `npm run gen`; checked against the
 * codecs byte for byte by the test suite. Do not edit. The argument is in host byte order.
 */
#ifndef IF_TUN_XDP_OFFLOAD_H
#define IF_TUN_XDP_OFFLOAD_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* TUNGETFEATURES bit */
#define IFF_XDP_OFFLOAD 0x00010000

/* TUNXDPOFFLOAD operations */
#define TUN_XDP_OFFLOAD_ATTACH 1
#define TUN_XDP_OFFLOAD_DETACH 2
#define TUN_XDP_OFFLOAD_QUERY 3

/* TUNXDPOFFLOAD: attach, detach or query the offloaded XDP program of a tap */
#define TUNXDPOFFLOAD _IOWR('T', 233, struct tun_xdp_offload)

/* Argument of TUNXDPOFFLOAD (host byte order; the codec encodes a little-endian host). */
struct tun_xdp_offload {
	__u32 op;
	__s32 prog_fd;
	__u32 flags;
	__u32 prog_id;
	__u64 packets;
	__u64 aborted;
	__u64 drop;
	__u64 pass;
	__u64 tx;
	__u64 redirect;
};

#endif /* IF_TUN_XDP_OFFLOAD_H */
