// Where the program runs in the receive pipeline ([dev-dp-order]): after the guest's receive filter,
// on exactly the frames the guest receives. The check runs against the reference device on a tap
// that filters with TUNSETTXFILTER before its hook, and, as evidence that it can fail, against a
// device that filters after the program (what a VMM does that filters frames it read from a tap).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LogLevel,
  TUNSETTXFILTER,
  decodeRxFilterCommand,
  CodecError,
  decodeTunFilter,
  encodeRequest,
  encodeTunFilter,
  encodeRxFilterCommand,
  resultOf,
  writableSize,
  type ControlRequest,
  type ResultOf,
  type RxFilterCommand,
} from '../../../src/codec/index.js';
import { OffloadDevice, type TapPort } from '../../../src/reference/device/device.js';
import { installTxFilter, multicastHashBit, txFilterPasses } from '../../../src/reference/tun/tx-filter.js';
import { Topology } from '../../../src/reference/topology.js';
import { ControlElement } from '../../../src/reference/virtqueue/element.js';
import { program, returns } from '../../support/offload.js';

const mac = (...bytes: number[]) => Uint8Array.from(bytes);
const OWN = mac(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
const TABLE_UNICAST = mac(0x02, 0, 0, 0, 0, 1);
const OTHER_UNICAST = mac(0x02, 0, 0, 0, 0, 9);
const BROADCAST = mac(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
const TABLE_MULTICAST = mac(0x01, 0x00, 0x5e, 0, 0, 1);
const OTHER_MULTICAST = mac(0x01, 0x00, 0x5e, 0, 0, 2);
const DESTINATIONS = [OWN, TABLE_UNICAST, OTHER_UNICAST, BROADCAST, TABLE_MULTICAST, OTHER_MULTICAST];

const frameTo = (destination: Uint8Array): Uint8Array => {
  const frame = new Uint8Array(60);
  frame.set(destination, 0);
  frame.set([0x02, 0, 0, 0, 0, 0x77, 0x08, 0x00], 6);
  return frame;
};

/** The guest's filter, as VIRTIO and QEMU define it, written apart from the device's code. */
interface GuestFilter {
  promisc: boolean;
  allmulti: boolean;
  unicast: Uint8Array[];
  multicast: Uint8Array[];
}
const same = (a: Uint8Array, b: Uint8Array) => a.every((x, i) => x === b[i]);
function guestReceives(filter: GuestFilter, destination: Uint8Array): boolean {
  if (filter.promisc) return true;
  if (((destination[0] ?? 0) & 1) === 0)
    return same(destination, OWN) || filter.unicast.some((m) => same(m, destination));
  if (same(destination, BROADCAST) || filter.allmulti) return true;
  return filter.multicast.some((m) => same(m, destination));
}

function send<R extends ControlRequest>(device: OffloadDevice, request: R): ResultOf<R['command']> {
  const element = ControlElement.forRequest(encodeRequest(request), writableSize(request));
  return element.readResult(request, device.serve(element).used);
}

/**
 * Offloads a PASS program on `device`, then for each filter setting sends a frame to every
 * destination through the tap, and returns every way the program's view and the guest's differ:
 * a frame delivered that the filter rejects, one withheld that it accepts, or a program run on a
 * frame the guest never received (QUERY's `packets` against the frames delivered).
 */
function orderViolations(device: OffloadDevice, tap: Topology['tap']): string[] {
  const violations: string[] = [];
  device.setFeatures(device.offeredFeatures());
  const code = program(returns(2));
  const loaded = send(device, {
    command: 'PROG_LOAD',
    data: { insn_cnt: code.length, log_size: 0, log_level: LogLevel.NONE, prog_flags: 0, insns: code },
  });
  assert.equal(loaded.status, 0);
  const filter: GuestFilter = { promisc: true, allmulti: false, unicast: [], multicast: [] };
  const rx = (command: RxFilterCommand) => {
    const element = ControlElement.forRequest(encodeRxFilterCommand(command), 1);
    assert.equal(device.serve(element).used, 1);
    assert.deepEqual([...element.readAnswer(1)], [0], `${command.command} acknowledged`);
  };
  const settings: [string, () => void][] = [
    ['after reset (promiscuous)', () => undefined],
    [
      'promiscuous off, a MAC table',
      () => {
        rx({ command: 'PROMISC', on: false });
        rx({ command: 'MAC_TABLE_SET', unicast: [TABLE_UNICAST], multicast: [TABLE_MULTICAST] });
        Object.assign(filter, { promisc: false, unicast: [TABLE_UNICAST], multicast: [TABLE_MULTICAST] });
      },
    ],
    [
      'all-multicast on',
      () => {
        rx({ command: 'ALLMULTI', on: true });
        filter.allmulti = true;
      },
    ],
    [
      'all-multicast off, an empty table',
      () => {
        rx({ command: 'ALLMULTI', on: false });
        rx({ command: 'MAC_TABLE_SET', unicast: [], multicast: [] });
        Object.assign(filter, { allmulti: false, unicast: [], multicast: [] });
      },
    ],
  ];
  let delivered = 0;
  for (const [name, apply] of settings) {
    apply();
    for (const destination of DESTINATIONS) {
      tap.transmit(frameTo(destination), 0);
      const got = device.receive(0) !== undefined;
      const want = guestReceives(filter, destination);
      if (got) delivered++;
      if (got !== want)
        violations.push(
          `${name}: a frame to ${Buffer.from(destination).toString('hex')} was ${got ? 'delivered' : 'withheld'}`,
        );
    }
  }
  const query = send(device, { command: 'QUERY', data: null });
  const runs = Number(resultOf(query).packets);
  if (runs !== delivered)
    violations.push(`the program ran on ${runs} frames, the guest received ${delivered}`);
  return violations;
}

describe('the program runs after the receive filter [dev-dp-order]', () => {
  test('the reference device brings its filter to the tap: the program sees exactly what the guest receives [tun-hook-order]', () => {
    const t = new Topology();
    assert.deepEqual(orderViolations(t.device, t.tap), []);
  });

  test('a device that filters after the program (frames it read from the tap) is caught', () => {
    const t = new Topology();
    // The VMM keeps the filter to itself and applies it to what it reads: the tap's hook has run
    // the program on every frame before.
    let kept = installTxFilter({ flags: 0, addresses: [] });
    const port: TapPort = {
      maxFrameLen: t.tap.maxFrameLen,
      get attachedId() {
        return t.tap.attachedId;
      },
      features: () => t.tap.features(),
      ioctl: (request, arg) => {
        if (request !== TUNSETTXFILTER) return t.tap.ioctl(request, arg);
        kept = installTxFilter(decodeTunFilter(arg));
        return { errno: 0, arg };
      },
      read: (queue) => {
        for (let frame = t.tap.read(queue); frame !== undefined; frame = t.tap.read(queue))
          if (txFilterPasses(kept, frame)) return frame;
        return undefined;
      },
      write: (frame) => t.tap.write(frame),
    };
    const device = new OffloadDevice({ engine: t.hostEngine, programs: t.programs, tap: port });
    const violations = orderViolations(device, t.tap);
    assert.deepEqual(violations, ['the program ran on 24 frames, the guest received 17']);
  });

  test('a tap that ignores the filter is caught too', () => {
    const t = new Topology();
    const port: TapPort = {
      maxFrameLen: t.tap.maxFrameLen,
      get attachedId() {
        return t.tap.attachedId;
      },
      features: () => t.tap.features(),
      ioctl: (request, arg) => (request === TUNSETTXFILTER ? { errno: 0, arg } : t.tap.ioctl(request, arg)),
      read: (queue) => t.tap.read(queue),
      write: (frame) => t.tap.write(frame),
    };
    const device = new OffloadDevice({ engine: t.hostEngine, programs: t.programs, tap: port });
    assert.equal(orderViolations(device, t.tap).length, 7);
  });
});

describe('receive-filter commands', () => {
  test('the driver negotiates CTRL_RX and sets the filter; a malformed command is VIRTIO_NET_ERR and changes nothing', () => {
    const t = new Topology();
    assert.equal(t.driver.probe(), true);
    assert.equal(t.driver.setReceiveFilter({ command: 'PROMISC', on: false }), 0);
    const before = t.device.snapshot();
    assert.match(before, /^rx - - \[\] \[\]$/m);
    for (const bad of [
      Uint8Array.of(0, 0, 2), // on is neither 0 nor 1
      Uint8Array.of(0, 1), // no on byte
      Uint8Array.of(0, 0, 1, 0), // a trailing byte
      Uint8Array.of(1, 0, 1, 0, 0, 0), // a unicast table announcing 1 address, holding none
      Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7), // trailing after both tables
    ]) {
      const element = ControlElement.forRequest(bad, 1);
      assert.equal(t.device.serve(element).used, 1);
      assert.deepEqual([...element.readAnswer(1)], [1], Buffer.from(bad).toString('hex'));
      assert.equal(t.device.snapshot(), before);
    }
  });

  test('the codec decodes what it encodes, and names the field and offset of a bad table', () => {
    const command: RxFilterCommand = {
      command: 'MAC_TABLE_SET',
      unicast: [OWN],
      multicast: [TABLE_MULTICAST, BROADCAST],
    };
    assert.deepEqual(decodeRxFilterCommand(encodeRxFilterCommand(command)), command);
    assert.throws(
      () => decodeRxFilterCommand(Uint8Array.of(1, 0, 0, 0, 0, 0, 5, 0, 0, 0)),
      (e: unknown) => e instanceof Error && /length: multicast\.entries at byte 6/.test(e.message),
    );
  });

  test("the tap's filter: eight exact addresses, further multicast hashed, a further unicast turns it off", () => {
    const many = Array.from({ length: 8 }, (_, i) => mac(0x02, 0, 0, 0, 1, i));
    const hashed = mac(0x01, 0x00, 0x5e, 0, 0, 0x42);
    const filter = installTxFilter({ flags: 0, addresses: [...many, hashed] });
    assert.ok(filter !== undefined);
    assert.equal(txFilterPasses(filter, frameTo(many[7] as Uint8Array)), true);
    assert.equal(txFilterPasses(filter, frameTo(hashed)), true);
    assert.equal(txFilterPasses(filter, frameTo(OTHER_UNICAST)), false);
    // A multicast address passes exactly when it shares the hashed address's bit.
    for (let last = 0; last < 256; last++) {
      const m = mac(0x01, 0x00, 0x5e, 0, 1, last);
      assert.equal(txFilterPasses(filter, frameTo(m)), multicastHashBit(m) === multicastHashBit(hashed));
    }
    assert.equal(installTxFilter({ flags: 0, addresses: [...many, OTHER_UNICAST] }), undefined);
    assert.equal(installTxFilter({ flags: 0, addresses: [] }), undefined);
  });
});

test('the TUNSETTXFILTER writer refuses an address that is not 6 bytes, naming it and its offset', () => {
  const mac = Uint8Array.of(2, 0, 0, 0, 0, 1);
  const arg = encodeTunFilter({ flags: 0, addresses: [mac, mac] });
  assert.deepEqual(decodeTunFilter(arg).addresses, [mac, mac]);
  assert.throws(
    () => encodeTunFilter({ flags: 0, addresses: [mac, mac.subarray(0, 5)] }),
    (e: unknown) => e instanceof CodecError && e.field === 'addresses[1]' && e.offset === 10,
  );
});
