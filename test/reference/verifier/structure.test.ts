// The structural phase against Linux 6.1's verdicts on the verifier corpus: every program the kernel
// rejected for a structural reason is rejected with the same errno and message; every other program
// passes the structural phase (what follows it decides those).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseHex } from '../../../src/codec/index.js';
import { slotsFromBytes } from '../../../src/reference/ebpf/index.js';
import { checkStructure } from '../../../src/reference/verifier/index.js';
import { vectorMapTable, type KernelVerdict, type VerifierVectorFile } from '../../../src/vectors/index.js';

const corpus = JSON.parse(readFileSync('vectors/verifier/linux-6.1.json', 'utf8')) as VerifierVectorFile;

const STRUCTURAL = [
  /^jump out of range from insn \d+ to -?\d+$/,
  /^unreachable insn \d+$/,
  /^last insn is not an exit or jmp$/,
  /^invalid bpf_ld_imm64 insn$/,
  /^unrecognized bpf_ld_imm64 insn$/,
  /^unknown opcode [0-9a-f]{2}$/,
  /^fd -?\d+ is not pointing to valid bpf_map$/,
  /^invalid access to map value pointer/,
  /^BPF_LDX uses reserved fields$/,
  /^call to invalid destination/,
  /^JIT is required for calling kernel function$/,
];

/** The kernel's reason line: the last log line that is neither an instruction dump nor the summary. */
function reason(v: KernelVerdict): string {
  const lines = v.log.filter((l) => !/^\d+: /.test(l) && !l.startsWith('processed '));
  return lines[lines.length - 1] ?? '';
}

test('the structural phase agrees with Linux 6.1 on every corpus program, in every mode', () => {
  let structural = 0;
  for (const p of corpus.programs) {
    const insns = slotsFromBytes(parseHex(p.insns) as Uint8Array);
    const maps = vectorMapTable(p.maps);
    const ours = checkStructure(insns, { maps, bpfCapable: true });
    assert.ok(p.strict !== undefined, `${p.name}: no strict verdict in the corpus`);
    for (const v of [p.privileged, p.unprivileged, p.strict]) {
      const why = reason(v);
      if (!v.accepted && STRUCTURAL.some((r) => r.test(why))) {
        assert.ok(ours !== undefined, `${p.name}: the kernel says "${why}", the structural phase passed it`);
        assert.equal(ours.errno, v.errno, `${p.name}: errno`);
        const norm = (m: string) => m.replace(/-?\d+/g, 'N').replace(/, value_size=N off=N$/, '');
        assert.equal(norm(ours.message), norm(why), p.name);
        structural++;
      } else {
        assert.equal(
          ours,
          undefined,
          `${p.name}: the structural phase says "${ours?.message ?? ''}", the kernel ${v.accepted ? 'accepted' : `said "${why}"`}`,
        );
      }
    }
  }
  assert.ok(structural >= 60, `${structural} structural rejections compared`);
});
