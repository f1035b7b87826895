// Packet builders for the oracle corpus: Ethernet, 802.1Q, ARP, IPv4 (with a correct or broken
// header checksum), IPv6, UDP and TCP, and a seeded generator of structured random frames.

/** A deterministic pseudo-random source (xorshift32). */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }
  next(): number {
    this.state ^= this.state << 13;
    this.state ^= this.state >>> 17;
    this.state ^= this.state << 5;
    return this.state >>> 0;
  }
  int(n: number): number {
    return this.next() % n;
  }
  bytes(n: number): number[] {
    return Array.from({ length: n }, () => this.int(256));
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

const MAC_A = [0x02, 0, 0, 0, 0, 0x01];
const MAC_B = [0x02, 0, 0, 0, 0, 0x02];

export function eth(type: number, payload: number[], dst = MAC_A, src = MAC_B): number[] {
  return [...dst, ...src, type >> 8, type & 0xff, ...payload];
}

export function vlan(id: number, type: number, payload: number[]): number[] {
  return [id >> 8, id & 0xff, type >> 8, type & 0xff, ...payload];
}

/** Internet checksum of 16-bit big-endian words. */
export function inetChecksum(bytes: number[]): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += ((bytes[i] as number) << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function ipv4(
  proto: number,
  payload: number[],
  options: number[] = [],
  badChecksum = false,
  src = [10, 0, 0, 1],
): number[] {
  const ihl = 5 + options.length / 4;
  const total = ihl * 4 + payload.length;
  const header = [
    0x40 | ihl,
    0,
    total >> 8,
    total & 0xff,
    0x12,
    0x34,
    0x40,
    0,
    64,
    proto,
    0,
    0,
    ...src,
    10,
    0,
    0,
    2,
    ...options,
  ];
  const sum = inetChecksum(header) ^ (badChecksum ? 0x0101 : 0);
  header[10] = sum >> 8;
  header[11] = sum & 0xff;
  return [...header, ...payload];
}

export function ipv6(next: number, payload: number[]): number[] {
  const src = [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1];
  const dst = [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 2];
  return [0x60, 0, 0, 0, payload.length >> 8, payload.length & 0xff, next, 64, ...src, ...dst, ...payload];
}

export function udp(sport: number, dport: number, data: number[]): number[] {
  const len = 8 + data.length;
  return [sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, len >> 8, len & 0xff, 0, 0, ...data];
}

export function tcp(sport: number, dport: number, flags: number): number[] {
  return [
    sport >> 8,
    sport & 0xff,
    dport >> 8,
    dport & 0xff,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0x50,
    flags,
    0xff,
    0xff,
    0,
    0,
    0,
    0,
  ];
}

export function arp(): number[] {
  return [0, 1, 8, 0, 6, 4, 0, 1, ...MAC_B, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2];
}

const text = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/** The hand-made frames every program sees, by name. */
export function handFrames(): [string, number[]][] {
  const hello = text('hello-xdp!hello-xdp!');
  return [
    ['ipv4_udp', eth(0x0800, ipv4(17, udp(1234, 53, hello)))],
    ['ipv4_udp_dns_port', eth(0x0800, ipv4(17, udp(5353, 53, text('q'))))],
    ['ipv4_udp_high_port', eth(0x0800, ipv4(17, udp(53, 40000, hello)))],
    ['ipv4_tcp_syn', eth(0x0800, ipv4(6, tcp(40000, 80, 0x02)))],
    ['ipv4_icmp_echo', eth(0x0800, ipv4(1, [8, 0, 0, 0, 0, 1, 0, 1, ...hello]))],
    ['ipv4_options_udp', eth(0x0800, ipv4(17, udp(1, 2, hello), [1, 1, 1, 1, 0x94, 4, 0, 0]))],
    ['ipv4_bad_checksum', eth(0x0800, ipv4(17, udp(1234, 80, hello), [], true))],
    ['ipv6_udp', eth(0x86dd, ipv6(17, udp(1234, 53, hello)))],
    ['ipv6_tcp', eth(0x86dd, ipv6(6, tcp(1234, 443, 0x12)))],
    ['ipv6_icmp', eth(0x86dd, ipv6(58, [128, 0, 0, 0, 0, 1, 0, 1]))],
    ['arp_request', eth(0x0806, arp())],
    ['vlan_ipv4_udp', eth(0x8100, vlan(42, 0x0800, ipv4(17, udp(9, 53, hello))))],
    ['qinq_ipv6_tcp', eth(0x8100, vlan(7, 0x8100, vlan(42, 0x86dd, ipv6(6, tcp(1, 22, 0x02)))))],
    ['vlan_truncated', eth(0x8100, [0, 42])],
    ['ipv4_truncated_header', eth(0x0800, ipv4(17, udp(1, 2, [])).slice(0, 12))],
    ['ipv4_truncated_l4', eth(0x0800, ipv4(17, []).concat([0, 53]))],
    ['eth_only', eth(0x0800, [])],
    ['min_60_zero', new Array<number>(60).fill(0)],
    ['ipv4_udp_1500', eth(0x0800, ipv4(17, udp(7, 9, new Array<number>(1500 - 42).fill(0xab))))],
    ['ipv4_udp_3520', eth(0x0800, ipv4(17, udp(7, 9, new Array<number>(3520 - 42).fill(0xcd))))],
    ['runt_13', eth(0x0800, []).slice(0, 13)],
  ];
}

/** Structured random frames: a random mix of the shapes above with random fields and lengths. */
export function randomFrames(seed: number, count: number): [string, number[]][] {
  const rng = new Rng(seed);
  const out: [string, number[]][] = [];
  for (let i = 0; i < count; i++) {
    const payload = rng.bytes(rng.int(48));
    const ports = [rng.pick([53, 80, 443, rng.int(65536)]), rng.pick([53, 80, 443, rng.int(65536)])] as const;
    const src = [10, 0, rng.int(3), rng.int(4)];
    const shapes = [
      () => eth(0x0800, ipv4(17, udp(ports[0], ports[1], payload), [], rng.int(8) === 0, src)),
      () => eth(0x0800, ipv4(6, tcp(ports[0], ports[1], rng.int(256)), [], false, src)),
      () => eth(0x0800, ipv4(rng.int(256), payload, [], false, src)),
      () => eth(0x86dd, ipv6(rng.pick([6, 17, 58, rng.int(256)]), udp(ports[0], ports[1], payload))),
      () =>
        eth(0x8100, vlan(rng.int(4096), 0x0800, ipv4(17, udp(ports[0], ports[1], payload), [], false, src))),
      () =>
        eth(
          0x8100,
          vlan(rng.int(4096), 0x8100, vlan(rng.int(4096), 0x86dd, ipv6(6, tcp(ports[0], ports[1], 2)))),
        ),
      () => eth(rng.int(65536), payload),
      () => rng.bytes(14 + rng.int(80)),
    ];
    let frame = rng.pick(shapes)();
    if (rng.int(6) === 0) frame = frame.slice(0, 14 + rng.int(Math.max(1, frame.length - 13)));
    out.push([`random_${seed}_${i}`, frame]);
  }
  return out;
}
