// What a hostile guest can make the device hold and spend: heap within twice the accounted memory
// plus a constant, freed state released at once, per-command cost independent of the map's size,
// and sizes checked from the header before a request's body is read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BpfMapType,
  VIRTIO_NET_CTRL_XDP_OFFLOAD,
  XdpCommand,
  XdpStatus,
  encodeRequest,
  type ControlRequest,
  resultOf,
} from '../../../src/codec/index.js';
import { defaultCaps } from '../../../src/reference/device/device.js';
import { createMap } from '../../../src/reference/ebpf/maps.js';
import { AddressSpace } from '../../../src/reference/ebpf/index.js';
import { ControlElement } from '../../../src/reference/virtqueue/element.js';
import { heldBytes } from '../../../src/harness/fuzz/limits-attack.js';
import { exchange, negotiated } from '../../support/offload.js';
import { fc } from '../../support/fc.js';

const MiB = 1 << 20;

function send<R extends ControlRequest>(t: ReturnType<typeof negotiated>, request: R) {
  return exchange(t, request).answer;
}

function hashOf(t: ReturnType<typeof negotiated>, keySize: number, valueSize: number, maxEntries: number) {
  const created = send(t, {
    command: 'MAP_CREATE',
    data: {
      map_type: BpfMapType.HASH,
      key_size: keySize,
      value_size: valueSize,
      max_entries: maxEntries,
      map_flags: 0,
    },
  });
  assert.equal(created.status, XdpStatus.OK);
  return resultOf(created).map_handle;
}

const keyOf = (n: number, size: number) => {
  const key = new Uint8Array(size);
  new DataView(key.buffer).setUint32(0, n, true);
  return key;
};

test('50,000 replacements of one 4,096-byte value hold no more than the accounted memory [dev-resource-bounded]', () => {
  const t = negotiated();
  const handle = hashOf(t, 8, 4096, 1);
  const base = heldBytes();
  for (let i = 0; i < 50_000; i++) {
    const answer = send(t, {
      command: 'MAP_UPDATE',
      data: {
        map_handle: handle,
        key_size: 8,
        value_size: 4096,
        flags: 0,
        key: keyOf(0, 8),
        value: new Uint8Array(4096).fill(i),
      },
    });
    assert.equal(answer.status, XdpStatus.OK);
  }
  const held = heldBytes() - base;
  const accounted = Number(t.device.usage().mapMemory);
  assert.equal(accounted, 4120);
  // 411 MB were once retained here; now nothing beyond noise.
  assert.ok(held < 2 * accounted + 4 * MiB, `${held} bytes held for ${accounted} accounted`);
});

test('MAP_CREATE and MAP_FREE 20,000 times leave no region, handle or byte behind [dev-resource-bounded]', () => {
  const t = negotiated();
  const space = t.hostEngine.space;
  const live = space.live;
  const reserved = space.reserved;
  const base = heldBytes();
  for (let i = 0; i < 20_000; i++) {
    const handle = hashOf(t, 4, 64, 16);
    assert.equal(send(t, { command: 'MAP_FREE', data: { map_handle: handle } }).status, XdpStatus.OK);
  }
  assert.equal(space.live, live, 'every region freed at once, not at the next packet');
  assert.equal(space.reserved, reserved, 'every byte of map storage given back');
  assert.ok(heldBytes() - base < 4 * MiB);
});

test('array MAP_LOOKUP allocates no region: the host holds the same whatever is read [dev-resource-bounded]', () => {
  const t = negotiated();
  const created = send(t, {
    command: 'MAP_CREATE',
    data: { map_type: BpfMapType.ARRAY, key_size: 4, value_size: 8, max_entries: 65536, map_flags: 0 },
  });
  const handle = resultOf(created).map_handle;
  const live = t.hostEngine.space.live;
  for (let i = 0; i < 65536; i += 7)
    assert.equal(
      send(t, {
        command: 'MAP_LOOKUP',
        data: { map_handle: handle, key_size: 4, value_size: 8, key: keyOf(i, 4) },
      }).status,
      XdpStatus.OK,
    );
  assert.equal(t.hostEngine.space.live, live);
});

test('GET_NEXT_KEY on a full 65,536-entry hash of 256-byte keys costs what it costs on a tiny one [dev-resource-bounded]', () => {
  const t = negotiated();
  const base = heldBytes();
  const big = hashOf(t, 256, 8, 65536);
  for (let i = 0; i < 65536; i++)
    send(t, {
      command: 'MAP_UPDATE',
      data: {
        map_handle: big,
        key_size: 256,
        value_size: 8,
        flags: 0,
        key: keyOf(i, 256),
        value: new Uint8Array(8),
      },
    });
  const small = hashOf(t, 256, 8, 2);
  send(t, {
    command: 'MAP_UPDATE',
    data: {
      map_handle: small,
      key_size: 256,
      value_size: 8,
      flags: 0,
      key: keyOf(0, 256),
      value: new Uint8Array(8),
    },
  });
  // Medians of interleaved calls: a ratio, so the machine's speed does not matter. A copy of the
  // map per call (the old cost: 4-5 s per call here) would make it thousands.
  const time = (handle: number, key: Uint8Array) => {
    const element = ControlElement.forControlRequest({
      command: 'MAP_GET_NEXT_KEY',
      data: { map_handle: handle, key_size: 256, flags: 0, key },
    });
    const start = performance.now();
    t.device.serve(element);
    return performance.now() - start;
  };
  const bigTimes: number[] = [];
  const smallTimes: number[] = [];
  for (let i = 0; i < 201; i++) {
    bigTimes.push(time(big, keyOf((i * 7919) % 65536, 256)));
    smallTimes.push(time(small, keyOf(0, 256)));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[100] as number;
  const ratio = median(bigTimes) / median(smallTimes);
  assert.ok(ratio < 10, `a full map's GET_NEXT_KEY is ${ratio.toFixed(1)}x a tiny map's`);
  // And the full map is held within twice what is accounted (17.5 MiB here).
  const accounted = Number(t.device.usage().mapMemory);
  const held = heldBytes() - base;
  assert.ok(accounted > 17 * MiB && held < 2 * accounted, `${held} bytes held for ${accounted} accounted`);
});

test('a PROG_LOAD above max_insns is E2BIG from its header, whatever follows, and unread [dev-prog-limit]', () => {
  const t = negotiated();
  const max = defaultCaps(t.tap.maxFrameLen).max_insns;
  const head = (insnCnt: number, bodyBytes: number) => {
    const bytes = new Uint8Array(2 + 16 + bodyBytes);
    bytes[0] = VIRTIO_NET_CTRL_XDP_OFFLOAD;
    bytes[1] = XdpCommand.PROG_LOAD;
    new DataView(bytes.buffer).setUint32(2, insnCnt, true);
    return bytes;
  };
  for (const [insnCnt, body] of [
    [max + 1, 8 * (max + 1)], // a whole body
    [max + 1, 3], // a truncated one
    [1 << 20, 8 << 20], // 8 MiB: refused before it is read
    [0xffffffff, 0],
  ] as const) {
    const element = ControlElement.forRequest(head(insnCnt, body), 9 + 8);
    const served = t.device.serve(element);
    assert.equal(served.status, XdpStatus.E2BIG, `insn_cnt ${insnCnt}, ${body} bytes`);
    assert.equal(served.executed, false);
    assert.equal(served.request, undefined, 'the body was not decoded');
  }
});

test('a device-readable part longer than any request the capabilities admit is EINVAL, unread [dev-wire-request-size]', () => {
  const t = negotiated();
  const caps = defaultCaps(t.tap.maxFrameLen);
  const element = caps.max_key_size + caps.max_value_size;
  const bound = Math.max(18 + Math.max(8 * caps.max_insns, element), 26 + caps.max_batch * element);
  const handle = hashOf(t, 4, 8, 4);
  // A well-formed MAP_UPDATE whose key and value are far beyond max_key_size and max_value_size.
  const huge = encodeRequest({
    command: 'MAP_UPDATE',
    data: {
      map_handle: handle,
      key_size: 300_000,
      value_size: 300_000,
      flags: 0,
      key: new Uint8Array(300_000),
      value: new Uint8Array(300_000),
    },
  });
  assert.ok(huge.length > bound);
  const served = t.device.serve(ControlElement.forRequest(huge, 9));
  assert.deepEqual([served.status, served.executed, served.request], [XdpStatus.EINVAL, false, undefined]);
  // At the bound exactly, the part is read (and refused for its sizes, as before).
  const atBound = new Uint8Array(bound);
  atBound.set(huge.subarray(0, 18));
  const read = t.device.serve(ControlElement.forRequest(atBound, 9));
  assert.equal(read.status, XdpStatus.EINVAL);
});

test('hash maps match a plain model under heavy insert, replace and delete traffic (open addressing, backward shift)', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          op: fc.constantFrom('update', 'delete', 'next'),
          key: fc.integer({ min: 0, max: 300 }),
          v: fc.nat(255),
        }),
        { minLength: 1, maxLength: 600 },
      ),
      fc.integer({ min: 1, max: 96 }),
      (ops, maxEntries) => {
        const map = createMap(
          { type: BpfMapType.HASH, keySize: 4, valueSize: 1, maxEntries },
          new AddressSpace(),
        );
        const model = new Map<number, number>();
        for (const { op, key, v } of ops) {
          const k = keyOf(key, 4);
          if (op === 'update') {
            const full = !model.has(key) && model.size >= maxEntries;
            assert.equal(map.update(k, Uint8Array.of(v), 0), full ? 7 : 0);
            if (!full) model.set(key, v); // a replacement keeps its place in the order
          } else if (op === 'delete') {
            assert.equal(map.delete(k), model.delete(key) ? 0 : 2);
          } else {
            const keys = [...model.keys()];
            const at = keys.indexOf(key);
            const expected = keys[at + 1] ?? (at < 0 ? keys[0] : undefined);
            const next = map.nextKey(k);
            assert.deepEqual(next, expected === undefined ? 2 : keyOf(expected, 4));
          }
        }
        assert.deepEqual(
          map.entries().map(([k, v]) => [new DataView(k.buffer).getUint32(0, true), v[0]]),
          [...model.entries()],
        );
        for (let key = 0; key <= 300; key++) {
          const got = map.lookup(keyOf(key, 4));
          assert.deepEqual(got, model.has(key) ? Uint8Array.of(model.get(key) as number) : 2);
        }
      },
    ),
  );
});
