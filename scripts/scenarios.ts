// Writes the scenario vectors (vectors/scenarios/): the RFC's two experiments, every command's error
// paths, and the lifecycle. Each step runs through the reference as it is written and must produce the
// status or verdict stated here. `--check` compares with the committed files instead of writing.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import {
  BpfMapType,
  LogLevel,
  OffloadHelper,
  ProgFeature,
  type BpfInsn,
  type ControlRequest,
} from '../src/codec/index.js';
import { assemble } from '../src/reference/ebpf/asm.js';
import { XDP1, XDP2 } from '../src/reference/ebpf/samples.js';
import {
  SCENARIO_FORMAT,
  type MapExpect,
  type Scenario,
  type ScenarioFile,
} from '../src/vectors/scenario-vectors.js';
import { ScenarioWriter } from '../src/vectors/scenario-writer.js';

// ---- building blocks -------------------------------------------------------------------------

const le32 = (n: number) => Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
const GUEST_MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const REMOTE_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x0a];
const HOST_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];

/** An Ethernet frame: destination, source, EtherType, payload. */
function ether(dst: number[], src: number[], type: number, payload: number[]): Uint8Array {
  return Uint8Array.from([...dst, ...src, type >> 8, type & 0xff, ...payload]);
}
/** An IPv4 header (no options) with a protocol, then `bytes` of payload. */
const ipv4 = (protocol: number, bytes: number) => [
  0x45,
  0,
  0,
  20 + bytes,
  0,
  1,
  0x40,
  0,
  64,
  protocol,
  0,
  0,
  10,
  0,
  0,
  1,
  10,
  0,
  0,
  2,
  ...Array.from({ length: bytes }, (_, i) => i & 0xff),
];
/** An IPv6 header with a next header, then `bytes` of payload. */
const ipv6 = (next: number, bytes: number) => [
  0x60,
  0,
  0,
  0,
  0,
  bytes,
  next,
  64,
  ...Array.from({ length: 16 }, (_, i) => (i === 15 ? 1 : i === 0 ? 0xfd : 0)),
  ...Array.from({ length: 16 }, (_, i) => (i === 15 ? 2 : i === 0 ? 0xfd : 0)),
  ...Array.from({ length: bytes }, (_, i) => i & 0xff),
];
const udp4 = (src = HOST_MAC) => ether(GUEST_MAC, src, 0x0800, ipv4(17, 26));
const tcp4 = (src = HOST_MAC) => ether(GUEST_MAC, src, 0x0800, ipv4(6, 40));
const icmp4 = (src = HOST_MAC) => ether(GUEST_MAC, src, 0x0800, ipv4(1, 16));
const udp6 = (src = HOST_MAC) => ether(GUEST_MAC, src, 0x86dd, ipv6(17, 16));
const vlanUdp4 = (src = HOST_MAC) => ether(GUEST_MAC, src, 0x8100, [0x00, 0x05, 0x08, 0x00, ...ipv4(17, 26)]);

const createArray = (valueSize = 8, maxEntries = 256): ControlRequest => ({
  command: 'MAP_CREATE',
  data: {
    map_type: BpfMapType.ARRAY,
    key_size: 4,
    value_size: valueSize,
    max_entries: maxEntries,
    map_flags: 0,
  },
});
const createHash = (keySize = 4, valueSize = 8, maxEntries = 4): ControlRequest => ({
  command: 'MAP_CREATE',
  data: {
    map_type: BpfMapType.HASH,
    key_size: keySize,
    value_size: valueSize,
    max_entries: maxEntries,
    map_flags: 0,
  },
});
const load = (insns: BpfInsn[], logSize = 128): ControlRequest => ({
  command: 'PROG_LOAD',
  data: {
    insn_cnt: insns.length,
    log_size: logSize,
    log_level: logSize === 0 ? LogLevel.NONE : LogLevel.BASIC,
    prog_flags: 1,
    insns,
  },
});
const arrayLoad = (handle: number, index: number, insns: BpfInsn[], logSize = 128): ControlRequest => ({
  command: 'PROG_ARRAY_LOAD',
  data: {
    map_handle: handle,
    index,
    insn_cnt: insns.length,
    log_size: logSize,
    log_level: logSize === 0 ? LogLevel.NONE : LogLevel.BASIC,
    prog_flags: 1,
    insns,
  },
});
const createProgArray = (maxEntries = 4, valueSize = 4): ControlRequest => ({
  command: 'MAP_CREATE',
  data: {
    map_type: BpfMapType.PROG_ARRAY,
    key_size: 4,
    value_size: valueSize,
    max_entries: maxEntries,
    map_flags: 0,
  },
});
const update = (handle: number, key: Uint8Array, value: Uint8Array, flags = 0): ControlRequest => ({
  command: 'MAP_UPDATE',
  data: { map_handle: handle, key_size: key.length, value_size: value.length, flags, key, value },
});
const lookup = (handle: number, key: Uint8Array, valueSize = 8): ControlRequest => ({
  command: 'MAP_LOOKUP',
  data: { map_handle: handle, key_size: key.length, value_size: valueSize, key },
});
const del = (handle: number, key: Uint8Array): ControlRequest => ({
  command: 'MAP_DELETE',
  data: { map_handle: handle, key_size: key.length, key },
});
const nextKey = (handle: number, key: Uint8Array | null, keySize = 4): ControlRequest => ({
  command: 'MAP_GET_NEXT_KEY',
  data: { map_handle: handle, key_size: keySize, flags: key === null ? 1 : 0, key: key ?? new Uint8Array(0) },
});
const updateBatch = (
  handle: number,
  elements: readonly [Uint8Array, Uint8Array][],
  flags = 0,
  keySize = 4,
  valueSize = 8,
): ControlRequest => ({
  command: 'MAP_UPDATE_BATCH',
  data: {
    map_handle: handle,
    key_size: keySize,
    value_size: valueSize,
    flags,
    count: elements.length,
    elements: Uint8Array.from(elements.flatMap(([k, v]) => [...k, ...v])),
  },
});
const lookupBatch = (
  handle: number,
  key: Uint8Array | null,
  maxCount: number,
  valueSize = 8,
): ControlRequest => ({
  command: 'MAP_LOOKUP_BATCH',
  data: {
    map_handle: handle,
    key_size: 4,
    value_size: valueSize,
    flags: key === null ? 1 : 0,
    max_count: maxCount,
    key: key ?? new Uint8Array(0),
  },
});
const free = (handle: number): ControlRequest => ({ command: 'MAP_FREE', data: { map_handle: handle } });
const CAPS: ControlRequest = { command: 'CAPS_GET', data: null };
const QUERY: ControlRequest = { command: 'QUERY', data: null };
const UNLOAD: ControlRequest = { command: 'PROG_UNLOAD', data: null };
const value8 = (n: number) => Uint8Array.of(n, 0, 0, 0, 0, 0, 0, 0);

/** A map check: the read is a list whose nonzero values are exactly `want` (key index → count). */
const counts =
  (want: Record<number, number>) =>
  (read: MapExpect): string | undefined => {
    if (!('entries' in read)) return `read failed with ${read.status}`;
    const got: Record<number, number> = {};
    for (const [k, v] of read.entries) {
      const n = Number(Buffer.from(v, 'hex').readBigUInt64LE(0));
      if (n !== 0) got[Buffer.from(k, 'hex').readUInt32LE(0)] = n;
    }
    return JSON.stringify(got) === JSON.stringify(want)
      ? undefined
      : `counts ${JSON.stringify(got)}, stated ${JSON.stringify(want)}`;
  };

const UNCHECKED = assemble(`ldxw %r2, [%r1+0]\nldxb %r0, [%r2+20]\nmov %r0, 2\nexit\n`);
const PASS = assemble(`mov %r0, 2\nexit\n`);
const DROP = assemble(`mov %r0, 1\nexit\n`);
const TX = assemble(`mov %r0, 3\nexit\n`);
const USES_MAP_1 = assemble(`lddw %r1, map[1]\nmov %r0, 2\nexit\n`);

// ---- the RFC's experiments -------------------------------------------------------------------

function xdp1Redirected(): Scenario {
  const w = new ScenarioWriter(
    'rfc-xdp1-redirected-to-tap',
    "The RFC's first experiment: traffic generated on the host is redirected into the tap; xdp1, offloaded, counts packets per IP protocol in an array and drops them all. The guest reads the counters over the control queue.",
  );
  w.control('read the capabilities first', CAPS, 'OK', { spec: ['drv-caps-first', 'dev-caps-static'] });
  w.control('create the per-protocol counter array (handle 1)', createArray(), 'OK', {
    spec: ['dev-map-handle', 'dev-map-initial'],
  });
  w.control('offload xdp1 with its map reference rewritten to handle 1', load(assemble(XDP1)), 'OK', {
    spec: ['drv-prog-maps-first', 'dev-prog-verify'],
  });
  for (const [note, frame] of [
    ['UDP over IPv4', udp4()],
    ['UDP over IPv4', udp4()],
    ['TCP over IPv4', tcp4()],
    ['ICMP', icmp4()],
    ['UDP over IPv6', udp6()],
    ['UDP over IPv4 in an 802.1Q tag', vlanUdp4()],
  ] as const)
    w.packet(`${note}: dropped before it reaches the guest`, frame, 'drop', {
      spec: ['dev-dp-drop', 'tun-hook'],
    });
  w.map('the counters, read over the wire', 1, 4, 8, counts({ 1: 1, 6: 1, 17: 4 }), ['dev-map-next-key']);
  w.control('QUERY: six runs, six drops', QUERY, 'OK', { spec: ['dev-query-counters'] });
  w.control('unload', UNLOAD, 'OK');
  w.packet('with no program the frame reaches the guest', udp4(), 'bypass', { spec: ['dev-dp-hook'] });
  w.control('the map stays after unload, and can be freed', free(1), 'OK');
  w.control('QUERY: no program, no maps, counters kept', QUERY, 'OK');
  return w.done();
}

function xdp2Bridged(): Scenario {
  const w = new ScenarioWriter(
    'rfc-xdp2-through-bridge',
    "The RFC's second experiment: a remote machine sends through a host bridge to the guest; xdp2, offloaded, counts per protocol, swaps the MAC addresses and transmits, so the reply leaves the host's uplink toward the sender without entering the guest.",
    { bridge: true },
  );
  w.control('read the capabilities first', CAPS, 'OK');
  w.control('create the per-protocol counter array', createArray(), 'OK');
  w.control('offload xdp2', load(assemble(XDP2)), 'OK');
  const tx = w.packet(
    'UDP from the remote machine comes back with the addresses swapped',
    udp4(REMOTE_MAC),
    'tx',
    {
      spec: ['dev-dp-tx', 'tun-hook'],
    },
  );
  if (
    tx.host.length !== 1 ||
    !(tx.host[0] ?? '').startsWith(Buffer.from([...REMOTE_MAC, ...GUEST_MAC]).toString('hex'))
  )
    throw new Error('xdp2 reply is not addressed back to the sender');
  w.packet('TCP from the remote machine', tcp4(REMOTE_MAC), 'tx');
  w.packet('UDP over IPv6 from the remote machine', udp6(REMOTE_MAC), 'tx');
  w.packet(
    'a frame for the remote machine itself is filtered by the bridge and never reaches the tap',
    ether(REMOTE_MAC, HOST_MAC, 0x0800, ipv4(17, 26)),
    'bypass',
  );
  w.map('the counters, read over the wire', 1, 4, 8, counts({ 6: 1, 17: 2 }));
  w.control('QUERY: three runs, three transmissions', QUERY, 'OK', { spec: ['dev-query-counters'] });
  return w.done();
}

// ---- every command's error paths -------------------------------------------------------------

function framing(): Scenario {
  const w = new ScenarioWriter('framing', 'Elements framed wrongly, and readable parts that are malformed.');
  w.control('CAPS_GET with only the status header writable: EINVAL, nothing executed', CAPS, 'EINVAL', {
    writable: 9,
    spec: ['dev-wire-writable-short'],
  });
  w.control('fewer than 9 writable bytes: VIRTIO_NET_ERR in ack alone', CAPS, null, {
    writable: 4,
    spec: ['dev-wire-writable-short'],
  });
  w.control('no writable byte at all: no room for ack; the device needs a reset', CAPS, null, {
    writable: 0,
    spec: ['dev-wire-broken'],
    needsReset: true,
  });
  w.control(
    'while it needs a reset, the device uses no element: a good CAPS_GET is not answered',
    CAPS,
    null,
    {
      spec: ['dev-wire-broken'],
      needsReset: true,
    },
  );
  w.reset('the driver resets the device, which answers again', ['dev-wire-broken']);
  w.control('a readable buffer after a writable one: the device needs a reset', null, null, {
    segments: [{ readable: '0a' }, { writable: 4 }, { readable: '00' }, { writable: 100 }],
    spec: ['dev-wire-broken'],
    needsReset: true,
  });
  w.reset('reset again', ['dev-wire-broken']);
  w.control(
    'a single device-readable byte, no room for the header: the device needs a reset',
    Uint8Array.of(10),
    null,
    {
      writable: 9,
      spec: ['dev-wire-broken'],
      needsReset: true,
    },
  );
  w.reset('reset once more', ['dev-wire-broken']);
  w.control(
    "another class (6, the RFC's): VIRTIO_NET_ERR in ack alone, no status header",
    Uint8Array.of(6, 0),
    null,
    {
      spec: ['dev-wire-other-class'],
    },
  );
  w.control('an undefined command of the class: EOPNOTSUPP', Uint8Array.of(10, 13), 'EOPNOTSUPP', {
    spec: ['dev-wire-malformed'],
  });
  w.control('bytes after a command without data: EINVAL', Uint8Array.of(10, 0, 0), 'EINVAL', {
    spec: ['dev-wire-malformed'],
  });
  w.control('a truncated MAP_CREATE: EINVAL', Uint8Array.of(10, 1, 2, 0, 0, 0, 4), 'EINVAL', {
    spec: ['dev-wire-malformed'],
  });
  w.control('the same command framed over four buffers is answered normally', null, 'OK', {
    segments: [{ readable: '0a' }, { readable: '00' }, { writable: 3 }, { writable: 98 }, { writable: 4 }],
    spec: ['drv-wire-readable-only'],
  });
  return w.done();
}

function mapCreate(): Scenario {
  const w = new ScenarioWriter('map-create-errors', "MAP_CREATE refusals, in the spec's order of checks.", {
    caps: { max_maps: 2, max_map_memory: '4096', max_entries: 1024 },
  });
  const raw = (type: number, reservedByte = 0) =>
    Uint8Array.of(
      10,
      1,
      type,
      0,
      0,
      0,
      4,
      0,
      0,
      0,
      8,
      0,
      0,
      0,
      4,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      reservedByte,
      0,
      0,
      0,
    );
  w.control('an undefined map type (4): EOPNOTSUPP', raw(4), 'EOPNOTSUPP', {
    spec: ['dev-wire-malformed', 'dev-map-create-type'],
  });
  w.control('a reserved byte set: EINVAL', raw(2, 1), 'EINVAL', { spec: ['dev-wire-malformed'] });
  w.control(
    'an array with 8-byte keys: EINVAL',
    { ...createArray(), data: { ...(createArray().data as object), key_size: 8 } } as ControlRequest,
    'EINVAL',
    {
      spec: ['dev-map-create-array-key'],
    },
  );
  w.control('max_entries above the limit: E2BIG', createArray(8, 1025), 'E2BIG', {
    spec: ['dev-map-create-limit'],
  });
  w.control('a value above max_value_size: E2BIG', createHash(4, 8192, 1), 'E2BIG', {
    spec: ['dev-map-create-limit'],
  });
  w.control('more memory than max_map_memory: ENOMEM', createArray(8, 1000), 'ENOMEM', {
    spec: ['dev-map-create-memory'],
  });
  w.control('within every limit: handle 1', createArray(8, 256), 'OK', { spec: ['dev-caps-enforced'] });
  w.control('a hash: handle 2', createHash(), 'OK');
  w.control('a third map with max_maps 2: ENOSPC', createArray(8, 1), 'ENOSPC', {
    spec: ['dev-map-create-count'],
  });
  w.control('QUERY: two maps, 2048 + 4 × 32 bytes', QUERY, 'OK');
  return w.done();
}

function mapElements(): Scenario {
  const w = new ScenarioWriter(
    'map-element-errors',
    'MAP_FREE, MAP_UPDATE, MAP_LOOKUP, MAP_DELETE and MAP_GET_NEXT_KEY, every refusal.',
  );
  w.control('array of 4 (handle 1)', createArray(8, 4), 'OK');
  w.control('hash of 2 (handle 2)', createHash(4, 8, 2), 'OK');
  w.control('update array[3]', update(1, le32(3), value8(7)), 'OK');
  w.control('update array[4]: E2BIG', update(1, le32(4), value8(7)), 'E2BIG', {
    spec: ['dev-map-update-space'],
  });
  w.control('NOEXIST on an array: EEXIST', update(1, le32(0), value8(1), 1), 'EEXIST', {
    spec: ['dev-map-update-flags'],
  });
  w.control('EXIST on a missing hash key: ENOENT', update(2, le32(9), value8(1), 2), 'ENOENT', {
    spec: ['dev-map-update-flags'],
  });
  w.control('insert hash key 9', update(2, le32(9), value8(1), 1), 'OK');
  w.control('NOEXIST on hash key 9: EEXIST', update(2, le32(9), value8(2), 1), 'EEXIST', {
    spec: ['dev-map-update-flags'],
  });
  w.control('insert hash key 10', update(2, le32(10), value8(3)), 'OK');
  w.control('a third key into a full hash: E2BIG', update(2, le32(11), value8(4)), 'E2BIG', {
    spec: ['dev-map-update-space'],
  });
  w.control('value_size 16 for an 8-byte map: EINVAL', update(1, le32(0), new Uint8Array(16)), 'EINVAL', {
    spec: ['dev-map-elem-sizes'],
  });
  w.control('an unknown handle: EBADF', update(7, le32(0), value8(1)), 'EBADF', {
    spec: ['dev-map-handle-scope'],
  });
  w.control('lookup array[3]', lookup(1, le32(3)), 'OK');
  w.control('lookup array[4]: ENOENT', lookup(1, le32(4)), 'ENOENT', { spec: ['dev-map-lookup-missing'] });
  w.control('lookup of a missing hash key: ENOENT', lookup(2, le32(5)), 'ENOENT', {
    spec: ['dev-map-lookup-missing'],
  });
  w.control('lookup with the wrong key size: EINVAL', lookup(2, Uint8Array.of(9, 0)), 'EINVAL', {
    spec: ['dev-map-elem-sizes'],
  });
  w.control('lookup on an unknown handle: EBADF', lookup(9, le32(0)), 'EBADF');
  w.control('delete on an array: EINVAL', del(1, le32(0)), 'EINVAL', { spec: ['dev-map-delete'] });
  w.control('delete hash key 10', del(2, le32(10)), 'OK');
  w.control('delete it again: ENOENT', del(2, le32(10)), 'ENOENT', { spec: ['dev-map-delete'] });
  w.control('first key of the array', nextKey(1, null), 'OK', { spec: ['dev-map-next-key'] });
  w.control('after index 3: ENOENT', nextKey(1, le32(3)), 'ENOENT', { spec: ['dev-map-next-key'] });
  w.control('after an out-of-range index: the first', nextKey(1, le32(40)), 'OK', {
    spec: ['dev-map-next-key'],
  });
  w.control('after the only hash key: ENOENT', nextKey(2, le32(9)), 'ENOENT');
  w.control('after a key the hash lacks: the first', nextKey(2, le32(77)), 'OK');
  w.control('next key on an unknown handle: EBADF', nextKey(5, null), 'EBADF');
  w.control('next key with the wrong key size: EINVAL', nextKey(2, null, 8), 'EINVAL');
  w.control('delete the last hash key', del(2, le32(9)), 'OK');
  w.control('first key of an empty hash: ENOENT', nextKey(2, null), 'ENOENT', { spec: ['dev-map-next-key'] });
  w.control('offload a program using the array', load(USES_MAP_1), 'OK');
  w.control('free the array in use: EBUSY', free(1), 'EBUSY', { spec: ['dev-map-free-in-use'] });
  w.control('free the hash', free(2), 'OK');
  w.control('free it again: EBADF', free(2), 'EBADF', { spec: ['dev-map-handle-scope'] });
  w.control('unload', UNLOAD, 'OK');
  w.control('now the array can be freed', free(1), 'OK');
  w.control('a new map gets a handle never assigned before (3)', createArray(8, 1), 'OK', {
    spec: ['dev-map-handle'],
  });
  return w.done();
}

function progLoad(): Scenario {
  const w = new ScenarioWriter(
    'prog-load-errors',
    'PROG_LOAD refusals (limits, references, helpers, features, the verifier), the attached program kept on failure and replaced on success, PROG_UNLOAD.',
    {
      caps: {
        max_insns: 64,
        max_log_size: 64,
        helpers: [1, 2, 3, 44, 65],
        prog_features: ProgFeature.BPF_TO_BPF_CALLS,
      },
    },
  );
  w.control('unload with nothing attached: ENOENT', UNLOAD, 'ENOENT', { spec: ['dev-prog-unload-none'] });
  w.control('array (handle 1)', createArray(8, 1), 'OK');
  w.control('a program that drops', load(DROP), 'OK');
  w.packet('dropped', udp4(), 'drop');
  w.control(
    '65 slots with max_insns 64: E2BIG',
    load(assemble(`${'mov %r0, 2\n'.repeat(64)}exit\n`)),
    'E2BIG',
    {
      spec: ['dev-prog-limit', 'dev-caps-enforced'],
    },
  );
  w.control('reading the packet without a bounds check: EACCES, with a log', load(UNCHECKED, 200), 'EACCES', {
    spec: ['dev-prog-verify', 'dev-prog-result-on-reject', 'dev-prog-log'],
  });
  w.control(
    'a helper the device does not advertise (ktime_get_ns): EINVAL',
    load(assemble(`call 5\nmov %r0, 2\nexit\n`)),
    'EINVAL',
    {
      spec: ['dev-prog-helpers'],
    },
  );
  w.control('an unknown map handle: EBADF', load(assemble(`lddw %r1, map[9]\nmov %r0, 2\nexit\n`)), 'EBADF', {
    spec: ['dev-prog-map-ref'],
  });
  w.control(
    'a map value address without the feature: EINVAL',
    load(assemble(`lddw %r1, map_value[1]+0\nmov %r0, 2\nexit\n`)),
    'EINVAL',
    {
      spec: ['dev-prog-map-ref'],
    },
  );
  const odd = assemble(`lddw %r1, map[1]\nmov %r0, 2\nexit\n`);
  (odd[0] as { src_reg: number }).src_reg = 4;
  w.control('ld_imm64 with src_reg 4: EINVAL', load(odd), 'EINVAL', { spec: ['dev-prog-map-ref'] });
  const lone = Uint8Array.of(
    10,
    7,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    0x18,
    0x01,
    0,
    0,
    1,
    0,
    0,
    0,
  );
  w.control('ld_imm64 without its second slot: EINVAL', lone, 'EINVAL', { spec: ['dev-prog-wire'] });
  w.control(
    'log_size with log level NONE: EINVAL',
    Uint8Array.of(
      10,
      7,
      2,
      0,
      0,
      0,
      8,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      0xb7,
      0,
      0,
      0,
      2,
      0,
      0,
      0,
      0x95,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
    ),
    'EINVAL',
    {
      spec: ['drv-prog-log-level'],
    },
  );
  w.packet('every refusal kept the dropping program', udp4(), 'drop', { spec: ['dev-prog-keep-on-failure'] });
  w.control('a program that passes replaces it', load(PASS, 0), 'OK', { spec: ['dev-prog-replace'] });
  w.packet('passed to the guest', udp4(), 'pass', { spec: ['dev-dp-pass'] });
  w.control('QUERY: the attached program and two runs', QUERY, 'OK', { spec: ['dev-query-counters'] });
  w.control('unload', UNLOAD, 'OK');
  w.control('unload again: ENOENT', UNLOAD, 'ENOENT', { spec: ['dev-prog-unload-none'] });
  return w.done();
}

function tailCalls(): Scenario {
  const w = new ScenarioWriter(
    'tail-calls',
    'A program array: PROG_ARRAY_LOAD into its slots (and its refusals), a dispatcher that tail-calls into slot 1 and falls through when the slot is emptied, the element commands a program array refuses, MAP_FREE while a program uses it.',
  );
  const spec = ['dev-prog-array-load'];
  const slots = ['dev-map-prog-array'];
  w.control('a program array of 4 slots (handle 1)', createProgArray(4), 'OK', { spec: slots });
  w.control('a program array with 8-byte values: EINVAL', createProgArray(4, 8), 'EINVAL', { spec: slots });
  w.control('an array (handle 2)', createArray(8, 1), 'OK');
  w.control('into slot 4 of 4: E2BIG', arrayLoad(1, 4, TX), 'E2BIG', { spec });
  w.control('into a handle never assigned: EBADF', arrayLoad(9, 0, TX), 'EBADF', { spec });
  w.control('into a map that is not a program array: EINVAL', arrayLoad(2, 0, TX), 'EINVAL', { spec });
  w.control(
    'a program the verifier refuses: EACCES, with a log',
    arrayLoad(1, 1, assemble('exit\n')),
    'EACCES',
    {
      spec: [...spec, 'dev-prog-result-on-reject'],
    },
  );
  w.control('a program that returns XDP_TX into slot 1', arrayLoad(1, 1, TX), 'OK', { spec });
  w.control(
    'the dispatcher: a tail call into slot 1, XDP_PASS when it falls through',
    load(assemble('lddw %r2, map[1]\nmov %r3, 1\ncall 12\nmov %r0, 2\nexit\n')),
    'OK',
  );
  w.packet('slot 1 sends it back', udp4(), 'tx', { spec: ['dev-prog-tail-call'] });
  w.control(
    'MAP_LOOKUP of a slot: EOPNOTSUPP (its value is a program)',
    lookup(1, le32(1), 4),
    'EOPNOTSUPP',
    {
      spec: slots,
    },
  );
  w.control('MAP_UPDATE of a slot: EOPNOTSUPP', update(1, le32(1), le32(0)), 'EOPNOTSUPP', { spec: slots });
  w.control('MAP_GET_NEXT_KEY iterates as an array', nextKey(1, le32(1)), 'OK', { spec: slots });
  w.control('MAP_DELETE empties slot 1', del(1, le32(1)), 'OK', { spec: slots });
  w.control('MAP_DELETE of an empty slot: ENOENT', del(1, le32(1)), 'ENOENT', { spec: slots });
  w.control('MAP_DELETE beyond the array: E2BIG', del(1, le32(4)), 'E2BIG', { spec: slots });
  w.packet('the tail call falls through', udp4(), 'pass', { spec: ['dev-prog-tail-call'] });
  w.control('MAP_FREE of the array the program uses: EBUSY', free(1), 'EBUSY', {
    spec: ['dev-map-free-in-use'],
  });
  w.control('unload', UNLOAD, 'OK');
  w.control('MAP_FREE works now', free(1), 'OK');
  return w.done();
}

function batches(): Scenario {
  const w = new ScenarioWriter(
    'map-batches',
    'MAP_UPDATE_BATCH (all or nothing) and MAP_LOOKUP_BATCH (in iteration order), with max_batch 3.',
    { caps: { max_batch: 3 } },
  );
  const spec = ['dev-map-batch-update'];
  const read = ['dev-map-batch-lookup'];
  w.control('array of 4 (handle 1)', createArray(8, 4), 'OK');
  w.control('hash of 3 (handle 2)', createHash(4, 8, 3), 'OK');
  w.control(
    'array[0..2] in one batch',
    updateBatch(1, [
      [le32(0), value8(1)],
      [le32(1), value8(2)],
      [le32(2), value8(3)],
    ]),
    'OK',
    { spec },
  );
  w.control(
    'four elements with max_batch 3: E2BIG',
    updateBatch(
      1,
      [0, 1, 2, 3].map((i) => [le32(i), value8(9)] as [Uint8Array, Uint8Array]),
    ),
    'E2BIG',
    { spec },
  );
  w.control(
    'array[3] and array[4]: the second is out of range, so neither is applied (E2BIG)',
    updateBatch(1, [
      [le32(3), value8(4)],
      [le32(4), value8(5)],
    ]),
    'E2BIG',
    { spec },
  );
  w.map('array[3] is still zero', 1, 4, 8, counts({ 0: 1, 1: 2, 2: 3 }), spec);
  w.control('three elements from the first', lookupBatch(1, null, 3), 'OK', { spec: read });
  w.control('after index 2, up to 3: one element (the last)', lookupBatch(1, le32(2), 3), 'OK', {
    spec: read,
  });
  w.control('after the last index: ENOENT', lookupBatch(1, le32(3), 3), 'ENOENT', { spec: read });
  w.control('max_count 4 with max_batch 3: E2BIG', lookupBatch(1, null, 4), 'E2BIG', { spec });
  w.control(
    'hash keys 1 and 2 under NOEXIST',
    updateBatch(
      2,
      [
        [le32(1), value8(1)],
        [le32(2), value8(2)],
      ],
      1,
    ),
    'OK',
    { spec },
  );
  w.control(
    'keys 3 and 3 again under NOEXIST: EEXIST at the second, nothing applied',
    updateBatch(
      2,
      [
        [le32(3), value8(3)],
        [le32(3), value8(4)],
      ],
      1,
    ),
    'EEXIST',
    { spec },
  );
  w.control(
    'keys 3 and 4: the hash holds 3, so the second is E2BIG and neither is applied',
    updateBatch(2, [
      [le32(3), value8(3)],
      [le32(4), value8(4)],
    ]),
    'E2BIG',
    { spec },
  );
  w.control(
    'EXIST on keys 1 and 5: ENOENT, key 1 keeps its value',
    updateBatch(
      2,
      [
        [le32(1), value8(7)],
        [le32(5), value8(7)],
      ],
      2,
    ),
    'ENOENT',
    { spec },
  );
  w.map('the hash holds keys 1 and 2, unchanged', 2, 4, 8, counts({ 1: 1, 2: 2 }), spec);
  w.control("the whole hash in one lookup batch (in the device's order)", lookupBatch(2, null, 3), 'OK', {
    spec: read,
    orderFree: true,
  });
  w.control('a batch on an unknown handle: EBADF', lookupBatch(9, null, 1), 'EBADF', {
    spec: ['dev-map-handle-scope'],
  });
  w.control('a batch with the wrong value size: EINVAL', lookupBatch(1, null, 1, 16), 'EINVAL', {
    spec: ['dev-map-elem-sizes'],
  });
  return w.done();
}

function noBatches(): Scenario {
  const w = new ScenarioWriter('no-batches', 'A device advertising max_batch 0 has no batch commands.', {
    caps: { max_batch: 0 },
  });
  w.control('array of 4 (handle 1)', createArray(8, 4), 'OK');
  w.control('MAP_UPDATE_BATCH: EOPNOTSUPP', updateBatch(1, [[le32(0), value8(1)]]), 'EOPNOTSUPP', {
    spec: ['dev-map-batch-update'],
  });
  w.control('MAP_LOOKUP_BATCH: EOPNOTSUPP', lookupBatch(1, null, 1), 'EOPNOTSUPP', {
    spec: ['dev-map-batch-update'],
  });
  return w.done();
}

function checkOrder(): Scenario {
  const w = new ScenarioWriter(
    'check-order',
    "Requests that fail two checks at once are answered the status of the first in the spec's order ([dev-wire-precedence]).",
    {
      caps: {
        max_maps: 1,
        max_map_memory: '4096',
        max_entries: 1024,
        map_types: [BpfMapType.ARRAY],
        // without program arrays, no tail_call ([dev-caps-tail-call])
        helpers: Object.values(OffloadHelper).filter((id) => id !== OffloadHelper.tail_call),
      },
    },
  );
  const spec = ['dev-wire-precedence'];
  w.control(
    'an undefined command with 9 writable bytes: EOPNOTSUPP (malformed before short)',
    Uint8Array.of(10, 13),
    'EOPNOTSUPP',
    {
      writable: 9,
      spec,
    },
  );
  w.control(
    'a hash, not offered, with a value above the limit: EOPNOTSUPP (type before size)',
    createHash(4, 8192, 1),
    'EOPNOTSUPP',
    { spec },
  );
  w.control(
    'an array with 8-byte keys and max_entries above the limit: EINVAL (key size before limits)',
    {
      ...createArray(8, 2048),
      data: { ...(createArray(8, 2048).data as object), key_size: 8 },
    } as ControlRequest,
    'EINVAL',
    { spec },
  );
  w.control('the one map the limit allows (handle 1)', createArray(8, 4), 'OK');
  w.control(
    'a second map, with a value above the limit: E2BIG (limits before count)',
    createArray(8192, 1),
    'E2BIG',
    { spec },
  );
  w.control(
    'a second map, too large for the memory left: ENOSPC (count before memory)',
    createArray(8, 1000),
    'ENOSPC',
    { spec },
  );
  w.control(
    'an unknown handle with the wrong value size: EBADF (handle before sizes)',
    update(9, le32(0), new Uint8Array(16)),
    'EBADF',
    { spec },
  );
  w.control(
    'array index 4 of 4 with BPF_NOEXIST: E2BIG (index before flags, as Linux)',
    update(1, le32(4), value8(1), 1),
    'E2BIG',
    { spec },
  );
  w.control(
    'a program naming an unknown handle and calling a kfunc: EINVAL (call forms before references)',
    load(
      assemble(`lddw %r1, map[7]\ncall 1\nmov %r0, 2\nexit\n`).map((i) =>
        i.code === 0x85 ? { ...i, src_reg: 2 } : i,
      ),
    ),
    'EINVAL',
    { spec },
  );
  return w.done();
}

function lifecycle(): Scenario {
  const w = new ScenarioWriter(
    'reset-and-migration',
    'Offloaded state blocks migration; reset discards all of it.',
  );
  w.migrate('nothing offloaded: migration may start', false, ['dev-migration']);
  w.control('array (handle 1)', createArray(8, 4), 'OK');
  w.migrate('a map exists: migration blocked', true, ['dev-migration']);
  w.control('a counting program', load(assemble(XDP1)), 'OK');
  w.packet('counted and dropped', udp4(), 'drop');
  w.reset('device reset and renegotiation', ['dev-reset']);
  w.migrate('nothing left: migration may start', false, ['dev-migration']);
  w.packet(
    'no program: delivered',
    udp4(),
    'bypass',
    ['dev-reset'].length > 0 ? { spec: ['dev-reset'] } : {},
  );
  w.control('the old handle is gone: EBADF', lookup(1, le32(17)), 'EBADF', {
    spec: ['dev-reset', 'drv-reset'],
  });
  w.control('QUERY: counters from zero, no maps, no program', QUERY, 'OK', { spec: ['dev-reset'] });
  w.control('the driver recreates its map; handles restart after reset', createArray(8, 4), 'OK', {
    spec: ['drv-reset'],
  });
  w.control('the driver frees it again', free(1), 'OK');
  w.migrate('a live migration starts (nothing offloaded)', false, ['dev-migration'], 'start');
  w.control('MAP_CREATE while it runs: EAGAIN, nothing created', createArray(8, 4), 'EAGAIN', {
    spec: ['dev-migration'],
  });
  w.control('PROG_LOAD while it runs: EAGAIN', load(PASS), 'EAGAIN', { spec: ['dev-migration'] });
  w.control('PROG_ARRAY_LOAD while it runs: EAGAIN', arrayLoad(1, 0, PASS), 'EAGAIN', {
    spec: ['dev-migration'],
  });
  w.control('QUERY still answers: no maps, no program', QUERY, 'OK', { spec: ['dev-migration'] });
  w.migrate('the migration ends (the guest runs on here)', false, ['dev-migration'], 'end');
  w.control('MAP_CREATE works again', createArray(8, 4), 'OK', { spec: ['dev-migration'] });
  return w.done();
}

// ---- files -----------------------------------------------------------------------------------

const files: Record<string, ScenarioFile> = {
  'vectors/scenarios/rfc-experiments.json': {
    format: SCENARIO_FORMAT,
    description: "The 2019 RFC's two experiments in its two topologies, offloaded through the control queue.",
    scenarios: [xdp1Redirected(), xdp2Bridged()],
  },
  'vectors/scenarios/errors.json': {
    format: SCENARIO_FORMAT,
    description: 'Every command of the class on its error paths, with every status the spec defines.',
    scenarios: [
      framing(),
      mapCreate(),
      mapElements(),
      progLoad(),
      tailCalls(),
      checkOrder(),
      batches(),
      noBatches(),
    ],
  },
  'vectors/scenarios/lifecycle.json': {
    format: SCENARIO_FORMAT,
    description: 'Reset and migration.',
    scenarios: [lifecycle()],
  },
};

const check = process.argv.includes('--check');
let stale = 0;
mkdirSync('vectors/scenarios', { recursive: true });
for (const [path, document] of Object.entries(files)) {
  const text = `${JSON.stringify({ $schema: '../schema/scenarios.schema.json', ...document }, null, 2)}\n`;
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    // not written yet
  }
  if (current === text) continue;
  stale++;
  if (check) console.error(`stale: ${path} (run npm run scenarios)`);
  else {
    writeFileSync(path, text);
    console.log(`wrote ${path}`);
  }
}
if (check && stale > 0) process.exit(1);
