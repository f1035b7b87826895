/**
 * The receive filter's wire structures, which decide what the offloaded program may see
 * ([dev-dp-order]): the control class's RX modes and MAC table (VIRTIO 1.4 5.1.6.5.1-2, the
 * device-readable part after the 2-byte header) and the tap's `struct tun_filter`, the argument of
 * Linux's TUNSETTXFILTER, with which a tap-based device applies the same filter before the program.
 *
 * @module
 */
import {
  RxModeCommand,
  VIRTIO_NET_CTRL_MAC,
  VIRTIO_NET_CTRL_MAC_TABLE_SET,
  VIRTIO_NET_CTRL_RX,
} from './constants.js';
import { CodecError } from './errors.js';

/** Bytes of an Ethernet address. */
export const ETH_ALEN = 6;

/** A receive-filter command of the control queue, decoded. */
export type RxFilterCommand =
  | {
      /** VIRTIO_NET_CTRL_RX_PROMISC or VIRTIO_NET_CTRL_RX_ALLMULTI. */
      readonly command: 'PROMISC' | 'ALLMULTI';
      /** The mode on (1) or off (0). */
      readonly on: boolean;
    }
  | {
      /** VIRTIO_NET_CTRL_MAC_TABLE_SET. */
      readonly command: 'MAC_TABLE_SET';
      /** The unicast table, in order. */
      readonly unicast: readonly Uint8Array[];
      /** The multicast table, in order. */
      readonly multicast: readonly Uint8Array[];
    };

/** Whether a 2-byte control header names a receive-filter command this module decodes. */
export function isRxFilterHeader(cls: number | undefined, cmd: number | undefined): boolean {
  if (cls === VIRTIO_NET_CTRL_RX) return cmd === RxModeCommand.PROMISC || cmd === RxModeCommand.ALLMULTI;
  return cls === VIRTIO_NET_CTRL_MAC && cmd === VIRTIO_NET_CTRL_MAC_TABLE_SET;
}

/** Reads one `struct virtio_net_ctrl_mac` (le32 entries, then the addresses) at `offset`. */
function readTable(view: DataView, offset: number, name: string): { macs: Uint8Array[]; end: number } {
  if (view.byteLength < offset + 4)
    throw new CodecError(
      'truncated',
      `${name}.entries`,
      offset,
      `needs 4 bytes, ${view.byteLength - offset} left`,
    );
  const entries = view.getUint32(offset, true);
  const start = offset + 4;
  if (view.byteLength - start < entries * ETH_ALEN)
    throw new CodecError(
      'length',
      `${name}.entries`,
      offset,
      `${entries} addresses need ${entries * ETH_ALEN} bytes, ${view.byteLength - start} left`,
    );
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const macs = Array.from({ length: entries }, (_, i) =>
    bytes.slice(start + i * ETH_ALEN, start + (i + 1) * ETH_ALEN),
  );
  return { macs, end: start + entries * ETH_ALEN };
}

/**
 * Decodes a receive-filter command from a whole device-readable part (header included), strictly:
 * an `on` byte other than 0 or 1, a table longer or shorter than its `entries`, and trailing bytes
 * are malformed.
 *
 * @throws CodecError naming the field and byte offset.
 */
export function decodeRxFilterCommand(part: Uint8Array): RxFilterCommand {
  const view = new DataView(part.buffer, part.byteOffset, part.byteLength);
  if (part.length < 2) throw new CodecError('truncated', 'cmd', part.length, 'the 2-byte header is cut');
  const [cls, cmd] = [part[0], part[1]];
  if (!isRxFilterHeader(cls, cmd)) throw new CodecError('unknown', 'cmd', 1, `class ${cls} command ${cmd}`);
  let end: number;
  let command: RxFilterCommand;
  if (cls === VIRTIO_NET_CTRL_RX) {
    if (part.length < 3) throw new CodecError('truncated', 'on', 2, 'the on byte is missing');
    const on = part[2] as number;
    if (on > 1) throw new CodecError('range', 'on', 2, `${on} is neither 0 nor 1`);
    command = { command: cmd === RxModeCommand.PROMISC ? 'PROMISC' : 'ALLMULTI', on: on === 1 };
    end = 3;
  } else {
    const unicast = readTable(view, 2, 'unicast');
    const multicast = readTable(view, unicast.end, 'multicast');
    command = { command: 'MAC_TABLE_SET', unicast: unicast.macs, multicast: multicast.macs };
    end = multicast.end;
  }
  if (part.length !== end)
    throw new CodecError('trailing', 'cmd', end, `${part.length - end} bytes after the command's data`);
  return command;
}

/**
 * Encodes a receive-filter command as its device-readable part, header included.
 *
 * @throws CodecError (`length`) for a MAC table address that is not 6 bytes.
 */
export function encodeRxFilterCommand(command: RxFilterCommand): Uint8Array {
  if (command.command !== 'MAC_TABLE_SET')
    return Uint8Array.of(VIRTIO_NET_CTRL_RX, RxModeCommand[command.command], command.on ? 1 : 0);
  const tables = [command.unicast, command.multicast];
  const out = new Uint8Array(2 + 8 + ETH_ALEN * (command.unicast.length + command.multicast.length));
  out.set([VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET]);
  const view = new DataView(out.buffer);
  let at = 2;
  tables.forEach((table, t) => {
    view.setUint32(at, table.length, true);
    at += 4;
    table.forEach((mac, i) => {
      if (mac.length !== ETH_ALEN)
        throw new CodecError(
          'length',
          `${t === 0 ? 'unicast' : 'multicast'}.macs[${i}]`,
          at,
          `${mac.length} bytes`,
        );
      out.set(mac, at);
      at += ETH_ALEN;
    });
  });
  return out;
}

/** `struct tun_filter`: flags, then `count` addresses (host byte order; the model's host is little-endian). */
export interface TunFilter {
  /** TUN_FLT_ALLMULTI or 0. */
  readonly flags: number;
  /** The addresses; none turns the filter off. */
  readonly addresses: readonly Uint8Array[];
}

/**
 * Encodes a TUNSETTXFILTER argument.
 *
 * @throws CodecError for an address that is not 6 bytes.
 */
export function encodeTunFilter(filter: TunFilter): Uint8Array {
  const out = new Uint8Array(4 + ETH_ALEN * filter.addresses.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, filter.flags, true);
  view.setUint16(2, filter.addresses.length, true);
  filter.addresses.forEach((mac, i) => {
    // an asserted writer: a short address would leave zero bytes in the filter unnoticed
    if (mac.length !== ETH_ALEN)
      throw new CodecError('length', `addresses[${i}]`, 4 + i * ETH_ALEN, `${mac.length} bytes`);
    out.set(mac, 4 + i * ETH_ALEN);
  });
  return out;
}

/**
 * Decodes a TUNSETTXFILTER argument as the tap reads it: the 4-byte head, then `count` addresses
 * (bytes past them are not read, as the kernel copies only what `count` says).
 *
 * @throws CodecError when the argument ends before the addresses `count` announces.
 */
export function decodeTunFilter(arg: Uint8Array): TunFilter {
  if (arg.length < 4) throw new CodecError('truncated', 'count', arg.length, 'the 4-byte head is cut');
  const view = new DataView(arg.buffer, arg.byteOffset, arg.byteLength);
  const count = view.getUint16(2, true);
  if (arg.length < 4 + count * ETH_ALEN)
    throw new CodecError('length', 'count', 2, `${count} addresses need ${count * ETH_ALEN} bytes`);
  const addresses = Array.from({ length: count }, (_, i) =>
    arg.slice(4 + i * ETH_ALEN, 4 + (i + 1) * ETH_ALEN),
  );
  return { flags: view.getUint16(0, true), addresses };
}
