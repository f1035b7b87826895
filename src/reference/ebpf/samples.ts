/**
 * Sample XDP programs in the assembler's syntax, after Linux's samples/bpf xdp1 and xdp2 as the 2019
 * RFC measured them (with an array instead of a per-CPU array): count packets per IP protocol in map
 * handle 1, then drop (xdp1) or swap the MAC addresses and transmit (xdp2).
 *
 * @module
 */
import { BpfMapType } from '../../codec/index.js';
import type { MapDefinition } from './maps.js';

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

/** The maps every {@link OFFLOAD_POOL} program is bound to, as map[1] and map[2]. */
export const OFFLOAD_POOL_MAPS: readonly MapDefinition[] = [
  { type: BpfMapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 256 },
  { type: BpfMapType.HASH, keySize: 4, valueSize: 8, maxEntries: 8 },
];

const bounds = (need: number, label: string) => `
  ldxw %r2, [%r1+0]
  ldxw %r3, [%r1+4]
  mov %r4, %r2
  add %r4, ${need}
  jgt %r4, %r3, ${label}
`;

/**
 * Programs for the offload path's properties, scenarios, fuzzing and demo: each names map[1], an
 * array of 256 u64 counters, and map[2], a small hash from u32 to u64 ({@link OFFLOAD_POOL_MAPS});
 * every one passes the device's verifier.
 */
export const OFFLOAD_POOL: Readonly<Record<string, string>> = {
  xdp1: XDP1,
  xdp2: XDP2,
  // Counts each IP protocol in the hash (inserting with NOEXIST on first sight), drops TCP.
  hash_count_drop_tcp: `
  ldxw %r2, [%r1+0]
  ldxw %r3, [%r1+4]
  mov %r6, 0
  mov %r4, %r2
  add %r4, 34
  jgt %r4, %r3, count
  ldxb %r6, [%r2+23]
count:
  stxw [%r10-4], %r6
  mov %r7, 1
  stxdw [%r10-16], %r7
  lddw %r1, map[2]
  mov %r2, %r10
  add %r2, -4
  call 1
  jeq %r0, 0, insert
  mov %r1, 1
  lock add [%r0+0], %r1
  ja verdict
insert:
  lddw %r1, map[2]
  mov %r2, %r10
  add %r2, -4
  mov %r3, %r10
  add %r3, -16
  mov %r4, 1
  call 2
verdict:
  mov %r0, 2
  jne %r6, 6, done
  mov %r0, 1
done:
  exit
`,
  // Flips the low byte of the EtherType and trims 4 bytes from the tail.
  rewrite_trim: `${bounds(14, 'out')}
  ldxb %r5, [%r2+13]
  xor %r5, 0xff
  stxb [%r2+13], %r5
  mov %r2, -4
  call 65
out:
  mov %r0, 2
  exit
`,
  // The verdict is the first byte modulo 6: every action, and 5, an undefined one.
  action_by_byte: `${bounds(14, 'short')}
  ldxb %r0, [%r2+0]
  mod %r0, 6
  exit
short:
  mov %r0, 2
  exit
`,
  // Grows 8 bytes of headroom into the frame, then passes it.
  push_head: `
  mov %r6, %r1
  mov %r2, -8
  call 44
  mov %r0, 2
  exit
`,
  // Deletes the hash key named by the first byte, then passes.
  hash_delete: `${bounds(14, 'out')}
  ldxb %r6, [%r2+0]
  stxw [%r10-4], %r6
  lddw %r1, map[2]
  mov %r2, %r10
  add %r2, -4
  call 3
out:
  mov %r0, 2
  exit
`,
};
