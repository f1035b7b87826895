/**
 * A pcapng writer for the frames the reference processes: one interface per place a frame is seen
 * (arriving from the host, delivered to the guest, sent back toward the host), and each packet's
 * verdict in its comment, so Wireshark and tshark show what the program did (`frame.comment`).
 *
 * pcapng rather than classic pcap because only pcapng carries per-packet comments and interface
 * names. Timestamps are a counter (one microsecond per packet), so a file is reproducible.
 *
 * @module
 */

/** Where a frame was seen. */
export type CapturePoint = 'from-host' | 'to-guest' | 'to-host';

const INTERFACE_NAMES: Readonly<Record<CapturePoint, string>> = {
  'from-host': 'from-host',
  'to-guest': 'to-guest',
  'to-host': 'to-host',
};
const INTERFACE_DESCRIPTIONS: Readonly<Record<CapturePoint, string>> = {
  'from-host': 'frames the host sent toward the guest, before the offloaded program',
  'to-guest': 'frames delivered to the guest',
  'to-host': 'frames sent back toward the host network (XDP_TX)',
};
const POINTS: readonly CapturePoint[] = ['from-host', 'to-guest', 'to-host'];

/** Receives the frames a replay or demo processes. */
export interface PacketSink {
  /** Records one frame seen at a point, with a comment (its verdict, its step). */
  record(point: CapturePoint, frame: Uint8Array, comment: string): void;
}

const LINKTYPE_ETHERNET = 1;
const encoder = new TextEncoder();

/** A pcapng option: code, length, value, padded to 32 bits. */
function option(code: number, value: Uint8Array): Uint8Array {
  const padded = new Uint8Array(4 + Math.ceil(value.length / 4) * 4);
  const view = new DataView(padded.buffer);
  view.setUint16(0, code, true);
  view.setUint16(2, value.length, true);
  padded.set(value, 4);
  return padded;
}

/** A block: type, total length, body, total length again. */
function block(type: number, body: readonly Uint8Array[]): Uint8Array {
  const bodyLength = body.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(12 + bodyLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, out.length, true);
  let at = 8;
  for (const b of body) {
    out.set(b, at);
    at += b.length;
  }
  view.setUint32(at, out.length, true);
  return out;
}

function u32s(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v >>> 0, true));
  return out;
}

const END_OF_OPTIONS = new Uint8Array(4);

/** Collects frames in memory and renders them as one pcapng section. */
export class PcapngWriter implements PacketSink {
  private readonly blocks: Uint8Array[] = [];
  private count = 0;

  constructor(application = 'virtio-xdp-offload') {
    const byteOrder = u32s(0x1a2b3c4d);
    const version = new Uint8Array([1, 0, 0, 0]); // major 1, minor 0
    const sectionLength = new Uint8Array(8).fill(0xff); // unspecified
    this.blocks.push(
      block(0x0a0d0d0a, [
        byteOrder,
        version,
        sectionLength,
        option(4, encoder.encode(application)),
        END_OF_OPTIONS,
      ]),
    );
    for (const point of POINTS) {
      this.blocks.push(
        block(0x00000001, [
          new Uint8Array([LINKTYPE_ETHERNET, 0, 0, 0]), // link type, reserved
          u32s(0), // snaplen: no limit
          option(2, encoder.encode(INTERFACE_NAMES[point])),
          option(3, encoder.encode(INTERFACE_DESCRIPTIONS[point])),
          END_OF_OPTIONS,
        ]),
      );
    }
  }

  /** Packets recorded so far. */
  get packets(): number {
    return this.count;
  }

  record(point: CapturePoint, frame: Uint8Array, comment: string): void {
    const micros = BigInt(++this.count);
    const data = new Uint8Array(Math.ceil(frame.length / 4) * 4);
    data.set(frame);
    this.blocks.push(
      block(0x00000006, [
        u32s(
          POINTS.indexOf(point),
          Number(micros >> 32n),
          Number(micros & 0xffffffffn),
          frame.length,
          frame.length,
        ),
        data,
        option(1, encoder.encode(comment)),
        END_OF_OPTIONS,
      ]),
    );
  }

  /** The file's bytes. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.blocks.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const b of this.blocks) {
      out.set(b, at);
      at += b.length;
    }
    return out;
  }
}
