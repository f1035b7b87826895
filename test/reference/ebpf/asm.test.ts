// Assembler and disassembler: every instruction form round-trips through text, any slot array has a
// text form that assembles back to the same slots, and errors name the line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, disassemble, AsmError } from '../../../src/reference/ebpf/index.js';
import { fc } from '../../support/fc.js';

import { form, I, off, imm } from '../../support/insns.js';

test('every instruction form round-trips: assemble(disassemble(p)) = p', () => {
  fc.assert(
    fc.property(fc.array(form, { minLength: 1, maxLength: 20 }), (groups) => {
      const insns = groups.flat();
      const text = disassemble(insns);
      assert.ok(
        !text.some((l) => l.startsWith('.insn')),
        `a canonical form fell back to .insn: ${text.join(' | ')}`,
      );
      assert.deepEqual(assemble(text.join('\n')), insns);
    }),
  );
});

test('any slot array, even undefined instructions, round-trips through text', () => {
  const slot = fc.record(
    {
      code: fc.integer({ min: 0, max: 255 }),
      dst_reg: fc.integer({ min: 0, max: 15 }),
      src_reg: fc.integer({ min: 0, max: 15 }),
      off,
      imm,
    },
    { noNullPrototype: true },
  );
  fc.assert(
    fc.property(fc.array(slot, { maxLength: 16 }), (insns) => {
      assert.deepEqual(assemble(disassemble(insns).join('\n')), insns);
    }),
  );
});

test('the suite syntax: labels, exit as a target, hex immediates as u32, comments', () => {
  const p = assemble(`
    mov32 %r0, 0xffffffff   # hex reads as u32, so -1
    jeq %r0, -1, done
    ja exit
  done: lddw %r1, 0x1122334455667788
    ldxh %r2, [%r10-2]
    lock fetch add32 [%r1+8], %r2
    call local f
    exit
  f: exit`);
  assert.deepEqual(p[0], I(0xb4, 0, 0, 0, -1));
  assert.deepEqual(p[1], I(0x15, 0, 0, 1, -1));
  assert.deepEqual(p[2], I(0x05, 0, 0, 6, 0));
  assert.deepEqual(p.slice(3, 5), [I(0x18, 1, 0, 0, 0x55667788), I(0, 0, 0, 0, 0x11223344)]);
  assert.deepEqual(p[5], I(0x69, 2, 10, -2, 0));
  assert.deepEqual(p[6], I(0xc3, 1, 2, 8, 0x01));
  assert.deepEqual(p[7], I(0x85, 0, 1, 0, 1));
});

test('assembly errors are AsmError with the line', () => {
  const cases: [string, RegExp][] = [
    ['mov %r11, 1', /line 1: expected a register/],
    ['nop', /line 1: unknown instruction "nop"/],
    ['exit\nja nowhere', /line 2: undefined label nowhere/],
    ['mov32 %r0, 0x100000000', /does not fit 32 bits/],
    ['ldxw %r0, %r1', /memory operand/],
    ['x: exit\nx: exit', /line 2: label x defined twice/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => assemble(text),
      (e: unknown) => e instanceof AsmError && message.test(e.message),
    );
  }
});
