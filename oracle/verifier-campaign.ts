// A differential verifier campaign against the pinned Linux 6.1: the program generator's programs
// are loaded by the kernel in one VM boot, privileged (root) and unprivileged (CAP_BPF and
// CAP_NET_ADMIN only), and by the reference verifier in the same two modes. Prints the agreement
// and writes every program with the kernel's verdicts as a verifier vector file, which `npm test`
// replays (disagreements stay in it and are listed by the test).
//
//   npm run oracle:verifier -- --programs N [--seed S] [--out FILE]
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { slotsToBytes } from '../src/reference/ebpf/index.js';
import { toHex } from '../src/codec/index.js';
import { vectorMapOf } from '../src/vectors/index.js';
import { generateProgram } from '../src/harness/fuzz/program-generator.js';
import { verify } from '../src/reference/verifier/index.js';
import { bootVm } from './vm.js';

const KERNEL = process.env.ORACLE_KERNEL ?? '/boot/vmlinuz-6.1.0-56-cloud-amd64';
const WORK = '.tmp/oracle-campaign';

const { values } = parseArgs({
  options: {
    programs: { type: 'string', default: '5000' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: 'vectors/verifier/generated-6.1.json' },
  },
});
const count = Number(values.programs);
const seed = Number(values.seed);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(seed)) {
  console.error('--programs and --seed take integers');
  process.exit(2);
}
if (!existsSync(KERNEL)) {
  console.error(`${KERNEL} is missing: apt-get install linux-image-6.1.0-56-cloud-amd64`);
  process.exit(2);
}

const programs = Array.from({ length: count }, (_, i) => ({ seed: seed + i, ...generateProgram(seed + i) }));
const lines: string[] = [];
programs.forEach((p, n) => {
  if (n % 500 === 0) lines.push('forget');
  p.maps.forEach((m, i) => lines.push(`map ${i + 1} ${m.type} ${m.keySize} ${m.valueSize} ${m.maxEntries}`));
  lines.push(`prog g${n} ${toHex(slotsToBytes(p.insns))}`);
  lines.push('caps full', `load g${n}`, `unload g${n}`, 'caps offload', `load g${n}`, `unload g${n}`);
});
const results = join(WORK, 'results.txt');
const started = Date.now();
if (!(process.env.ORACLE_REPARSE === '1' && existsSync(results)))
  bootVm(lines.join('\n') + '\n', WORK, results, KERNEL, 1800);
const text = readFileSync(results, 'utf8').replace(/\r/g, '').split('\n');
const kernel = text.find((l) => l.startsWith('UNAME '))?.slice(6) ?? 'unknown';

/** Each LOAD line in order with the VLOG lines after it. */
const loads: { accepted: boolean; errno: number; log: string[] }[] = [];
for (let i = 0; i < text.length; i++) {
  const l = text[i] as string;
  if (!l.startsWith('LOAD ')) continue;
  const errno = l.includes(' ok') ? 0 : Number(/errno=(\d+)/.exec(l)?.[1] ?? -1);
  const log: string[] = [];
  while ((text[i + 1] ?? '').startsWith('VLOG ')) log.push((text[++i] as string).replace(/^VLOG \S+ /, ''));
  loads.push({ accepted: errno === 0, errno, log });
}
if (loads.length !== programs.length * 2)
  throw new Error(`expected ${programs.length * 2} verdicts, got ${loads.length}; see ${WORK}/console.log`);

const agree = { privileged: 0, unprivileged: 0 };
const unsafe: string[] = [];
const entries = programs.map((p, n) => {
  const privileged = loads[2 * n] as (typeof loads)[number];
  const unprivileged = loads[2 * n + 1] as (typeof loads)[number];
  const maps = new Map(p.maps.map((m, i) => [i + 1, m]));
  const stricter: string[] = [];
  for (const [mode, k] of [
    ['privileged', privileged],
    ['unprivileged', unprivileged],
  ] as const) {
    const ours = verify(p.insns, { maps, privileged: mode === 'privileged' });
    if (ours.accepted === k.accepted && ours.errno === k.errno) agree[mode]++;
    else if (ours.accepted && !k.accepted) unsafe.push(`g${n} (seed ${p.seed}) ${mode}: kernel ${k.errno}`);
    else if (!ours.accepted)
      stricter.push(
        `${mode}: ${ours.log.join('; ')} (kernel ${k.accepted ? 'accepts' : `errno ${k.errno}`})`,
      );
  }
  return {
    name: `generated-${p.seed}`,
    origin: 'generated',
    about: `program generator, seed ${p.seed}`,
    insns: toHex(slotsToBytes(p.insns)),
    maps: p.maps.map((m, i) => vectorMapOf(m, i + 1)),
    privileged,
    unprivileged,
    ...(stricter.length === 0
      ? {}
      : {
          deviation: {
            reason: `refused here where Linux 6.1 accepts or refuses with another errno (precision or exploration order the reference does not model): ${stricter.join(' / ')}`,
          },
        }),
  };
});
writeFileSync(
  values.out,
  JSON.stringify(
    {
      format: 'virtio-xdp-offload/verifier/1',
      description: `BPF_PROG_LOAD verdicts of Linux ${kernel} for ${count} programs of the program generator (seeds ${seed}..${seed + count - 1}), each loaded privileged and unprivileged.`,
      kernel,
      privileged: 'root (all capabilities)',
      unprivileged: 'CAP_BPF and CAP_NET_ADMIN, without CAP_PERFMON and CAP_SYS_ADMIN',
      programs: entries,
    },
    null,
    1,
  ) + '\n',
);
const pct = (n: number) => ((100 * n) / count).toFixed(2);
console.log(
  `${count} programs from ${kernel} in ${((Date.now() - started) / 1000).toFixed(1)} s: agreement privileged ${agree.privileged} (${pct(agree.privileged)} %), unprivileged ${agree.unprivileged} (${pct(agree.unprivileged)} %)`,
);
if (unsafe.length > 0)
  console.log(`accepted here, refused by the kernel (${unsafe.length}):\n${unsafe.join('\n')}`);
