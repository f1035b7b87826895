// The device as a whole: feature offer, the answers it writes for every command (successful and
// refused), programs through the verifier and the tap, QUERY, reset and the migration block.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BpfMapType,
  LogLevel,
  ProgFeature,
  TUNXDPOFFLOAD,
  TunXdpOffloadOp,
  VIRTIO_NET_ERR,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_XDP_OFFLOAD,
  VIRTIO_NET_OK,
  XdpStatus,
  tunXdpOffload,
  type BpfInsn,
  type ControlRequest,
  featureBit,
  resultOf,
  type RequestOf,
  type ResultOf,
} from '../../../src/codec/index.js';
import {
  OffloadDevice,
  defaultCaps,
  helperBitmap,
  MigrationBlockedError,
  type TapPort,
} from '../../../src/reference/device/device.js';
import { GuestErrno } from '../../../src/reference/driver/driver.js';
import { ControlElement } from '../../../src/reference/virtqueue/element.js';
import { Topology } from '../../../src/reference/topology.js';
import { le32Bytes } from '../../support/bytes.js';
import {
  counters,
  createMaps,
  exchange,
  ipv4Frame,
  negotiated,
  offload,
  program,
  returns,
} from '../../support/offload.js';

const STATUSES = new Set(Object.values(XdpStatus) as number[]);
const insns = (text: string, fds: number[] = []): BpfInsn[] => program(text, fds);
/** A PROG_LOAD answer's result, which a rejection carries too (its log). */
function loadResult(answer: ResultOf<'PROG_LOAD'>): NonNullable<ResultOf<'PROG_LOAD'>['result']> {
  assert.ok(answer.result !== null, `status ${answer.status} without a result`);
  return answer.result;
}

const load = (code: BpfInsn[], logSize = 256): RequestOf<'PROG_LOAD'> => ({
  command: 'PROG_LOAD',
  data: {
    insn_cnt: code.length,
    log_size: logSize,
    log_level: logSize === 0 ? LogLevel.NONE : LogLevel.BASIC,
    prog_flags: 1,
    insns: code,
  },
});

/** A packet parser that reads past data_end: the verifier refuses it with EACCES. */
const UNCHECKED = `ldxw %r2, [%r1+0]\nldxb %r0, [%r2+20]\nmov %r0, 2\nexit\n`;
/** Stores a map pointer into a map value: allowed with CAP_PERFMON only (a host address leak). */
const LEAK = `
  mov %r6, 0
  stxw [%r10-4], %r6
  lddw %r1, map[1]
  mov %r2, %r10
  add %r2, -4
  call 1
  jeq %r0, 0, out
  lddw %r1, map[1]
  stxdw [%r0+0], %r1
out:
  mov %r0, 2
  exit
`;

describe('feature offer', () => {
  test('XDP_OFFLOAD is offered with CTRL_VQ, and refused without it [dev-feature-requires-ctrl-vq]', () => {
    const t = new Topology();
    const offered = t.device.offeredFeatures();
    assert.notEqual(offered & featureBit(VIRTIO_NET_F_XDP_OFFLOAD), 0n);
    assert.notEqual(offered & featureBit(VIRTIO_NET_F_CTRL_VQ), 0n);
    assert.equal(t.device.setFeatures(featureBit(VIRTIO_NET_F_XDP_OFFLOAD)), false);
    assert.equal(t.device.setFeatures(offered), true);
  });

  test('a tap without IFF_XDP_OFFLOAD means no offer [dev-feature-backend]', () => {
    const t = new Topology({ offloadCapable: false });
    assert.equal(t.device.offeredFeatures() & featureBit(VIRTIO_NET_F_XDP_OFFLOAD), 0n);
    assert.equal(t.driver.probe(), false);
    // Even a driver that sends the command anyway gets no success.
    const { answer } = exchange(t, { command: 'QUERY', data: null });
    assert.notEqual(answer.status, XdpStatus.OK);
  });
});

describe('answers the device writes', () => {
  // Every command, succeeding and failing, with the bytes checked as written.
  const sweep = (t: Topology): { request: ControlRequest; expect: number }[] => {
    const [arr] = createMaps(t, [counters(4)], true) as [number];
    const handle = 1; // the first handle of a fresh device
    void arr;
    const good = insns(returns(2));
    return [
      { request: { command: 'CAPS_GET', data: null }, expect: XdpStatus.OK },
      {
        request: {
          command: 'MAP_CREATE',
          data: { map_type: BpfMapType.HASH, key_size: 4, value_size: 8, max_entries: 8, map_flags: 0 },
        },
        expect: XdpStatus.OK,
      },
      {
        request: {
          command: 'MAP_CREATE',
          data: { map_type: BpfMapType.ARRAY, key_size: 8, value_size: 8, max_entries: 8, map_flags: 0 },
        },
        expect: XdpStatus.EINVAL,
      },
      {
        request: {
          command: 'MAP_CREATE',
          data: { map_type: BpfMapType.HASH, key_size: 4, value_size: 1 << 20, max_entries: 8, map_flags: 0 },
        },
        expect: XdpStatus.E2BIG,
      },
      {
        request: {
          command: 'MAP_UPDATE',
          data: {
            map_handle: handle,
            key_size: 4,
            value_size: 8,
            flags: 0,
            key: le32Bytes(1),
            value: new Uint8Array(8).fill(7),
          },
        },
        expect: XdpStatus.OK,
      },
      {
        request: {
          command: 'MAP_UPDATE',
          data: {
            map_handle: handle,
            key_size: 4,
            value_size: 8,
            flags: 1,
            key: le32Bytes(1),
            value: new Uint8Array(8),
          },
        },
        expect: XdpStatus.EEXIST,
      },
      {
        request: {
          command: 'MAP_UPDATE',
          data: {
            map_handle: 99,
            key_size: 4,
            value_size: 8,
            flags: 0,
            key: le32Bytes(1),
            value: new Uint8Array(8),
          },
        },
        expect: XdpStatus.EBADF,
      },
      {
        request: {
          command: 'MAP_LOOKUP',
          data: { map_handle: handle, key_size: 4, value_size: 8, key: le32Bytes(1) },
        },
        expect: XdpStatus.OK,
      },
      {
        request: {
          command: 'MAP_LOOKUP',
          data: { map_handle: handle, key_size: 4, value_size: 8, key: le32Bytes(4) },
        },
        expect: XdpStatus.ENOENT,
      },
      {
        request: {
          command: 'MAP_LOOKUP',
          data: { map_handle: handle, key_size: 4, value_size: 16, key: le32Bytes(1) },
        },
        expect: XdpStatus.EINVAL,
      },
      {
        request: { command: 'MAP_DELETE', data: { map_handle: handle, key_size: 4, key: le32Bytes(1) } },
        expect: XdpStatus.EINVAL,
      },
      {
        request: {
          command: 'MAP_GET_NEXT_KEY',
          data: { map_handle: handle, key_size: 4, flags: 0, key: le32Bytes(3) },
        },
        expect: XdpStatus.ENOENT,
      },
      {
        request: {
          command: 'MAP_GET_NEXT_KEY',
          data: { map_handle: handle, key_size: 4, flags: 1, key: new Uint8Array(0) },
        },
        expect: XdpStatus.OK,
      },
      {
        request: {
          command: 'MAP_UPDATE_BATCH',
          data: {
            map_handle: handle,
            key_size: 4,
            value_size: 8,
            flags: 0,
            count: 1,
            elements: new Uint8Array(12),
          },
        },
        expect: XdpStatus.OK,
      },
      {
        request: {
          command: 'MAP_UPDATE_BATCH',
          data: {
            map_handle: handle,
            key_size: 4,
            value_size: 8,
            flags: 1,
            count: 1,
            elements: new Uint8Array(12),
          },
        },
        expect: XdpStatus.EEXIST,
      },
      {
        request: {
          command: 'MAP_LOOKUP_BATCH',
          data: {
            map_handle: handle,
            key_size: 4,
            value_size: 8,
            flags: 1,
            max_count: 3,
            key: new Uint8Array(0),
          },
        },
        expect: XdpStatus.OK,
      },
      {
        request: {
          command: 'MAP_LOOKUP_BATCH',
          data: { map_handle: handle, key_size: 4, value_size: 8, flags: 0, max_count: 3, key: le32Bytes(3) },
        },
        expect: XdpStatus.ENOENT,
      },
      { request: { command: 'PROG_UNLOAD', data: null }, expect: XdpStatus.ENOENT },
      { request: load(insns(UNCHECKED)), expect: XdpStatus.EACCES },
      { request: load(insns(`lddw %r1, map[77]\n${returns(2)}`)), expect: XdpStatus.EBADF },
      { request: load(good), expect: XdpStatus.OK },
      { request: { command: 'MAP_FREE', data: { map_handle: 42 } }, expect: XdpStatus.EBADF },
      { request: { command: 'QUERY', data: null }, expect: XdpStatus.OK },
      { request: { command: 'PROG_UNLOAD', data: null }, expect: XdpStatus.OK },
      { request: { command: 'MAP_FREE', data: { map_handle: handle } }, expect: XdpStatus.OK },
    ];
  };

  test('ack follows status, result_len counts the result, reserved bytes are zero, statuses are defined [dev-wire-ack-status] [dev-wire-result-len] [dev-wire-reserved-result] [dev-status-defined]', () => {
    const t = negotiated();
    for (const { request, expect } of sweep(t)) {
      const { bytes, answer } = exchange(t, request);
      const what = `${request.command} expecting ${expect}`;
      assert.equal(answer.status, expect, what);
      assert.ok(STATUSES.has(answer.status), what);
      assert.equal(bytes[0], answer.status === XdpStatus.OK ? VIRTIO_NET_OK : VIRTIO_NET_ERR, what);
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      const resultLen = view.getUint32(5, true);
      assert.equal(bytes.length, 9 + resultLen, what);
      if (answer.status !== XdpStatus.OK && request.command !== 'PROG_LOAD') assert.equal(resultLen, 0, what);
      if (request.command === 'MAP_LOOKUP_BATCH' && answer.status === XdpStatus.OK) {
        assert.deepEqual([...bytes.subarray(9 + 4, 9 + 8)], [0, 0, 0, 0]);
        assert.equal(resultLen, 8 + 3 * 12, 'three array elements, not the room for max_count');
      }
      if (request.command === 'QUERY') assert.deepEqual([...bytes.subarray(9 + 12, 9 + 16)], [0, 0, 0, 0]);
      if (request.command === 'MAP_CREATE' && answer.status === XdpStatus.OK)
        assert.deepEqual([...bytes.subarray(9 + 4, 9 + 8)], [0, 0, 0, 0]);
      // The verifier's rejection carries the PROG_LOAD result; refusals before it carry none.
      if (request.command === 'PROG_LOAD' && answer.status !== XdpStatus.EBADF)
        assert.ok(resultLen >= 8, what);
    }
  });

  test('a refused command leaves every map, handle, program and counter as it was [dev-wire-reject-unchanged]', () => {
    const t = negotiated();
    for (const { request, expect } of sweep(t)) {
      const before = t.device.snapshot();
      const { answer } = exchange(t, request);
      assert.equal(answer.status, expect, request.command);
      if (answer.status !== XdpStatus.OK) assert.equal(t.device.snapshot(), before, request.command);
    }
  });
});

describe('capabilities', () => {
  test('CAPS_GET answers the same bytes every time until reset [dev-caps-static]', () => {
    const t = negotiated();
    const first = exchange(t, { command: 'CAPS_GET', data: null }).bytes;
    offload(t, returns(2), [counters()]);
    t.fromHost(ipv4Frame());
    assert.deepEqual(exchange(t, { command: 'CAPS_GET', data: null }).bytes, first);
    assert.deepEqual(t.driver.caps?.max_insns, defaultCaps(3520).max_insns);
  });

  test('max_insns is enforced, a log_size above max_log_size is clamped, and a log cut short leaves an accepted program OK [dev-caps-enforced] [dev-prog-limit] [dev-prog-log]', () => {
    const caps = { ...defaultCaps(3520), max_insns: 8, max_log_size: 16 };
    const t = negotiated({ caps });
    const nine = insns(`${'mov %r0, 2\n'.repeat(8)}exit\n`);
    assert.equal(exchange(t, load(nine)).answer.status, XdpStatus.E2BIG);
    const eight = insns(`${'mov %r0, 2\n'.repeat(7)}exit\n`);
    const { answer } = exchange(t, load(eight, 200));
    assert.equal(answer.status, XdpStatus.OK);
    const result = resultOf(answer);
    assert.ok(result.log_len <= 16 && result.log_len > 0, `log_len ${result.log_len}`);
    // the whole log is longer: the 16 bytes above are a cut, and the load still succeeded
    const whole = resultOf(exchange(negotiated(), load(eight, 200)).answer);
    assert.ok(whole.log_len > 16, `the whole log is ${whole.log_len} bytes`);
    assert.equal(whole.log.slice(0, result.log_len), result.log);
  });
});

describe('PROG_LOAD', () => {
  test('the verifier decides, without the privileges that allow pointer leaks [dev-prog-verify]', () => {
    const t = negotiated();
    assert.equal(exchange(t, load(insns(UNCHECKED))).answer.status, XdpStatus.EACCES);
    const [fd] = createMaps(t, [counters(1)], true) as [number];
    const leak = exchange(t, load(insns(LEAK, [1]))).answer;
    void fd;
    assert.equal(leak.status, XdpStatus.EACCES);
    assert.match(loadResult(leak).log, /leak|pointer/i);
  });

  test('calls are helpers or offered bpf-to-bpf calls only: kfunc, callx and LD_ABS/IND are EINVAL unverified, with no result [dev-prog-call-forms] [dev-prog-result-on-reject]', () => {
    const slot = (code: number, src_reg = 0, imm = 0, dst_reg = 0): BpfInsn => ({
      code,
      dst_reg,
      src_reg,
      off: 0,
      imm,
    });
    const ret2 = [slot(0xb7, 0, 2), slot(0x95)];
    // a bpf-to-bpf call: slot 0 calls the function at slot 2, which returns 2
    const local = [slot(0x85, 1, 1), slot(0x95), ...ret2];
    const forms: [string, BpfInsn[]][] = [
      ['a kfunc call (src_reg 2)', [slot(0x85, 2, 1234), ...ret2]],
      ['a call with src_reg 3', [slot(0x85, 3, 1), ...ret2]],
      ['callx without VIRTIO_NET_XDP_ISA_CALLX', [slot(0xb7, 0, 0, 1), slot(0x8d, 0, 0, 1), ...ret2]],
      ['LD_ABS', [slot(0x20, 0, 14), ...ret2]],
      ['LD_IND', [slot(0x40, 1, 14), ...ret2]],
    ];
    const t = negotiated();
    for (const [what, code] of forms) {
      const { answer } = exchange(t, load(code));
      assert.equal(answer.status, XdpStatus.EINVAL, what);
      assert.equal(answer.result, null, `${what}: refused before the verifier, so no log`);
    }
    assert.equal(exchange(t, load(local)).answer.status, XdpStatus.OK, 'a bpf-to-bpf call, offered');
    const noCalls = { ...defaultCaps(3520), prog_features: ProgFeature.MAP_VALUE_ADDR };
    assert.equal(exchange(negotiated({ caps: noCalls }), load(local)).answer.status, XdpStatus.EINVAL);
  });

  test('helpers outside the advertised bitmap are EINVAL [dev-prog-helpers]', () => {
    const caps = { ...defaultCaps(3520), helpers: helperBitmap([1, 2, 3]) };
    const t = negotiated({ caps });
    const ktime = insns(`call 5\nmov %r0, 2\nexit\n`);
    assert.equal(exchange(t, load(ktime)).answer.status, XdpStatus.EINVAL);
    const printk = insns(
      `mov %r1, %r10\nadd %r1, -8\nmov %r2, 0\nstxdw [%r10-8], %r2\nmov %r2, 8\ncall 6\nmov %r0, 2\nexit\n`,
    );
    assert.equal(exchange(t, load(printk)).answer.status, XdpStatus.EINVAL);
    assert.equal(exchange(t, load(insns(`call 1\n${returns(2)}`))).answer.status, XdpStatus.EACCES);
  });

  test('unknown, freed and malformed map references [dev-prog-map-ref]', () => {
    const caps = { ...defaultCaps(3520), prog_features: ProgFeature.BPF_TO_BPF_CALLS };
    const t = negotiated({ caps });
    assert.equal(exchange(t, load(insns(`lddw %r1, map[5]\n${returns(2)}`))).answer.status, XdpStatus.EBADF);
    createMaps(t, [counters(1)], true);
    assert.equal(exchange(t, { command: 'MAP_FREE', data: { map_handle: 1 } }).answer.status, XdpStatus.OK);
    assert.equal(exchange(t, load(insns(`lddw %r1, map[1]\n${returns(2)}`))).answer.status, XdpStatus.EBADF);
    createMaps(t, [counters(1)], true); // handle 2
    const valueAddr = insns(`lddw %r1, map_value[2]+0\n${returns(2)}`);
    assert.equal(exchange(t, load(valueAddr)).answer.status, XdpStatus.EINVAL); // feature not advertised
    const odd = insns(`lddw %r1, map[2]\n${returns(2)}`);
    (odd[0] as { src_reg: number }).src_reg = 3;
    assert.equal(exchange(t, load(odd)).answer.status, XdpStatus.EINVAL);
  });

  test('a verifier rejection carries insns_processed and a bounded printable log [dev-prog-result-on-reject] [dev-prog-log]', () => {
    const t = negotiated();
    for (const size of [1, 10, 4000]) {
      const { answer } = exchange(t, load(insns(UNCHECKED), size));
      const result = loadResult(answer);
      assert.equal(answer.status, XdpStatus.EACCES);
      assert.ok(result.log_len > 0 && result.log_len <= size);
      assert.match(result.log, /^[\t\n\x20-\x7e]*$/);
    }
    const none = exchange(t, load(insns(UNCHECKED), 0)).answer;
    assert.equal(loadResult(none).log_len, 0);
  });

  test('a successful load replaces the attached program between two packets [dev-prog-replace] [tun-attach-replace]', () => {
    const t = negotiated();
    offload(t, returns(1));
    assert.equal(t.fromHost(ipv4Frame()).offload, 'drop');
    const firstId = t.tap.attachedId;
    offload(t, returns(2));
    assert.notEqual(t.tap.attachedId, firstId);
    const fate = t.fromHost(ipv4Frame());
    assert.equal(fate.offload, 'pass');
    assert.equal(fate.guest.length, 1);
    assert.equal(t.programs.open, 1); // the replaced program's fd was closed
  });

  test('a failed load keeps the attached program [dev-prog-keep-on-failure]', () => {
    const t = negotiated();
    offload(t, returns(1));
    const before = t.device.snapshot();
    assert.equal(exchange(t, load(insns(UNCHECKED))).answer.status, XdpStatus.EACCES);
    assert.equal(t.device.snapshot(), before);
    assert.equal(t.fromHost(ipv4Frame()).offload, 'drop');
  });

  test('PROG_UNLOAD without a program is ENOENT; after one, frames bypass [dev-prog-unload-none]', () => {
    const t = negotiated();
    assert.equal(exchange(t, { command: 'PROG_UNLOAD', data: null }).answer.status, XdpStatus.ENOENT);
    offload(t, returns(1));
    assert.equal(exchange(t, { command: 'PROG_UNLOAD', data: null }).answer.status, XdpStatus.OK);
    assert.equal(t.fromHost(ipv4Frame()).offload, 'bypass');
    assert.equal(exchange(t, { command: 'PROG_UNLOAD', data: null }).answer.status, XdpStatus.ENOENT);
  });

  test('MAP_FREE of a map the attached program uses is EBUSY until it is unloaded [dev-map-free-in-use]', () => {
    const t = negotiated();
    offload(t, `lddw %r1, map[1]\n${returns(2)}`, [counters(1)]);
    assert.equal(
      exchange(t, { command: 'MAP_FREE', data: { map_handle: 1 } }).answer.status,
      XdpStatus.EBUSY,
    );
    exchange(t, { command: 'PROG_UNLOAD', data: null });
    assert.equal(exchange(t, { command: 'MAP_FREE', data: { map_handle: 1 } }).answer.status, XdpStatus.OK);
  });
});

describe('QUERY', () => {
  test('every run is counted once in packets and once in its action [dev-query-counters] [tun-query]', () => {
    const t = negotiated();
    // Returns the frame's first byte as the action: 0..4 and an undefined 9.
    offload(
      t,
      `ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, out\nldxb %r0, [%r2+0]\nexit\nout:\nmov %r0, 2\nexit\n`,
    );
    const actions = [0, 1, 2, 3, 4, 9, 2, 1];
    for (const a of actions) t.fromHost(ipv4Frame(17, a));
    const q = t.driver.query();
    assert.ok(typeof q !== 'number');
    assert.deepEqual([q.packets, q.aborted, q.drop, q.pass, q.tx, q.redirect], [8n, 1n, 3n, 2n, 1n, 1n]);
    assert.equal(q.flags, 1);
    const tapQuery = t.tap.ioctl(
      TUNXDPOFFLOAD,
      tunXdpOffload.encode({
        op: TunXdpOffloadOp.QUERY,
        prog_fd: -1,
        flags: 0,
        prog_id: 0,
        packets: 0n,
        aborted: 0n,
        drop: 0n,
        pass: 0n,
        tx: 0n,
        redirect: 0n,
      }),
    );
    const tapView = tunXdpOffload.decode(tapQuery.arg);
    assert.equal(tapView.prog_id, t.tap.attachedId);
    assert.equal(tapView.packets, 8n);
    assert.equal(tapView.drop, 3n);
  });
});

describe('reset and migration', () => {
  test('reset detaches the program, frees every map, forgets handles and counters [dev-reset]', () => {
    const t = negotiated();
    offload(t, `lddw %r1, map[1]\n${returns(1)}`, [counters(4)]);
    t.fromHost(ipv4Frame());
    t.device.reset();
    assert.equal(t.tap.attachedId, 0);
    assert.equal(t.programs.open, 0);
    assert.equal(t.device.setFeatures(t.device.offeredFeatures()), true);
    const q = resultOf(exchange(t, { command: 'QUERY', data: null }).answer);
    assert.deepEqual([q.map_count, q.packets, q.flags], [0, 0n, 0]);
    const lookup = exchange(t, {
      command: 'MAP_LOOKUP',
      data: { map_handle: 1, key_size: 4, value_size: 8, key: le32Bytes(0) },
    });
    assert.equal(lookup.answer.status, XdpStatus.EBADF);
    assert.equal(t.fromHost(ipv4Frame()).offload, 'bypass');
    // The driver holds handles the reset voided: it must reset too before it offloads again, or
    // the device's new handle 1 would repeat a handle it still holds ([drv-map-handle-unique]).
    assert.deepEqual(t.driver.mapCreate(counters(1), true), { errno: GuestErrno.EIO });
    assert.equal(t.driver.reset(), 0);
    // Negotiating FEATURES_OK again also resets.
    offload(t, returns(1), [counters(1)]);
    t.device.setFeatures(t.device.offeredFeatures());
    assert.equal(t.tap.attachedId, 0);
  });

  test('offloaded state blocks migration; none lets it run [dev-migration]', () => {
    const t = negotiated();
    t.device.migrate();
    createMaps(t, [counters(1)], true);
    assert.throws(() => t.device.migrate(), MigrationBlockedError);
    exchange(t, { command: 'MAP_FREE', data: { map_handle: 1 } });
    t.device.migrate();
    offload(t, returns(2));
    assert.throws(() => t.device.migrate(), /program/);
    t.device.reset();
    t.device.migrate();
  });

  test('during a migration, MAP_CREATE and PROG_LOAD are EAGAIN and change nothing; other commands work [dev-migration]', () => {
    const t = negotiated();
    t.device.startMigration();
    const before = t.device.snapshot();
    const code = insns(returns(2));
    assert.equal(
      exchange(t, {
        command: 'MAP_CREATE',
        data: { map_type: BpfMapType.ARRAY, key_size: 4, value_size: 8, max_entries: 1, map_flags: 0 },
      }).answer.status,
      XdpStatus.EAGAIN,
    );
    assert.equal(exchange(t, load(code)).answer.status, XdpStatus.EAGAIN);
    assert.equal(exchange(t, { command: 'QUERY', data: null }).answer.status, XdpStatus.OK);
    assert.equal(t.device.snapshot(), before);
    t.device.finishMigration();
    assert.equal(exchange(t, load(code)).answer.status, XdpStatus.OK);
    assert.throws(() => t.device.startMigration(), MigrationBlockedError);
  });
});

describe('map element commands', () => {
  const update = (t: Topology, handle: number, key: Uint8Array, value: Uint8Array, flags = 0) =>
    exchange(t, {
      command: 'MAP_UPDATE',
      data: { map_handle: handle, key_size: key.length, value_size: value.length, flags, key, value },
    }).answer.status;
  const lookup = (t: Topology, handle: number, key: Uint8Array, valueSize = 8) =>
    exchange(t, {
      command: 'MAP_LOOKUP',
      data: { map_handle: handle, key_size: key.length, value_size: valueSize, key },
    }).answer;
  const next = (t: Topology, handle: number, key: Uint8Array | null, keySize = 4) =>
    exchange(t, {
      command: 'MAP_GET_NEXT_KEY',
      data: {
        map_handle: handle,
        key_size: keySize,
        flags: key === null ? 1 : 0,
        key: key ?? new Uint8Array(0),
      },
    }).answer;

  test('an array index at max_entries, and a new key into a full hash, are E2BIG [dev-map-update-space]', () => {
    const t = negotiated();
    createMaps(t, [counters(2), { type: BpfMapType.HASH, keySize: 4, valueSize: 8, maxEntries: 2 }], true);
    assert.equal(update(t, 1, le32Bytes(1), new Uint8Array(8)), XdpStatus.OK);
    assert.equal(update(t, 1, le32Bytes(2), new Uint8Array(8)), XdpStatus.E2BIG);
    assert.equal(update(t, 2, le32Bytes(10), new Uint8Array(8)), XdpStatus.OK);
    assert.equal(update(t, 2, le32Bytes(11), new Uint8Array(8)), XdpStatus.OK);
    assert.equal(update(t, 2, le32Bytes(12), new Uint8Array(8)), XdpStatus.E2BIG);
    assert.equal(update(t, 2, le32Bytes(11), new Uint8Array(8).fill(1)), XdpStatus.OK); // replacing is not new
  });

  test('a missing hash key and an array index out of range are ENOENT [dev-map-lookup-missing]', () => {
    const t = negotiated();
    createMaps(t, [counters(2), { type: BpfMapType.HASH, keySize: 4, valueSize: 8, maxEntries: 2 }], true);
    assert.equal(lookup(t, 1, le32Bytes(2)).status, XdpStatus.ENOENT);
    assert.equal(lookup(t, 1, le32Bytes(1)).status, XdpStatus.OK);
    assert.equal(lookup(t, 2, le32Bytes(5)).status, XdpStatus.ENOENT);
  });

  test('iteration: FIRST, unknown keys restart, every key once, ENOENT at the end [dev-map-next-key]', () => {
    const t = negotiated();
    createMaps(t, [counters(3), { type: BpfMapType.HASH, keySize: 4, valueSize: 8, maxEntries: 8 }], true);
    const keys = (answer: ReturnType<typeof next>) => answer.result?.next_key;
    assert.deepEqual(keys(next(t, 1, null)), le32Bytes(0));
    assert.deepEqual(keys(next(t, 1, le32Bytes(1))), le32Bytes(2));
    assert.equal(next(t, 1, le32Bytes(2)).status, XdpStatus.ENOENT);
    assert.deepEqual(keys(next(t, 1, le32Bytes(7))), le32Bytes(0)); // out of range: first
    assert.equal(next(t, 2, null).status, XdpStatus.ENOENT); // empty hash
    for (const k of [40, 7, 19, 3]) update(t, 2, le32Bytes(k), new Uint8Array(8));
    const seen: number[] = [];
    for (let answer = next(t, 2, null); answer.status === XdpStatus.OK;) {
      const key = keys(answer) as Uint8Array;
      seen.push(new DataView(key.buffer, key.byteOffset).getUint32(0, true));
      answer = next(t, 2, key);
    }
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      [3, 7, 19, 40],
    );
    assert.deepEqual(keys(next(t, 2, le32Bytes(99))), le32Bytes(seen[0] as number)); // unknown: first
  });

  test('a lookup returns a value written whole, never a view the program changes later [dev-map-element-atomic]', () => {
    const t = negotiated();
    // Each run writes the 8-byte value as two halves, each the run count: a torn value would differ.
    offload(
      t,
      `mov %r6, 0\nstxw [%r10-4], %r6\nlddw %r1, map[1]\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, out\n` +
        `ldxw %r1, [%r0+0]\nadd %r1, 1\nstxw [%r0+0], %r1\nstxw [%r0+4], %r1\nout:\nmov %r0, 2\nexit\n`,
      [counters(1)],
    );
    t.fromHost(ipv4Frame());
    const before = resultOf(lookup(t, 1, le32Bytes(0)));
    t.fromHost(ipv4Frame());
    assert.deepEqual([...before.value], [1, 0, 0, 0, 1, 0, 0, 0]);
    const after = resultOf(lookup(t, 1, le32Bytes(0)));
    assert.deepEqual([...after.value], [2, 0, 0, 0, 2, 0, 0, 0]);
  });
});

describe('host failures', () => {
  test('a tap that refuses to attach a verified program makes PROG_LOAD EIO and changes nothing [dev-status-internal] [dev-wire-reject-unchanged]', () => {
    const t = negotiated();
    const refusing: TapPort = {
      maxFrameLen: t.tap.maxFrameLen,
      get attachedId() {
        return t.tap.attachedId;
      },
      features: () => t.tap.features(),
      ioctl: (request, arg) =>
        request === TUNXDPOFFLOAD && tunXdpOffload.decode(arg).op === TunXdpOffloadOp.ATTACH
          ? { errno: 1, arg } // EPERM: the host took a privilege away
          : t.tap.ioctl(request, arg),
      read: (queue) => t.tap.read(queue),
      write: (frame) => t.tap.write(frame),
    };
    const device = new OffloadDevice({ engine: t.hostEngine, programs: t.programs, tap: refusing });
    device.setFeatures(device.offeredFeatures());
    const before = device.snapshot();
    const open = t.programs.open;
    const request = load(insns(returns(2)));
    const element = ControlElement.forControlRequest(request);
    const answer = element.readResult(request, device.serve(element).used);
    assert.equal(answer.status, XdpStatus.EIO);
    assert.equal(answer.result, null);
    assert.equal(device.snapshot(), before);
    assert.equal(t.programs.open, open, 'the program loaded on the host is closed again');
  });
});

describe('isolation', () => {
  test('two devices on one host: each guest reaches only the maps its own device created [dev-map-handle-scope] [dev-map-handle]', () => {
    const a = negotiated();
    const backend = { engine: a.hostEngine, programs: a.programs, tap: a.tap };
    // A second VM's device on the same host kernel (same engine and program table).
    const b = new OffloadDevice(backend);
    b.setFeatures(b.offeredFeatures());
    const send = (device: OffloadDevice, request: ControlRequest) => {
      const element = ControlElement.forControlRequest(request);
      return element.readResult(request, device.serve(element).used);
    };
    createMaps(a, [counters(4), counters(4)], true); // handles 1 and 2 on device a
    assert.equal(
      send(b, {
        command: 'MAP_LOOKUP',
        data: { map_handle: 2, key_size: 4, value_size: 8, key: le32Bytes(0) },
      }).status,
      XdpStatus.EBADF,
    );
    const created = send(b, {
      command: 'MAP_CREATE',
      data: { map_type: BpfMapType.ARRAY, key_size: 4, value_size: 8, max_entries: 4, map_flags: 0 },
    });
    assert.deepEqual(created.result, { map_handle: 1 }); // b's own numbering, not the host's
    send(b, {
      command: 'MAP_UPDATE',
      data: {
        map_handle: 1,
        key_size: 4,
        value_size: 8,
        flags: 0,
        key: le32Bytes(0),
        value: new Uint8Array(8).fill(9),
      },
    });
    assert.deepEqual(lookupZero(a, 1), new Uint8Array(8)); // a's map 1 untouched
  });
});

function lookupZero(t: Topology, handle: number): Uint8Array | number {
  const { answer } = exchange(t, {
    command: 'MAP_LOOKUP',
    data: { map_handle: handle, key_size: 4, value_size: 8, key: le32Bytes(0) },
  });
  return answer.status === XdpStatus.OK ? resultOf(answer).value : answer.status;
}
