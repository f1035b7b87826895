/* tail_dispatch: a parser that hands each frame to a program per protocol through a program array,
 * as Linux's samples and selftests chain programs with bpf_tail_call. The slots are declared in
 * the object (libbpf's declarative init of a PROG_ARRAY's values), so the loader fills them.
 *   xdp_dispatch  counts the frame (slot 0 of "hits"), then tail-calls slot 0 (IPv4) or slot 1
 *                 (IPv6); any other EtherType, or an empty slot, falls through to XDP_PASS.
 *   xdp_ipv4      drops UDP, counting it (hits[1]); passes the rest.
 *   xdp_ipv6      counts (hits[2]) and tail-calls itself through slot 2 until Linux's limit of
 *                 33 tail calls stops it, then sends the frame back (XDP_TX). */
#include "xdp_samples.h"

/* A BTF-defined map's initial values (libbpf's declarative init: here a program array's slots). */
#define __array(name, val) typeof(val) *name[]
static long (*tail_call)(void *ctx, void *prog_array_map, __u32 index) = (void *)12;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 3);
} hits SEC(".maps");

int xdp_ipv4(struct xdp_md *ctx);
int xdp_ipv6(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int(void *));
} jmp_table SEC(".maps") = {
	.values = {
		[0] = (void *)&xdp_ipv4,
		[1] = (void *)&xdp_ipv6,
		[2] = (void *)&xdp_ipv6,
	},
};

static __always_inline void count(__u32 slot)
{
	__u64 *c = map_lookup_elem(&hits, &slot);
	if (c)
		__sync_fetch_and_add(c, 1);
}

SEC("xdp")
int xdp_dispatch(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	if (data + 14 > end)
		return XDP_PASS;
	__u16 type = net16(*(__u16 *)(data + 12));
	count(0);
	if (type == ETH_P_IP)
		tail_call(ctx, &jmp_table, 0);
	else if (type == ETH_P_IPV6)
		tail_call(ctx, &jmp_table, 1);
	return XDP_PASS;
}

SEC("xdp")
int xdp_ipv4(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	if (data + 34 > end)
		return XDP_PASS;
	if (data[23] != 17)
		return XDP_PASS;
	count(1);
	return XDP_DROP;
}

SEC("xdp")
int xdp_ipv6(struct xdp_md *ctx)
{
	count(2);
	tail_call(ctx, &jmp_table, 2);
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
