// Helper internals with known answers: csum_diff's checksum and strtol/strtoul parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bpfStrtoull, csumPartial } from '../../../src/reference/ebpf/index.js';

test('csum_partial folds a 64-bit end-around-carry sum to 32 bits', () => {
  // ~0x00000000 then 0x04030201: one qword 0x04030201_ffffffff; folding gives 0x04030201 with the carry
  assert.equal(csumPartial(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4), 0) >>> 0, 0x04030201);
  assert.equal(csumPartial(new Uint8Array(0), 0x1234), 0x1234);
  assert.equal(csumPartial(Uint8Array.of(1, 0, 0, 0), 0xffffffff) >>> 0, 1, 'the seed carries around');
});

const text = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

test('strtoull: whitespace, sign, radix prefixes, stop at the first non-digit, range and errors', () => {
  assert.deepEqual(bpfStrtoull(text('  -42abc'), 10), { consumed: 5, value: 42n, negative: true });
  assert.deepEqual(bpfStrtoull(text('0x1f'), 0), { consumed: 4, value: 31n, negative: false });
  assert.deepEqual(bpfStrtoull(text('0x1f'), 16), { consumed: 4, value: 31n, negative: false });
  assert.deepEqual(bpfStrtoull(text('017'), 0), { consumed: 3, value: 15n, negative: false });
  assert.deepEqual(bpfStrtoull(text('0'), 0), { consumed: 1, value: 0n, negative: false });
  assert.equal(bpfStrtoull(text(''), 0), -22);
  assert.equal(bpfStrtoull(text('-'), 0), -22);
  assert.equal(bpfStrtoull(text('x'), 10), -22);
  assert.equal(bpfStrtoull(text('1'), 7), -22, 'base 7');
  assert.equal(bpfStrtoull(text('1'), 0x20), -22, 'undefined flag');
  assert.equal(bpfStrtoull(text('99999999999999999999'), 10), -34, 'ERANGE');
});
