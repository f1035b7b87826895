// Map commands on the wire: control buffers through the element, the front end and the map table,
// answers decoded with the driver's strict decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BpfMapType,
  XdpStatus,
  decodeResult,
  encodeRequest,
  writableSize,
  type ControlRequest,
  type ResultOf,
  resultOf,
} from '../../../src/codec/index.js';
import { serveElement } from '../../../src/reference/device/frontend.js';
import { executeMapCommand, isMapCommand } from '../../../src/reference/device/map-commands.js';
import { DeviceMaps } from '../../../src/reference/device/maps.js';
import { AddressSpace } from '../../../src/reference/ebpf/memory.js';
import { ControlElement } from '../../../src/reference/virtqueue/element.js';
import { le32Bytes } from '../../support/bytes.js';

const maps = new DeviceMaps(
  {
    maxMaps: 4,
    maxEntries: 16,
    maxKeySize: 8,
    maxValueSize: 16,
    maxMapMemory: 1n << 20n,
    mapTypes: (1n << BigInt(BpfMapType.HASH)) | (1n << BigInt(BpfMapType.ARRAY)),
    maxBatch: 8,
    percpuSlots: 1,
    maxInsns: 64,
  },
  new AddressSpace(),
);
const referenced = new Set<number>();

/** Sends one request as a driver would and returns the answer as the driver decodes it. */
function send<R extends ControlRequest>(request: R): ResultOf<R['command']> {
  const element = ControlElement.forRequest(encodeRequest(request), writableSize(request), [1], [1, 5]);
  const served = serveElement(element, (r) =>
    isMapCommand(r) ? executeMapCommand(maps, r, referenced) : assert.fail(`unexpected ${r.command}`),
  );
  return decodeResult(request, element.readAnswer(served.used));
}

test('a hash map session over the wire: create, update, lookup, iterate, delete, free', () => {
  const created = send({
    command: 'MAP_CREATE',
    data: { map_type: BpfMapType.HASH, key_size: 4, value_size: 8, max_entries: 4, map_flags: 0 },
  });
  assert.equal(created.status, XdpStatus.OK);
  const handle = resultOf(created).map_handle;
  assert.ok(handle > 0);

  for (const k of [5, 9]) {
    const value = new Uint8Array(8).fill(k);
    const r = send({
      command: 'MAP_UPDATE',
      data: { map_handle: handle, key_size: 4, value_size: 8, flags: 0, key: le32Bytes(k), value },
    });
    assert.equal(r.status, XdpStatus.OK);
  }
  const looked = send({
    command: 'MAP_LOOKUP',
    data: { map_handle: handle, key_size: 4, value_size: 8, key: le32Bytes(9) },
  });
  assert.deepEqual(resultOf(looked).value, new Uint8Array(8).fill(9));

  const keys: number[] = [];
  let next = send({
    command: 'MAP_GET_NEXT_KEY',
    data: { map_handle: handle, key_size: 4, flags: 1, key: new Uint8Array(0) },
  });
  while (next.status === XdpStatus.OK) {
    const key = resultOf(next).next_key;
    keys.push(key[0] as number);
    next = send({
      command: 'MAP_GET_NEXT_KEY',
      data: { map_handle: handle, key_size: 4, flags: 0, key },
    });
  }
  assert.equal(next.status, XdpStatus.ENOENT);
  assert.deepEqual(keys.sort(), [5, 9]);

  const del = send({
    command: 'MAP_DELETE',
    data: { map_handle: handle, key_size: 4, key: le32Bytes(5) },
  });
  assert.equal(del.status, XdpStatus.OK);
  const gone = send({
    command: 'MAP_LOOKUP',
    data: { map_handle: handle, key_size: 4, value_size: 8, key: le32Bytes(5) },
  });
  assert.equal(gone.status, XdpStatus.ENOENT);
  assert.equal(gone.result, null);

  referenced.add(handle);
  assert.equal(send({ command: 'MAP_FREE', data: { map_handle: handle } }).status, XdpStatus.EBUSY);
  referenced.delete(handle);
  assert.equal(send({ command: 'MAP_FREE', data: { map_handle: handle } }).status, XdpStatus.OK);
  assert.equal(send({ command: 'MAP_FREE', data: { map_handle: handle } }).status, XdpStatus.EBADF);
  assert.equal(maps.count, 0);
});
