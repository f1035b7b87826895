/**
 * The tap's destination-MAC filter, set with TUNSETTXFILTER, with Linux's semantics: the first
 * eight addresses match exactly; further multicast addresses set bits of a 64-bit hash of the
 * Ethernet CRC (so the filter may pass multicast it was not given); a further unicast address, or
 * no address at all, leaves the filter off; TUN_FLT_ALLMULTI passes every multicast frame. The tap
 * applies it on its transmit path before it queues a frame for its reader, so before the offload
 * hook ([tun-hook-order]).
 *
 * @module
 */
import { TUN_FLT_ALLMULTI, type TunFilter } from '../../codec/index.js';

/** How many addresses Linux's tap matches exactly. */
export const TAP_EXACT_ADDRESSES = 8;

/** Whether an address is multicast (broadcast included): the group bit of its first byte. */
export function isMulticast(mac: Uint8Array): boolean {
  return ((mac[0] ?? 0) & 1) === 1;
}

/** The Ethernet CRC (reflected CRC-32, initial value all ones, no final inversion) bit-reversed. */
function etherCrc(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  let reversed = 0;
  for (let bit = 0; bit < 32; bit++) reversed = (reversed << 1) | ((crc >>> bit) & 1);
  return reversed >>> 0;
}

/** The bit of the 64-bit multicast hash an address sets: the CRC's top six bits. */
export function multicastHashBit(mac: Uint8Array): number {
  return etherCrc(mac.subarray(0, 6)) >>> 26;
}

/** A filter in force; `undefined` stands for "off" (every frame passes). */
export interface ActiveTxFilter {
  /** The exactly matched addresses (1 to 8). */
  readonly exact: readonly Uint8Array[];
  /** The multicast hash's 64 bits, as two words (bit n in word n >> 5): no BigInt per frame. */
  readonly hash: Uint32Array;
}

/** The filter a TUNSETTXFILTER argument installs, or undefined when it leaves the filter off. */
export function installTxFilter(filter: TunFilter): ActiveTxFilter | undefined {
  const { addresses } = filter;
  if (addresses.length === 0) return undefined;
  const hash = new Uint32Array(2);
  for (const mac of addresses.slice(TAP_EXACT_ADDRESSES)) {
    if (!isMulticast(mac)) return undefined;
    const bit = multicastHashBit(mac);
    hash[bit >> 5] = ((hash[bit >> 5] as number) | (1 << (bit & 31))) >>> 0;
  }
  if ((filter.flags & TUN_FLT_ALLMULTI) !== 0) hash.fill(0xffffffff);
  return { exact: addresses.slice(0, TAP_EXACT_ADDRESSES), hash };
}

/** Whether a frame passes the filter (by its destination address, the frame's first six bytes). */
export function txFilterPasses(filter: ActiveTxFilter | undefined, frame: Uint8Array): boolean {
  if (filter === undefined) return true;
  const destination = frame.subarray(0, 6);
  if (filter.exact.some((mac) => mac.every((byte, i) => destination[i] === byte))) return true;
  if (!isMulticast(destination)) return false;
  const bit = multicastHashBit(destination);
  return (((filter.hash[bit >> 5] as number) >>> (bit & 31)) & 1) === 1;
}
