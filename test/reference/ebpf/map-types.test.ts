// The map types beyond ARRAY and HASH (X.7.4): per-CPU slots on the wire and in programs, LRU
// eviction, LPM longest-prefix match, key rules and order; the device's verify_mode; the slot a
// program runs in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BpfMapType,
  Errno,
  VerifyMode,
  XdpStatus,
  toHex,
  type VerifyModeValue,
} from '../../../src/codec/index.js';
import { createMap, type MapDefinition } from '../../../src/reference/ebpf/maps.js';
import { AddressSpace } from '../../../src/reference/ebpf/memory.js';
import { defaultCaps } from '../../../src/reference/device/device.js';
import { Topology } from '../../../src/reference/topology.js';
import { exchange, ipv4Frame, negotiated, offload, program } from '../../support/offload.js';

const le32 = (n: number) => Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
const lpmKey = (len: number, ...data: number[]) => Uint8Array.of(...le32(len), ...data);

test('a per-CPU map carries one value per slot, each padded to 8 bytes, on the syscall side [dev-map-percpu-wire] [dev-map-types-linux]', () => {
  const space = new AddressSpace();
  const map = createMap({ type: BpfMapType.PERCPU_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 }, space, 3);
  assert.equal(map.wireValueSize, 24);
  const value = Uint8Array.from({ length: 24 }, (_, i) => i + 1);
  assert.equal(map.update(le32(1), value, 0), 0);
  // The padding bytes of each slot are not kept: they read back as zero, as Linux's do.
  assert.equal(
    toHex(map.lookup(le32(1)) as Uint8Array),
    '0102030400000000090a0b0c0000000011121314' + '00000000',
  );
  // A program's update writes its slot only.
  assert.equal(map.updateFromProgram(le32(1), Uint8Array.of(9, 9, 9, 9), 0, 2), 0);
  assert.equal(
    toHex(map.lookup(le32(1)) as Uint8Array),
    '0102030400000000090a0b0c0000000009090909' + '00000000',
  );
  const hash = createMap({ type: BpfMapType.PERCPU_HASH, keySize: 4, valueSize: 8, maxEntries: 2 }, space, 2);
  // A new element a program creates holds zero in the other slots (Linux's pcpu_init_value).
  assert.equal(hash.updateFromProgram(le32(7), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), 0, 1), 0);
  assert.equal(toHex(hash.lookup(le32(7)) as Uint8Array), '00000000000000000102030405060708');
  assert.equal(hash.valueRegion(le32(7), 1)?.bytes[0], 1);
  assert.equal(hash.valueRegion(le32(7), 0)?.bytes[0], 0);
});

test('an LRU hash makes room for a new key by evicting the least recently used one [dev-map-lru-evict]', () => {
  const space = new AddressSpace();
  const lru = createMap({ type: BpfMapType.LRU_HASH, keySize: 4, valueSize: 4, maxEntries: 3 }, space);
  for (const k of [1, 2, 3]) assert.equal(lru.update(le32(k), le32(k * 10), 0), 0);
  lru.valueRegion(le32(1)); // a program's lookup of key 1: key 2 is now the least recently used
  assert.equal(lru.update(le32(4), le32(40), 0), 0);
  assert.equal(lru.elementCount, 3);
  assert.equal(lru.lookup(le32(2)), Errno.ENOENT);
  for (const k of [1, 3, 4]) assert.equal(toHex(lru.lookup(le32(k)) as Uint8Array), toHex(le32(k * 10)));
  // The flags keep their meaning; only the room never runs out.
  assert.equal(lru.update(le32(4), le32(0), 1), Errno.EEXIST);
  assert.equal(lru.update(le32(9), le32(0), 2), Errno.ENOENT);
  const hash = createMap({ type: BpfMapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1 }, space);
  assert.equal(hash.update(le32(1), le32(1), 0), 0);
  assert.equal(hash.update(le32(2), le32(2), 0), Errno.E2BIG);
});

test('an LPM trie finds the longest matching prefix and names elements by prefix [dev-map-lpm-key] [dev-map-types-linux]', () => {
  const space = new AddressSpace();
  const def: MapDefinition = { type: BpfMapType.LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 3 };
  const trie = createMap(def, space);
  assert.equal(trie.update(lpmKey(8, 10, 0, 0, 0), le32(8), 0), 0);
  assert.equal(trie.update(lpmKey(24, 10, 1, 2, 0xff), le32(24), 0), 0); // bits past the prefix are kept, not compared
  const find = (len: number, ...data: number[]) => {
    const v = trie.lookup(lpmKey(len, ...data));
    return typeof v === 'number' ? v : new DataView(v.buffer).getUint32(0, true);
  };
  assert.equal(find(32, 10, 1, 2, 3), 24);
  assert.equal(find(32, 10, 9, 9, 9), 8);
  assert.equal(find(16, 10, 1, 2, 3), 8); // a /24 cannot answer a /16 query
  assert.equal(find(32, 11, 0, 0, 0), Errno.ENOENT);
  assert.equal(trie.update(lpmKey(33, 10, 0, 0, 0), le32(0), 0), Errno.EINVAL);
  assert.equal(trie.delete(lpmKey(33, 10, 0, 0, 0)), Errno.EINVAL);
  assert.equal(trie.update(lpmKey(24, 10, 1, 2, 0), le32(1), 1), Errno.EEXIST);
  assert.equal(trie.delete(lpmKey(16, 10, 1, 0, 0)), Errno.ENOENT); // deletion is exact
  assert.equal(trie.update(lpmKey(0), le32(0), 0), 0);
  // Full: Linux 6.1 counts before it looks, so even a replacement is ENOSPC.
  assert.equal(trie.update(lpmKey(8, 10, 0, 0, 0), le32(9), 0), Errno.ENOSPC);
  assert.equal(find(32, 12, 0, 0, 0), 0);
});

test('an LPM trie iterates in post-order: longer prefixes first, the 0 branch before the 1 branch [dev-map-lpm-order]', () => {
  const trie = createMap(
    { type: BpfMapType.LPM_TRIE, keySize: 5, valueSize: 1, maxEntries: 8 },
    new AddressSpace(),
  );
  const keys = [
    lpmKey(0, 0),
    lpmKey(1, 0x80),
    lpmKey(2, 0x40),
    lpmKey(1, 0x00),
    lpmKey(8, 0x81),
    lpmKey(3, 0x60),
  ];
  for (const k of keys) assert.equal(trie.update(k, Uint8Array.of(1), 0), 0);
  const order: string[] = [];
  for (let k: Uint8Array | number = trie.nextKey(null); typeof k !== 'number'; k = trie.nextKey(k))
    order.push(`${k[0] as number}/${(k[4] as number).toString(2).padStart(8, '0')}`);
  assert.deepEqual(order, [
    '3/01100000',
    '2/01000000',
    '1/00000000',
    '8/10000001',
    '1/10000000',
    '0/00000000',
  ]);
  // A key that names no element starts from the first.
  assert.equal(toHex(trie.nextKey(lpmKey(5, 0xff)) as Uint8Array), toHex(lpmKey(3, 0x60)));
});

test('the device carries per-CPU values at their wire size and refuses the plain size [dev-map-percpu-wire] [dev-caps-percpu-slots]', () => {
  const t = negotiated({ queues: 2 });
  assert.equal(t.driver.caps?.percpu_slots, 2);
  const created = t.driver.mapCreate(
    { type: BpfMapType.PERCPU_HASH, keySize: 4, valueSize: 4, maxEntries: 4 },
    true,
  );
  assert.ok('fd' in created);
  assert.equal(
    t.driver.mapUpdate(
      created.fd,
      le32(1),
      Uint8Array.from({ length: 16 }, (_, i) => i),
    ),
    0,
  );
  assert.equal(
    toHex(t.driver.mapLookup(created.fd, le32(1)) as Uint8Array),
    '00010203000000000809' + '0a0b00000000',
  );
  const handle = 1;
  const answer = exchange(t, {
    command: 'MAP_LOOKUP',
    data: { map_handle: handle, key_size: 4, value_size: 4, key: le32(1) },
  }).answer;
  assert.equal(answer.status, XdpStatus.EINVAL);
  assert.throws(
    () => new Topology({ queues: 2, caps: { ...defaultCaps(3520, 1) } }),
    /percpu_slots 1 is below the 2 queues/,
  );
});

test('a program counts per queue in its slot, and get_smp_processor_id names the slot, not a host CPU [dev-dp-slot]', () => {
  const t = negotiated({ queues: 2 });
  const [fd] = offload(
    t,
    `call 8
     stxw [%r10-4], %r0
     lddw %r1, map[1]
     mov %r2, %r10
     add %r2, -4
     call 1
     jeq %r0, 0, +2
     mov %r1, 1
     lock add [%r0+0], %r1
     mov %r0, 2
     exit`,
    [{ type: BpfMapType.PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 2 }],
  );
  t.fromHost(ipv4Frame(), 0);
  t.fromHost(ipv4Frame(), 1);
  t.fromHost(ipv4Frame(), 1);
  // Element 0 counted in slot 0 (queue 0), element 1 in slot 1 (queue 1), twice.
  assert.equal(
    toHex(t.driver.mapLookup(fd as number, le32(0)) as Uint8Array),
    '0100000000000000' + '0000000000000000',
  );
  assert.equal(
    toHex(t.driver.mapLookup(fd as number, le32(1)) as Uint8Array),
    '0000000000000000' + '0200000000000000',
  );
});

test('the device verifies in the mode the operator set, and every PROG_LOAD result says which [dev-prog-verify-mode]', () => {
  // data_end - data: pointer subtraction, which Linux allows only a privileged loader.
  const text = `ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]
    sub %r3, %r2
    mov %r0, 2
    exit`;
  const load = (mode: VerifyModeValue) => {
    const t = negotiated({ caps: { ...defaultCaps(3520), verify_mode: mode } });
    const answer = exchange(t, {
      command: 'PROG_LOAD',
      data: { insn_cnt: 5, log_size: 256, log_level: 1, prog_flags: 0, insns: program(text) },
    }).answer;
    return answer;
  };
  const strict = load(VerifyMode.CAP_BPF);
  assert.equal(strict.status, XdpStatus.EACCES);
  assert.equal(strict.result?.verify_mode, VerifyMode.CAP_BPF);
  assert.match(strict.result?.log ?? '', /pointer arithmetic|prohibited/);
  const trusted = load(VerifyMode.TRUSTED);
  assert.equal(trusted.status, XdpStatus.OK);
  assert.equal(trusted.result?.verify_mode, VerifyMode.TRUSTED);
});
