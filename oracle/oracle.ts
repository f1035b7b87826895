// Regenerates the golden XDP run vectors from a real Linux kernel: builds the static driver, writes
// the corpus as a driver script, packs a busybox initramfs, boots the pinned Debian kernel under
// QEMU (TCG, bounded by a timeout) with the BPF JIT off (the interpreter follows the ISA), and turns
// the driver's answers into vectors/xdp/*.json.
//
//   npm run oracle              (needs: gcc, qemu-system-x86, busybox-static and
//                                linux-image-6.1.0-56-cloud-amd64 from Debian; see oracle/README.md)
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { slotsToBytes } from '../src/reference/ebpf/index.js';
import { BpfMapType, toHex } from '../src/codec/index.js';
import { vectorMapOf } from '../src/vectors/index.js';
import { corpus, type CorpusProgram } from './corpus.js';
import { verifierCorpus, type VerifierProgram } from './verifier-corpus.js';
import { bootVm } from './vm.js';
import { UNSAFE_IN_6_1 } from './soundness-probes.js';

const KERNEL = process.env.ORACLE_KERNEL ?? '/boot/vmlinuz-6.1.0-56-cloud-amd64';
const WORK = '.tmp/oracle';
const OUT = 'vectors/xdp';

/**
 * The two ways a loader can be privileged. XDP needs CAP_BPF and CAP_NET_ADMIN. With CAP_PERFMON (or
 * CAP_SYS_ADMIN) Linux allows pointer leaks and skips its Spectre v1 sanitizing; without them it
 * allows neither leaks nor variable-offset packet pointers.
 */
const PRIVILEGED = 'root (all capabilities)';
const UNPRIVILEGED = 'CAP_BPF and CAP_NET_ADMIN, without CAP_PERFMON and CAP_SYS_ADMIN';

/** The driver's name of a corpus program's n-th slot program. */
const slotName = (p: CorpusProgram, n: number) => `${p.name}__slot${n}`;

/** The handles whose contents each run records: every map but a program array (whose values are programs). */
const dumped = (p: CorpusProgram) =>
  p.maps.flatMap((m, i) => (m.type === BpfMapType.PROG_ARRAY ? [] : [i + 1]));

/** The driver script for the whole corpus. Map indexes are the program's own handles. */
function script(programs: readonly CorpusProgram[], probes: readonly VerifierProgram[]): string {
  const lines: string[] = ['caps full'];
  for (const p of programs) {
    p.maps.forEach((m, i) =>
      lines.push(`map ${i + 1} ${m.type} ${m.keySize} ${m.valueSize} ${m.maxEntries}`),
    );
    p.mapData?.forEach((data, i) => {
      if (data !== undefined) lines.push(`set ${i + 1} 00000000 ${toHex(data)}`);
    });
    // slot programs load first and go into their arrays, as libbpf fills declared slots
    p.slots?.forEach((s, n) => {
      lines.push(`prog ${slotName(p, n)} ${toHex(slotsToBytes(s.insns))}`);
      lines.push(`load ${slotName(p, n)}`, `slot ${s.map} ${s.index} ${slotName(p, n)}`);
    });
    lines.push(`prog ${p.name} ${toHex(slotsToBytes(p.insns))}`);
    lines.push(`load ${p.name}`);
    for (const [, frame] of p.frames) {
      lines.push(`run ${p.name} ${toHex(Uint8Array.from(frame))}`);
      dumped(p).forEach((h) => lines.push(`dump ${h}`));
    }
  }
  probes.forEach((p, n) => {
    p.maps.forEach((m, i) =>
      lines.push(`map ${i + 1} ${m.type} ${m.keySize} ${m.valueSize} ${m.maxEntries}`),
    );
    lines.push(`prog v${n} ${toHex(slotsToBytes(p.insns))}`);
    lines.push('caps full', `load v${n}`, `unload v${n}`, 'caps offload', `load v${n}`, `unload v${n}`);
    lines.push('caps full', 'strict on', `load v${n}`, `unload v${n}`, 'strict off');
  });
  return lines.join('\n') + '\n';
}

/** The verifier's verdicts on the probes, from the LOAD and VLOG lines. */
function parseVerdicts(text: string, probes: readonly VerifierProgram[], kernel: string) {
  const lines = text.replace(/\r/g, '').split('\n');
  const verdict = (at: number, n: number) => {
    const load = lines[at] as string;
    const log: string[] = [];
    for (let i = at + 1; (lines[i] ?? '').startsWith(`VLOG v${n} `); i++)
      log.push((lines[i] as string).slice(`VLOG v${n} `.length));
    const errno = load.includes(' ok') ? 0 : Number(/errno=(\d+)/.exec(load)?.[1] ?? -1);
    return { accepted: errno === 0, errno, log };
  };
  const entries = probes.map((p, n) => {
    const first = lines.findIndex((l) => l.startsWith(`LOAD v${n} `));
    const second = lines.findIndex((l, i) => i > first && l.startsWith(`LOAD v${n} `));
    const third = lines.findIndex((l, i) => i > second && l.startsWith(`LOAD v${n} `));
    if (first < 0 || second < 0 || third < 0) throw new Error(`no verdicts for ${p.name}`);
    return {
      name: p.name,
      origin: p.origin,
      about: p.about,
      insns: toHex(slotsToBytes(p.insns)),
      maps: p.maps.map((m, i) => vectorMapOf(m, i + 1)),
      privileged: verdict(first, n),
      unprivileged: verdict(second, n),
      strict: verdict(third, n),
      ...(UNSAFE_IN_6_1[p.name] === undefined ? {} : { deviation: { reason: UNSAFE_IN_6_1[p.name] } }),
    };
  });
  return {
    format: 'virtio-xdp-offload/verifier/1',
    description: `BPF_PROG_LOAD verdicts of Linux ${kernel} for XDP programs, each loaded three times: privileged (${PRIVILEGED}), unprivileged (${UNPRIVILEGED}), and privileged with BPF_F_STRICT_ALIGNMENT. A rejected load's log is its last lines.`,
    kernel,
    privileged: PRIVILEGED,
    unprivileged: UNPRIVILEGED,
    programs: entries,
  };
}

interface Run {
  readonly name: string;
  readonly packet: string;
  readonly errno: number;
  readonly retval: number | null;
  readonly output: string | null;
  readonly maps: { handle: number; entries: [string, string][] }[];
}

function parseResults(text: string, programs: readonly CorpusProgram[]) {
  const lines = text.replace(/\r/g, '').split('\n');
  const kernel = lines.find((l) => l.startsWith('UNAME '))?.slice(6) ?? 'unknown';
  if (!lines.includes('END'))
    throw new Error('the driver did not finish (no END line); see .tmp/oracle/console.log');
  let i = lines.findIndex((l) => l.startsWith('UNAME ')) + 1;
  if (lines[i] !== 'CAPS full ok') throw new Error(`could not set privileges: ${String(lines[i])}`);
  i++;
  const next = () => lines[i++] ?? '';
  const files = [];
  for (const p of programs) {
    const maps = p.maps.map((m, h) => {
      const l = next();
      if (!l.startsWith(`MAPCREATE ${h + 1} ok`))
        throw new Error(`expected MAPCREATE for ${p.name}, got ${l}`);
      const data = p.mapData?.[h];
      return { ...vectorMapOf(m, h + 1), ...(data === undefined ? {} : { data: toHex(data) }) };
    });
    for (const [h, data] of (p.mapData ?? []).entries()) {
      if (data === undefined) continue;
      const l = next();
      if (l !== `SET ${h + 1} ok`) throw new Error(`expected SET ${h + 1} ok for ${p.name}, got ${l}`);
    }
    // skip to this program's LOAD line, past its slot programs' loads, which must have filled the slots
    while (i < lines.length && !(lines[i] ?? '').startsWith(`LOAD ${p.name} `)) {
      const l = next();
      if (
        (l.startsWith('SLOT ') && !l.endsWith(' ok')) ||
        (l.startsWith(`LOAD ${p.name}__slot`) && !l.endsWith(' ok'))
      )
        throw new Error(`a slot of ${p.name} was not filled: ${l}`);
    }
    const load = next();
    const loadErrno = load.includes(' ok') ? 0 : Number(/errno=(\d+)/.exec(load)?.[1] ?? -1);
    const log: string[] = [];
    while ((lines[i] ?? '').startsWith(`VLOG ${p.name} `)) log.push(next().slice(`VLOG ${p.name} `.length));
    const runs: Run[] = [];
    for (const [name, frame] of p.frames) {
      const r = next();
      const m = /^RUN \S+ (ok retval=(\d+) size=(\d+) out=([0-9a-f]*)|fail errno=(\d+))$/.exec(r);
      if (m === null) throw new Error(`unexpected line for ${p.name}/${name}: ${r}`);
      const contents: { handle: number; entries: [string, string][] }[] = [];
      for (const h of dumped(p)) {
        const entries: [string, string][] = [];
        for (let l = next(); l !== `MAPEND ${h}`; l = next()) {
          const e = /^MAP (\d+) ([0-9a-f]+) ([0-9a-f]+)$/.exec(l);
          if (e === null) throw new Error(`unexpected map line ${l}`);
          entries.push([e[2] as string, e[3] as string]);
        }
        contents.push({ handle: h, entries: entries.sort(([a], [b]) => a.localeCompare(b)) });
      }
      runs.push({
        name,
        packet: toHex(Uint8Array.from(frame)),
        errno: m[5] === undefined ? 0 : Number(m[5]),
        retval: m[2] === undefined ? null : Number(m[2]),
        output: m[4] ?? null,
        maps: contents,
      });
    }
    files.push({
      format: 'virtio-xdp-offload/xdp-runs/1',
      description: `Runs of ${p.name} through BPF_PROG_TEST_RUN on Linux ${kernel} (interpreter, JIT off; loaded as ${PRIVILEGED}), in order: maps keep their state from run to run.`,
      kernel,
      program: { name: p.name, source: p.source, insns: toHex(slotsToBytes(p.insns)) },
      maps,
      ...(p.slots === undefined
        ? {}
        : {
            slots: p.slots.map((s) => ({
              map: s.map,
              index: s.index,
              program: { name: s.name, insns: toHex(slotsToBytes(s.insns)) },
            })),
          }),
      load: { accepted: loadErrno === 0, errno: loadErrno, log },
      runs,
    });
  }
  return files;
}

function boot(programs: readonly CorpusProgram[], results: string): void {
  bootVm(script(programs, verifierCorpus()), WORK, results, KERNEL);
}

/** Re-parses the last run's results without booting again (ORACLE_REPARSE=1). */
function reparse(): boolean {
  return process.env.ORACLE_REPARSE === '1' && existsSync(join(WORK, 'results.txt'));
}

function main(): void {
  if (!existsSync(KERNEL))
    throw new Error(`${KERNEL} is missing: apt-get install linux-image-6.1.0-56-cloud-amd64`);
  const programs = corpus();
  const results = join(WORK, 'results.txt');
  const started = Date.now();
  if (!reparse()) boot(programs, results);
  const text = readFileSync(results, 'utf8');
  const files = parseResults(text, programs);
  const verdicts = parseVerdicts(text, verifierCorpus(), files[0]?.kernel ?? 'unknown');
  mkdirSync('vectors/verifier', { recursive: true });
  writeFileSync('vectors/verifier/linux-6.1.json', JSON.stringify(verdicts, null, 1) + '\n');
  const ok = (k: 'privileged' | 'unprivileged') => verdicts.programs.filter((p) => p[k].accepted).length;
  console.log(
    `${verdicts.programs.length} programs: ${ok('privileged')} accepted privileged, ${ok('unprivileged')} unprivileged`,
  );
  mkdirSync(OUT, { recursive: true });
  let runs = 0;
  for (const f of files) {
    writeFileSync(join(OUT, `${f.program.name}.json`), JSON.stringify(f, null, 1) + '\n');
    runs += f.runs.length;
  }
  console.log(
    `${files.length} programs, ${runs} runs from ${files[0]?.kernel ?? '?'} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

main();
