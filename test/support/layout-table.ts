// For every layout: how to generate valid values of it, and the outer context a result needs.
import fc from 'fast-check';
import {
  ALL_LAYOUTS,
  type Layout,
  OffloadHelper,
  HELPER_BITMAP_BYTES,
  bpfInsn,
  ctrlAck,
  ctrlHeader,
  tunXdpOffload,
  xdpCaps,
  xdpMapCreate,
  xdpMapDelete,
  xdpMapGetNextKey,
  xdpMapHandle,
  xdpMapKey,
  xdpMapLookup,
  xdpMapUpdate,
  xdpMapValue,
  xdpMapBatch,
  xdpMapLookupBatch,
  xdpMapUpdateBatch,
  xdpProgLoad,
  xdpProgLoadResult,
  xdpProgArrayLoad,
  xdpQuery,
  xdpStatus,
} from '../../src/codec/index.js';
import { programArbitrary, smallSize, valueArbitrary, type Overrides } from './arbitraries.js';

export interface LayoutCase {
  readonly layout: Layout;
  readonly outer?: unknown;
  readonly values: fc.Arbitrary<Record<string, unknown>>;
}

const helperBitmap = fc.subarray(Object.values(OffloadHelper)).map((ids) => {
  const bitmap = new Uint8Array(HELPER_BITMAP_BYTES);
  for (const id of ids) bitmap[id >> 3] = (bitmap[id >> 3] as number) | (1 << (id & 7));
  return bitmap;
});

const logged = fc.oneof(
  fc.constant({ log_level: 0, log_size: 0 }),
  fc.record({ log_level: fc.constantFrom(1, 2), log_size: fc.integer({ min: 1, max: 0xffffffff }) }),
);

function make(layout: Layout, overrides: Overrides = {}, outer?: unknown): LayoutCase {
  return outer === undefined
    ? { layout, values: valueArbitrary(layout, overrides) }
    : { layout, outer, values: valueArbitrary(layout, overrides, outer) };
}

export const LAYOUT_CASES: readonly LayoutCase[] = [
  make(ctrlHeader),
  make(ctrlAck),
  make(xdpStatus),
  make(xdpCaps, { helpers: helperBitmap }),
  make(xdpMapCreate),
  make(xdpMapHandle),
  make(xdpMapUpdate, { key_size: smallSize, value_size: smallSize }),
  make(xdpMapLookup, { key_size: smallSize, value_size: smallSize }),
  make(xdpMapValue, {}, { request: { value_size: 13 } }),
  make(xdpMapDelete, { key_size: smallSize }),
  make(xdpMapGetNextKey, { key_size: smallSize }),
  make(xdpMapKey, {}, { request: { key_size: 5 } }),
  make(xdpMapUpdateBatch, {
    key_size: smallSize,
    value_size: smallSize,
    count: fc.integer({ min: 1, max: 4 }),
  }),
  make(xdpMapLookupBatch, { key_size: smallSize, value_size: smallSize }),
  make(
    xdpMapBatch,
    { count: fc.integer({ min: 1, max: 4 }) },
    { request: { key_size: 3, value_size: 5, max_count: 4 } },
  ),
  make(bpfInsn),
  {
    layout: xdpProgLoad,
    values: fc
      .tuple(programArbitrary, logged, fc.constantFrom(0, 1))
      .map(([insns, log, prog_flags]) => ({ insn_cnt: insns.length, ...log, prog_flags, insns })),
  },
  make(xdpProgLoadResult, { log_len: fc.integer({ min: 0, max: 64 }) }, { request: { log_size: 64 } }),
  {
    layout: xdpProgArrayLoad,
    values: fc
      .tuple(
        fc.nat({ max: 2 ** 32 - 1 }),
        fc.nat({ max: 2 ** 32 - 1 }),
        programArbitrary,
        logged,
        fc.constantFrom(0, 1),
      )
      .map(([map_handle, index, insns, log, prog_flags]) => ({
        map_handle,
        index,
        insn_cnt: insns.length,
        ...log,
        prog_flags,
        insns,
      })),
  },
  {
    layout: xdpQuery,
    values: fc
      .constantFrom(0, 1)
      .chain((flags) =>
        valueArbitrary(xdpQuery, { flags: fc.constant(flags), insn_cnt: flags ? fc.nat() : fc.constant(0) }),
      ),
  },
  {
    layout: tunXdpOffload,
    values: fc.constantFrom(1, 2, 3).chain((op) =>
      valueArbitrary(tunXdpOffload, {
        op: fc.constant(op),
        prog_fd: op === 1 ? fc.integer({ min: 0, max: 2 ** 31 - 1 }) : fc.constant(-1),
      }),
    ),
  },
];

// Every layout must have a case; a layout added without one fails here, not silently.
const covered = new Set(LAYOUT_CASES.map((c) => c.layout));
for (const layout of ALL_LAYOUTS) {
  if (!covered.has(layout)) throw new Error(`no test case for layout ${layout.cName}`);
}
