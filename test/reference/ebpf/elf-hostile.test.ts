// The ELF and BTF readers take files from anywhere: every size and count is checked against the file
// and against limits before anything is allocated, nothing recurses over file data, and whatever the
// bytes, the only failure is an ElfError, within a bound of time and memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { bpfInsn } from '../../../src/codec/index.js';
import {
  ELF_LIMITS,
  ElfError,
  elfCodeSections,
  elfProgramSections,
  loadElfProgram,
  slotsFromBytes,
} from '../../../src/reference/ebpf/index.js';
import { bpfObject } from '../../support/elf-writer.js';
import { fc } from '../../support/fc.js';

const OBJECTS = [
  ...readdirSync('samples')
    .filter((f) => f.endsWith('.o'))
    .map((f) => `samples/${f}`),
  ...readdirSync('oracle/c')
    .filter((f) => f.endsWith('.o'))
    .map((f) => `oracle/c/${f}`),
].map((path) => ({ path, bytes: new Uint8Array(readFileSync(path)) }));

/** Every reader entry point on one file; returns the first non-ElfError thrown, or undefined. */
function readAll(bytes: Uint8Array): unknown {
  const attempt = (f: () => unknown) => {
    try {
      f();
      return undefined;
    } catch (error) {
      return error instanceof ElfError ? undefined : error;
    }
  };
  let sections: string[] = [];
  const listed = attempt(() => {
    sections = elfProgramSections(bytes);
  });
  if (listed !== undefined) return listed;
  return (
    attempt(() => elfCodeSections(bytes)) ??
    attempt(() => loadElfProgram(bytes)) ??
    sections.slice(0, 4).reduce<unknown>((e, s) => e ?? attempt(() => loadElfProgram(bytes, s)), undefined)
  );
}

/** Section header fields of an object, for mutations that aim at sizes, offsets and indices. */
function headerFields(bytes: Uint8Array): { at: number; width: 2 | 4 | 8 }[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(v.getBigUint64(40, true));
  const shnum = v.getUint16(60, true);
  const out: { at: number; width: 2 | 4 | 8 }[] = [
    { at: 40, width: 8 },
    { at: 60, width: 2 },
    { at: 62, width: 2 },
  ];
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * 64;
    for (const [off, width] of [
      [0, 4],
      [4, 4],
      [8, 8],
      [24, 8],
      [32, 8],
      [40, 4],
      [44, 4],
      [56, 8],
    ] as const)
      out.push({ at: h + off, width });
  }
  return out;
}

/** Where the .BTF section's bytes are, if the object has one. */
function btfRange(bytes: Uint8Array): [number, number] | undefined {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(v.getBigUint64(40, true));
  const shnum = v.getUint16(60, true);
  const names = shoff + v.getUint16(62, true) * 64;
  const namesOff = Number(v.getBigUint64(names + 24, true));
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * 64;
    const at = namesOff + v.getUint32(h, true);
    if (new TextDecoder().decode(bytes.subarray(at, at + 5)) === '.BTF\0')
      return [Number(v.getBigUint64(h + 24, true)), Number(v.getBigUint64(h + 32, true))];
  }
  return undefined;
}

const EDGE_VALUES = [
  0n,
  1n,
  7n,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x100000000n,
  2n ** 63n,
  2n ** 64n - 1n,
];

function write(bytes: Uint8Array, at: number, width: 2 | 4 | 8, value: bigint): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (at + width > bytes.length) return;
  if (width === 2) v.setUint16(at, Number(value & 0xffffn), true);
  else if (width === 4) v.setUint32(at, Number(value & 0xffffffffn), true);
  else v.setBigUint64(at, BigInt.asUintN(64, value), true);
}

/** A mutation of one committed object: bit flips, truncation, huge sizes, bogus indices, BTF garbage. */
const mutated = fc
  .record({
    object: fc.constantFrom(...OBJECTS),
    kind: fc.constantFrom('flip', 'truncate', 'field', 'btf', 'nobits', 'long-name', 'big-code'),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    value: fc.constantFrom(...EDGE_VALUES),
    count: fc.integer({ min: 1, max: 16 }),
  })
  .map(({ object, kind, seed, value, count }) => {
    const bytes = object.bytes.slice();
    let x = seed;
    const next = (n: number) => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x % Math.max(1, n);
    };
    if (kind === 'flip')
      for (let i = 0; i < count; i++) {
        const at = next(bytes.length);
        bytes[at] = (bytes[at] as number) ^ (1 << next(8));
      }
    if (kind === 'truncate') return { path: object.path, kind, bytes: bytes.slice(0, next(bytes.length)) };
    if (kind === 'field') {
      const fields = headerFields(object.bytes);
      for (let i = 0; i < Math.min(count, 3); i++) {
        const f = fields[next(fields.length)] as { at: number; width: 2 | 4 | 8 };
        write(bytes, f.at, f.width, i === 0 ? value : BigInt(next(2 ** 31)));
      }
    }
    if (kind === 'btf') {
      const range = btfRange(object.bytes);
      if (range !== undefined && range[1] > 0) {
        const [start, size] = range;
        for (let i = 0; i < count; i++) {
          const at = start + (next(size) & ~3);
          write(bytes, at, 4, i % 2 === 0 ? value : BigInt(next(2 ** 32)));
        }
      }
    }
    if (kind === 'nobits' || kind === 'long-name' || kind === 'big-code') {
      const grown = grow(bytes, kind, next, value);
      return { path: object.path, kind, bytes: grown };
    }
    return { path: object.path, kind, bytes };
  })
  .map((m) => ({ ...m, [fc.toStringMethod]: () => `${m.path}, ${m.kind}, ${m.bytes.length} bytes` }));

/** Section header offsets of an object, with each one's type and flags. */
function sectionHeaders(bytes: Uint8Array): { at: number; type: number; flags: bigint }[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(v.getBigUint64(40, true));
  return Array.from({ length: v.getUint16(60, true) }, (_, i) => {
    const at = shoff + i * 64;
    return { at, type: v.getUint32(at + 4, true), flags: v.getBigUint64(at + 8, true) };
  });
}

/**
 * Mutations that aim at sizes the file does not pay for: a section turned into SHT_NOBITS with an
 * edge size (as a `.bss` declares), a string table retargeted at 256 KiB without a NUL, and a
 * program section retargeted at megabytes of appended code.
 */
function grow(bytes: Uint8Array, kind: string, next: (n: number) => number, value: bigint): Uint8Array {
  const headers = sectionHeaders(bytes);
  if (kind === 'nobits') {
    const h = headers[1 + next(headers.length - 1)] ?? headers[0];
    if (h === undefined) return bytes;
    write(bytes, h.at + 4, 4, 8n);
    write(bytes, h.at + 32, 8, value === 0n ? 2n ** 32n + 8n : value);
    return bytes;
  }
  const extra = kind === 'long-name' ? 256 << 10 : ([1, 9, 16][next(3)] ?? 1) << 20;
  const out = new Uint8Array(bytes.length + extra);
  out.set(bytes);
  if (kind === 'long-name') {
    out.fill(0x41, bytes.length);
    const tables = headers.filter((h) => h.type === 3); // SHT_STRTAB
    const t = tables[next(tables.length)];
    if (t !== undefined) {
      write(out, t.at + 24, 8, BigInt(bytes.length));
      write(out, t.at + 32, 8, BigInt(extra));
    }
  } else {
    for (let at = bytes.length; at < out.length; at += 8) out[at] = 0xb7; // r0 = 0, repeated
    const code = headers.filter((h) => (h.flags & 4n) !== 0n);
    const c = code[next(code.length)];
    if (c !== undefined) {
      write(out, c.at + 24, 8, BigInt(bytes.length));
      write(out, c.at + 32, 8, BigInt(extra));
    }
  }
  return out;
}

test('mutated objects fail only with ElfError, within 2 s and 64 MiB each (ELF and BTF readers bounded)', () => {
  assert.ok(OBJECTS.length >= 9, 'the committed objects are there');
  assert.ok(
    OBJECTS.some((o) => btfRange(o.bytes) !== undefined),
    'some object carries BTF',
  );
  fc.assert(
    fc.property(mutated, ({ path, kind, bytes }) => {
      const heap = process.memoryUsage().arrayBuffers;
      const start = performance.now();
      const error = readAll(bytes);
      const ms = performance.now() - start;
      const grown = process.memoryUsage().arrayBuffers - heap;
      assert.equal(error, undefined, `${path} (${kind}): ${String(error)}`);
      assert.ok(ms < 2000, `${path} (${kind}): ${ms.toFixed(0)} ms`);
      assert.ok(grown < 64 << 20, `${path} (${kind}): ${grown} bytes of buffers`);
    }),
    { numRuns: 300 },
  );
});

/** A one-section object whose section header fields are then overwritten. */
function objectWith(code: Uint8Array, patch: (v: DataView, sectionHeader: number) => void): Uint8Array {
  const bytes = bpfObject(code);
  const v = new DataView(bytes.buffer);
  patch(v, Number(v.getBigUint64(40, true)) + 64);
  return bytes;
}

test('a .bss above 2^32 bytes, or of 2^31 - 1, is an ElfError before any allocation [ELF_LIMITS.dataBytes]', () => {
  const exit0 = Uint8Array.of(0x95, 0, 0, 0, 0, 0, 0, 0);
  for (const size of [2n ** 32n + 8n, 2n ** 31n - 1n, BigInt(ELF_LIMITS.dataBytes) + 1n]) {
    // Section 1 stays the program; a second copy of the header table names a .bss of that size.
    const base = bpfObject(exit0);
    const v0 = new DataView(base.buffer);
    const shoff = Number(v0.getBigUint64(40, true));
    const names = new TextEncoder().encode('\0xdp\0.shstrtab\0.bss\0');
    const out = new Uint8Array(base.length + 64 + names.length);
    out.set(base);
    const v = new DataView(out.buffer);
    v.setUint16(60, 4, true);
    const bss = shoff + 3 * 64;
    out.copyWithin(bss, shoff + 64, shoff + 128);
    const namesAt = base.length + 64;
    out.set(names, namesAt);
    v.setBigUint64(shoff + 2 * 64 + 24, BigInt(namesAt), true);
    v.setBigUint64(shoff + 2 * 64 + 32, BigInt(names.length), true);
    v.setUint32(bss, 15, true);
    v.setUint32(bss + 4, 8, true); // SHT_NOBITS
    v.setBigUint64(bss + 8, 3n, true);
    v.setBigUint64(bss + 32, size, true);
    const before = process.memoryUsage().arrayBuffers;
    assert.throws(
      () => loadElfProgram(out),
      (e: unknown) => e instanceof ElfError && e.section === '.bss' && /global data/.test(e.message),
      `.bss of ${size}`,
    );
    assert.ok(process.memoryUsage().arrayBuffers - before < 16 << 20, 'nothing large was allocated');
  }
});

test('names without a NUL, of any length, are ElfErrors and cost no recursion [ELF_LIMITS.nameBytes]', () => {
  const exit0 = Uint8Array.of(0x95, 0, 0, 0, 0, 0, 0, 0);
  const base = bpfObject(exit0);
  const v0 = new DataView(base.buffer);
  const shoff = Number(v0.getBigUint64(40, true));
  // A string table of 1 MiB of 'A' without a NUL, named by section 1.
  const long = new Uint8Array(1 << 20).fill(0x41);
  const out = new Uint8Array(base.length + long.length);
  out.set(base);
  out.set(long, base.length);
  const v = new DataView(out.buffer);
  v.setBigUint64(shoff + 2 * 64 + 24, BigInt(base.length), true);
  v.setBigUint64(shoff + 2 * 64 + 32, BigInt(long.length), true);
  v.setUint32(shoff + 64, 0, true);
  assert.throws(
    () => loadElfProgram(out),
    (e: unknown) => e instanceof ElfError && /longer than 4096 bytes/.test(e.message),
  );
  // The same table ending without a NUL within the limit: the string runs past its table.
  v.setBigUint64(shoff + 2 * 64 + 32, 100n, true);
  assert.throws(
    () => loadElfProgram(out),
    (e: unknown) => e instanceof ElfError && /runs past the end/.test(e.message),
  );
});

test('a program section above 1,000,000 instructions is refused before it is decoded [ELF_LIMITS.sectionSlots]', () => {
  const slots = ELF_LIMITS.sectionSlots + 1;
  const code = new Uint8Array(slots * 8);
  for (let i = 0; i < slots; i++) code[i * 8] = 0x95;
  const start = performance.now();
  assert.throws(
    () => loadElfProgram(bpfObject(code)),
    (e: unknown) => e instanceof ElfError && /more than the 1000000 Linux loads/.test(e.message),
  );
  assert.ok(performance.now() - start < 1000, 'refused from the size alone');
  // A section header claiming a huge size is checked against the file first.
  const lying = objectWith(Uint8Array.of(0x95, 0, 0, 0, 0, 0, 0, 0), (v, h) =>
    v.setBigUint64(h + 32, 16n << 20n, true),
  );
  assert.throws(
    () => loadElfProgram(lying),
    (e: unknown) => e instanceof ElfError && /needs/.test(e.message),
  );
});

test('slots decode exactly as the codec lays out struct bpf_insn', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), (raw) => {
      const bytes = raw.subarray(0, raw.length - (raw.length % 8));
      const expected = Array.from({ length: bytes.length / 8 }, (_, i) =>
        bpfInsn.decode(bytes.subarray(i * 8, i * 8 + 8)),
      );
      assert.deepEqual(slotsFromBytes(bytes), expected);
    }),
  );
});
