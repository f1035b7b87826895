/* What the sample programs need without libbpf: section and map-definition macros in the form
 * clang turns into BTF (the ".maps" section), the helper prototypes by Linux helper id, and byte-order
 * helpers. */
#ifndef XDP_SAMPLES_H
#define XDP_SAMPLES_H

#include <linux/types.h>
#include <linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))
/* A BTF-defined map member: the value is the array's element count, the type a pointer's target. */
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __noinline __attribute__((noinline))
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

static void *(*map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;
static __u32 (*get_smp_processor_id)(void) = (void *)8;
static long (*xdp_adjust_head)(struct xdp_md *ctx, int delta) = (void *)44;
static long (*xdp_adjust_tail)(struct xdp_md *ctx, int delta) = (void *)65;

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8

static inline __u16 net16(__u16 v)
{
	return (__u16)((v >> 8) | (v << 8));
}

#endif
