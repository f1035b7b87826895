/* percpu_stats: per-queue packet and byte counters in a BTF-defined per-CPU array, as
 * xdp-tutorial's and Linux samples' counters are kept (one value per CPU, no atomics needed);
 * bpf_get_smp_processor_id picks which of two queue-indexed counters also counts the frame.
 * Passes everything. */
#include "xdp_samples.h"

struct datarec {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct datarec);
	__uint(max_entries, 5);
} xdp_stats_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 16);
} per_cpu_seen SEC(".maps");

SEC("xdp")
int xdp_stats(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 key = XDP_PASS;
	struct datarec *rec = map_lookup_elem(&xdp_stats_map, &key);
	if (!rec)
		return XDP_ABORTED;
	rec->packets++;
	/* The length from ctx fields: pointer subtraction would need a privileged loader. */
	rec->bytes += ctx->data_end - ctx->data;
	__u32 cpu = get_smp_processor_id();
	__u64 one = 1;
	__u64 *seen = map_lookup_elem(&per_cpu_seen, &cpu);
	if (seen)
		*seen += 1;
	else
		map_update_elem(&per_cpu_seen, &cpu, &one, BPF_NOEXIST);
	(void)data;
	(void)end;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
