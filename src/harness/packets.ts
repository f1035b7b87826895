/**
 * Frames the harness sends from the host, drawn from its seeded generator: the experiments' mixed
 * traffic, and the hostile guest's random frames.
 *
 * @module
 */
import { Rng } from './rng.js';

/** The traffic: UDP, TCP and ICMP over IPv4 (some VLAN-tagged), UDP and ICMPv6 over IPv6, ARP. */
export function demoTraffic(count: number, seed: number): Uint8Array[] {
  const rng = new Rng(seed);
  const guest = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
  const sender = [0x02, 0x00, 0x00, 0x00, 0x00, 0x0a];
  return Array.from({ length: count }, () => {
    const kind = rng.int(100);
    const vlan = kind < 50 && rng.chance(0.1);
    const v6 = kind >= 85 && kind < 97;
    const arp = kind >= 97;
    const protocol = v6 ? (rng.chance(0.8) ? 17 : 58) : kind < 50 ? 17 : kind < 75 ? 6 : 1;
    const payload = 18 + rng.int(64);
    const l3 = arp ? 28 : v6 ? 40 + payload : 20 + payload;
    const f = new Uint8Array(14 + (vlan ? 4 : 0) + l3);
    f.set([...guest, ...sender]);
    let at = 12;
    if (vlan) {
      f.set([0x81, 0x00, 0x00, 0x07], at);
      at += 4;
    }
    f.set(arp ? [0x08, 0x06] : v6 ? [0x86, 0xdd] : [0x08, 0x00], at);
    at += 2;
    if (!arp && !v6)
      f.set(
        [0x45, 0, (l3 >> 8) & 0xff, l3 & 0xff, 0, 0, 0x40, 0, 64, protocol, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2],
        at,
      );
    if (v6) f.set([0x60, 0, 0, 0, (payload >> 8) & 0xff, payload & 0xff, protocol, 64], at);
    return f;
  });
}

/** A random frame: Ethernet with IPv4, IPv6 or other, of random length. */
export function randomFrame(rng: Rng): Uint8Array {
  const length = rng.chance(0.05) ? rng.int(14) : 14 + rng.int(200);
  const f = rng.bytes(length);
  if (length >= 14)
    f.set(
      rng.pick([
        [0x08, 0x00],
        [0x86, 0xdd],
        [0x81, 0x00],
        [0x08, 0x06],
      ]),
      12,
    );
  if (length > 23) f[23] = rng.pick([1, 6, 17, 58]);
  return f;
}
