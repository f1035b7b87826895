/* flow_stats: per-flow counters in BTF-defined maps with struct keys and values, as xdp-tools and
 * katran declare their tables (__type(key, struct ...), __type(value, struct ...)). IPv4 TCP and
 * UDP frames are counted per 5-tuple (packets, and bytes by the IP header's length); a frame whose source the "blocked" table
 * names is dropped and counted by reason in a per-CPU array. */
#include "xdp_samples.h"

/* Packed into whole 64-bit words, so that building the key on the stack writes each 8-byte slot
 * at once (a CAP_BPF loader may not write part of a slot that holds a narrower spilled value). */
struct flow_key {
	__u64 addrs; /* saddr | daddr << 32, both in network order */
	__u64 ports; /* sport | dport << 16 | proto << 32 */
};

struct flow_value {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
	__uint(max_entries, 64);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 16);
} blocked SEC(".maps");

enum drop_reason { REASON_BLOCKED, REASON_SHORT, REASON_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, REASON_MAX);
} drops SEC(".maps");

static __always_inline int drop(__u32 reason)
{
	__u64 *c = map_lookup_elem(&drops, &reason);
	if (c)
		*c += 1;
	return XDP_DROP;
}

SEC("xdp")
int xdp_flow_stats(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	if (data + 14 > end)
		return XDP_PASS;
	if (net16(*(__u16 *)(data + 12)) != ETH_P_IP)
		return XDP_PASS;
	if (data + 14 + 20 + 4 > end)
		return drop(REASON_SHORT);
	unsigned char *ip = data + 14;
	__u8 proto = ip[9];
	if (proto != 6 && proto != 17)
		return XDP_PASS;
	__u32 saddr = *(__u32 *)(ip + 12), daddr = *(__u32 *)(ip + 16);
	if (map_lookup_elem(&blocked, &saddr))
		return drop(REASON_BLOCKED);
	struct flow_key key = {
		.addrs = saddr | (__u64)daddr << 32,
		.ports = *(__u16 *)(ip + 20) | (__u64) * (__u16 *)(ip + 22) << 16 | (__u64)proto << 32,
	};
	/* the frame's length as its IP header gives it (data_end - data would subtract pointers) */
	__u64 len = 14 + net16(*(__u16 *)(ip + 2));
	struct flow_value *v = map_lookup_elem(&flows, &key);
	if (v) {
		__sync_fetch_and_add(&v->packets, 1);
		__sync_fetch_and_add(&v->bytes, len);
	} else {
		struct flow_value first = { 1, len };
		map_update_elem(&flows, &key, &first, BPF_NOEXIST);
	}
	/* the first flow from 10.0.0.66 gets its source blocked from then on */
	if (saddr == 0x4200000a) {
		__u32 one = 1;
		map_update_elem(&blocked, &saddr, &one, BPF_ANY);
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
