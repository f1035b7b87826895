/* encap_trim: frames over 128 bytes lose their last 64 bytes with bpf_xdp_adjust_tail; then a 4-byte tag is
 * pushed in front of the Ethernet header with bpf_xdp_adjust_head (addresses moved forward, tag type
 * 0x88B5, the IEEE local experimental EtherType) and the frame is passed on. */
#include "xdp_defs.h"

SEC("xdp/encap")
int encap_trim(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;

	if (data + 129 <= end && xdp_adjust_tail(ctx, -64) < 0)
		return XDP_ABORTED;
	if (xdp_adjust_head(ctx, -4) < 0)
		return XDP_PASS;
	data = (unsigned char *)(long)ctx->data;
	end = (unsigned char *)(long)ctx->data_end;
	if (data + 18 > end)
		return XDP_ABORTED;
	__builtin_memmove(data, data + 4, 12);
	data[12] = 0x88;
	data[13] = 0xb5;
	data[14] = 0x00;
	data[15] = 0x2a;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
