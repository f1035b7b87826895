/* vlan_ipv6: finds an IPv6 header behind zero, one or two VLAN tags (802.1ad or 802.1Q), counts
 * next headers in a hash, drops ICMPv6 echo requests and passes the rest. The counting is a separate
 * function, so the object carries a bpf-to-bpf call into .text. Every path reads the packet at
 * constant offsets: Linux lets only privileged loaders index it with a variable one. */
#include "xdp_samples.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 16);
} next_headers SEC(".maps");

static __noinline void count_next_header(__u32 next)
{
	__u64 one = 1;
	__u64 *count = map_lookup_elem(&next_headers, &next);

	if (count)
		__sync_fetch_and_add(count, 1);
	else
		map_update_elem(&next_headers, &next, &one, BPF_NOEXIST);
}

static inline int is_tag(__u16 type)
{
	return type == ETH_P_8021Q || type == ETH_P_8021AD;
}

SEC("xdp")
int vlan_ipv6(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	unsigned char *ip6;

	if (data + 22 + 41 <= end && is_tag(net16(*(__u16 *)(data + 12))) &&
	    is_tag(net16(*(__u16 *)(data + 16))) && net16(*(__u16 *)(data + 20)) == ETH_P_IPV6)
		ip6 = data + 22;
	else if (data + 18 + 41 <= end && is_tag(net16(*(__u16 *)(data + 12))) &&
		 net16(*(__u16 *)(data + 16)) == ETH_P_IPV6)
		ip6 = data + 18;
	else if (data + 14 + 41 <= end && net16(*(__u16 *)(data + 12)) == ETH_P_IPV6)
		ip6 = data + 14;
	else
		return XDP_PASS;
	/* Opaque to the compiler, so the paths are not merged into one variable-offset access. */
	asm volatile("" : "+r"(ip6));
	if (ip6 + 41 > end)
		return XDP_PASS;
	__u32 next = ip6[6];
	count_next_header(next);
	/* ICMPv6 (58) echo request (128) */
	if (next == 58 && ip6[40] == 128)
		return XDP_DROP;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
