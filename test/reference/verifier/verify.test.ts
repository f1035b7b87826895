// The verifier against Linux 6.1's verdicts on the whole corpus (probes for every rule, the corpus
// programs, mutations), in both privilege modes; and soundness: whatever the verifier accepts runs in
// the engine without a fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OFFLOADABLE_HELPER_IDS, parseHex, type BpfInsn } from '../../../src/codec/index.js';

/** The device verifies against the helpers it offers: the offloadable ones. */
import { slotsFromBytes } from '../../../src/reference/ebpf/index.js';
import { verify } from '../../../src/reference/verifier/index.js';
import { fc } from '../../support/fc.js';
import { UNSAFE_IN_6_1 as UNSAFE_PROBES } from '../../../oracle/soundness-probes.js';
import { runOnTwoLayouts } from '../../../src/harness/fuzz/verifier-fuzz.js';
import {
  definitionOfVectorMap,
  vectorMapTable,
  type VerifierVector,
  type VerifierVectorFile,
} from '../../../src/vectors/index.js';

const corpus = JSON.parse(readFileSync('vectors/verifier/linux-6.1.json', 'utf8')) as VerifierVectorFile;
const programs = corpus.programs.map((p) => ({
  ...p,
  slots: slotsFromBytes(parseHex(p.insns) as Uint8Array),
  mapDefs: vectorMapTable(p.maps),
}));

/**
 * Where the model and the kernel differ, by mode: programs Linux 6.1 accepts although they are
 * unsafe, refused here on purpose (each has its reason in oracle/soundness-probes.ts and in the
 * vector's `deviation`).
 */
const UNSAFE_IN_6_1 = Object.keys(UNSAFE_PROBES);
const KNOWN_DIFFERENCES: Record<'privileged' | 'unprivileged' | 'strict', string[]> = {
  privileged: UNSAFE_IN_6_1,
  unprivileged: UNSAFE_IN_6_1,
  strict: UNSAFE_IN_6_1,
};

for (const mode of ['privileged', 'unprivileged', 'strict'] as const) {
  test(`accept/reject and errno agree with Linux 6.1 on every corpus program, ${mode}`, () => {
    const differ: string[] = [];
    for (const p of programs) {
      const ours = verify(p.slots, {
        maps: p.mapDefs,
        privileged: mode !== 'unprivileged',
        strictAlignment: mode === 'strict',
      });
      const kernel = p[mode];
      assert.ok(kernel !== undefined, `${p.name}: no ${mode} verdict in the corpus`);
      if (ours.accepted !== kernel.accepted || ours.errno !== kernel.errno) differ.push(p.name);
    }
    assert.deepEqual(differ, KNOWN_DIFFERENCES[mode]);
    assert.ok(programs.length >= 300);
  });
}

test('soundness: random mutations of corpus programs that the verifier accepts never fault and never leak a pointer [dev-prog-contract]', () => {
  const accepted = programs.filter((p) => p.unprivileged.accepted);
  const mutation = fc.record(
    {
      program: fc.constantFrom(...accepted),
      edits: fc.array(
        fc.record(
          {
            at: fc.nat(),
            field: fc.constantFrom('off', 'imm', 'dst_reg', 'src_reg', 'code'),
            delta: fc.integer({ min: -9, max: 9 }),
          },
          { noNullPrototype: true },
        ),
        { minLength: 1, maxLength: 3 },
      ),
      packets: fc.array(fc.uint8Array({ minLength: 14, maxLength: 120 }), { minLength: 1, maxLength: 4 }),
      contentSeed: fc.nat(),
    },
    { noNullPrototype: true },
  );
  let verified = 0;
  fc.assert(
    fc.property(mutation, ({ program, edits, packets, contentSeed }) => {
      const insns: BpfInsn[] = program.slots.map((i) => ({ ...i }));
      for (const e of edits) {
        const insn = insns[e.at % insns.length] as BpfInsn;
        const v = insn[e.field] + e.delta;
        if (e.field === 'dst_reg' || e.field === 'src_reg') insn[e.field] = ((v % 16) + 16) % 16;
        else if (e.field === 'code') insn.code = ((v % 256) + 256) % 256;
        else if (e.field === 'off') insn.off = Math.max(-32768, Math.min(32767, v));
        else insn.imm = v | 0;
      }
      // a lower processing limit only turns slow verdicts into refusals, which the property ignores
      const verdict = verify(insns, {
        maps: program.mapDefs,
        privileged: false,
        insnLimit: 20_000,
        helpers: OFFLOADABLE_HELPER_IDS,
      });
      if (!verdict.accepted) return;
      verified++;
      const maps = program.maps.map(definitionOfVectorMap);
      // two address layouts, the same adversarial map contents: no fault, and nothing that differs
      const failure = runOnTwoLayouts({ insns, maps }, packets, {
        contentSeed: contentSeed,
        layoutSeed: 1 + (contentSeed % 0x7fff),
        leaks: true,
      });
      assert.equal(failure, undefined, `accepted, then ${failure?.failure.kind}: ${failure?.failure.detail}`);
    }),
    { numRuns: Number(process.env.FC_RUNS ?? 300) },
  );
  assert.ok(verified > 0, 'some mutants were accepted and run');
  if (process.env.VERIFIER_STATS) console.log(`soundness: ${verified} accepted mutants ran`);
});

test('every program of the XDP run vectors and every sample is accepted (privileged, as the kernel accepted them)', async () => {
  const { vectorFiles } = await import('../../../src/vectors/index.js');
  const { assemble } = await import('../../../src/reference/ebpf/index.js');
  const { SAMPLES } = await import('../../../src/reference/ebpf/samples.js');
  const files = vectorFiles('vectors/xdp').map(
    (f) =>
      JSON.parse(readFileSync(f, 'utf8')) as {
        program: { name: string; insns: string };
        maps: VerifierVector['maps'];
      },
  );
  assert.ok(files.length >= 11);
  for (const f of files) {
    const maps = vectorMapTable(f.maps);
    const v = verify(slotsFromBytes(parseHex(f.program.insns) as Uint8Array), { maps, privileged: true });
    assert.equal(v.accepted, true, `${f.program.name}: ${v.log.join('; ')}`);
  }
  for (const [name, sample] of Object.entries(SAMPLES)) {
    const v = verify(assemble(sample.text), {
      maps: new Map([[1, { type: 2, keySize: 4, valueSize: 8, maxEntries: 256 }]]),
      privileged: false,
    });
    assert.equal(v.accepted, true, `${name}: ${v.log.join('; ')}`);
  }
});
