// The verifier corpus: a real kernel's verdicts on probes, corpus programs and their mutations. The
// verifier that must agree with it is not built yet; this checks the corpus itself, and that the
// engine runs every program the kernel accepts without a fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseHex } from '../../src/codec/index.js';
import { XdpEngine, slotsFromBytes } from '../../src/reference/ebpf/index.js';
import { schemaErrors, definitionOfVectorMap, type VerifierVectorFile } from '../../src/vectors/index.js';

const corpus = JSON.parse(readFileSync('vectors/verifier/linux-6.1.json', 'utf8')) as VerifierVectorFile;

test('the corpus matches its schema and holds at least 300 programs with the kernel verdicts', () => {
  assert.deepEqual(schemaErrors('verifier.schema.json', corpus), []);
  assert.ok(corpus.programs.length >= 300, `${corpus.programs.length} programs`);
  assert.match(corpus.kernel, /^6\.1\.0-\d+-cloud-amd64$/);
  const origins = new Set(corpus.programs.map((p) => p.origin));
  assert.deepEqual([...origins].sort(), ['mutation', 'probe', 'program']);
  const errnos = new Set(corpus.programs.map((p) => p.unprivileged.errno));
  for (const e of [0, 13, 22]) assert.ok(errnos.has(e), `errno ${e} appears`);
  for (const p of corpus.programs) {
    if (!p.privileged.accepted)
      assert.ok(p.privileged.log.length > 0, `${p.name} has the reason of its rejection`);
    assert.ok(
      !(p.unprivileged.accepted && !p.privileged.accepted),
      `${p.name}: privileges only widen what is accepted`,
    );
  }
});

test('every program the kernel accepts unprivileged runs in the engine on a sample frame without a fault', () => {
  const frame = Uint8Array.from({ length: 64 }, (_, i) => (i === 12 ? 8 : i === 14 ? 0x45 : i));
  let ran = 0;
  for (const p of corpus.programs.filter((x) => x.unprivileged.accepted)) {
    const engine = new XdpEngine();
    for (const m of p.maps) engine.createMap(definitionOfVectorMap(m));
    const result = engine.run(engine.load(slotsFromBytes(parseHex(p.insns) as Uint8Array)), frame);
    assert.equal(result.fault, undefined, `${p.name}: ${result.fault?.message ?? ''}`);
    ran++;
  }
  assert.ok(ran >= 90, `${ran} accepted programs ran`);
});
