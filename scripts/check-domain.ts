// Mechanical soundness check of the verifier's abstract domain (src/harness/fuzz/domain-soundness.ts):
// exhaustive on the 8-bit instance of the same code, random at 64 bits. Exits 1 on a counterexample.
//
//   npm run check:domain -- [--every K] [--random N] [--workers W] [--plant NAME|all]
//
// The exhaustive part checks every ALU transfer (Linux 6.1's precision and the full-precision one
// that pointer arithmetic uses; with a constant operand they differ only for div and mod), negation
// and branch refinement, 64- and 32-bit ("half width"):
//   - every abstract value (each tnum, unsigned and signed interval at 8 bits) with every constant,
//   - every pair of abstract values from a slice of them (every 400th),
// and every pair of concrete values inside each pair of abstract inputs. --every K checks every
// Kth abstract value only. --plant runs against a copy of the domain with a bug planted on purpose
// (scripts/planted-bugs.ts); a planted bug that is not found is a failure of the check.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { ExhaustiveReport } from '../src/harness/fuzz/domain-soundness.js';
import type { ScalarDomain } from '../src/reference/verifier/domain.js';
import { DOMAIN_BUGS, plant } from './planted-bugs.js';
import { onThreads } from './threads.js';

interface Job {
  readonly shard: number;
  readonly shards: number;
  readonly every: number;
  readonly random: number;
  readonly domainUrl: string | undefined;
}

interface JobReport extends ExhaustiveReport {
  readonly randomPairs: number;
}

async function work(job: Job): Promise<JobReport> {
  const { scalarDomain } = (await import(job.domainUrl ?? '../src/reference/verifier/domain.js')) as {
    scalarDomain: (bits: number) => ScalarDomain;
  };
  const check = await import('../src/harness/fuzz/domain-soundness.js');
  const D = scalarDomain(8);
  const model = new check.SmallModel(D);
  const all = check.smallAbstractValues(D);
  const cache = new Map<object, Uint32Array>();
  const members = (s: Parameters<typeof model.members>[0]) => {
    let m = cache.get(s);
    if (m === undefined) cache.set(s, (m = model.members(s)));
    return m;
  };
  const consts = Array.from({ length: 256 }, (_, i) => D.known(BigInt(i)));
  const mine = all.filter((_, i) => i % job.every === 0 && (i / job.every) % job.shards === job.shard);
  const slice = all.filter((_, i) => i % 400 === 0);
  const mySlice = slice.filter((_, i) => i % job.shards === job.shard);
  let pairs = 0;
  let concrete = 0;
  // with a constant operand the 6.1 transfer is the full-precision one except for div and mod
  const passes = [
    [mine, consts, 'transfer', undefined],
    [mine, consts, 'alu', { alu: [0x30, 0x90], refine: false }],
    [mySlice, slice, 'transfer', undefined],
    [mySlice, slice, 'alu', { alu: Object.values(check.ALU_OPS), refine: false }],
  ] as const;
  for (const [as, bs, transfer, only] of passes) {
    const r = check.checkExhaustive(model, as, bs, members, transfer, only);
    pairs += r.pairs;
    concrete += r.concrete;
    if (r.counterexample !== undefined)
      return { pairs, concrete, counterexample: r.counterexample, randomPairs: 0 };
  }
  const wide = scalarDomain(64);
  const counterexample = check.checkRandom(wide, 1 + job.shard, Math.ceil(job.random / job.shards));
  return {
    pairs,
    concrete,
    randomPairs: Math.ceil(job.random / job.shards),
    ...(counterexample ? { counterexample } : {}),
  };
}

if (!isMainThread) {
  parentPort?.postMessage(await work(workerData as Job));
} else {
  await main();
}

async function run(
  workers: number,
  every: number,
  random: number,
  domainUrl: string | undefined,
): Promise<JobReport> {
  const jobs = Array.from({ length: workers }, (_, shard) => ({
    shard,
    shards: workers,
    every,
    random,
    domainUrl,
  }));
  const none: JobReport = { pairs: 0, concrete: 0, randomPairs: 0 };
  const reports = await onThreads(import.meta.url, jobs, none);
  const counterexample = reports.find((r) => r.counterexample !== undefined)?.counterexample;
  return {
    pairs: reports.reduce((n, r) => n + r.pairs, 0),
    concrete: reports.reduce((n, r) => n + r.concrete, 0),
    randomPairs: reports.reduce((n, r) => n + r.randomPairs, 0),
    ...(counterexample ? { counterexample } : {}),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      every: { type: 'string', default: '1' },
      random: { type: 'string', default: '200000' },
      workers: { type: 'string', default: String(availableParallelism()) },
      plant: { type: 'string' },
    },
  });
  const every = Number(values.every);
  const random = Number(values.random);
  const workers = Number(values.workers);
  if (![every, random, workers].every((n) => Number.isInteger(n) && n >= 0) || every < 1 || workers < 1) {
    console.error('--every, --random and --workers take integers (every and workers at least 1)');
    process.exit(2);
  }
  const print = (r: JobReport, seconds: number) =>
    `${r.pairs.toLocaleString('en-US')} abstract pairs, ${r.concrete.toLocaleString('en-US')} concrete pairs at 8 bits; ` +
    `${r.randomPairs.toLocaleString('en-US')} random pairs at 64 bits; ${seconds.toFixed(1)} s`;
  if (values.plant !== undefined) {
    const names = values.plant === 'all' ? Object.keys(DOMAIN_BUGS) : [values.plant];
    let missed = 0;
    for (const name of names) {
      const bug = DOMAIN_BUGS[name];
      if (bug === undefined) {
        console.error(`no planted bug ${name}; there are: ${Object.keys(DOMAIN_BUGS).join(', ')}`);
        process.exit(2);
      }
      const started = Date.now();
      const r = await run(workers, every, random, plant(name, bug, 'reference/verifier/domain.ts'));
      if (r.counterexample === undefined) missed++;
      console.log(
        `${name}: ${r.counterexample === undefined ? 'NOT FOUND' : `found: ${r.counterexample.op}: ${r.counterexample.detail}`}`,
      );
      console.log(`  after ${print(r, (Date.now() - started) / 1000)}`);
    }
    process.exit(missed === 0 ? 0 : 1);
  }
  const started = Date.now();
  const r = await run(workers, every, random, undefined);
  console.log(print(r, (Date.now() - started) / 1000));
  if (r.counterexample !== undefined) {
    console.log(`counterexample: ${r.counterexample.op}: ${r.counterexample.detail}`);
    process.exit(1);
  }
}
