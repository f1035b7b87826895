// The enumerated fields a user reads are unions of their defined values, not plain numbers: the
// compiler refuses a value outside the table (the @ts-expect-error lines fail the type check if
// it stops doing so), and the decoder refuses one at run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CodecError,
  decodeRequest,
  type BpfMapTypeValue,
  type ControlResult,
  type MapCreateRequest,
  type ProgLoadResult,
} from '../../src/codec/index.js';

test('map_type, status, verify_mode and log_level are unions of the values their tables define', () => {
  const request = decodeRequest(
    Uint8Array.from([10, 1, 2, 0, 0, 0, 4, 0, 0, 0, 8, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
  );
  assert.equal(request.command, 'MAP_CREATE');
  const type: BpfMapTypeValue = request.data.map_type;
  assert.equal(type, 2);
  // @ts-expect-error 4 is not a defined map type
  const undefinedType: MapCreateRequest['map_type'] = 4;
  // @ts-expect-error 200 is not a status of the table
  const undefinedStatus: ControlResult['status'] = 200;
  // @ts-expect-error verify_mode is 0 or 1
  const undefinedMode: ProgLoadResult['verify_mode'] = 2;
  assert.deepEqual([undefinedType, undefinedStatus, undefinedMode], [4, 200, 2]);
  assert.throws(
    () =>
      decodeRequest(
        Uint8Array.from([10, 1, 4, 0, 0, 0, 4, 0, 0, 0, 8, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
      ),
    (e: unknown) => e instanceof CodecError && e.field === 'map_type',
  );
});
