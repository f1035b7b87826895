// The datapath of section X.9 and the tap interface of the Linux tap companion: where the offloaded
// program runs, what it sees, what each verdict does to the frame, and the ioctl that attaches it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IFF_XDP_OFFLOAD, TUNXDPOFFLOAD, TunXdpOffloadOp, tunXdpOffload } from '../../../src/codec/index.js';
import { assemble } from '../../../src/reference/ebpf/asm.js';
import { XDP2 } from '../../../src/reference/ebpf/samples.js';
import { TUN_BASE_FEATURES, Tap } from '../../../src/reference/tun/tap.js';
import { Topology } from '../../../src/reference/topology.js';
import { counters, ipv4Frame, negotiated, offload, returns } from '../../support/offload.js';

type Op = (typeof TunXdpOffloadOp)[keyof typeof TunXdpOffloadOp];
const arg = (op: Op, prog_fd: number, extra: { flags?: number; prog_id?: number } = {}) =>
  tunXdpOffload.encode({
    op,
    prog_fd,
    flags: 0,
    prog_id: 0,
    packets: 0n,
    aborted: 0n,
    drop: 0n,
    pass: 0n,
    tx: 0n,
    redirect: 0n,
    ...extra,
  });
const query = (tap: Tap) =>
  tunXdpOffload.decode(tap.ioctl(TUNXDPOFFLOAD, arg(TunXdpOffloadOp.QUERY, -1)).arg);

/** Bounds check, then the rest; `out` passes frames too short for an Ethernet header. */
const parsed = (body: string) => `
  ldxw %r2, [%r1+0]
  ldxw %r3, [%r1+4]
  mov %r4, %r2
  add %r4, 14
  jgt %r4, %r3, out
${body}
out:
  mov %r0, 2
  exit
`;

describe('datapath', () => {
  test('the program runs on frames toward the guest only [dev-dp-hook] [tun-hook]', () => {
    const t = negotiated();
    offload(t, returns(1));
    assert.equal(t.fromHost(ipv4Frame()).offload, 'drop');
    t.driver.send(ipv4Frame());
    assert.equal(t.tap.toHost.length, 1); // the guest's frame went out, not through the program
    assert.equal(query(t.tap).packets, 1n);
  });

  test('the context hides the host interface and names the receive queue [dev-dp-context]', () => {
    const t = negotiated({ queues: 2 });
    const [fd] = offload(
      t,
      `ldxw %r3, [%r1+12]\nldxw %r4, [%r1+16]\nldxw %r5, [%r1+0]\nldxw %r6, [%r1+8]\n` +
        `mov %r7, 1\njlt %r6, %r5, store\nmov %r7, 0\nstore:\n` +
        `lddw %r2, map_value[1]+0\nstxw [%r2+0], %r3\nstxw [%r2+4], %r4\nstxw [%r2+8], %r7\nmov %r0, 2\nexit\n`,
      [{ type: 2, keySize: 4, valueSize: 16, maxEntries: 1 }],
    ) as [number];
    t.fromHost(ipv4Frame(), 1);
    const value = t.driver.mapLookup(fd, new Uint8Array(4));
    assert.ok(value instanceof Uint8Array);
    const view = new DataView(value.buffer, value.byteOffset);
    assert.equal(view.getUint32(0, true), 0, 'ingress_ifindex');
    assert.equal(view.getUint32(4, true), 1, 'rx_queue_index');
    assert.equal(view.getUint32(8, true), 0, 'data_meta below data');
  });

  test('headroom for adjust_head; a frame above max_frame_len is discarded unprocessed and uncounted, a runt passes [dev-dp-headroom]', () => {
    const t = negotiated();
    const max = t.device.caps.max_frame_len;
    offload(
      t,
      `mov %r6, %r1\nmov %r2, -200\ncall 44\njne %r0, 0, bad\nmov %r0, 2\nexit\nbad:\nmov %r0, 1\nexit\n`,
    );
    const grown = t.fromHost(ipv4Frame(17, 2, max));
    assert.equal(grown.offload, 'pass');
    assert.equal(grown.guest[0]?.delivered.length, max + 200);
    const big = t.fromHost(ipv4Frame(17, 2, max + 1));
    assert.equal(big.offload, 'unfit');
    assert.deepEqual([big.guest.length, big.toHost.length], [0, 0], 'nothing crosses past the program');
    const runt = t.fromHost(new Uint8Array(13));
    assert.equal(runt.offload, 'bypass');
    assert.equal(query(t.tap).packets, 1n);
  });

  test('PASS delivers the frame as the program left it, with no offload claimed [dev-dp-pass]', () => {
    const t = negotiated();
    offload(t, parsed(`  mov %r5, 0xaa\n  stxb [%r2+0], %r5\n  mov %r2, -4\n  call 65\n`));
    const frame = ipv4Frame();
    t.tap.transmit(frame);
    const buffer = t.device.receive();
    assert.ok(buffer !== undefined);
    assert.deepEqual([buffer.flags, buffer.gsoType], [0, 0]);
    const expected = frame.slice(0, frame.length - 4);
    expected[0] = 0xaa;
    assert.deepEqual(buffer.frame, expected);
  });

  test('DROP and undefined actions discard [dev-dp-drop]', () => {
    const t = negotiated();
    for (const action of [1, 5, 0x7fffffff]) {
      offload(t, returns(action));
      const fate = t.fromHost(ipv4Frame());
      assert.equal(fate.offload, 'drop');
      assert.deepEqual([fate.guest.length, fate.toHost.length], [0, 0]);
    }
    assert.equal(query(t.tap).drop, 3n);
  });

  test('ABORTED and run-time faults discard and count in aborted [dev-dp-aborted]', () => {
    const t = new Topology();
    t.fromHost(ipv4Frame()); // nothing attached: bypass
    for (const text of [returns(0), `ldxw %r2, [%r1+0]\nldxb %r0, [%r2+5000]\nexit\n`]) {
      // The second program is not verifiable; it is loaded straight into the host to fault at run time.
      const fd = t.programs.load('xdp', t.hostEngine.load(assemble(text)), 3);
      assert.equal(t.tap.ioctl(TUNXDPOFFLOAD, arg(TunXdpOffloadOp.ATTACH, fd)).errno, 0);
      const outcome = t.tap.transmit(ipv4Frame());
      assert.equal(outcome.fate, 'aborted');
      assert.equal(t.tap.read(), undefined);
    }
    assert.equal(query(t.tap).aborted, 2n);
  });

  test('TX sends the rewritten frame toward the host without running the program again [dev-dp-tx]', () => {
    const t = negotiated();
    offload(t, XDP2, [counters()]);
    const frame = ipv4Frame();
    const fate = t.fromHost(frame);
    assert.equal(fate.offload, 'tx');
    assert.equal(fate.guest.length, 0);
    const out = fate.toHost[0];
    assert.ok(out !== undefined);
    assert.deepEqual([...out.subarray(0, 6)], [...frame.subarray(6, 12)]);
    assert.deepEqual([...out.subarray(6, 12)], [...frame.subarray(0, 6)]);
    assert.equal(query(t.tap).packets, 1n);
  });

  test('REDIRECT discards and counts in redirect [dev-dp-redirect]', () => {
    const t = negotiated();
    offload(t, `mov %r1, 5\nmov %r2, 0\ncall 23\nexit\n`);
    const fate = t.fromHost(ipv4Frame());
    assert.equal(fate.offload, 'redirect');
    assert.deepEqual([fate.guest.length, fate.toHost.length], [0, 0]);
    assert.equal(query(t.tap).redirect, 1n);
  });

  test('bpf_redirect names nothing: any ifindex is a REDIRECT, nonzero flags ABORTED [dev-prog-helper-redirect]', () => {
    const u = negotiated();
    offload(
      u,
      `ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 1\nmov %r0, 1\njgt %r4, %r3, out\nldxb %r5, [%r2+0]\nmov %r2, 0\njne %r5, 0xee, go\nmov %r2, 1\ngo:\nmov %r1, 0xffffffff\ncall 23\nout:\nexit\n`,
    );
    const plain = ipv4Frame();
    const flagged = ipv4Frame(17, 0xee);
    assert.equal(u.fromHost(plain).offload, 'redirect');
    assert.equal(u.fromHost(flagged).offload, 'aborted');
    const q = query(u.tap);
    assert.deepEqual([q.redirect, q.aborted], [1n, 1n]);
  });
});

describe('tap interface', () => {
  test('TUNGETFEATURES reports IFF_XDP_OFFLOAD exactly when the hook exists [tun-features]', () => {
    assert.equal(new Topology().tap.features(), (TUN_BASE_FEATURES | IFF_XDP_OFFLOAD) >>> 0);
    assert.equal(new Topology({ offloadCapable: false }).tap.features(), TUN_BASE_FEATURES);
  });

  test('bad TUNXDPOFFLOAD arguments fail with EINVAL or EBADF and change nothing [tun-ioctl-args]', () => {
    const t = new Topology();
    const xdp = t.programs.load('xdp', t.hostEngine.load(assemble(returns(2))), 2);
    const filter = t.programs.load('socket_filter', t.hostEngine.load(assemble(returns(2))), 2);
    const undefinedOp = arg(TunXdpOffloadOp.QUERY, -1);
    undefinedOp[0] = 7;
    const detachWithFd = arg(TunXdpOffloadOp.QUERY, -1);
    detachWithFd[0] = TunXdpOffloadOp.DETACH;
    detachWithFd.set([xdp, 0, 0, 0], 4);
    const attachNegative = arg(TunXdpOffloadOp.QUERY, -1);
    attachNegative[0] = TunXdpOffloadOp.ATTACH;
    const cases: [Uint8Array, number][] = [
      [undefinedOp, 22],
      [arg(TunXdpOffloadOp.QUERY, -1, { flags: 0 }).map((b, i) => (i === 8 ? 1 : b)), 22],
      [arg(TunXdpOffloadOp.QUERY, -1, { prog_id: 4 }), 22],
      [detachWithFd, 22],
      [attachNegative, 22],
      [arg(TunXdpOffloadOp.ATTACH, 99), 9],
      [arg(TunXdpOffloadOp.ATTACH, filter), 22],
      [new Uint8Array(63), 22],
    ];
    for (const [bytes, errno] of cases) {
      assert.equal(t.tap.ioctl(TUNXDPOFFLOAD, bytes).errno, errno);
      assert.equal(t.tap.attachedId, 0);
    }
    assert.equal(t.tap.ioctl(0x400454ca, arg(TunXdpOffloadOp.QUERY, -1)).errno, 25); // TUNSETIFF: not modelled
    assert.equal(t.tap.ioctl(TUNXDPOFFLOAD, arg(TunXdpOffloadOp.ATTACH, xdp)).errno, 0);
  });

  test('DETACH without a program is ENOENT; ATTACH replaces [tun-attach-replace]', () => {
    const t = new Topology();
    assert.equal(t.tap.ioctl(TUNXDPOFFLOAD, arg(TunXdpOffloadOp.DETACH, -1)).errno, 2);
    const a = t.programs.load('xdp', t.hostEngine.load(assemble(returns(1))), 2);
    const b = t.programs.load('xdp', t.hostEngine.load(assemble(returns(2))), 2);
    t.tap.ioctl(TUNXDPOFFLOAD, arg(TunXdpOffloadOp.ATTACH, a));
    assert.equal(t.tap.transmit(ipv4Frame()).fate, 'drop');
    t.tap.ioctl(TUNXDPOFFLOAD, arg(TunXdpOffloadOp.ATTACH, b));
    assert.equal(t.tap.transmit(ipv4Frame()).fate, 'pass');
    assert.equal(query(t.tap).prog_id, t.programs.get(b)?.id);
    assert.equal(t.tap.ioctl(TUNXDPOFFLOAD, arg(TunXdpOffloadOp.DETACH, -1)).errno, 0);
    assert.equal(query(t.tap).prog_id, 0);
  });

  test("XDP_TX frames enter the tap's receive path, where its own program runs first [tun-hook]", () => {
    const t = negotiated();
    offload(t, XDP2, [counters()]);
    t.tap.setOwnProgram(t.hostEngine.load(assemble(returns(1))));
    assert.deepEqual(t.fromHost(ipv4Frame()).toHost, []);
    t.tap.setOwnProgram(t.hostEngine.load(assemble(returns(2))));
    assert.equal(t.fromHost(ipv4Frame()).toHost.length, 1);
  });
});
