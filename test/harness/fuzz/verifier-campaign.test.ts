// The differential campaign against Linux 6.1 (npm run oracle:verifier): 5,000 programs of the program
// generator with the kernel's verdicts. The reference must agree on accept/reject and errno for at
// least 99.5 % of them in each mode, and it must never accept a program the kernel refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseHex } from '../../../src/codec/index.js';
import { slotsFromBytes } from '../../../src/reference/ebpf/index.js';
import { verify } from '../../../src/reference/verifier/index.js';
import { generateProgram } from '../../../src/harness/fuzz/program-generator.js';
import { toHex } from '../../../src/codec/index.js';
import { slotsToBytes } from '../../../src/reference/ebpf/index.js';
import { vectorMapTable, type VerifierVectorFile } from '../../../src/vectors/index.js';

const file = JSON.parse(readFileSync('vectors/verifier/generated-6.1.json', 'utf8')) as VerifierVectorFile;

test('the campaign file holds at least 5,000 generated programs, each the generator still writes for its seed', () => {
  assert.ok(file.programs.length >= 5000);
  assert.match(file.kernel, /^6\.1\./);
  for (const p of file.programs.slice(0, 200)) {
    const seed = Number(p.name.replace('generated-', ''));
    assert.equal(toHex(slotsToBytes(generateProgram(seed).insns)), p.insns, p.name);
  }
});

test('generated programs: at least 99.5 % agreement with Linux 6.1 in each mode, and nothing accepted that the kernel refused', () => {
  const agree = { privileged: 0, unprivileged: 0 };
  const unsafe: string[] = [];
  for (const p of file.programs) {
    const insns = slotsFromBytes(parseHex(p.insns) as Uint8Array);
    const maps = vectorMapTable(p.maps);
    for (const mode of ['privileged', 'unprivileged'] as const) {
      const ours = verify(insns, { maps, privileged: mode === 'privileged' });
      const kernel = mode === 'privileged' ? p.privileged : p.unprivileged;
      if (ours.accepted === kernel.accepted && ours.errno === kernel.errno) agree[mode]++;
      else if (ours.accepted) unsafe.push(`${p.name} ${mode}`);
    }
  }
  assert.deepEqual(unsafe, []);
  const n = file.programs.length;
  assert.ok(agree.privileged / n >= 0.995, `privileged ${agree.privileged}/${n}`);
  assert.ok(agree.unprivileged / n >= 0.995, `unprivileged ${agree.unprivileged}/${n}`);
});
