/**
 * Sample XDP programs in the assembler's syntax, after Linux's samples/bpf xdp1 and xdp2 as the 2019
 * RFC measured them (with an array instead of a per-CPU array): count packets per IP protocol in map
 * handle 1, then drop (xdp1) or swap the MAC addresses and transmit (xdp2).
 *
 * @module
 */

/** Map definition both samples use: an array of 256 u64 counters indexed by IP protocol. */
export const PROTO_COUNTERS = { type: 2, keySize: 4, valueSize: 8, maxEntries: 256 } as const;

const parseAndCount = `
  ldxw %r2, [%r1+0]          # data
  ldxw %r3, [%r1+4]          # data_end
  mov %r4, %r2
  add %r4, 14
  jgt %r4, %r3, out          # no room for an Ethernet header
  ldxh %r5, [%r2+12]         # h_proto, network order
  mov %r6, 0
  jeq %r5, 0x0081, vlan      # 802.1Q (0x8100 as loaded little-endian)
  ja l3
vlan:
  mov %r4, %r2
  add %r4, 18
  jgt %r4, %r3, out
  ldxh %r5, [%r2+16]         # inner h_proto
  add %r2, 4
l3:
  jeq %r5, 0x0008, ipv4      # ETH_P_IP
  jeq %r5, 0xdd86, ipv6      # ETH_P_IPV6
  ja count
ipv4:
  mov %r4, %r2
  add %r4, 34
  jgt %r4, %r3, out
  ldxb %r6, [%r2+23]         # iph->protocol
  ja count
ipv6:
  mov %r4, %r2
  add %r4, 54
  jgt %r4, %r3, out
  ldxb %r6, [%r2+20]         # ip6h->nexthdr
count:
  stxw [%r10-4], %r6
  mov %r7, %r1
  lddw %r1, map[1]
  mov %r2, %r10
  add %r2, -4
  call 1                     # bpf_map_lookup_elem
  jeq %r0, 0, out
  mov %r1, 1
  lock add [%r0+0], %r1
`;

/** xdp1: count per protocol, drop everything. */
export const XDP1 = `${parseAndCount}
out:
  mov %r0, 1                 # XDP_DROP
  exit
`;

/** xdp2: count per protocol, swap source and destination MAC, transmit. */
export const XDP2 = `${parseAndCount}
  ldxw %r2, [%r7+0]
  ldxw %r3, [%r7+4]
  mov %r4, %r2
  add %r4, 14
  jgt %r4, %r3, out
  ldxw %r4, [%r2+0]
  ldxh %r5, [%r2+4]
  ldxw %r6, [%r2+6]
  ldxh %r8, [%r2+10]
  stxw [%r2+0], %r6
  stxh [%r2+4], %r8
  stxw [%r2+6], %r4
  stxh [%r2+10], %r5
  mov %r0, 3                 # XDP_TX
  exit
out:
  mov %r0, 1
  exit
`;

/** A 62-byte UDP/IPv4 frame (the bench input). */
export function udpFrame(): Uint8Array {
  const f = new Uint8Array(62);
  f.set([0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00], 0);
  f.set([0x45, 0, 0, 48, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  f.set([0x30, 0x39, 0x00, 0x35, 0, 28, 0, 0], 34);
  return f;
}

/** The samples by name, with the maps (in `run --map` notation) they expect as handles 1, 2, ... */
export const SAMPLES: Readonly<Record<string, { readonly text: string; readonly maps: string[] }>> = {
  xdp1: { text: XDP1, maps: ['array:8:256'] },
  xdp2: { text: XDP2, maps: ['array:8:256'] },
};
