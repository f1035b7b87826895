/**
 * A learning bridge with two ports, an uplink (the host's NIC toward other machines) and the tap: the
 * RFC's second topology, where packets reach the guest from another machine through a host bridge
 * and XDP_TX replies travel back out of the uplink.
 *
 * @module
 */

/** A bridge port. */
export type BridgePort = 'uplink' | 'tap';

const macOf = (frame: Uint8Array, at: number): string =>
  Array.from(frame.subarray(at, at + 6), (b) => b.toString(16).padStart(2, '0')).join(':');

/** A two-port learning bridge: forwards a frame unless its destination was learned on the port it came from. */
export class Bridge {
  /** Frames the bridge sent out of the uplink. */
  readonly uplinkOut: Uint8Array[] = [];
  private readonly learned = new Map<string, BridgePort>();

  /**
   * A frame arrives on a port: the source address is learned there; the frame goes to the other
   * port unless its destination is known to be on the port it came from. Returns the port it went
   * to, or undefined when filtered (or too short to carry two addresses).
   */
  forward(from: BridgePort, frame: Uint8Array): BridgePort | undefined {
    if (frame.length < 14) return undefined;
    const source = macOf(frame, 6);
    // A group source address is never learned (802.1D).
    if (((frame[6] as number) & 1) === 0) this.learned.set(source, from);
    const destination = macOf(frame, 0);
    if (this.learned.get(destination) === from) return undefined;
    return from === 'uplink' ? 'tap' : 'uplink';
  }
}
