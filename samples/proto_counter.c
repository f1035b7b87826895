/* proto_counter: counts frames per IPv4 protocol / IPv6 next header in a BTF-defined array, and
 * every frame in a global (.bss) counter; passes everything. */
#include "xdp_samples.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 256);
} proto_counts SEC(".maps");

__u64 frames_seen;

SEC("xdp")
int proto_counter(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	__u32 proto;

	__sync_fetch_and_add(&frames_seen, 1);
	if (data + 14 > end)
		return XDP_PASS;
	__u16 type = net16(*(__u16 *)(data + 12));
	if (type == ETH_P_IP) {
		if (data + 34 > end)
			return XDP_PASS;
		proto = data[23];
		/* Keep the load on this path: merged with the IPv6 one it would index the packet with a
		 * variable offset, which Linux allows only for privileged loaders. */
		asm volatile("" : "+r"(proto));
	} else if (type == ETH_P_IPV6) {
		if (data + 54 > end)
			return XDP_PASS;
		proto = data[20];
		asm volatile("" : "+r"(proto));
	} else {
		return XDP_PASS;
	}
	__u64 *count = map_lookup_elem(&proto_counts, &proto);
	if (count)
		__sync_fetch_and_add(count, 1);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
