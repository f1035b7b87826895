/* vlan_encap: pushes an 802.1Q tag with bpf_xdp_adjust_head, taking the VLAN id from a global
 * (.data) the guest may change. */
#include "xdp_samples.h"

__u16 vlan_id = 42;

SEC("xdp")
int vlan_encap(struct xdp_md *ctx)
{
	if (xdp_adjust_head(ctx, -4))
		return XDP_ABORTED;
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	if (data + 18 > end)
		return XDP_ABORTED;
	/* Move the addresses to the new start; the old EtherType stays where it is, after the tag. */
	__builtin_memmove(data, data + 4, 12);
	data[12] = 0x81;
	data[13] = 0x00;
	data[14] = (unsigned char)(vlan_id >> 8) & 0x0f;
	data[15] = (unsigned char)vlan_id;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
