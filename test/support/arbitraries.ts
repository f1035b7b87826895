// fast-check arbitraries derived from the layouts themselves, so every structure is covered the same
// way; `overrides` narrows fields that drive lengths (to keep buffers small) or that cross-field rules
// constrain.
import fc from 'fast-check';
import type { AnyField, IntConstraints, Layout } from '../../src/codec/index.js';

export type Overrides = Readonly<Record<string, fc.Arbitrary<unknown>>>;

interface IntLike {
  constraints: IntConstraints;
}
interface U64Like {
  definedBits: bigint | undefined;
}
interface Sized {
  lengthGiven(self: Readonly<Record<string, unknown>>, outer: unknown): number;
}

function intArbitrary(c: IntConstraints): fc.Arbitrary<number> {
  if (c.values !== undefined) return fc.constantFrom(...Object.keys(c.values).map(Number));
  if (c.mask !== undefined) {
    const mask = c.mask;
    return fc.nat({ max: 0xffffffff }).map((v) => (v & mask) >>> 0);
  }
  return fc.integer({ min: c.min, max: c.max });
}

function fixedArbitrary(field: AnyField): fc.Arbitrary<unknown> | undefined {
  if ('constraints' in field) return intArbitrary((field as unknown as IntLike).constraints);
  if (field.json === 'u64') {
    const bits = (field as unknown as U64Like).definedBits;
    const any = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    return bits === undefined ? any : any.map((v) => v & bits);
  }
  if (field.json === 'hex' && field.fixedSize !== undefined) {
    return fc.uint8Array({ minLength: field.fixedSize, maxLength: field.fixedSize });
  }
  return undefined;
}

/** Values of a layout that its encoder must accept. */
export function valueArbitrary(
  layout: Layout,
  overrides: Overrides = {},
  outer?: unknown,
): fc.Arbitrary<Record<string, unknown>> {
  const visible = layout.fields.filter((f) => !f.hidden);
  // Fields are generated in wire order: each variable field depends only on the ones before it.
  let acc: fc.Arbitrary<Record<string, unknown>> = fc.constant({});
  for (const field of visible) {
    const own = overrides[field.name];
    acc = acc.chain((self) => {
      const arb = own ?? fixedArbitrary(field) ?? variableArbitrary(field, self, outer);
      return arb.map((v) => ({ ...self, [field.name]: v }));
    });
  }
  return acc;
}

function variableArbitrary(
  field: AnyField,
  self: Record<string, unknown>,
  outer: unknown,
): fc.Arbitrary<unknown> {
  const n = (field as unknown as Sized).lengthGiven(self, outer);
  switch (field.json) {
    case 'hex':
      return fc.uint8Array({ minLength: n, maxLength: n });
    case 'string':
      return fc
        .array(fc.constantFrom(...'abcXYZ019 :-_\t\n=()[]'.split('')), { minLength: n, maxLength: n })
        .map((a) => a.join(''));
    default:
      throw new Error(`no arbitrary for ${field.name}; give an override`);
  }
}

const insn = (code: fc.Arbitrary<number>) =>
  fc.record(
    {
      code,
      dst_reg: fc.integer({ min: 0, max: 15 }),
      src_reg: fc.integer({ min: 0, max: 15 }),
      off: fc.integer({ min: -32768, max: 32767 }),
      imm: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    },
    { noNullPrototype: true },
  );

/** A program whose ld_imm64 instructions are well framed (second slot zero but for imm). */
export const programArbitrary = fc
  .array(
    fc.oneof(
      insn(fc.integer({ min: 0, max: 255 }).filter((c) => c !== 0x18)).map((i) => [i]),
      fc
        .tuple(insn(fc.constant(0x18)), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }))
        .map(([first, hi]) => [first, { code: 0, dst_reg: 0, src_reg: 0, off: 0, imm: hi }]),
    ),
    { minLength: 1, maxLength: 12 },
  )
  .map((groups) => groups.flat());

/** Small sizes for fields that drive lengths. */
export const smallSize = fc.integer({ min: 1, max: 40 });
