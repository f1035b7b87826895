/* trim_tail: removes whatever follows the IPv4 packet (Ethernet padding, trailers) with
 * bpf_xdp_adjust_tail, so the frame ends where the IP total length says. Measuring the frame
 * subtracts two packet pointers, which Linux allows only for privileged loaders: a device verifying
 * as section X.8.3 requires refuses this program, and a guest runs it in driver mode. */
#include "xdp_samples.h"

SEC("xdp")
int trim_tail(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;

	if (data + 34 > end || net16(*(__u16 *)(data + 12)) != ETH_P_IP)
		return XDP_PASS;
	int total = net16(*(__u16 *)(data + 16));
	int have = (int)(end - data) - 14;
	if (total < 20 || total >= have)
		return XDP_PASS;
	if (have - total > 256)
		return XDP_DROP;
	if (xdp_adjust_tail(ctx, total - have))
		return XDP_ABORTED;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
