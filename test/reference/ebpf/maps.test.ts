// Maps against a plain model of Linux's map semantics (an association list and the errno rules as
// the kernel's arraymap.c and hashtab.c apply them), over random operation sequences; and value
// pointers that stay valid for the program that obtained them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddressSpace,
  createMap,
  MapCreateError,
  XdpEngine,
  assemble,
} from '../../../src/reference/ebpf/index.js';
import { fc } from '../../support/fc.js';

type Op =
  | { op: 'update'; key: number; value: number; flags: number }
  | { op: 'delete'; key: number }
  | { op: 'lookup'; key: number }
  | { op: 'next'; key: number | null };

const ENOENT = 2;
const E2BIG = 7;
const EEXIST = 17;
const EINVAL = 22;

/** The model: what Linux answers, written as directly as the rules read. */
class Model {
  pairs: [number, number][] = [];
  constructor(
    readonly array: boolean,
    readonly max: number,
  ) {
    if (array) this.pairs = Array.from({ length: max }, (_, i) => [i, 0]);
  }
  find(key: number): number {
    return this.pairs.findIndex(([k]) => k === key);
  }
  apply(o: Op): number | number[] {
    const at = o.op === 'next' || o.key === null ? -1 : this.find(o.key);
    switch (o.op) {
      case 'update':
        if (o.flags > 2) return EINVAL;
        if (this.array) {
          if (o.key >= this.max) return E2BIG;
          if (o.flags === 1) return EEXIST;
          (this.pairs[o.key] as [number, number])[1] = o.value;
          return 0;
        }
        if (at >= 0 && o.flags === 1) return EEXIST;
        if (at < 0 && o.flags === 2) return ENOENT;
        if (at < 0 && this.pairs.length >= this.max) return E2BIG;
        if (at >= 0) (this.pairs[at] as [number, number])[1] = o.value;
        else this.pairs.push([o.key, o.value]);
        return 0;
      case 'delete':
        if (this.array) return EINVAL;
        if (at < 0) return ENOENT;
        this.pairs.splice(at, 1);
        return 0;
      case 'lookup':
        return at < 0 ? ENOENT : [(this.pairs[at] as [number, number])[1]];
      case 'next': {
        if (this.array) {
          const i = o.key === null || o.key >= this.max ? 0 : o.key + 1;
          return i >= this.max ? ENOENT : [i];
        }
        const j = o.key === null ? -1 : this.find(o.key);
        const next = this.pairs[j + 1];
        return next === undefined ? ENOENT : [next[0]];
      }
    }
  }
}

const le32 = (n: number) => Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
const rd32 = (b: Uint8Array) =>
  ((b[0] as number) | ((b[1] as number) << 8) | ((b[2] as number) << 16) | ((b[3] as number) << 24)) >>> 0;

const key = fc.integer({ min: 0, max: 9 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record(
    { op: fc.constant('update' as const), key, value: fc.nat(), flags: fc.constantFrom(0, 1, 2, 3) },
    { noNullPrototype: true },
  ),
  fc.record({ op: fc.constant('delete' as const), key }, { noNullPrototype: true }),
  fc.record({ op: fc.constant('lookup' as const), key }, { noNullPrototype: true }),
  fc.record(
    { op: fc.constant('next' as const), key: fc.option(key, { nil: null }) },
    { noNullPrototype: true },
  ),
);

test('array and hash maps answer every operation sequence as the model of Linux does', () => {
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.integer({ min: 1, max: 8 }),
      fc.array(opArb, { maxLength: 60 }),
      (array, max, ops) => {
        const map = createMap(
          { type: array ? 2 : 1, keySize: 4, valueSize: 4, maxEntries: max },
          new AddressSpace(),
        );
        const model = new Model(array, max);
        for (const o of ops) {
          const want = model.apply(o);
          let got: number | number[];
          if (o.op === 'update') got = map.update(le32(o.key), le32(o.value), o.flags);
          else if (o.op === 'delete') got = map.delete(le32(o.key));
          else if (o.op === 'lookup') {
            const r = map.lookup(le32(o.key));
            got = typeof r === 'number' ? r : [rd32(r)];
          } else {
            const r = map.nextKey(o.key === null ? null : le32(o.key));
            got = typeof r === 'number' ? r : [rd32(r)];
          }
          assert.deepEqual(got, want, JSON.stringify(o));
        }
        // iterating from FIRST visits every key once when nothing changes
        const seen: number[] = [];
        for (let k = map.nextKey(null); typeof k !== 'number'; k = map.nextKey(k)) seen.push(rd32(k));
        assert.deepEqual(
          seen.sort((a, b) => a - b),
          model.pairs.map(([k]) => k).sort((a, b) => a - b),
        );
      },
    ),
  );
});

test('creation is refused as Linux refuses it', () => {
  const space = new AddressSpace();
  const refuse = (
    def: { type: number; keySize: number; valueSize: number; maxEntries: number },
    errno: number,
  ) =>
    assert.throws(
      () => createMap(def, space),
      (e: unknown) => e instanceof MapCreateError && e.errno === errno,
    );
  refuse({ type: 14, keySize: 4, valueSize: 4, maxEntries: 4 }, 22); // DEVMAP: not offloadable
  refuse({ type: 6, keySize: 8, valueSize: 8, maxEntries: 4 }, 22); // a per-CPU array's key is 4 bytes too
  refuse({ type: 5, keySize: 4, valueSize: 32769, maxEntries: 4 }, 7); // per-CPU value above 32 KiB
  refuse({ type: 11, keySize: 4, valueSize: 8, maxEntries: 4 }, 22); // LPM key without data
  refuse({ type: 11, keySize: 261, valueSize: 8, maxEntries: 4 }, 22); // LPM data above 256 bytes
  refuse({ type: 2, keySize: 8, valueSize: 8, maxEntries: 4 }, 22); // array key must be 4 bytes
  refuse({ type: 1, keySize: 4, valueSize: 0, maxEntries: 4 }, 22);
  refuse({ type: 1, keySize: 4, valueSize: 8, maxEntries: 0 }, 22);
});

test('a value pointer stays valid after its element is deleted or replaced in the same run', () => {
  const e = new XdpEngine();
  const h = e.createMap({ type: 1, keySize: 4, valueSize: 8, maxEntries: 4 });
  e.map(h)?.update(le32(1), Uint8Array.of(42, 0, 0, 0, 0, 0, 0, 0), 0);
  const prog = e.load(
    assemble(`
      stw [%r10-4], 1
      lddw %r1, map[${h}]
      mov %r2, %r10
      add %r2, -4
      call 1
      jeq %r0, 0, miss
      mov %r6, %r0
      lddw %r1, map[${h}]
      mov %r2, %r10
      add %r2, -4
      call 3
      ldxdw %r0, [%r6+0]
      exit
    miss:
      mov %r0, 99
      exit`),
  );
  const r = e.run(prog, new Uint8Array(20));
  assert.equal(r.fault, undefined);
  assert.equal(r.retval, 42, 'the deleted element is still readable through the pointer');
  assert.equal(e.map(h)?.lookup(le32(1)), ENOENT);
  assert.equal(e.run(prog, new Uint8Array(20)).retval, 99);
});
