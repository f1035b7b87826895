// The central property of the offload: for any sequence of program loads and unloads, packets, and
// guest map reads and writes, the offloaded path gives the guest the same verdicts, the same delivered
// frames, the same frames back toward the host and the same map contents as running the program in
// the guest driver. Two topologies run side by side: one offloads, one runs driver-mode XDP.
//
// The one intended difference, ingress_ifindex (0 on the host, the guest's ifindex in the driver),
// is not read by the pool's programs. `npm run equivalence` runs a long campaign (FC_RUNS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Topology } from '../../src/reference/topology.js';
import { le32Bytes } from '../support/bytes.js';
import { readFileSync } from 'node:fs';
import { fc, RUNS } from '../support/fc.js';
import { createMaps, negotiated, program } from '../support/offload.js';
import { POOL, POOL_MAPS, POOL_NAMES } from '../support/programs.js';

/** One side: its topology, the guest fds of the two pool maps, and how it attaches programs. */
interface Side {
  readonly t: Topology;
  readonly fds: readonly number[];
  readonly mode: 'offload' | 'driver';
}

interface Real {
  readonly offloaded: Side;
  readonly native: Side;
}

/** Nothing to track: every check is a comparison of the two sides. */
type Model = object;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const show = (v: Uint8Array | number) => (typeof v === 'number' ? `errno ${v}` : hex(v));

class Load implements fc.Command<Model, Real> {
  constructor(readonly name: string) {}
  check = () => true;
  run(_m: Model, r: Real): void {
    const [a, b] = [r.offloaded, r.native].map(
      (s) => s.t.driver.attach(program(POOL[this.name] as string, s.fds), s.mode).errno,
    );
    assert.equal(a, 0, `offload of ${this.name}`);
    assert.equal(b, 0, `driver-mode attach of ${this.name}`);
  }
  toString = () => `load(${this.name})`;
}

class Unload implements fc.Command<Model, Real> {
  check = () => true;
  run(_m: Model, r: Real): void {
    assert.equal(r.offloaded.t.driver.detach('offload'), r.native.t.driver.detach('driver'));
  }
  toString = () => 'unload';
}

class Packet implements fc.Command<Model, Real> {
  constructor(readonly frame: Uint8Array) {}
  check = () => true;
  run(_m: Model, r: Real): void {
    const a = r.offloaded.t.fromHost(this.frame.slice());
    const b = r.native.t.fromHost(this.frame.slice());
    // The verdict: where the offloaded program ran, the driver-mode one must have said the same.
    const offloadedVerdict = a.offload === 'bypass' ? (a.guest[0]?.fate ?? 'none') : a.offload;
    const nativeVerdict = b.guest[0]?.fate ?? 'none';
    assert.equal(offloadedVerdict, nativeVerdict, 'verdict');
    const toStack = (side: typeof a) =>
      side.guest.flatMap((g) => (g.toStack === undefined ? [] : [hex(g.toStack)]));
    assert.deepEqual(toStack(a), toStack(b), 'frames delivered to the guest stack');
    assert.deepEqual(a.toHost.map(hex), b.toHost.map(hex), 'frames sent back toward the host');
  }
  toString = () => `packet(${hex(this.frame)})`;
}

class Update implements fc.Command<Model, Real> {
  constructor(
    readonly map: number,
    readonly key: number,
    readonly value: Uint8Array,
    readonly flags: number,
  ) {}
  check = () => true;
  run(_m: Model, r: Real): void {
    const [a, b] = [r.offloaded, r.native].map((s) =>
      s.t.driver.mapUpdate(s.fds[this.map] as number, le32Bytes(this.key), this.value, this.flags),
    );
    assert.equal(a, b, 'update status');
  }
  toString = () => `update(map${this.map + 1}, ${this.key}, ${hex(this.value)}, ${this.flags})`;
}

class Delete implements fc.Command<Model, Real> {
  constructor(
    readonly map: number,
    readonly key: number,
  ) {}
  check = () => true;
  run(_m: Model, r: Real): void {
    const [a, b] = [r.offloaded, r.native].map((s) =>
      s.t.driver.mapDelete(s.fds[this.map] as number, le32Bytes(this.key)),
    );
    assert.equal(a, b, 'delete status');
  }
  toString = () => `delete(map${this.map + 1}, ${this.key})`;
}

class Read implements fc.Command<Model, Real> {
  constructor(
    readonly map: number,
    readonly key: number,
  ) {}
  check = () => true;
  run(_m: Model, r: Real): void {
    const [a, b] = [r.offloaded, r.native].map((s) =>
      s.t.driver.mapLookup(s.fds[this.map] as number, le32Bytes(this.key)),
    );
    assert.equal(show(a as Uint8Array | number), show(b as Uint8Array | number), 'lookup');
  }
  toString = () => `lookup(map${this.map + 1}, ${this.key})`;
}

class Dump implements fc.Command<Model, Real> {
  constructor(readonly map: number) {}
  check = () => true;
  run(_m: Model, r: Real): void {
    // Hash iteration order is the device's own ([dev-map-next-key]); contents must match as sets.
    const [a, b] = [r.offloaded, r.native].map((s) => {
      const dump = s.t.driver.mapDump(s.fds[this.map] as number);
      return typeof dump === 'number'
        ? [`errno ${dump}`]
        : dump.map((e) => `${hex(e.key)}=${hex(e.value)}`).sort();
    });
    assert.deepEqual(a, b, 'map contents');
  }
  toString = () => `dump(map${this.map + 1})`;
}

/** Frames: mostly IPv4/IPv6/VLAN with small protocols and first bytes that collide with map keys. */
const frameArb = fc
  .tuple(
    fc.constantFrom(0x0800, 0x86dd, 0x8100, 0x0806),
    fc.constantFrom(1, 6, 17, 58, 0),
    fc.integer({ min: 0, max: 7 }),
    fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 14, max: 128 }) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 13 }) },
    ),
    fc.uint8Array({ minLength: 0, maxLength: 16 }),
  )
  .map(([ethertype, protocol, first, length, noise]) => {
    const f = new Uint8Array(length);
    f.set(noise.subarray(0, Math.min(noise.length, length)));
    if (length > 0) f[0] = first;
    if (length >= 14) f.set([ethertype >> 8, ethertype & 0xff], 12);
    if (length > 23) f[23] = protocol; // IPv4 protocol
    if (length > 20) f[20] = protocol; // IPv6 next header
    if (length > 17 && ethertype === 0x8100) f.set([0x08, 0x00], 16);
    return f;
  });

const mapArb = fc.integer({ min: 0, max: 1 });
const keyArb = fc.oneof(fc.integer({ min: 0, max: 10 }), fc.constantFrom(17, 58, 255, 256, 0xffffffff));

const commands = [
  fc.constantFrom(...POOL_NAMES).map((n) => new Load(n)),
  fc.constant(new Unload()),
  frameArb.map((f) => new Packet(f)),
  frameArb.map((f) => new Packet(f)),
  frameArb.map((f) => new Packet(f)),
  fc
    .tuple(mapArb, keyArb, fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 2 }))
    .map(([m, k, v, f]) => new Update(m, k, v, f)),
  fc.tuple(mapArb, keyArb).map(([m, k]) => new Delete(m, k)),
  fc.tuple(mapArb, keyArb).map(([m, k]) => new Read(m, k)),
  mapArb.map((m) => new Dump(m)),
];

function side(mode: Side['mode']): Side {
  const t = negotiated();
  return { t, fds: createMaps(t, POOL_MAPS, mode === 'offload'), mode };
}

test('offloaded and driver-mode XDP are indistinguishable to the guest [drv-dp-coexist] [dev-dp-hook]', () => {
  let sequences = 0;
  fc.assert(
    fc.property(fc.commands(commands, { maxCommands: 40 }), (cmds) => {
      sequences++;
      const real: Real = { offloaded: side('offload'), native: side('driver') };
      fc.modelRun(() => ({ model: {}, real }), cmds);
      // Every sequence ends with the full contents of both maps compared.
      for (const m of [0, 1]) new Dump(m).run({}, real);
    }),
  );
  assert.ok(sequences > 0);
  if (process.env.EQUIVALENCE_STATS !== undefined) console.log(`equivalence: ${sequences} sequences`);
});

test('the clang-built samples give the guest the same frames and map contents offloaded and in driver mode', () => {
  // trim_tail is left out: the device refuses it (it needs a privileged verifier).
  const objects = ['proto_counter', 'mac_swap', 'vlan_ipv6', 'rate_limit', 'vlan_encap'].map(
    (name) => [name, new Uint8Array(readFileSync(`samples/${name}.o`))] as const,
  );
  fc.assert(
    fc.property(
      fc.constantFrom(...objects),
      fc.array(frameArb, { maxLength: 30 }),
      ([name, object], frames) => {
        const run = (mode: 'offload' | 'driver') => {
          const t = negotiated();
          const attached = t.driver.attachObject(object, mode);
          assert.equal(attached.errno, 0, `${name} ${mode}: ${attached.log ?? ''}`);
          const seen = frames.map((f) => {
            const fate = t.fromHost(f.slice());
            const verdict = fate.offload === 'bypass' ? (fate.guest[0]?.fate ?? 'none') : fate.offload;
            const stack = fate.guest.flatMap((g) => (g.toStack === undefined ? [] : [hex(g.toStack)]));
            return `${verdict} ${stack.join(',')} ${fate.toHost.map(hex).join(',')}`;
          });
          const maps = attached.fds.map((fd) => {
            const dump = t.driver.mapDump(fd);
            return typeof dump === 'number'
              ? `errno ${dump}`
              : dump
                  .map((e) => `${hex(e.key)}=${hex(e.value)}`)
                  .sort()
                  .join(' ');
          });
          return { seen, maps };
        };
        assert.deepEqual(run('offload'), run('driver'), name);
      },
    ),
    { numRuns: Math.max(20, Math.floor(RUNS / 4)) },
  );
});
