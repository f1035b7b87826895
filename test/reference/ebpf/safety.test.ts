// Safety: whatever the program and input, the engine stops with a typed EngineFault or a result,
// never a JavaScript exception or an out-of-bounds read; and the specific faults are the right ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EngineFault,
  XdpEngine,
  assemble,
  runConformanceProgram,
  decodeProgram,
  Vm,
} from '../../../src/reference/ebpf/index.js';
import type { BpfInsn } from '../../../src/codec/index.js';
import { fc } from '../../support/fc.js';
import { formWith, I } from '../../support/insns.js';

const smallOff = fc.integer({ min: -6, max: 12 });
const smallImm = fc.oneof(
  fc.integer({ min: -8, max: 64 }),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
);
const anySlot = fc.record(
  {
    code: fc.integer({ min: 0, max: 255 }),
    dst_reg: fc.integer({ min: 0, max: 15 }),
    src_reg: fc.integer({ min: 0, max: 15 }),
    off: fc.integer({ min: -32768, max: 32767 }),
    imm: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  },
  { noNullPrototype: true },
);
/** Programs biased towards well-formed instructions with short jumps, so runs get somewhere. */
const program: fc.Arbitrary<BpfInsn[]> = fc
  .array(
    fc.oneof(
      { weight: 8, arbitrary: formWith(smallOff, smallImm) },
      { weight: 1, arbitrary: anySlot.map((s) => [s]) },
    ),
    {
      minLength: 1,
      maxLength: 40,
    },
  )
  .map((g) => g.flat());

test('random programs on random memory end in a result or an EngineFault, nothing else', () => {
  fc.assert(
    fc.property(program, fc.uint8Array({ maxLength: 64 }), (insns, mem) => {
      const r = runConformanceProgram(insns, mem);
      assert.ok(typeof r === 'bigint' || r instanceof EngineFault, String(r));
    }),
    { numRuns: Number(process.env.FC_RUNS ?? 2000) },
  );
});

test('random programs as XDP on random packets: a verdict, with any fault reported as ABORTED', () => {
  const engine = new XdpEngine();
  engine.createMap({ type: 2, keySize: 4, valueSize: 8, maxEntries: 4 });
  engine.createMap({ type: 1, keySize: 4, valueSize: 8, maxEntries: 4 });
  fc.assert(
    fc.property(program, fc.uint8Array({ minLength: 14, maxLength: 128 }), (insns, packet) => {
      const r = engine.run(engine.load(insns), packet, {}, 10_000);
      if (r.fault !== undefined) assert.equal(r.action, 0);
      assert.ok(r.output.length <= 3520 + 32);
    }),
    { numRuns: Number(process.env.FC_RUNS ?? 2000) },
  );
});

function faultOf(text: string, mem = new Uint8Array(8)): EngineFault {
  const r = runConformanceProgram(assemble(text), mem);
  assert.ok(r instanceof EngineFault, `expected a fault, got ${String(r)}`);
  return r;
}

test('each kind of bad run stops with its typed fault at the right instruction', () => {
  const cases: [string, string, number][] = [
    ['ldxw %r0, [%r1+6]\nexit', 'out-of-bounds', 0],
    ['ldxb %r0, [%r1-1]\nexit', 'out-of-bounds', 0],
    ['mov %r0, 0\nldxdw %r0, [%r0+0]\nexit', 'bad-pointer', 1],
    ['mov %r0, %r10\nstxdw [%r10-520], %r0\nexit', 'out-of-bounds', 1], // below the stack's window
    ['lddw %r1, 0x10000000000\nmov %r0, %r10\nadd %r0, %r1\nldxb %r0, [%r0+0]\nexit', 'bad-pointer', 4], // another upper word
    ['mov %r0, 1', 'invalid-instruction', 1],
    ['l: ja l', 'budget', 0],
    ['call 99\nexit', 'unknown-helper', 0],
    ['f: call local f\nexit', 'call-depth', 0],
    ['.insn 0xbf, 10, 1, 0, 0\nexit', 'invalid-instruction', 0],
    ['.insn 0x07, 11, 0, 0, 1\nexit', 'invalid-instruction', 0],
    ['.insn 0x8f, 0, 0, 0, 0\nexit', 'invalid-instruction', 0],
    ['ja +5\nexit', 'invalid-instruction', 0],
    ['lddw %r0, 1\nja -2\nexit', 'invalid-instruction', 1], // lands in the second slot of ld_imm64
  ];
  for (const [text, kind, pc] of cases) {
    const f = faultOf(text);
    assert.equal(f.kind, kind, `${text}: ${f.message}`);
    assert.equal(f.pc, pc, `${text}: ${f.message}`);
  }
});

test('a budget bounds every run', () => {
  const vm = new Vm();
  assert.throws(
    () => vm.execute(decodeProgram(assemble('l: ja l')), 1000),
    (e: unknown) => e instanceof EngineFault && e.kind === 'budget',
  );
  vm.execute(decodeProgram([I(0xb7, 0, 0, 0, 7), I(0x95, 0, 0, 0, 0)]), 2);
  assert.equal(vm.reg(0), 7n);
  assert.equal(vm.steps, 2);
});
