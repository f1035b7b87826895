/* Definitions the C samples need without libbpf: section and license markers, the legacy map
 * definition that the package's ELF loader reads from the "maps" section, and the helper prototypes
 * (helper ids from Linux's enum bpf_func_id). */
#ifndef XDP_DEFS_H
#define XDP_DEFS_H

#include <linux/types.h>
#include <linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))

struct map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

static void *(*map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;
static long (*xdp_adjust_head)(struct xdp_md *ctx, int delta) = (void *)44;
static long (*xdp_adjust_tail)(struct xdp_md *ctx, int delta) = (void *)65;

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100

static inline __u16 net16(__u16 v)
{
	return (__u16)((v >> 8) | (v << 8));
}

#endif
