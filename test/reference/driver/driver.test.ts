// The guest driver: what it negotiates, what it sends (recorded at the transport), how it treats a
// device that lies, and how driver-mode XDP sits beside an offloaded program.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BpfMapType,
  VIRTIO_NET_F_XDP_OFFLOAD,
  XdpStatus,
  decodeRequest,
  type ControlRequest,
  featureBit,
} from '../../../src/codec/index.js';
import { defaultCaps, helperBitmap } from '../../../src/reference/device/device.js';
import { XDP1 } from '../../../src/reference/ebpf/samples.js';
import { GuestErrno, VirtioNetDriver, type DriverTransport } from '../../../src/reference/driver/driver.js';
import { Topology } from '../../../src/reference/topology.js';
import { ControlElement } from '../../../src/reference/virtqueue/element.js';
import { le32Bytes } from '../../support/bytes.js';
import { counters, createMaps, ipv4Frame, negotiated, program, returns } from '../../support/offload.js';

/** Records every request the driver makes available, and lets a test rewrite the device's answer. */
function recorded(t: Topology, tamper?: (element: ControlElement, used: number) => number) {
  const requests: ControlRequest[] = [];
  const elements: ControlElement[] = [];
  const transport: DriverTransport = {
    ...t.transport,
    submit: (element) => {
      elements.push(element);
      requests.push(decodeRequest(element.readablePart()));
      const used = t.transport.submit(element);
      return tamper === undefined ? used : tamper(element, used);
    },
  };
  return { driver: new VirtioNetDriver(transport), requests, elements };
}

describe('negotiation', () => {
  test('offload is accepted only with CTRL_VQ [drv-feature-requires-ctrl-vq]', () => {
    const t = new Topology();
    let accepted = -1n;
    const withoutCtrl: DriverTransport = {
      ...t.transport,
      offeredFeatures: () => featureBit(VIRTIO_NET_F_XDP_OFFLOAD),
      setFeatures: (f) => ((accepted = f), true),
    };
    assert.equal(new VirtioNetDriver(withoutCtrl).probe(), false);
    assert.equal(accepted & featureBit(VIRTIO_NET_F_XDP_OFFLOAD), 0n);
    const ok = recorded(t);
    assert.equal(ok.driver.probe(), true);
  });

  test('no command of the class without the feature [drv-feature-negotiated]', () => {
    const t = new Topology();
    const { driver, requests } = recorded(t);
    assert.equal(driver.probe(false), false);
    assert.deepEqual(driver.mapCreate(counters(), true), { errno: GuestErrno.EOPNOTSUPP });
    assert.equal(driver.query(), GuestErrno.EOPNOTSUPP);
    assert.equal(requests.length, 0);
    assert.ok('fd' in driver.mapCreate(counters(), false)); // local maps still work
  });

  test('CAPS_GET comes first [drv-caps-first]', () => {
    const t = new Topology();
    const { driver, requests } = recorded(t);
    driver.probe();
    driver.mapCreate(counters(), true);
    assert.deepEqual(
      requests.map((r) => r.command),
      ['CAPS_GET', 'MAP_CREATE'],
    );
  });

  test('a device whose CAPS_GET answer is malformed is not used for offload [drv-wire-check-result]', () => {
    const t = new Topology();
    const { driver, requests } = recorded(t, (_element, used) => used - 1);
    assert.equal(driver.probe(), false);
    assert.equal(requests.length, 1);
    assert.deepEqual(driver.mapCreate(counters(), true), { errno: GuestErrno.EOPNOTSUPP });
  });
});

describe('what the driver sends', () => {
  test('programs needing what the device lacks are not offloaded, and run in driver mode [drv-caps-respect]', () => {
    const t = new Topology({ caps: { ...defaultCaps(3520), helpers: helperBitmap([1, 2, 3]) } });
    const { driver, requests } = recorded(t);
    driver.probe();
    const ktime = program(`call 5\n${returns(2)}`);
    assert.deepEqual(driver.attach(ktime, 'offload'), { errno: GuestErrno.EOPNOTSUPP });
    assert.equal(
      requests.some((r) => r.command === 'PROG_LOAD'),
      false,
    );
    assert.equal(driver.attach(ktime, 'driver').errno, 0);
  });

  test('element commands carry the map sizes as created [drv-map-sizes]', () => {
    const t = new Topology();
    const { driver, requests } = recorded(t);
    driver.probe();
    const created = driver.mapCreate(
      { type: BpfMapType.HASH, keySize: 6, valueSize: 12, maxEntries: 4 },
      true,
    );
    assert.ok('fd' in created);
    driver.mapUpdate(created.fd, new Uint8Array(6), new Uint8Array(12));
    driver.mapLookup(created.fd, new Uint8Array(6));
    driver.mapNextKey(created.fd, null);
    driver.mapDelete(created.fd, new Uint8Array(6));
    for (const r of requests.slice(2)) {
      const d = r.data as { key_size: number; value_size?: number };
      assert.equal(d.key_size, 6, r.command);
      if (d.value_size !== undefined) assert.equal(d.value_size, 12, r.command);
    }
    assert.equal(requests.length, 6);
  });

  test('a freed map is never named again [drv-map-handle-private]', () => {
    const t = new Topology();
    const { driver, requests } = recorded(t);
    driver.probe();
    const created = driver.mapCreate(counters(4), true);
    assert.ok('fd' in created);
    assert.equal(driver.mapFree(created.fd), 0);
    const sent = requests.length;
    assert.equal(driver.mapLookup(created.fd, le32Bytes(0)), GuestErrno.EBADF);
    assert.equal(
      driver.attach(program(`lddw %r1, map[1]\n${returns(2)}`, [created.fd]), 'offload').errno,
      GuestErrno.EBADF,
    );
    assert.equal(requests.length, sent);
  });

  test('maps are created first and references become device handles [drv-prog-maps-first]', () => {
    const t = new Topology();
    const { driver, requests } = recorded(t);
    driver.probe();
    const local = createMapsOf(driver, false);
    const mixed = program(`lddw %r1, map[1]\n${returns(2)}`, [local]);
    assert.equal(driver.attach(mixed, 'offload').errno, GuestErrno.EINVAL);
    const remote = createMapsOf(driver, true);
    const handle = 1; // the device's first handle
    const prog = program(`lddw %r1, map[1]\n${returns(2)}`, [remote]);
    assert.equal(driver.attach(prog, 'offload').errno, 0);
    const load = requests.find((r) => r.command === 'PROG_LOAD');
    assert.ok(load !== undefined && load.command === 'PROG_LOAD');
    assert.equal(load.data.insns[0]?.imm, handle);
    assert.notEqual(remote, handle); // the guest's fd is not what crossed the wire
    const firstLoad = requests.findIndex((r) => r.command === 'PROG_LOAD');
    const lastCreate = requests.map((r) => r.command).lastIndexOf('MAP_CREATE');
    assert.ok(lastCreate < firstLoad);
  });
});

function createMapsOf(driver: VirtioNetDriver, offload: boolean): number {
  const created = driver.mapCreate(counters(4), offload);
  if (!('fd' in created)) assert.fail(`map create: ${created.errno}`);
  return created.fd;
}

describe('datapath and reset', () => {
  test('driver-mode XDP runs on exactly the frames the device delivers [drv-dp-coexist]', () => {
    const t = negotiated();
    // Offloaded: drop TCP (protocol 6), pass the rest. Driver mode: xdp1 counting, then drop.
    const offloaded = `ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 34\njgt %r4, %r3, pass\nldxb %r5, [%r2+23]\njne %r5, 6, pass\nmov %r0, 1\nexit\npass:\nmov %r0, 2\nexit\n`;
    assert.equal(t.driver.attach(program(offloaded), 'offload').errno, 0);
    const [local] = createMaps(t, [counters()], false) as [number];
    assert.equal(t.driver.attach(program(XDP1, [local]), 'driver').errno, 0);
    for (const proto of [6, 17, 6, 1, 17]) t.fromHost(ipv4Frame(proto));
    const seen = (proto: number) => t.driver.mapLookup(local, le32Bytes(proto));
    assert.deepEqual(seen(6), new Uint8Array(8));
    assert.deepEqual(seen(17), Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0));
    assert.deepEqual(seen(1), Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0));
    assert.equal(t.driver.nativeCounters.packets, 3n);
  });

  test('after a reset the driver recreates its maps and program under new handles [drv-reset]', () => {
    const t = negotiated();
    const [fd] = createMaps(t, [counters(4)], true) as [number];
    assert.equal(t.driver.mapUpdate(fd, le32Bytes(1), new Uint8Array(8).fill(9)), 0);
    const counting = `mov %r6, 1\nstxw [%r10-4], %r6\nlddw %r1, map[1]\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, out\nmov %r1, 1\nlock add [%r0+0], %r1\nout:\nmov %r0, 2\nexit\n`;
    assert.equal(t.driver.attach(program(counting, [fd]), 'offload').errno, 0);
    assert.equal(t.driver.reset(), 0);
    assert.equal(t.device.migrationBlocker(), 'an offloaded program is attached');
    assert.deepEqual(t.driver.mapLookup(fd, le32Bytes(1)), new Uint8Array(8)); // recreated empty
    t.fromHost(ipv4Frame());
    assert.deepEqual(t.driver.mapLookup(fd, le32Bytes(1)), Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0));
    assert.equal(t.driver.mapLookup(fd, le32Bytes(9)), XdpStatus.ENOENT);
  });

  test('renegotiation voids the driver handles and program: maps answer EBADF, freeing them is local [drv-reset]', () => {
    const t = negotiated();
    const [fd] = createMaps(t, [counters(4)], true) as [number];
    assert.equal(t.driver.attach(program(returns(2), []), 'offload').errno, 0);
    assert.equal(t.driver.probe(), true); // the device is reset by the negotiation
    assert.equal(t.tap.attachedId, 0);
    assert.equal(t.driver.mapLookup(fd, le32Bytes(0)), GuestErrno.EBADF);
    assert.equal(t.driver.mapFree(fd), 0);
    // A later reset has no program to offload again: the driver knows it lost it.
    assert.equal(t.driver.reset(), 0);
    assert.equal(t.device.migrationBlocker(), undefined);
  });

  test('the same commands fail cleanly when the device answers nonsense [drv-wire-check-result] [drv-status-undefined]', () => {
    const t = new Topology();
    let lie: ((element: ControlElement, used: number) => number) | undefined;
    const { driver } = recorded(t, (element, used) => (lie === undefined ? used : lie(element, used)));
    driver.probe();
    const created = driver.mapCreate(counters(4), true);
    assert.ok('fd' in created);
    const writable = (e: ControlElement) => e.segments.filter((s) => s.deviceWritable).map((s) => s.bytes);
    const lies: ((e: ControlElement, used: number) => number)[] = [
      (_e, used) => used + 1, // longer than written
      (e, used) => (((writable(e)[0] as Uint8Array)[0] = 1), used), // ERR ack with OK status
      (e, used) => (((writable(e)[0] as Uint8Array)[1] = 200), used), // undefined status
      () => 1_000_000, // used length beyond the buffers
    ];
    for (const l of lies) {
      lie = l;
      assert.equal(driver.mapLookup(created.fd, le32Bytes(0)), GuestErrno.EIO);
    }
    lie = undefined;
    assert.deepEqual(driver.mapLookup(created.fd, le32Bytes(0)), new Uint8Array(8));
  });
});

describe('batch commands', () => {
  const elements = (n: number, base = 1) =>
    Array.from({ length: n }, (_, i) => ({
      key: le32Bytes(i),
      value: Uint8Array.of(base + i, 0, 0, 0, 0, 0, 0, 0),
    }));

  test('a table filled and read back in batches of max_batch, in fewer elements than one by one [dev-map-batch-update] [dev-map-batch-lookup]', () => {
    const t = negotiated();
    const [fd] = createMaps(t, [counters(200)], true);
    const before = t.driver.elementsSent;
    assert.deepEqual(t.driver.mapUpdateBatch(fd as number, elements(200)), { applied: 200, errno: 0 });
    const dump = t.driver.mapDump(fd as number);
    assert.ok(Array.isArray(dump));
    assert.deepEqual(
      dump.map((e) => [e.key[0], e.value[0]]),
      elements(200).map((e) => [e.key[0], e.value[0]]),
    );
    // 4 update batches (64 + 64 + 64 + 8) and 4 lookup batches, where one by one takes 600.
    assert.equal(t.driver.elementsSent - before, 8);
  });

  test('without batch commands (max_batch 0) the driver sends elements one by one, with the same result', () => {
    const t = negotiated({ caps: { ...defaultCaps(3520), max_batch: 0 } });
    const [fd] = createMaps(t, [counters(5)], true);
    const before = t.driver.elementsSent;
    assert.deepEqual(t.driver.mapUpdateBatch(fd as number, elements(5)), { applied: 5, errno: 0 });
    const dump = t.driver.mapDump(fd as number);
    assert.ok(Array.isArray(dump));
    assert.equal(dump.length, 5);
    assert.equal(t.driver.elementsSent - before, 5 + 2 * 5 + 1);
  });

  test('a failing chunk stops the batch: earlier chunks stay applied, the failing one changes nothing', () => {
    const t = negotiated({ caps: { ...defaultCaps(3520), max_batch: 2 } });
    const [fd] = createMaps(t, [counters(3)], true);
    // Indices 0, 1 (chunk 1), 2, 3 (chunk 2: index 3 is out of range, so index 2 is not written).
    assert.deepEqual(t.driver.mapUpdateBatch(fd as number, elements(4, 5)), {
      applied: 2,
      errno: XdpStatus.E2BIG,
    });
    assert.deepEqual(
      (t.driver.mapDump(fd as number) as { value: Uint8Array }[]).map((e) => e.value[0]),
      [5, 6, 0],
    );
  });

  test('a device that returns array indices out of order fails the lookup with EIO', () => {
    const t = negotiated();
    const { driver } = recorded(t, (element, used) => {
      const request = decodeRequest(element.readablePart());
      if (request.command !== 'MAP_LOOKUP_BATCH') return used;
      // Swap the first two keys of the answer (each element: a 4-byte key, an 8-byte value).
      const answer = element.readAnswer(used);
      const swapped = Uint8Array.from(answer);
      swapped.set(answer.subarray(17, 21), 29);
      swapped.set(answer.subarray(29, 33), 17);
      element.writeAnswer(swapped);
      return used;
    });
    assert.equal(driver.probe(), true);
    const created = driver.mapCreate(counters(4), true);
    assert.ok('fd' in created);
    assert.equal(driver.mapLookupBatch(created.fd, null, 4), GuestErrno.EIO);
  });
});

test("a key or value of another size than the map's is EINVAL before anything is sent [drv-map-sizes]", () => {
  const t = negotiated();
  const { driver, requests } = recorded(t);
  assert.equal(driver.probe(), true);
  const created = driver.mapCreate(counters(4), true);
  assert.ok('fd' in created);
  const sent = requests.length;
  const key = le32Bytes(1);
  assert.equal(driver.mapUpdate(created.fd, key, new Uint8Array(4)), GuestErrno.EINVAL);
  assert.equal(driver.mapUpdate(created.fd, new Uint8Array(2), new Uint8Array(8)), GuestErrno.EINVAL);
  assert.equal(driver.mapLookup(created.fd, new Uint8Array(8)), GuestErrno.EINVAL);
  assert.equal(driver.mapDelete(created.fd, new Uint8Array(3)), GuestErrno.EINVAL);
  assert.equal(driver.mapNextKey(created.fd, new Uint8Array(5)), GuestErrno.EINVAL);
  assert.equal(driver.mapLookupBatch(created.fd, new Uint8Array(5), 2), GuestErrno.EINVAL);
  assert.deepEqual(driver.mapUpdateBatch(created.fd, [{ key, value: new Uint8Array(9) }]), {
    applied: 0,
    errno: GuestErrno.EINVAL,
  });
  assert.equal(requests.length, sent, 'nothing reached the device');
  assert.equal(driver.mapUpdate(created.fd, key, new Uint8Array(8)), 0);
});
