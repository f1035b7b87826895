// What a device may advertise: the CAPS_GET vector's capability set passes; each way of breaking the
// defined-bits or minimum rules is refused with the field at fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeResult, decodeRequest, parseHex } from '../../../src/codec/index.js';
import { CapsError, checkCaps, mapLimitsOf, type DeviceCaps } from '../../../src/reference/device/caps.js';

const capsVector = (
  JSON.parse(readFileSync('vectors/codec/results.json', 'utf8')) as {
    vectors: { name: string; kind: string; request: string; hex: string }[];
  }
).vectors.find((v) => v.kind === 'valid' && v.name.startsWith('CAPS_GET:'));
const bytes = (hex: string) => parseHex(hex) ?? assert.fail(`bad hex ${hex}`);
const base = decodeResult(decodeRequest(bytes(capsVector?.request ?? '')), bytes(capsVector?.hex ?? ''))
  .result as DeviceCaps;

const refusedAt = (caps: DeviceCaps, field: string) =>
  assert.throws(
    () => checkCaps(caps),
    (e: unknown) => e instanceof CapsError && e.field === field,
    field,
  );

test('the CAPS_GET vector advertises a valid set, and its map limits follow from it', () => {
  checkCaps(base);
  assert.deepEqual(mapLimitsOf(base), {
    maxMaps: 64,
    maxEntries: 65536,
    maxKeySize: 512,
    maxValueSize: 4096,
    maxMapMemory: 16777216n,
    mapTypes: 6n,
    maxBatch: 0,
    percpuSlots: 1,
    maxInsns: 4096,
  });
});

test('undefined bits and helpers outside the table are refused [dev-caps-defined-bits]', () => {
  refusedAt({ ...base, map_types: base.map_types | (1n << 4n) }, 'map_types');
  refusedAt({ ...base, isa_groups: base.isa_groups | (1 << 20) }, 'isa_groups');
  refusedAt({ ...base, prog_features: base.prog_features | (1 << 9) }, 'prog_features');
  const helpers = Uint8Array.from(base.helpers);
  helpers[5] = (helpers[5] ?? 0) | (1 << 0); // helper 40, csum_update: not offloadable
  refusedAt({ ...base, helpers }, 'helpers');
});

test('below the minimum is refused [dev-caps-minimum]', () => {
  refusedAt({ ...base, map_types: 1n << 1n }, 'map_types');
  refusedAt({ ...base, isa_groups: base.isa_groups & ~1 }, 'isa_groups');
  refusedAt({ ...base, isa_groups: base.isa_groups & ~2 }, 'isa_groups');
  const helpers = Uint8Array.from(base.helpers);
  helpers[0] = (helpers[0] ?? 0) & ~(1 << 1);
  refusedAt({ ...base, helpers }, 'helpers');
  refusedAt({ ...base, max_maps: 0 }, 'max_maps');
  refusedAt({ ...base, max_entries: 0 }, 'max_entries');
  refusedAt({ ...base, max_insns: 0 }, 'max_insns');
  refusedAt({ ...base, max_key_size: 3 }, 'max_key_size');
  refusedAt({ ...base, max_value_size: 7 }, 'max_value_size');
  checkCaps({
    ...base,
    max_maps: 1,
    max_entries: 1,
    max_insns: 1,
    max_key_size: 4,
    max_value_size: 8,
    map_types: 4n,
  });
});

test('tail_call is offered only with program arrays [dev-caps-tail-call]', () => {
  const withTail = Uint8Array.from(base.helpers);
  withTail[1] = (withTail[1] ?? 0) | (1 << (12 - 8));
  refusedAt({ ...base, helpers: withTail }, 'helpers');
  checkCaps({ ...base, helpers: withTail, map_types: base.map_types | (1n << 3n) });
});
