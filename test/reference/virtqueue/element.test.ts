// The control virtqueue element: the request is gathered from device-readable buffers cut anywhere,
// the answer is scattered over device-writable buffers cut anywhere, and no device-readable byte is
// ever written.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRequest, parseHex, writableSize } from '../../../src/codec/index.js';
import { ControlElement, FramingError } from '../../../src/reference/virtqueue/element.js';
import { fc } from '../../support/fc.js';

/** Split points for a part of `length` bytes: lengths of all but the last buffer. */
const splitsOf = (length: number) =>
  fc
    .array(fc.nat({ max: length }), { maxLength: 4 })
    .map((points) => [0, ...points.sort((a, b) => a - b), length])
    .map((points) => points.slice(1, -1).map((p, i) => p - (points[i] as number)));

const elementCase = fc
  .record({ request: fc.uint8Array({ minLength: 2, maxLength: 64 }), writable: fc.nat({ max: 96 }) })
  .chain(({ request, writable }) =>
    fc.record({
      request: fc.constant(request),
      writable: fc.constant(writable),
      readableSplits: splitsOf(request.length),
      writableSplits: splitsOf(writable),
    }),
  );

describe('framing [drv-wire-readable-only]', () => {
  test('a driver-built element puts the request in readable buffers, then the writable area', () => {
    fc.assert(
      fc.property(elementCase, ({ request, writable, readableSplits, writableSplits }) => {
        const element = ControlElement.forRequest(request, writable, readableSplits, writableSplits);
        const kinds = element.segments.map((s) => s.deviceWritable);
        assert.deepEqual(
          kinds,
          [...kinds].sort((a, b) => Number(a) - Number(b)),
          'readable before writable',
        );
        assert.deepEqual(element.readablePart(), request);
        assert.equal(element.writableCapacity, writable);
      }),
    );
  });

  test('a real request survives any segmentation byte for byte', () => {
    // MAP_LOOKUP of key 6 in map 1 with 8-byte values (vectors/codec/requests.json).
    const bytes = parseHex('0a04 01000000 04000000 08000000 00000000 06000000') ?? new Uint8Array();
    const request = decodeRequest(bytes);
    const element = ControlElement.forRequest(bytes, writableSize(request), [1, 5], [1, 8]);
    assert.deepEqual(decodeRequest(element.readablePart()), request);
    assert.equal(element.writableCapacity, 9 + 8);
  });

  test('a readable buffer after a writable one is a typed framing error at its chain offset', () => {
    const element = new ControlElement([
      { bytes: new Uint8Array([10, 0]), deviceWritable: false },
      { bytes: new Uint8Array(9), deviceWritable: true },
      { bytes: new Uint8Array([7]), deviceWritable: false },
    ]);
    assert.throws(
      () => element.readablePart(),
      (e: unknown) =>
        e instanceof FramingError &&
        e.kind === 'readable-after-writable' &&
        e.segment === 2 &&
        e.offset === 11,
    );
  });
});

describe('answers [dev-wire-no-readable-write]', () => {
  test('the device writes only device-writable bytes, in order, and the driver reads them back', () => {
    fc.assert(
      fc.property(elementCase, fc.uint8Array({ maxLength: 96 }), (c, answer) => {
        fc.pre(answer.length <= c.writable);
        const element = ControlElement.forRequest(c.request, c.writable, c.readableSplits, c.writableSplits);
        const readableBefore = element.segments.filter((s) => !s.deviceWritable).map((s) => s.bytes.slice());
        const used = element.writeAnswer(answer);
        assert.equal(used, answer.length);
        assert.deepEqual(
          element.segments.filter((s) => !s.deviceWritable).map((s) => s.bytes),
          readableBefore,
        );
        assert.deepEqual(element.readAnswer(used), answer);
        const rest = element.readAnswer(c.writable).subarray(used);
        assert.ok(
          rest.every((b) => b === 0),
          'bytes past the used length stay as the driver left them',
        );
      }),
    );
  });

  test('an answer longer than the writable part is refused before any byte is written', () => {
    fc.assert(
      fc.property(elementCase, fc.integer({ min: 1, max: 8 }), (c, extra) => {
        const element = ControlElement.forRequest(c.request, c.writable, c.readableSplits, c.writableSplits);
        const answer = new Uint8Array(c.writable + extra).fill(0xee);
        assert.throws(
          () => element.writeAnswer(answer),
          (e: unknown) =>
            e instanceof FramingError && e.kind === 'answer-too-long' && e.offset === c.writable,
        );
        assert.ok(element.readAnswer(c.writable).every((b) => b === 0));
      }),
    );
  });

  test('the driver refuses a used length beyond the writable part, or not a count', () => {
    const element = ControlElement.forRequest(new Uint8Array([10, 0]), 9);
    for (const used of [10, -1, 1.5, Number.NaN])
      assert.throws(
        () => element.readAnswer(used),
        (e: unknown) => e instanceof FramingError && e.kind === 'used-length',
      );
    assert.equal(element.readAnswer(9).length, 9);
  });
});
