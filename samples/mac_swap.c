/* mac_swap: swaps the Ethernet addresses and sends the frame back (XDP_TX), counting transmissions
 * in a map declared with key_size and value_size instead of types. */
#include "xdp_samples.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(key_size, 4);
	__uint(value_size, 8);
	__uint(max_entries, 1);
} tx_count SEC(".maps");

SEC("xdp/tx")
int mac_swap(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	unsigned char tmp[6];
	__u32 zero = 0;

	if (data + 14 > end)
		return XDP_DROP;
	__builtin_memcpy(tmp, data, 6);
	__builtin_memcpy(data, data + 6, 6);
	__builtin_memcpy(data + 6, tmp, 6);
	__u64 *count = map_lookup_elem(&tx_count, &zero);
	if (count)
		__sync_fetch_and_add(count, 1);
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
