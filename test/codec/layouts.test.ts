// One helper checks every layout the same way (the dns-packet model): round trip of values, the byte
// fixed point, encoding into a larger buffer at an offset, sizes, and that random bytes give only a
// value or a typed error.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as r from 'restructure';
import { CodecError } from '../../src/codec/index.js';
import { fc } from '../support/fc.js';
import { LAYOUT_CASES, type LayoutCase } from '../support/layout-table.js';

function onlyCodecErrors(run: () => unknown): unknown {
  try {
    return run();
  } catch (error) {
    assert.ok(error instanceof CodecError, `threw ${String(error)}`);
    assert.ok(error.offset >= 0, 'offset is a byte position');
    assert.ok(error.field.length > 0, 'field is named');
    return error;
  }
}

function checkLayout({ layout, outer, values }: LayoutCase): void {
  describe(layout.cName, () => {
    test('decode(encode(x)) = x', () => {
      fc.assert(
        fc.property(values, (v) => {
          const bytes = layout.encode(v, outer);
          assert.equal(bytes.length, layout.sizeOf(v, outer));
          if (layout.fixedSize !== undefined) assert.equal(bytes.length, layout.fixedSize);
          assert.deepEqual(layout.decode(bytes, outer), v);
        }),
      );
    });

    test('encoding at offset 10 of a larger buffer writes the same bytes and decodes the same', () => {
      fc.assert(
        fc.property(values, (v) => {
          const alone = layout.encode(v, outer);
          const big = new Uint8Array(alone.length + 20).fill(0xa5);
          layout.encodeAt(new r.EncodeStream(big.subarray(10)), v, outer);
          assert.deepEqual(big.subarray(10, 10 + alone.length), alone);
          assert.ok(
            big.subarray(0, 10).every((b) => b === 0xa5) &&
              big.subarray(10 + alone.length).every((b) => b === 0xa5),
          );
          const stream = new r.DecodeStream(big);
          stream.pos = 10;
          assert.deepEqual(layout.decodeAt(stream, outer), v);
          assert.equal(stream.pos, 10 + alone.length);
        }),
      );
    });

    test('encode(decode(b)) = b for every buffer that decodes, and nothing but CodecError otherwise [dev-wire-malformed] [drv-wire-check-result]', () => {
      const max = (layout.fixedSize ?? layout.headerSize + 48) + 4;
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 0, maxLength: max }), (bytes) => {
          const decoded = onlyCodecErrors(() => layout.decode(bytes, outer));
          if (decoded instanceof CodecError) return;
          assert.deepEqual(layout.encode(decoded as never, outer), bytes);
        }),
      );
    });

    test('every truncation of a valid encoding is a typed truncation error', () => {
      fc.assert(
        fc.property(values, fc.nat(), (v, cut) => {
          const bytes = layout.encode(v, outer);
          if (bytes.length === 0) return;
          const error = onlyCodecErrors(() => layout.decode(bytes.subarray(0, cut % bytes.length), outer));
          assert.ok(error instanceof CodecError);
          assert.ok(['truncated', 'length', 'inconsistent'].includes(error.kind), error.message);
        }),
      );
    });

    test('a trailing byte is a typed trailing error at the end offset', () => {
      fc.assert(
        fc.property(values, fc.integer({ min: 0, max: 255 }), (v, extra) => {
          const bytes = layout.encode(v, outer);
          const longer = Uint8Array.from([...bytes, extra]);
          const error = onlyCodecErrors(() => layout.decode(longer, outer));
          assert.ok(error instanceof CodecError);
          assert.equal(error.kind, 'trailing');
          assert.equal(error.offset, bytes.length);
        }),
      );
    });

    test('encoders refuse values of the wrong shape with CodecError only [drv-wire-well-formed]', () => {
      fc.assert(
        fc.property(values, fc.anything(), fc.nat(), (v, junk, pick) => {
          const keys = Object.keys(v);
          const key = keys[pick % Math.max(keys.length, 1)];
          if (key === undefined) return;
          const bad = { ...v, [key]: junk };
          onlyCodecErrors(() => layout.encode(bad, outer));
        }),
      );
    });

    test('a value of the wrong kind in any field is refused, naming that field and its offset [drv-wire-well-formed]', () => {
      // Values no field of the kind accepts: a string or a fraction for an integer, an integer for
      // bytes, a negative or 65-bit bigint for a u64.
      const wrong: Record<string, unknown[]> = {
        number: ['7', 1.5, {}],
        u64: ['7', -1n, 1n << 64n],
        hex: ['ab', 7],
        array: ['ab', 7],
        string: [7, {}],
      };
      fc.assert(
        fc.property(values, fc.nat(), fc.nat(), (v, pick, which) => {
          const fields = layout.fields.filter((f) => !f.hidden && f.name in v);
          const field = fields[pick % Math.max(fields.length, 1)];
          if (field === undefined) return;
          const choices = wrong[field.json] ?? [];
          const junk = choices[which % Math.max(choices.length, 1)];
          const error = onlyCodecErrors(() => layout.encode({ ...v, [field.name]: junk }, outer));
          assert.ok(error instanceof CodecError, `${field.name} = ${String(junk)} was encoded`);
          assert.ok(
            error.field === field.name ||
              error.field.startsWith(`${field.name}[`) ||
              error.field.startsWith(`${field.name}.`),
            `${field.name} = ${String(junk)}: the error names ${error.field}`,
          );
          const at = layout.offsets[field.name];
          if (at !== undefined && error.field === field.name) assert.equal(error.offset, at, field.name);
        }),
      );
    });
  });
}

for (const c of LAYOUT_CASES) checkLayout(c);
