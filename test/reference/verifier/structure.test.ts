// The structural phase against Linux 6.1's verdicts on the verifier corpus: every program the kernel
// rejected for a structural reason is rejected with the same errno and message; every other program
// passes the structural phase (what follows it decides those).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseHex } from '../../../src/codec/index.js';
import { slotsFromBytes } from '../../../src/reference/ebpf/index.js';
import { checkStructure } from '../../../src/reference/verifier/index.js';

interface Verdict {
  accepted: boolean;
  errno: number;
  log: string[];
}
interface Entry {
  name: string;
  insns: string;
  maps: { handle: number; type: number; key_size: number; value_size: number; max_entries: number }[];
  privileged: Verdict;
  unprivileged: Verdict;
  strict: Verdict;
}
const corpus = JSON.parse(readFileSync('vectors/verifier/linux-6.1.json', 'utf8')) as { programs: Entry[] };

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
function reason(v: Verdict): string {
  const lines = v.log.filter((l) => !/^\d+: /.test(l) && !l.startsWith('processed '));
  return lines[lines.length - 1] ?? '';
}

test('the structural phase agrees with Linux 6.1 on every corpus program, in every mode', () => {
  let structural = 0;
  for (const p of corpus.programs) {
    const insns = slotsFromBytes(parseHex(p.insns) as Uint8Array);
    const maps = new Map(
      p.maps.map((m) => [
        m.handle,
        { type: m.type, keySize: m.key_size, valueSize: m.value_size, maxEntries: m.max_entries },
      ]),
    );
    const ours = checkStructure(insns, { maps, bpfCapable: true });
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
