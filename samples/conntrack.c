/* conntrack: a connection table with the map flags real programs set for the kernel's allocator: an
 * LRU hash with BPF_F_NO_COMMON_LRU (per-CPU LRU lists) that evicts old connections instead of
 * refusing new ones, and a hash of counters with BPF_F_NO_PREALLOC. Frames of a connection the
 * table knows pass; a TCP frame of an unknown connection passes only if it is a SYN, which adds it;
 * UDP adds its connection on sight; everything refused is counted by protocol. */
#include "xdp_samples.h"

/* In whole 64-bit words, as flow_stats packs its key (a CAP_BPF loader may not write part of a
 * stack slot that holds a narrower spilled value, which field-by-field stores would do). */
struct conn {
	__u64 addrs; /* saddr | daddr << 32 */
	__u64 ports; /* sport | dport << 16 | proto << 32 */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct conn);
	__type(value, __u64);
	__uint(max_entries, 256);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} refused SEC(".maps");

static __always_inline int refuse(__u32 proto)
{
	__u64 one = 1, *c = map_lookup_elem(&refused, &proto);
	if (c)
		__sync_fetch_and_add(c, 1);
	else
		map_update_elem(&refused, &proto, &one, BPF_NOEXIST);
	return XDP_DROP;
}

SEC("xdp")
int xdp_conntrack(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	if (data + 14 + 20 + 14 > end)
		return XDP_PASS;
	if (net16(*(__u16 *)(data + 12)) != ETH_P_IP)
		return XDP_PASS;
	unsigned char *ip = data + 14;
	__u32 proto = ip[9];
	if (proto != 6 && proto != 17)
		return XDP_PASS;
	struct conn c = {
		.addrs = *(__u32 *)(ip + 12) | (__u64) * (__u32 *)(ip + 16) << 32,
		.ports = *(__u16 *)(ip + 20) | (__u64) * (__u16 *)(ip + 22) << 16 | (__u64)proto << 32,
	};
	__u64 *seen = map_lookup_elem(&conns, &c);
	if (seen) {
		__sync_fetch_and_add(seen, 1);
		return XDP_PASS;
	}
	/* TCP flags are byte 13 of the TCP header: SYN is 0x02 */
	if (proto == 6 && !(ip[20 + 13] & 0x02))
		return refuse(proto);
	__u64 first = 1;
	map_update_elem(&conns, &c, &first, BPF_NOEXIST);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
