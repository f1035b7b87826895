/* mac_swap_tx: swaps the Ethernet source and destination addresses, decrements the IPv4 TTL with an
 * incremental checksum update, and sends the frame back (the xdp2 experiment); counts what it sent
 * per ingress queue in a hash map. */
#include "xdp_defs.h"

struct map_def sent SEC("maps") = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 16,
};

SEC("xdp")
int mac_swap_tx(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	unsigned char tmp[6];

	if (data + 14 > end)
		return XDP_ABORTED;
	__builtin_memcpy(tmp, data, 6);
	__builtin_memcpy(data, data + 6, 6);
	__builtin_memcpy(data + 6, tmp, 6);
	if (net16(*(__u16 *)(data + 12)) == ETH_P_IP && data + 34 <= end) {
		unsigned char *ip = data + 14;
		if (ip[8] <= 1)
			return XDP_DROP;
		__u32 sum = net16(*(__u16 *)(ip + 10));
		ip[8] -= 1;
		sum += 0x0100; /* TTL is the high byte of its 16-bit word */
		sum = (sum & 0xffff) + (sum >> 16);
		*(__u16 *)(ip + 10) = net16((__u16)sum);
	}
	__u32 queue = ctx->rx_queue_index;
	__u64 one = 1, *n = map_lookup_elem(&sent, &queue);
	if (n)
		*n += 1;
	else
		map_update_elem(&sent, &queue, &one, BPF_NOEXIST);
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
