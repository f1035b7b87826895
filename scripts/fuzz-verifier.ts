// The verifier's soundness campaign from the command line: generated programs verified as the
// device verifies a guest's program, every accepted one run on adversarial packets and map contents
// in two engines with different address layouts (see src/harness/fuzz/verifier-fuzz.ts). Exits 1 when any
// program was accepted and then faulted or leaked a pointer.
//
//   npm run fuzz:verifier -- [--seconds S] [--programs N] [--seed S] [--workers W]
//                            [--plant NAME|all] [--out FILE]
//
// --plant runs the campaign against a copy of the verifier with a bug planted on purpose (see
// scripts/planted-bugs.ts) and reports how many programs it took to find it; a planted bug that is
// not found is a failure of the campaign (exit 1).
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { CampaignReport, VerifyFunction } from '../src/harness/fuzz/verifier-fuzz.js';
import { VERIFIER_BUGS, plant } from './planted-bugs.js';
import { onThreads } from './threads.js';

interface Job {
  readonly first: number;
  readonly stride: number;
  readonly count: number;
  readonly deadline: number;
  readonly verifierUrl: string | undefined;
  readonly maxFailures: number;
}

async function verifierFrom(url: string | undefined): Promise<VerifyFunction> {
  const module = (await import(url ?? '../src/reference/verifier/index.js')) as { verify: VerifyFunction };
  return module.verify;
}

async function work(job: Job): Promise<CampaignReport> {
  const { fuzzPrograms } = await import('../src/harness/fuzz/verifier-fuzz.js');
  return fuzzPrograms(await verifierFrom(job.verifierUrl), job);
}

if (!isMainThread) {
  const report = await work(workerData as Job);
  parentPort?.postMessage(report);
} else {
  await main();
}

/** Runs the campaign on `workers` threads; seeds are interleaved so every thread shares the same mix. */
async function campaign(
  workers: number,
  first: number,
  count: number,
  seconds: number,
  verifierUrl: string | undefined,
  maxFailures: number,
): Promise<CampaignReport> {
  const deadline = Date.now() + seconds * 1000;
  const jobs = Array.from({ length: workers }, (_, w) => ({
    first: first + w,
    stride: workers,
    count: Math.ceil((count - w) / workers),
    deadline,
    verifierUrl,
    maxFailures,
  }));
  const empty: CampaignReport = {
    programs: 0,
    accepted: 0,
    acceptedPrivileged: 0,
    runs: 0,
    processed: 0,
    failures: [],
  };
  // a planted bug is found once: the other threads need not go on
  const reports = await onThreads(
    import.meta.url,
    jobs,
    empty,
    (report) => maxFailures === 1 && report.failures.length > 0,
  );
  return {
    programs: reports.reduce((n, r) => n + r.programs, 0),
    accepted: reports.reduce((n, r) => n + r.accepted, 0),
    acceptedPrivileged: reports.reduce((n, r) => n + r.acceptedPrivileged, 0),
    runs: reports.reduce((n, r) => n + r.runs, 0),
    processed: reports.reduce((n, r) => n + r.processed, 0),
    failures: reports.flatMap((r) => r.failures).sort((a, b) => a.seed - b.seed),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '600' },
      programs: { type: 'string' },
      seed: { type: 'string', default: '0' },
      workers: { type: 'string', default: String(availableParallelism()) },
      plant: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  const count = values.programs === undefined ? Number.MAX_SAFE_INTEGER : Number(values.programs);
  const first = Number(values.seed);
  const workers = Number(values.workers);
  if (![seconds, count, first, workers].every((n) => Number.isInteger(n) && n >= 0) || workers < 1) {
    console.error('--seconds, --programs, --seed and --workers take non-negative integers (workers >= 1)');
    process.exit(2);
  }
  if (values.plant !== undefined) {
    const names = values.plant === 'all' ? Object.keys(VERIFIER_BUGS) : [values.plant];
    const results: Record<string, unknown> = {};
    let missed = 0;
    for (const name of names) {
      const bug = VERIFIER_BUGS[name];
      if (bug === undefined) {
        console.error(`no planted bug ${name}; there are: ${Object.keys(VERIFIER_BUGS).join(', ')}`);
        process.exit(2);
      }
      const url = plant(name, bug, 'reference/verifier/index.ts');
      const started = Date.now();
      const r = await campaign(workers, first, count, seconds, url, 1);
      const found = r.failures[0];
      if (found === undefined) missed++;
      // seeds are interleaved across threads: the first failing seed says how far the campaign went
      const programs = found === undefined ? r.programs : found.seed - first + 1;
      results[name] = {
        rule: bug.rule,
        found: found !== undefined,
        programs,
        seconds: (Date.now() - started) / 1000,
        ...(found === undefined
          ? {}
          : { seed: found.seed, kind: found.failure?.kind, detail: found.failure?.detail }),
      };
      console.log(
        `${name}: ${found === undefined ? 'NOT FOUND' : `found (${found.failure?.kind}) by seed ${found.seed}`} after ${programs} programs`,
      );
    }
    if (values.out !== undefined) writeFileSync(values.out, JSON.stringify(results, null, 2) + '\n');
    process.exit(missed === 0 ? 0 : 1);
  }
  const started = Date.now();
  const r = await campaign(workers, first, count, seconds, undefined, 20);
  const elapsed = (Date.now() - started) / 1000;
  const summary = {
    programs: r.programs,
    acceptedDevice: r.accepted,
    acceptedPrivileged: r.acceptedPrivileged,
    runsPerEngine: r.runs,
    verifierInsnsProcessed: r.processed,
    seconds: elapsed,
    programsPerSecond: Math.round(r.programs / elapsed),
    faults: r.failures.filter((f) => f.failure?.kind === 'fault').length,
    leaks: r.failures.filter((f) => f.failure?.kind === 'leak').length,
    failures: r.failures,
  };
  console.log(JSON.stringify(summary, null, 2));
  if (values.out !== undefined) writeFileSync(values.out, JSON.stringify(summary, null, 2) + '\n');
  process.exit(r.failures.length === 0 ? 0 : 1);
}
