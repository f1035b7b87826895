// One regression test per soundness rule: the attack probes of oracle/soundness-probes.ts, each built
// so that a wrong acceptance faults in the engine or leaks a host pointer. For each: the verdict in
// both privilege modes equals Linux 6.1's (except where 6.1 itself is unsafe), and whatever is
// accepted in device mode (CAP_BPF + CAP_NET_ADMIN, offloadable helpers) runs without a fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OFFLOADABLE_HELPER_IDS, parseHex } from '../../../src/codec/index.js';
import { slotsFromBytes, XdpEngine } from '../../../src/reference/ebpf/index.js';
import { verify } from '../../../src/reference/verifier/index.js';
import { SOUNDNESS_PROBES, UNSAFE_IN_6_1 as UNSAFE_PROBES } from '../../../oracle/soundness-probes.js';
import { vectorMapTable, type KernelVerdict, type VerifierVectorFile } from '../../../src/vectors/index.js';

const corpus = JSON.parse(readFileSync('vectors/verifier/linux-6.1.json', 'utf8')) as VerifierVectorFile;
/** Programs Linux 6.1 accepts although they are unsafe. */
const UNSAFE_IN_6_1 = new Set(Object.keys(UNSAFE_PROBES));

const PACKETS = [14, 60, 64, 120, 1500].map((n) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff),
);

for (const [name, about] of SOUNDNESS_PROBES) {
  test(`${name}: ${about}`, () => {
    const entry = corpus.programs.find((p) => p.name === name);
    assert.ok(entry, `${name} has kernel verdicts in vectors/verifier/linux-6.1.json`);
    const insns = slotsFromBytes(parseHex(entry.insns) as Uint8Array);
    const maps = vectorMapTable(entry.maps);
    for (const mode of ['privileged', 'unprivileged'] as const) {
      const ours = verify(insns, { maps, privileged: mode === 'privileged' });
      const kernel: KernelVerdict = mode === 'privileged' ? entry.privileged : entry.unprivileged;
      if (UNSAFE_IN_6_1.has(name)) {
        assert.equal(kernel.accepted, true, `${name} is the 6.1 acceptance it documents`);
        assert.equal(ours.accepted, false, `${name} ${mode}: refused here (${ours.log.join('; ')})`);
      } else {
        assert.deepEqual(
          { accepted: ours.accepted, errno: ours.errno },
          { accepted: kernel.accepted, errno: kernel.errno },
          `${name} ${mode}: ${ours.log.join('; ')}`,
        );
      }
    }
    const device = verify(insns, { maps, privileged: false, helpers: OFFLOADABLE_HELPER_IDS });
    if (!device.accepted) return;
    const engine = new XdpEngine();
    for (const m of maps.values()) engine.createMap(m);
    const loaded = engine.load(insns);
    for (const packet of PACKETS) {
      const r = engine.run(loaded, packet);
      assert.equal(r.fault, undefined, `${name} accepted but faulted: ${r.fault?.message ?? ''}`);
    }
  });
}
