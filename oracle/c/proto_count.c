/* proto_count: counts frames per IPv4 protocol / IPv6 next header in an array map, looking through
 * one 802.1Q tag, and drops them (the xdp1 experiment). Frames it cannot parse pass uncounted. */
#include "xdp_defs.h"

struct map_def counters SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 256,
};

SEC("xdp")
int proto_count(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	unsigned int l3 = 14;
	__u16 type;
	__u32 proto;

	if (data + 14 > end)
		return XDP_PASS;
	type = net16(*(__u16 *)(data + 12));
	if (type == ETH_P_8021Q) {
		if (data + 18 > end)
			return XDP_PASS;
		type = net16(*(__u16 *)(data + 16));
		l3 = 18;
	}
	if (type == ETH_P_IP) {
		if (data + l3 + 20 > end)
			return XDP_PASS;
		proto = data[l3 + 9];
	} else if (type == ETH_P_IPV6) {
		if (data + l3 + 40 > end)
			return XDP_PASS;
		proto = data[l3 + 6];
	} else {
		return XDP_PASS;
	}
	__u64 *count = map_lookup_elem(&counters, &proto);
	if (count)
		__sync_fetch_and_add(count, 1);
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
