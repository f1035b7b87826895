/* multi_prog: two programs in one "xdp" section, as libbpf 1.x objects carry them (each global
 * function its own program, chosen by name with --prog-name), sharing three BTF-defined maps,
 * the later ones at nonzero offsets in .maps, with a .rodata constant.
 *   xdp_count_all  counts every frame by EtherType class and passes it;
 *   xdp_drop_ipv6  drops IPv6, counting it, and passes the rest. */
#include "xdp_samples.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} class_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u16);
	__type(value, __u64);
	__uint(max_entries, 32);
} ethertypes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} ipv6_dropped SEC(".maps");

const volatile __u32 other_class = 3;

static __always_inline __u32 class_of(__u16 type)
{
	if (type == ETH_P_IP)
		return 0;
	if (type == ETH_P_IPV6)
		return 1;
	if (type == ETH_P_8021Q || type == ETH_P_8021AD)
		return 2;
	return other_class;
}

SEC("xdp")
int xdp_count_all(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	if (data + 14 > end)
		return XDP_PASS;
	__u16 type = net16(*(__u16 *)(data + 12));
	__u32 k = class_of(type);
	__u64 *c = map_lookup_elem(&class_counts, &k);
	if (c)
		__sync_fetch_and_add(c, 1);
	__u64 one = 1;
	__u64 *t = map_lookup_elem(&ethertypes, &type);
	if (t)
		__sync_fetch_and_add(t, 1);
	else
		map_update_elem(&ethertypes, &type, &one, BPF_NOEXIST);
	return XDP_PASS;
}

SEC("xdp")
int xdp_drop_ipv6(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	if (data + 14 > end || net16(*(__u16 *)(data + 12)) != ETH_P_IPV6)
		return XDP_PASS;
	__u32 k = 0;
	__u64 *c = map_lookup_elem(&ipv6_dropped, &k);
	if (c)
		__sync_fetch_and_add(c, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
