// Program arrays and bpf_tail_call (X.7.4, X.8.4): the engine's tail-call semantics (Linux's order
// of checks, the limit of 33), the verifier's rules for the helper and the map type, and
// PROG_ARRAY_LOAD through the driver, the device and the tap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfMapType, Errno, XdpAction, XdpStatus, type BpfInsn } from '../../../src/codec/index.js';
import { assemble, isProgArray, MAX_TAIL_CALLS, XdpEngine } from '../../../src/reference/ebpf/index.js';
import type { MapDefinition } from '../../../src/reference/ebpf/maps.js';
import { verify } from '../../../src/reference/verifier/index.js';
import { ipv4Frame, negotiated } from '../../support/offload.js';

const le32 = (n: number) => Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
const PROG_ARRAY: MapDefinition = { type: BpfMapType.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4 };
const COUNTER: MapDefinition = { type: BpfMapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 };

/** `r0 = verdict` after a tail call into slot `index` of the array in handle `jmp` (which may fail). */
const dispatcher = (jmp: number, index: number, verdict: number) =>
  assemble(`
    lddw %r2, ${jmp}
    mov %r3, ${index}
    call 12
    mov %r0, ${verdict}
    exit`).map((insn, i) => (i === 0 ? { ...insn, src_reg: 1 } : insn));

/** Counts into the counter map (handle `counter`), then tail-calls slot 0 of `jmp` (itself), then returns PASS. */
const selfCaller = (jmp: number, counter: number): BpfInsn[] =>
  assemble(`
    mov %r6, %r1
    stw [%r10-4], 0
    mov %r2, %r10
    add %r2, -4
    lddw %r1, ${counter}
    call 1
    jeq %r0, 0, +2
    mov %r1, 1
    lock add [%r0+0], %r1
    mov %r1, %r6
    lddw %r2, ${jmp}
    mov %r3, 0
    call 12
    mov %r0, 2
    exit`).map((insn) => (insn.code === 0x18 ? { ...insn, src_reg: 1 } : insn));

const frame = ipv4Frame(17);

test("a tail call continues in the slot's program; an empty slot or an index beyond the array falls through [dev-prog-tail-call]", () => {
  const engine = new XdpEngine();
  const jmp = engine.createMap(PROG_ARRAY);
  const array = engine.map(jmp);
  assert.ok(isProgArray(array));
  const target = engine.load(assemble('mov %r0, 3\nexit')); // XDP_TX
  assert.equal(array.set(1, { program: target, insnCnt: 2, handles: new Set() }), 0);
  assert.equal(engine.run(engine.load(dispatcher(jmp, 1, 2)), frame).retval, XdpAction.TX);
  assert.equal(engine.run(engine.load(dispatcher(jmp, 2, 2)), frame).retval, XdpAction.PASS, 'empty slot');
  assert.equal(
    engine.run(engine.load(dispatcher(jmp, 9, 1)), frame).retval,
    XdpAction.DROP,
    'beyond max_entries',
  );
  assert.equal(array.set(4, { program: target, insnCnt: 2, handles: new Set() }), Errno.E2BIG);
  // The byte-valued operations are refused: a slot's value is a program.
  assert.equal(array.lookup(), Errno.EOPNOTSUPP);
  assert.equal(array.update(), Errno.EOPNOTSUPP);
  assert.equal(array.delete(le32(2)), Errno.ENOENT);
  assert.equal(array.delete(le32(4)), Errno.E2BIG);
  assert.equal(array.delete(le32(1)), 0);
  assert.equal(engine.run(engine.load(dispatcher(jmp, 1, 2)), frame).retval, XdpAction.PASS);
});

test('one run makes at most 33 tail calls, then the call falls through, as Linux counts them [dev-prog-tail-call]', () => {
  const engine = new XdpEngine();
  const jmp = engine.createMap(PROG_ARRAY);
  const counter = engine.createMap(COUNTER);
  const self = engine.load(selfCaller(jmp, counter));
  const array = engine.map(jmp);
  assert.ok(isProgArray(array));
  array.set(0, { program: self, insnCnt: 16, handles: new Set() });
  const result = engine.run(self, frame);
  assert.equal(result.retval, XdpAction.PASS);
  assert.equal(result.fault, undefined);
  // The first run and 33 tail calls each counted once.
  const value = engine.map(counter)?.lookup(le32(0)) as Uint8Array;
  assert.equal(
    new DataView(value.buffer, value.byteOffset).getBigUint64(0, true),
    BigInt(MAX_TAIL_CALLS + 1),
  );
});

test('the verifier: bpf_tail_call takes the context and a program array, and leaves r0 unreadable [dev-prog-verify]', () => {
  const maps = new Map([
    [1, PROG_ARRAY],
    [2, COUNTER],
  ]);
  assert.equal(verify(dispatcher(1, 0, 2), { maps, privileged: false }).accepted, true);
  const readsR0 = assemble('lddw %r2, 1\nmov %r3, 0\ncall 12\nexit').map((insn, i) =>
    i === 0 ? { ...insn, src_reg: 1 } : insn,
  );
  const r0 = verify(readsR0, { maps, privileged: false });
  assert.equal(r0.errno, Errno.EACCES);
  assert.match(r0.log.join('\n'), /R0 !read_ok/);
  const wrongMap = verify(dispatcher(2, 0, 2), { maps, privileged: false });
  assert.equal(wrongMap.errno, Errno.EINVAL);
  assert.match(wrongMap.log.join('\n'), /cannot pass map_type 2 into func bpf_tail_call#12/);
  const lookup = assemble(`
    stw [%r10-4], 0
    mov %r2, %r10
    add %r2, -4
    lddw %r1, 1
    call 1
    mov %r0, 2
    exit`).map((insn) => (insn.code === 0x18 ? { ...insn, src_reg: 1 } : insn));
  // Linux's interpreter cannot mix tail calls and bpf-to-bpf calls: refused after the walk.
  const mixed = assemble(`
    lddw %r2, 1
    mov %r3, 0
    call 12
    call local f
    exit
    f:
    mov %r0, 2
    exit`).map((insn, i) => (i === 0 ? { ...insn, src_reg: 1 } : insn));
  const both = verify(mixed, { maps, privileged: true });
  assert.equal(both.errno, Errno.EINVAL);
  assert.deepEqual(both.log, ['tail_calls are not allowed in non-JITed programs with bpf-to-bpf calls']);
  const prog = verify(lookup, { maps, privileged: false });
  assert.equal(prog.errno, Errno.EINVAL);
  assert.match(prog.log.join('\n'), /cannot pass map_type 3 into func bpf_map_lookup_elem#1/);
});

test('PROG_ARRAY_LOAD through the driver, the device and the tap: slots, refusals, references and reset [dev-prog-array-load] [dev-map-free-in-use]', () => {
  const t = negotiated();
  const driver = t.driver;
  const jmp = driver.mapCreate(PROG_ARRAY, true);
  const counter = driver.mapCreate(COUNTER, true);
  const plain = driver.mapCreate(COUNTER, true);
  assert.ok('fd' in jmp && 'fd' in counter && 'fd' in plain);
  const tx = assemble('mov %r0, 3\nexit');
  // The slot is checked before the program: a map that is not a program array, an index beyond it.
  assert.equal(driver.progArrayLoad(plain.fd, 0, tx).errno, Errno.EINVAL);
  assert.equal(driver.progArrayLoad(jmp.fd, 4, tx).errno, Errno.E2BIG);
  assert.equal(driver.progArrayLoad(99, 0, tx).errno, Errno.EBADF);
  // A program the verifier refuses leaves the slot as it was, and comes back with its log.
  const refused = driver.progArrayLoad(jmp.fd, 1, assemble('exit'));
  assert.equal(refused.errno, Errno.EACCES);
  assert.match(refused.log ?? '', /R0 !read_ok/);
  // A slot program that counts, then returns XDP_TX; the attached program dispatches into slot 1.
  const counting = selfCaller(jmp.fd, counter.fd).slice(0, 10).concat(assemble('mov %r0, 3\nexit'));
  const placed = driver.progArrayLoad(jmp.fd, 1, counting);
  assert.equal(placed.errno, 0, placed.log);
  assert.equal(driver.attach(dispatcher(jmp.fd, 1, 2), 'offload').errno, 0);
  assert.equal(t.fromHost(frame.slice()).offload, 'tx');
  const count = () =>
    new DataView((driver.mapLookup(counter.fd, le32(0)) as Uint8Array).buffer).getBigUint64(0, true);
  assert.equal(count(), 1n);
  // The counter is held by the slot's program: it cannot be freed; the slot's values are programs.
  assert.equal(driver.mapFree(counter.fd), XdpStatus.EBUSY);
  assert.equal(driver.mapLookup(jmp.fd, le32(1)), XdpStatus.EOPNOTSUPP);
  assert.equal(driver.mapUpdate(jmp.fd, le32(1), le32(0)), XdpStatus.EOPNOTSUPP);
  // A reset: the driver creates its maps again and places the slot's program before the attach.
  assert.equal(driver.reset(), 0);
  assert.equal(t.fromHost(frame.slice()).offload, 'tx');
  // MAP_DELETE empties the slot: the dispatcher falls through to XDP_PASS.
  assert.equal(driver.mapDelete(jmp.fd, le32(1)), 0);
  assert.equal(driver.mapDelete(jmp.fd, le32(1)), XdpStatus.ENOENT);
  assert.equal(t.fromHost(frame.slice()).offload, 'pass');
  assert.equal(driver.detach('offload'), 0);
  assert.equal(driver.mapFree(counter.fd), 0);
  assert.equal(driver.mapFree(jmp.fd), 0);
});

test('a program array may hold a program that references it; freeing the array drops its slots [dev-map-free-in-use]', () => {
  const t = negotiated();
  const driver = t.driver;
  const jmp = driver.mapCreate(PROG_ARRAY, true);
  const counter = driver.mapCreate(COUNTER, true);
  assert.ok('fd' in jmp && 'fd' in counter);
  assert.equal(driver.progArrayLoad(jmp.fd, 0, selfCaller(jmp.fd, counter.fd)).errno, 0);
  assert.equal(driver.attach(selfCaller(jmp.fd, counter.fd), 'offload').errno, 0);
  assert.equal(t.fromHost(frame.slice()).offload, 'pass');
  assert.equal(
    new DataView((driver.mapLookup(counter.fd, le32(0)) as Uint8Array).buffer).getBigUint64(0, true),
    34n,
  );
  assert.equal(driver.mapFree(jmp.fd), XdpStatus.EBUSY, 'the attached program uses it');
  assert.equal(driver.detach('offload'), 0);
  assert.equal(driver.mapFree(jmp.fd), 0, "its own slot's reference does not hold it");
  assert.equal(driver.mapFree(counter.fd), 0, 'nor does a slot of a freed array');
});
