/* rate_limit: a packet budget per IPv4 source address, kept in a hash; frames beyond the budget
 * (a read-only global, .rodata) are dropped until the guest resets the entry. */
#include "xdp_samples.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 64);
} seen SEC(".maps");

const volatile __u64 budget = 3;

SEC("xdp")
int rate_limit(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;

	if (data + 34 > end || net16(*(__u16 *)(data + 12)) != ETH_P_IP)
		return XDP_PASS;
	__u32 source = *(__u32 *)(data + 26);
	__u64 *used = map_lookup_elem(&seen, &source);
	if (!used) {
		__u64 first = 1;
		map_update_elem(&seen, &source, &first, BPF_NOEXIST);
		return XDP_PASS;
	}
	if (*used >= budget)
		return XDP_DROP;
	__sync_fetch_and_add(used, 1);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
