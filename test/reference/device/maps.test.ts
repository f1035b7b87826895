// The device's map table: each refusal of section X.7.2 with its status, handles that are never
// host identifiers nor reused, and refused commands that change nothing.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfMapType, XdpStatus } from '../../../src/codec/index.js';
import { DeviceMaps, mapMemory, type MapLimits } from '../../../src/reference/device/maps.js';
import type { MapDefinition } from '../../../src/reference/ebpf/maps.js';
import { AddressSpace } from '../../../src/reference/ebpf/memory.js';
import { le32Bytes } from '../../support/bytes.js';
import { fc } from '../../support/fc.js';

const LIMITS: MapLimits = {
  maxMaps: 3,
  maxEntries: 64,
  maxKeySize: 16,
  maxValueSize: 32,
  maxMapMemory: 4096n,
  mapTypes: (1n << BigInt(BpfMapType.HASH)) | (1n << BigInt(BpfMapType.ARRAY)),
  maxBatch: 8,
  percpuSlots: 2,
  maxInsns: 64,
};
const array = (valueSize: number, maxEntries: number): MapDefinition => ({
  type: BpfMapType.ARRAY,
  keySize: 4,
  valueSize,
  maxEntries,
});
const hash = (keySize: number, valueSize: number, maxEntries: number): MapDefinition => ({
  type: BpfMapType.HASH,
  keySize,
  valueSize,
  maxEntries,
});
const fresh = (limits: MapLimits = LIMITS) => new DeviceMaps(limits, new AddressSpace());

describe('MAP_CREATE refusals', () => {
  test('a type not in map_types is EOPNOTSUPP [dev-map-create-type]', () => {
    const maps = fresh({ ...LIMITS, mapTypes: 1n << BigInt(BpfMapType.ARRAY) });
    assert.equal(maps.create(hash(4, 8, 4)).status, XdpStatus.EOPNOTSUPP);
    assert.equal(
      maps.create({ type: 6, keySize: 4, valueSize: 8, maxEntries: 4 }).status,
      XdpStatus.EOPNOTSUPP,
    );
    assert.equal(
      maps.create({ type: 200, keySize: 4, valueSize: 8, maxEntries: 4 }).status,
      XdpStatus.EOPNOTSUPP,
    );
    assert.equal(maps.create(array(8, 4)).status, XdpStatus.OK);
  });

  test('an array key other than 4 bytes is EINVAL [dev-map-create-array-key]', () => {
    const maps = fresh();
    for (const keySize of [1, 2, 3, 5, 8])
      assert.equal(maps.create({ ...array(8, 4), keySize }).status, XdpStatus.EINVAL);
    assert.equal(maps.count, 0);
  });

  test('sizes above the limits are E2BIG, at the limits accepted [dev-map-create-limit]', () => {
    const maps = fresh({ ...LIMITS, maxMapMemory: 1n << 40n });
    assert.equal(maps.create(hash(17, 8, 4)).status, XdpStatus.E2BIG);
    assert.equal(maps.create(hash(4, 33, 4)).status, XdpStatus.E2BIG);
    assert.equal(maps.create(array(8, 65)).status, XdpStatus.E2BIG);
    assert.equal(maps.count, 0);
    assert.equal(maps.create(hash(16, 32, 64)).status, XdpStatus.OK);
    assert.equal(maps.create(array(32, 64)).status, XdpStatus.OK);
  });

  test('a map beyond max_maps is ENOSPC, and freeing one makes room [dev-map-create-count]', () => {
    const maps = fresh();
    const handles = [1, 2, 3].map(() => maps.create(array(8, 1)).value ?? assert.fail('create'));
    assert.equal(maps.create(array(8, 1)).status, XdpStatus.ENOSPC);
    assert.equal(maps.free(handles[1] as number, new Set()).status, XdpStatus.OK);
    assert.equal(maps.create(array(8, 1)).status, XdpStatus.OK);
  });

  test('memory is accounted as section X.6 says; the map that would pass max_map_memory is ENOMEM [dev-map-create-memory]', () => {
    assert.equal(mapMemory(array(5, 10), LIMITS), 80n);
    assert.equal(mapMemory(hash(6, 9, 10), LIMITS), 10n * (8n + 16n + 16n));
    const maps = fresh({ ...LIMITS, maxMapMemory: 1000n });
    assert.equal(maps.create(array(8, 64)).status, XdpStatus.OK); // 512
    assert.equal(maps.create(hash(4, 8, 12)).status, XdpStatus.OK); // 12 × 32 = 384, total 896
    assert.equal(maps.create(array(8, 14)).status, XdpStatus.ENOMEM); // 112 more: 1008
    assert.equal(maps.memory, 896n);
    assert.equal(maps.create(array(8, 13)).status, XdpStatus.OK); // exactly 1000
    assert.equal(maps.memory, 1000n);
  });

  test('limits the engine cannot hold are refused when the device is built', () => {
    assert.throws(() => fresh({ ...LIMITS, maxKeySize: 513 }), RangeError);
    assert.throws(() => fresh({ ...LIMITS, maxValueSize: (1 << 20) + 1 }), RangeError);
  });
});

describe('handles', () => {
  test('nonzero, never reused before reset, not derived from host state [dev-map-handle]', () => {
    const maps = fresh({ ...LIMITS, maxMaps: 2 });
    const seen = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const handle = maps.create(array(8, 1)).value ?? assert.fail('create');
      assert.ok(handle > 0 && handle <= 0xffffffff);
      assert.ok(!seen.has(handle), `handle ${handle} reused`);
      seen.add(handle);
      assert.equal(maps.free(handle, new Set()).status, XdpStatus.OK);
    }
    // Handles follow from the command sequence alone: a device whose host memory is laid out
    // differently (regions already allocated) assigns the same ones.
    const busyHost = new AddressSpace();
    for (let i = 0; i < 5; i++) busyHost.alloc('stack', new Uint8Array(8));
    const a = fresh();
    const b = new DeviceMaps(LIMITS, busyHost);
    for (const def of [hash(4, 4, 4), array(8, 2), hash(8, 8, 2)])
      assert.equal(a.create(def).value, b.create(def).value);
  });

  test('a handle not assigned, or freed, is EBADF for every command [dev-map-handle-scope]', () => {
    const maps = fresh();
    const h = maps.create(hash(4, 8, 4)).value ?? assert.fail('create');
    assert.equal(maps.free(h, new Set()).status, XdpStatus.OK);
    for (const handle of [0, h, h + 1, 0xffffffff]) {
      assert.equal(maps.free(handle, new Set()).status, XdpStatus.EBADF);
      assert.equal(maps.update(handle, 4, 8, le32Bytes(1), new Uint8Array(8), 0).status, XdpStatus.EBADF);
      assert.equal(maps.lookup(handle, 4, 8, le32Bytes(1)).status, XdpStatus.EBADF);
      assert.equal(maps.delete(handle, 4, le32Bytes(1)).status, XdpStatus.EBADF);
      assert.equal(maps.nextKey(handle, 4, null).status, XdpStatus.EBADF);
    }
  });

  test('MAP_FREE of a map the program references is EBUSY [dev-map-free-in-use]', () => {
    const maps = fresh();
    const h = maps.create(array(8, 4)).value ?? assert.fail('create');
    assert.equal(maps.free(h, new Set([h])).status, XdpStatus.EBUSY);
    assert.equal(maps.count, 1);
    assert.equal(maps.free(h, new Set()).status, XdpStatus.OK);
  });
});

describe('elements', () => {
  test('a new array reads as zeros and a new hash is empty [dev-map-initial]', () => {
    const maps = fresh();
    const a = maps.create(array(12, 5)).value ?? assert.fail('create');
    for (let i = 0; i < 5; i++)
      assert.deepEqual(maps.lookup(a, 4, 12, le32Bytes(i)).value, new Uint8Array(12));
    const h = maps.create(hash(4, 8, 5)).value ?? assert.fail('create');
    assert.equal(maps.nextKey(h, 4, null).status, XdpStatus.ENOENT);
    assert.equal(maps.lookup(h, 4, 8, le32Bytes(0)).status, XdpStatus.ENOENT);
  });

  test('sizes that differ from the map are EINVAL [dev-map-elem-sizes]', () => {
    const maps = fresh();
    const h = maps.create(hash(8, 8, 4)).value ?? assert.fail('create');
    assert.equal(maps.update(h, 4, 8, le32Bytes(1), new Uint8Array(8), 0).status, XdpStatus.EINVAL);
    assert.equal(maps.update(h, 8, 4, new Uint8Array(8), new Uint8Array(4), 0).status, XdpStatus.EINVAL);
    assert.equal(maps.lookup(h, 8, 16, new Uint8Array(8)).status, XdpStatus.EINVAL);
    assert.equal(maps.delete(h, 4, le32Bytes(1)).status, XdpStatus.EINVAL);
    assert.equal(maps.nextKey(h, 16, null).status, XdpStatus.EINVAL);
  });

  test('update flags: NOEXIST on an existing key or any array index is EEXIST, EXIST on a missing hash key ENOENT [dev-map-update-flags]', () => {
    const maps = fresh();
    const h = maps.create(hash(4, 8, 4)).value ?? assert.fail('create');
    const a = maps.create(array(8, 4)).value ?? assert.fail('create');
    const v = new Uint8Array(8).fill(7);
    assert.equal(maps.update(h, 4, 8, le32Bytes(1), v, 2).status, XdpStatus.ENOENT);
    assert.equal(maps.update(h, 4, 8, le32Bytes(1), v, 1).status, XdpStatus.OK);
    assert.equal(maps.update(h, 4, 8, le32Bytes(1), v, 1).status, XdpStatus.EEXIST);
    assert.equal(maps.update(h, 4, 8, le32Bytes(1), v, 2).status, XdpStatus.OK);
    assert.equal(maps.update(a, 4, 8, le32Bytes(0), v, 1).status, XdpStatus.EEXIST);
    assert.equal(maps.update(a, 4, 8, le32Bytes(0), v, 2).status, XdpStatus.OK);
  });

  test('delete: EINVAL on an array, ENOENT for a key the hash lacks [dev-map-delete]', () => {
    const maps = fresh();
    const h = maps.create(hash(4, 8, 4)).value ?? assert.fail('create');
    const a = maps.create(array(8, 4)).value ?? assert.fail('create');
    assert.equal(maps.delete(a, 4, le32Bytes(0)).status, XdpStatus.EINVAL);
    assert.equal(maps.delete(h, 4, le32Bytes(3)).status, XdpStatus.ENOENT);
    maps.update(h, 4, 8, le32Bytes(3), new Uint8Array(8), 0);
    assert.equal(maps.delete(h, 4, le32Bytes(3)).status, XdpStatus.OK);
    assert.equal(maps.lookup(h, 4, 8, le32Bytes(3)).status, XdpStatus.ENOENT);
  });

  test('a lookup result is a copy: later updates do not change it', () => {
    const maps = fresh();
    const a = maps.create(array(8, 2)).value ?? assert.fail('create');
    maps.update(a, 4, 8, le32Bytes(1), new Uint8Array(8).fill(1), 0);
    const before = maps.lookup(a, 4, 8, le32Bytes(1)).value ?? assert.fail('lookup');
    maps.update(a, 4, 8, le32Bytes(1), new Uint8Array(8).fill(2), 0);
    assert.deepEqual(before, new Uint8Array(8).fill(1));
  });

  test('reset removes every map and frees all memory (the map part of a device reset)', () => {
    const maps = fresh();
    const h = maps.create(hash(4, 8, 4)).value ?? assert.fail('create');
    maps.reset();
    assert.equal(maps.count, 0);
    assert.equal(maps.memory, 0n);
    assert.equal(maps.lookup(h, 4, 8, le32Bytes(0)).status, XdpStatus.EBADF);
  });
});

describe('refused commands change nothing', () => {
  const op = fc.oneof(
    fc.record({
      k: fc.constant('create' as const),
      def: fc.record({
        type: fc.constantFrom(1, 2, 3),
        keySize: fc.constantFrom(0, 2, 4, 8, 20),
        valueSize: fc.constantFrom(0, 4, 8, 40),
        maxEntries: fc.constantFrom(0, 1, 4, 70),
      }),
    }),
    fc.record({
      k: fc.constant('free' as const),
      handle: fc.integer({ min: 0, max: 5 }),
      busy: fc.boolean(),
    }),
    fc.record({
      k: fc.constant('update' as const),
      handle: fc.integer({ min: 0, max: 5 }),
      key: fc.nat(6),
      fill: fc.nat(255),
      flags: fc.nat(3),
      keySize: fc.constantFrom(4, 8),
      valueSize: fc.constantFrom(4, 8),
    }),
    fc.record({ k: fc.constant('delete' as const), handle: fc.integer({ min: 0, max: 5 }), key: fc.nat(6) }),
  );

  /** Everything a command could change: handles, memory and every element. */
  function snapshot(maps: DeviceMaps): string {
    const out: string[] = [`count ${maps.count} memory ${maps.memory}`];
    for (let h = 0; h <= 6; h++) {
      const map = maps.get(h);
      if (map !== undefined)
        out.push(`${h}: ${JSON.stringify(map.entries().map(([k, v]) => [[...k], [...v]]))}`);
    }
    return out.join('\n');
  }

  test('after any refused command, the table is as it was', () => {
    let refused = 0;
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const maps = fresh();
        for (const o of ops) {
          const before = snapshot(maps);
          let status: number;
          if (o.k === 'create') status = maps.create(o.def).status;
          else if (o.k === 'free')
            status = maps.free(o.handle, o.busy ? new Set([o.handle]) : new Set()).status;
          else if (o.k === 'update') {
            const key = o.keySize === 4 ? le32Bytes(o.key) : Uint8Array.of(o.key, 0, 0, 0, 0, 0, 0, 0);
            status = maps.update(
              o.handle,
              o.keySize,
              o.valueSize,
              key,
              new Uint8Array(o.valueSize).fill(o.fill),
              o.flags,
            ).status;
          } else status = maps.delete(o.handle, 4, le32Bytes(o.key)).status;
          if (status !== XdpStatus.OK) {
            refused++;
            assert.equal(
              snapshot(maps),
              before,
              `${JSON.stringify(o)} refused with ${status} changed the table`,
            );
          } else accepted++;
        }
      }),
    );
    assert.ok(refused > 0 && accepted > 0, `${refused} refused, ${accepted} accepted: both kinds must occur`);
  });
});
