// XDP runs shaped like BPF_PROG_TEST_RUN: input limits, struct xdp_md, the adjust helpers, redirect,
// packet copies, and the xdp1/xdp2 samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  XdpEngine,
  TestRunError,
  assemble,
  XDP_MAX_LINEAR,
  XDP_MAX_FRAME,
} from '../../../src/reference/ebpf/index.js';
import { XDP1, XDP2, PROTO_COUNTERS, udpFrame } from '../../../src/reference/ebpf/samples.js';

const frame = (n: number) => Uint8Array.from({ length: n }, (_, i) => i & 0xff);

function runAsm(text: string, packet = frame(64), ctx = {}) {
  const e = new XdpEngine();
  return e.run(e.load(assemble(text)), packet, ctx);
}

test('test-run input: under 14 bytes is EINVAL; beyond 3520 the rest goes to fragments; beyond 17 fragments ENOMEM', () => {
  const e = new XdpEngine();
  const len = e.load(assemble('ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r0, %r3\nsub %r0, %r2\nexit'));
  for (const n of [0, 13]) {
    assert.throws(
      () => e.run(len, new Uint8Array(n)),
      (err: unknown) => err instanceof TestRunError && err.errno === 22,
    );
  }
  assert.equal(e.run(len, frame(14)).retval, 14);
  assert.equal(e.run(len, frame(XDP_MAX_LINEAR)).output.length, XDP_MAX_LINEAR);
  const big = e.run(len, frame(XDP_MAX_LINEAR + 80));
  assert.equal(big.retval, XDP_MAX_LINEAR, 'the program sees the linear part only');
  assert.deepEqual(big.output, frame(XDP_MAX_LINEAR + 80), 'the output carries the fragments');
  assert.equal(e.run(len, new Uint8Array(XDP_MAX_FRAME)).output.length, XDP_MAX_FRAME);
  assert.throws(
    () => e.run(len, new Uint8Array(XDP_MAX_FRAME + 1)),
    (err: unknown) => err instanceof TestRunError && err.errno === 12,
  );
});

test('with fragments, the tail helper shrinks and grows the last fragment and the copy helpers reach it', () => {
  const shrunk = runAsm(adjust(65, -100), frame(XDP_MAX_LINEAR + 80));
  assert.equal(shrunk.retval, 0);
  assert.equal(
    shrunk.output.length,
    XDP_MAX_LINEAR - 20,
    'the 80 fragment bytes go first, then 20 linear ones',
  );
  const grown = runAsm(adjust(65, 16), frame(XDP_MAX_LINEAR + 80));
  assert.equal(grown.output.length, XDP_MAX_LINEAR + 96);
  const load = runAsm(
    `
    mov %r2, ${XDP_MAX_LINEAR - 2}
    mov %r3, %r10
    add %r3, -8
    mov %r4, 4
    call 189
    jne %r0, 0, out
    ldxw %r0, [%r10-8]
  out:
    exit`,
    frame(XDP_MAX_LINEAR + 80),
  );
  const f = frame(XDP_MAX_LINEAR + 80);
  const want = f.slice(XDP_MAX_LINEAR - 2, XDP_MAX_LINEAR + 2);
  assert.equal(
    load.retval,
    new DataView(want.buffer).getUint32(0, true) >>> 0,
    'a copy across the linear end into the fragment',
  );
});

const adjust = (helper: number, delta: number) => `
  mov %r6, %r1
  mov %r2, ${delta}
  call ${helper}
  exit`;

test('struct xdp_md: data_end - data is the length; ingress_ifindex and rx_queue_index as given', () => {
  const len = runAsm('ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r0, %r3\nsub %r0, %r2\nexit', frame(77));
  assert.equal(len.retval, 77);
  assert.equal(
    runAsm('ldxw %r0, [%r1+12]\nexit', frame(20)).retval,
    1,
    'the loopback device, as Linux reports it',
  );
  assert.equal(runAsm('ldxw %r0, [%r1+12]\nexit', frame(20), { ingress_ifindex: 9 }).retval, 9);
  assert.equal(runAsm('ldxw %r0, [%r1+16]\nexit', frame(20), { rx_queue_index: 3 }).retval, 3);
  assert.equal(runAsm('ldxw %r0, [%r1+20]\nexit').retval, 0);
  const meta = runAsm('ldxw %r2, [%r1+0]\nldxw %r3, [%r1+8]\nmov %r0, %r2\nsub %r0, %r3\nexit');
  assert.equal(meta.retval, 0, 'data_meta equals data');
});

test('bad context accesses abort the run', () => {
  for (const text of [
    'ldxh %r0, [%r1+0]\nexit',
    'ldxw %r0, [%r1+24]\nexit',
    'stw [%r1+12], 1\nmov %r0, 2\nexit',
    'ldxw %r0, [%r1+2]\nexit',
  ]) {
    const r = runAsm(text);
    assert.equal(r.action, 0, text);
    assert.ok(
      r.fault !== undefined && ['bad-context-access', 'out-of-bounds', 'read-only'].includes(r.fault.kind),
      text,
    );
  }
});

test('packet accesses are bounded by data_end', () => {
  const ok = runAsm('ldxw %r2, [%r1+0]\nldxb %r0, [%r2+63]\nexit', frame(64));
  assert.equal(ok.retval, 63);
  const bad = runAsm('ldxw %r2, [%r1+0]\nldxb %r0, [%r2+64]\nexit', frame(64));
  assert.equal(bad.fault?.kind, 'out-of-bounds');
});

test('bpf_xdp_adjust_head grows into headroom (zeros) and refuses what Linux refuses', () => {
  const grown = runAsm(adjust(44, -4), frame(20));
  assert.equal(grown.retval, 0);
  assert.deepEqual(grown.output, Uint8Array.from([0, 0, 0, 0, ...frame(20)]));
  assert.equal(runAsm(adjust(44, -216), frame(20)).output.length, 236, 'down to sizeof(struct xdp_frame)');
  assert.equal(runAsm(adjust(44, -217), frame(20)).retval, 0xffffffea, '-EINVAL');
  assert.equal(runAsm(adjust(44, 6), frame(20)).retval, 0, 'leaves 14 bytes');
  assert.equal(runAsm(adjust(44, 7), frame(20)).retval, 0xffffffea, 'would leave 13');
  assert.deepEqual(runAsm(adjust(44, 6), frame(20)).output, frame(20).slice(6));
});

test('bpf_xdp_adjust_tail grows with zeros up to the 3520-byte frame and shrinks to 14 bytes', () => {
  const grown = runAsm(adjust(65, 10), frame(20));
  assert.deepEqual(grown.output, Uint8Array.from([...frame(20), ...new Uint8Array(10)]));
  assert.equal(runAsm(adjust(65, XDP_MAX_LINEAR - 20), frame(20)).retval, 0);
  assert.equal(runAsm(adjust(65, XDP_MAX_LINEAR - 19), frame(20)).retval, 0xffffffea);
  assert.equal(runAsm(adjust(65, -6), frame(20)).output.length, 14);
  assert.equal(runAsm(adjust(65, -7), frame(20)).retval, 0xffffffea);
});

test('bpf_xdp_adjust_meta: 4-byte multiples up to 32 bytes, visible in the output', () => {
  const r = runAsm(adjust(54, -8), frame(20));
  assert.equal(r.retval, 0);
  assert.equal(r.output.length, 28);
  assert.equal(runAsm(adjust(54, -3), frame(20)).retval, 0xfffffff3, '-EACCES');
  assert.equal(runAsm(adjust(54, -36), frame(20)).retval, 0xfffffff3, '-EACCES');
  assert.equal(runAsm(adjust(54, 4), frame(20)).retval, 0xffffffea, 'above data: -EINVAL');
});

test('bpf_redirect returns XDP_REDIRECT and records the target; nonzero flags give XDP_ABORTED', () => {
  const r = runAsm('mov %r1, 5\nmov %r2, 0\ncall 23\nexit');
  assert.equal(r.action, 4);
  assert.equal(r.redirectTarget, 5);
  assert.equal(runAsm('mov %r1, 5\nmov %r2, 1\ncall 23\nexit').retval, 0);
});

test('bpf_xdp_load_bytes and bpf_xdp_store_bytes copy within data..data_end only', () => {
  const copy = runAsm(
    `
    mov %r6, %r1
    mov %r2, 2
    mov %r3, %r10
    add %r3, -8
    mov %r4, 4
    call 189
    jne %r0, 0, out
    mov %r1, %r6
    mov %r2, 0
    mov %r3, %r10
    add %r3, -8
    mov %r4, 4
    call 190
  out:
    exit`,
    frame(20),
  );
  assert.equal(copy.retval, 0);
  assert.deepEqual(copy.output.slice(0, 4), Uint8Array.of(2, 3, 4, 5));
  const past = runAsm('mov %r2, 18\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 4\ncall 189\nexit', frame(20));
  assert.equal(past.retval, 0xffffffea);
});

test('xdp1 counts per IP protocol and drops; xdp2 swaps MAC addresses and transmits', () => {
  const e = new XdpEngine();
  const h = e.createMap(PROTO_COUNTERS);
  const xdp1 = e.load(assemble(XDP1));
  const xdp2 = e.load(assemble(XDP2));
  const udp = udpFrame();
  for (let i = 0; i < 3; i++) assert.equal(e.run(xdp1, udp).action, 1);
  const tx = e.run(xdp2, udp);
  assert.equal(tx.action, 3);
  assert.deepEqual(tx.output.slice(0, 12), Uint8Array.from([...udp.slice(6, 12), ...udp.slice(0, 6)]));
  assert.deepEqual(tx.output.slice(12), udp.slice(12));
  assert.deepEqual(e.map(h)?.lookup(Uint8Array.of(17, 0, 0, 0)), Uint8Array.of(4, 0, 0, 0, 0, 0, 0, 0));
  const runt = e.run(xdp1, udp.slice(0, 20)); // IPv4 header cut short: counted under protocol 0? no: dropped uncounted
  assert.equal(runt.action, 1);
  assert.deepEqual(e.map(h)?.lookup(Uint8Array.of(0, 0, 0, 0)), new Uint8Array(8));
});
