// Control-queue framing: the device-readable part (header + data) and the device-writable part
// (ack + status header + result), including every framing error the decoders must name.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  CodecError,
  COMMAND_FRAMES,
  XdpCommand,
  XdpStatus,
  decodeRequest,
  decodeResult,
  encodeRequest,
  encodeResult,
  encodeFailure,
  parseHex,
  resultOf,
  writableSize,
  type ControlRequest,
  type ControlResult,
  type XdpCommandName,
} from '../../src/codec/index.js';
import { fc } from '../support/fc.js';
import { LAYOUT_CASES } from '../support/layout-table.js';

function expectCodecError(run: () => unknown, kind: string, field: string, offset: number): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof CodecError, String(error));
    assert.equal(error.kind, kind, error.message);
    assert.equal(error.field, field, error.message);
    assert.equal(error.offset, offset, error.message);
    return true;
  });
}

const hex = (h: string) => parseHex(h) as Uint8Array;

/** Valid requests of every command, built from the layout arbitraries. */
const requestArbitrary: fc.Arbitrary<ControlRequest> = fc
  .constantFrom(...(Object.keys(XdpCommand) as XdpCommandName[]))
  .chain((name) => {
    const layout = COMMAND_FRAMES[name].request;
    if (layout === null) return fc.constant({ command: name, data: null } as ControlRequest);
    const c = LAYOUT_CASES.find((x) => x.layout === layout);
    assert.ok(c);
    return c.values.map((data) => ({ command: name, data }) as unknown as ControlRequest);
  });

describe('device-readable part [dev-wire-malformed] [drv-wire-well-formed]', () => {
  test('every request round-trips and starts with class 10 and its command byte', () => {
    fc.assert(
      fc.property(requestArbitrary, (request) => {
        const bytes = encodeRequest(request);
        assert.equal(bytes[0], 10);
        assert.equal(bytes[1], XdpCommand[request.command]);
        assert.deepEqual(decodeRequest(bytes), request);
        assert.deepEqual(encodeRequest(decodeRequest(bytes)), bytes);
      }),
    );
  });

  test('random bytes decode to a request or a CodecError, nothing else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc
            .tuple(fc.integer({ min: 0, max: 13 }), fc.uint8Array({ maxLength: 64 }))
            .map(([c, rest]) => Uint8Array.from([10, c, ...rest])),
        ),
        (bytes) => {
          try {
            const request = decodeRequest(bytes);
            assert.deepEqual(encodeRequest(request), bytes);
          } catch (error) {
            assert.ok(error instanceof CodecError, String(error));
          }
        },
      ),
    );
  });

  test('an empty buffer, another class, an undefined command are typed errors', () => {
    expectCodecError(() => decodeRequest(new Uint8Array(0)), 'truncated', 'class', 0);
    expectCodecError(() => decodeRequest(hex('06 00')), 'unknown', 'class', 0);
    expectCodecError(() => decodeRequest(hex('0a 0d')), 'unknown', 'cmd', 1);
    expectCodecError(() => decodeRequest(hex('0a ff')), 'unknown', 'cmd', 1);
  });

  test('commands without data reject any data byte [dev-wire-malformed]', () => {
    for (const name of ['CAPS_GET', 'PROG_UNLOAD', 'QUERY'] as const) {
      assert.deepEqual(decodeRequest(Uint8Array.of(10, XdpCommand[name])), { command: name, data: null });
      expectCodecError(
        () => decodeRequest(Uint8Array.of(10, XdpCommand[name], 0)),
        'trailing',
        'command-specific-data',
        2,
      );
    }
  });

  test('encodeRequest refuses an undefined command and data on a no-data command', () => {
    expectCodecError(
      () => encodeRequest({ command: 'NOPE', data: null } as unknown as ControlRequest),
      'unknown',
      'command',
      1,
    );
    expectCodecError(
      () => encodeRequest({ command: 'QUERY', data: {} } as unknown as ControlRequest),
      'length',
      'command-specific-data',
      2,
    );
  });
});

const lookup: ControlRequest = {
  command: 'MAP_LOOKUP',
  data: { map_handle: 3, key_size: 4, value_size: 2, key: Uint8Array.of(1, 0, 0, 0) },
};

describe('device-writable part [drv-wire-check-result] [drv-wire-writable-size]', () => {
  test('a lookup result: ack, status header, then exactly value_size bytes', () => {
    const bytes = hex('00 0000 0000 02000000 beef');
    const result = decodeResult(lookup, bytes);
    assert.deepEqual(result, {
      command: 'MAP_LOOKUP',
      ack: 0,
      status: 0,
      result: { value: Uint8Array.of(0xbe, 0xef) },
    });
    assert.deepEqual(encodeResult(lookup, result), bytes);
    assert.equal(writableSize(lookup), bytes.length);
  });

  test('an error status carries no result, and ack must agree with status [drv-wire-check-result]', () => {
    const notFound = hex('01 0200 0000 00000000');
    assert.deepEqual(decodeResult(lookup, notFound), {
      command: 'MAP_LOOKUP',
      ack: 1,
      status: XdpStatus.ENOENT,
      result: null,
    });
    expectCodecError(() => decodeResult(lookup, hex('00 0200 0000 00000000')), 'inconsistent', 'ack', 0);
    expectCodecError(() => decodeResult(lookup, hex('01 0000 0000 02000000 beef')), 'inconsistent', 'ack', 0);
    expectCodecError(
      () => decodeResult(lookup, hex('01 0200 0000 02000000 beef')),
      'length',
      'result_len',
      5,
    );
  });

  test('result_len must match the bytes written and the result size', () => {
    expectCodecError(() => decodeResult(lookup, hex('00 0000 0000 03000000 beef')), 'truncated', 'result', 9);
    expectCodecError(() => decodeResult(lookup, hex('00 0000 0000 01000000 beef')), 'trailing', 'result', 10);
    expectCodecError(() => decodeResult(lookup, hex('00 0000 0000 01000000 be')), 'length', 'result_len', 5);
    expectCodecError(
      () => decodeResult(lookup, hex('00 0000 0000 03000000 beefaa')),
      'length',
      'result_len',
      5,
    );
  });

  test('a missing ack byte, a short status header, an undefined status, reserved bytes [drv-status-undefined]', () => {
    expectCodecError(() => decodeResult(lookup, new Uint8Array(0)), 'truncated', 'ack', 0);
    expectCodecError(() => decodeResult(lookup, hex('02')), 'unknown', 'ack', 0);
    expectCodecError(() => decodeResult(lookup, hex('00 0000 00')), 'truncated', 'reserved', 3);
    expectCodecError(() => decodeResult(lookup, hex('01 0300 0000 00000000')), 'unknown', 'status', 1);
    expectCodecError(() => decodeResult(lookup, hex('01 0200 0100 00000000')), 'reserved', 'reserved', 3);
  });

  test('PROG_LOAD carries its log with an error status too, bounded by log_size [drv-wire-check-result]', () => {
    const load: ControlRequest = {
      command: 'PROG_LOAD',
      data: {
        insn_cnt: 1,
        log_size: 8,
        log_level: 1,
        prog_flags: 0,
        insns: [{ code: 0x95, dst_reg: 0, src_reg: 0, off: 0, imm: 0 }],
      },
    };
    const rejected: ControlResult = {
      command: 'PROG_LOAD',
      ack: 1,
      status: XdpStatus.EACCES,
      result: { insns_processed: 1, verify_mode: 0, log_len: 4, log: 'R0!\n' },
    };
    const bytes = encodeResult(load, rejected);
    assert.deepEqual(decodeResult(load, bytes), rejected);
    assert.equal(bytes.length, 9 + 12 + 4);
    assert.ok(bytes.length <= writableSize(load));
    const tooLong = hex('01 0d00 0000 15000000 01000000 0000 0000 09000000 616161616161616161');
    expectCodecError(() => decodeResult(load, tooLong), 'length', 'log_len', 17);
    const notAscii = hex('01 0d00 0000 0d000000 01000000 0000 0000 01000000 00');
    expectCodecError(() => decodeResult(load, notAscii), 'range', 'log', 21);
  });

  test('encodeResult refuses a result where none may be written', () => {
    assert.throws(
      () =>
        encodeResult(lookup, {
          command: 'MAP_LOOKUP',
          ack: 1,
          status: XdpStatus.ENOENT,
          result: { value: Uint8Array.of(1, 2) },
        }),
      CodecError,
    );
    assert.throws(
      () => encodeResult(lookup, { command: 'MAP_LOOKUP', ack: 0, status: 0, result: null }),
      CodecError,
    );
    assert.throws(
      () => encodeResult(lookup, { command: 'MAP_LOOKUP', ack: 1, status: 0, result: null }),
      CodecError,
    );
  });

  test('random writable bytes for any request decode to a result or a CodecError, nothing else', () => {
    fc.assert(
      fc.property(
        requestArbitrary,
        fc.uint8Array({ maxLength: 48 }),
        fc.boolean(),
        (request, tail, framed) => {
          // Half the cases get a plausible header so the result decoders are reached.
          const bytes = framed
            ? Uint8Array.from([0, 0, 0, 0, 0, tail.length & 0xff, 0, 0, 0, ...tail])
            : tail;
          try {
            const result = decodeResult(request, bytes);
            assert.deepEqual(encodeResult(request, result), bytes);
          } catch (error) {
            assert.ok(error instanceof CodecError, String(error));
          }
        },
      ),
    );
  });
});

test('a layout refuses field names restructure would misplace or clobber', async () => {
  const { defineLayout } = await import('../../src/codec/layout.js');
  const { u8 } = await import('../../src/codec/fields.js');
  assert.throws(() => defineLayout({ cName: 'x', doc: '', fields: [u8('a', ''), u8('1', '')] }), TypeError);
  assert.throws(() => defineLayout({ cName: 'x', doc: '', fields: [u8('parent', '')] }), TypeError);
  assert.throws(() => defineLayout({ cName: 'x', doc: '', fields: [u8('a', ''), u8('a', '')] }), TypeError);
});

test('resultOf gives a successful answer its typed result and refuses a failure', () => {
  const request = {
    command: 'MAP_CREATE',
    data: { map_type: 2, key_size: 4, value_size: 8, max_entries: 1, map_flags: 0 },
  } as const;
  const ok = decodeResult(
    request,
    encodeResult(request, { command: 'MAP_CREATE', ack: 0, status: 0, result: { map_handle: 7 } }),
  );
  assert.equal(resultOf(ok).map_handle, 7);
  const failed = decodeResult(request, encodeFailure(XdpStatus.ENOSPC));
  assert.throws(
    () => resultOf(failed),
    (e: unknown) => e instanceof CodecError && e.field === 'status',
  );
});
