/**
 * The device's receive filter (VIRTIO 1.4 5.1.6.5.1-2, VIRTIO_NET_F_CTRL_RX): promiscuous and
 * all-multicast modes and the MAC table, and the TUNSETTXFILTER argument that makes a tap apply
 * the same filter before the offload hook, so that the program sees exactly what the guest would
 * receive ([dev-dp-order]).
 *
 * Semantics, as QEMU's virtio-net gives them: promiscuous mode (on after reset) passes everything;
 * otherwise a unicast frame passes when it is addressed to the device's MAC or to an address of
 * the unicast table, a broadcast frame passes, and a multicast frame passes in all-multicast mode
 * or when its address is in the multicast table.
 *
 * @module
 */
import { TUN_FLT_ALLMULTI, type RxFilterCommand, type TunFilter } from '../../codec/index.js';

/** The broadcast address. */
const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** The filter's state. */
export interface RxFilterState {
  /** Promiscuous mode. */
  readonly promisc: boolean;
  /** All-multicast mode. */
  readonly allmulti: boolean;
  /** The unicast table. */
  readonly unicast: readonly Uint8Array[];
  /** The multicast table. */
  readonly multicast: readonly Uint8Array[];
}

/** The state after reset. */
export const RESET_RX_FILTER: RxFilterState = { promisc: true, allmulti: false, unicast: [], multicast: [] };

/** The state a command leaves. */
export function applyRxFilterCommand(state: RxFilterState, command: RxFilterCommand): RxFilterState {
  switch (command.command) {
    case 'PROMISC':
      return { ...state, promisc: command.on };
    case 'ALLMULTI':
      return { ...state, allmulti: command.on };
    case 'MAC_TABLE_SET':
      return { ...state, unicast: command.unicast, multicast: command.multicast };
  }
}

/**
 * The TUNSETTXFILTER argument that applies `state` on a tap for a device whose address is `mac`:
 * no addresses (filter off) in promiscuous mode; otherwise the device's address, the unicast
 * table, broadcast and, unless all-multicast is on (then TUN_FLT_ALLMULTI), the multicast table.
 * Past the tap's eight exact entries Linux passes more multicast than the table holds (a hash), and
 * a ninth unicast address turns the filter off: the tap's filter is then the device's filter, as
 * QEMU's own table passes everything of a kind once it overflows.
 */
export function tunFilterOf(state: RxFilterState, mac: Uint8Array): TunFilter {
  if (state.promisc) return { flags: 0, addresses: [] };
  const multicast = state.allmulti ? [] : state.multicast;
  return {
    flags: state.allmulti ? TUN_FLT_ALLMULTI : 0,
    addresses: [mac, ...state.unicast, BROADCAST, ...multicast],
  };
}
