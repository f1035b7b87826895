// The engine against an independent bigint model of RFC 9669 (ALU, ALU64, JMP, JMP32, byte swaps,
// sign extension, loads, stores and atomics), on random operands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, runConformanceProgram, EngineFault } from '../../../src/reference/ebpf/index.js';
import type { BpfInsn } from '../../../src/codec/index.js';
import { fc } from '../../support/fc.js';
import { I } from '../../support/insns.js';

const M64 = (1n << 64n) - 1n;
const u64 = (v: bigint) => BigInt.asUintN(64, v);
const u32 = (v: bigint) => BigInt.asUintN(32, v);
const s32 = (v: bigint) => BigInt.asIntN(32, v);

/** RFC 9669 4.1 as a bigint model. */
function alu(op: string, a: bigint, b: bigint, wide: boolean): bigint {
  const W = wide ? 64 : 32;
  const U = (v: bigint) => BigInt.asUintN(W, v);
  const S = (v: bigint) => BigInt.asIntN(W, v);
  const x = U(a);
  const y = U(b);
  const n = y & BigInt(W - 1);
  switch (op) {
    case 'add':
      return U(x + y);
    case 'sub':
      return U(x - y);
    case 'mul':
      return U(x * y);
    case 'div':
      return y === 0n ? 0n : x / y;
    case 'mod':
      return y === 0n ? x : x % y;
    case 'sdiv':
      return y === 0n ? 0n : U(S(x) / S(y));
    case 'smod':
      return y === 0n ? x : U(S(x) % S(y));
    case 'or':
      return x | y;
    case 'and':
      return x & y;
    case 'xor':
      return x ^ y;
    case 'lsh':
      return U(x << n);
    case 'rsh':
      return x >> n;
    case 'arsh':
      return U(S(x) >> n);
    case 'mov':
      return y;
  }
  throw new Error(op);
}
const OPS: [string, number, number][] = [
  ['add', 0x00, 0],
  ['sub', 0x10, 0],
  ['mul', 0x20, 0],
  ['div', 0x30, 0],
  ['sdiv', 0x30, 1],
  ['or', 0x40, 0],
  ['and', 0x50, 0],
  ['lsh', 0x60, 0],
  ['rsh', 0x70, 0],
  ['mod', 0x90, 0],
  ['smod', 0x90, 1],
  ['xor', 0xa0, 0],
  ['mov', 0xb0, 0],
  ['arsh', 0xc0, 0],
];

function ld64(reg: number, v: bigint): BpfInsn[] {
  const w = u64(v);
  return [I(0x18, reg, 0, 0, Number(s32(w & 0xffffffffn))), I(0, 0, 0, 0, Number(s32(w >> 32n)))];
}
function run(insns: BpfInsn[], memory = new Uint8Array(0)): bigint {
  const r = runConformanceProgram(insns, memory);
  if (r instanceof EngineFault) throw r;
  return r;
}

const interesting = fc.oneof(
  fc.bigInt({ min: 0n, max: M64 }),
  fc.constantFrom(
    0n,
    1n,
    2n,
    31n,
    32n,
    63n,
    64n,
    M64,
    1n << 63n,
    (1n << 63n) - 1n,
    0xffffffffn,
    0x80000000n,
    0x7fffffffn,
    1n << 32n,
  ),
);

test('ALU64 and ALU, register and immediate forms, match the model bit for bit', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...OPS),
      interesting,
      interesting,
      fc.boolean(),
      fc.boolean(),
      ([name, op, o], a, b, wide, useImm) => {
        const cls = wide ? 0x07 : 0x04;
        const k = Number(s32(b & 0xffffffffn));
        const operand = useImm ? (wide ? u64(BigInt(k)) : u32(BigInt(k))) : b;
        const prog = useImm
          ? [...ld64(0, a), I(cls | op, 0, 0, o, k), I(0x95, 0, 0, 0, 0)]
          : [...ld64(0, a), ...ld64(1, b), I(cls | op | 8, 0, 1, o, 0), I(0x95, 0, 0, 0, 0)];
        assert.equal(run(prog), alu(name, a, operand, wide), `${name}${wide ? '' : '32'} ${a} ${operand}`);
      },
    ),
  );
});

const JMPS: [string, number, (a: bigint, b: bigint, W: number) => boolean][] = [
  ['jeq', 0x10, (a, b) => a === b],
  ['jgt', 0x20, (a, b) => a > b],
  ['jge', 0x30, (a, b) => a >= b],
  ['jset', 0x40, (a, b) => (a & b) !== 0n],
  ['jne', 0x50, (a, b) => a !== b],
  ['jsgt', 0x60, (a, b, W) => BigInt.asIntN(W, a) > BigInt.asIntN(W, b)],
  ['jsge', 0x70, (a, b, W) => BigInt.asIntN(W, a) >= BigInt.asIntN(W, b)],
  ['jlt', 0xa0, (a, b) => a < b],
  ['jle', 0xb0, (a, b) => a <= b],
  ['jslt', 0xc0, (a, b, W) => BigInt.asIntN(W, a) < BigInt.asIntN(W, b)],
  ['jsle', 0xd0, (a, b, W) => BigInt.asIntN(W, a) <= BigInt.asIntN(W, b)],
];

test('JMP and JMP32 comparisons, register and immediate forms, match the model', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...JMPS),
      interesting,
      interesting,
      fc.boolean(),
      fc.boolean(),
      ([, op, taken], a, b, wide, useImm) => {
        const cls = wide ? 0x05 : 0x06;
        const W = wide ? 64 : 32;
        const k = Number(s32(b & 0xffffffffn));
        const operand = useImm ? BigInt.asUintN(W, BigInt(k)) : BigInt.asUintN(W, b);
        const jump = useImm
          ? [...ld64(0, a), I(cls | op, 0, 0, 2, k)]
          : [...ld64(0, a), ...ld64(1, b), I(cls | op | 8, 0, 1, 2, 0)];
        const prog = [
          ...jump,
          I(0xb7, 0, 0, 0, 0),
          I(0x95, 0, 0, 0, 0),
          I(0xb7, 0, 0, 0, 1),
          I(0x95, 0, 0, 0, 0),
        ];
        assert.equal(run(prog), taken(BigInt.asUintN(W, a), operand, W) ? 1n : 0n);
      },
    ),
  );
});

const swap = (v: bigint, bytes: number) => {
  let out = 0n;
  for (let i = 0; i < bytes; i++) out = (out << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
  return out;
};

test('byte swaps, negation and sign-extending moves match the model', () => {
  fc.assert(
    fc.property(interesting, fc.constantFrom(16, 32, 64), (a, w) => {
      const mask = (1n << BigInt(w)) - 1n;
      assert.equal(
        run([...ld64(0, a), I(0xdc, 0, 0, 0, w), I(0x95, 0, 0, 0, 0)]),
        swap(a & mask, w / 8),
        'be',
      );
      assert.equal(run([...ld64(0, a), I(0xd4, 0, 0, 0, w), I(0x95, 0, 0, 0, 0)]), a & mask, 'le');
      assert.equal(
        run([...ld64(0, a), I(0xd7, 0, 0, 0, w), I(0x95, 0, 0, 0, 0)]),
        swap(a & mask, w / 8),
        'bswap',
      );
      assert.equal(run([...ld64(0, a), I(0x87, 0, 0, 0, 0), I(0x95, 0, 0, 0, 0)]), u64(-a), 'neg');
      assert.equal(run([...ld64(0, a), I(0x84, 0, 0, 0, 0), I(0x95, 0, 0, 0, 0)]), u32(-a), 'neg32');
      for (const bits of [8, 16, 32]) {
        assert.equal(
          run([...ld64(1, a), I(0xbf, 0, 1, bits, 0), I(0x95, 0, 0, 0, 0)]),
          u64(BigInt.asIntN(bits, a)),
          `movsx${bits}64`,
        );
        if (bits < 32)
          assert.equal(
            run([...ld64(1, a), I(0xbc, 0, 1, bits, 0), I(0x95, 0, 0, 0, 0)]),
            u32(BigInt.asIntN(bits, a)),
            `movsx${bits}32`,
          );
      }
    }),
  );
});

test('loads, sign-extending loads, stores and atomics on memory match the model', () => {
  const sizes: [number, number][] = [
    [0x10, 1],
    [0x08, 2],
    [0x00, 4],
    [0x18, 8],
  ];
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.constantFrom(...sizes),
      fc.integer({ min: 0, max: 8 }),
      interesting,
      (bytes, [sz, n], at, v) => {
        const read = (b: Uint8Array, signed: boolean) => {
          let x = 0n;
          for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[at + i] as number);
          return signed ? u64(BigInt.asIntN(n * 8, x)) : x;
        };
        assert.equal(
          run([I(0x61 | sz, 0, 1, at, 0), I(0x95, 0, 0, 0, 0)], Uint8Array.from(bytes)),
          read(bytes, false),
          'ldx',
        );
        if (n < 8)
          assert.equal(
            run([I(0x81 | sz, 0, 1, at, 0), I(0x95, 0, 0, 0, 0)], Uint8Array.from(bytes)),
            read(bytes, true),
            'ldxs',
          );
        // store then read back the whole 16 bytes' first 8 and last 8
        const mem = Uint8Array.from(bytes);
        run([...ld64(2, v), I(0x63 | sz, 1, 2, at, 0), I(0xb7, 0, 0, 0, 0), I(0x95, 0, 0, 0, 0)], mem);
        const want = Uint8Array.from(bytes);
        for (let i = 0; i < n; i++) want[at + i] = Number((v >> BigInt(8 * i)) & 0xffn);
        assert.deepEqual(mem, want, 'stx');
      },
    ),
  );
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: M64 }),
      interesting,
      fc.constantFrom(0x00, 0x40, 0x50, 0xa0),
      fc.boolean(),
      fc.boolean(),
      (old, v, op, fetch, wide) => {
        const mem = new Uint8Array(8);
        new DataView(mem.buffer).setBigUint64(0, old, true);
        const W = wide ? 64 : 32;
        const U = (x: bigint) => BigInt.asUintN(W, x);
        const code = wide ? 0xdb : 0xc3;
        const r = run(
          [...ld64(2, v), I(code, 1, 2, 0, op | (fetch ? 1 : 0)), I(0xbf, 0, 2, 0, 0), I(0x95, 0, 0, 0, 0)],
          mem,
        );
        const a = U(old);
        const b = U(v);
        const next = op === 0x00 ? U(a + b) : op === 0x40 ? a | b : op === 0x50 ? a & b : a ^ b;
        const stored = new DataView(mem.buffer).getBigUint64(0, true);
        assert.equal(wide ? stored : stored & 0xffffffffn, next);
        if (!wide) assert.equal(stored >> 32n, old >> 32n, 'a 32-bit atomic leaves the upper word');
        assert.equal(r, fetch ? a : v, 'fetch returns the old value in src');
      },
    ),
  );
});

test('cmpxchg and xchg follow RFC 9669 5.3', () => {
  const prog = (code: number) =>
    assemble(`
      lddw %r0, 0x1111
      lddw %r2, 0x2222
      ${code === 0xf1 ? 'lock cmpxchg' : 'lock xchg'} [%r1+0], %r2
      ldxdw %r3, [%r1+0]
      lsh %r3, 32
      or %r0, %r3
      exit`);
  const mem = new Uint8Array(8);
  new DataView(mem.buffer).setBigUint64(0, 0x1111n, true);
  assert.equal(run(prog(0xf1), mem), (0x2222n << 32n) | 0x1111n, 'equal: stored, r0 = old');
  new DataView(mem.buffer).setBigUint64(0, 0x3333n, true);
  assert.equal(run(prog(0xf1), mem), (0x3333n << 32n) | 0x3333n, 'different: kept, r0 = old');
  assert.equal(
    BigInt.asUintN(32, run(assemble('lddw %r2, 7\nlock xchg [%r1+0], %r2\nmov %r0, %r2\nexit'), mem)),
    0x3333n,
  );
});
