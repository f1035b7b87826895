// Runs a campaign's jobs on worker threads: each job runs the TypeScript module `module` (through
// thread.mjs, which registers tsx there) with the job as its workerData, and answers with one
// message, its report.
import { Worker } from 'node:worker_threads';

/**
 * One thread per job; resolves with each thread's report, in job order. When `enough(report)`
 * holds for a report, the other threads are stopped and report `stopped` instead.
 */
export function onThreads<J extends object, R>(
  module: string,
  jobs: readonly J[],
  stopped: R,
  enough: (report: R) => boolean = () => false,
): Promise<R[]> {
  const threads: Worker[] = [];
  return Promise.all(
    jobs.map(
      (job) =>
        new Promise<R>((done, failed) => {
          const worker = new Worker(new URL('./thread.mjs', import.meta.url), {
            workerData: { ...job, module },
          });
          threads.push(worker);
          worker.once('message', (report: R) => {
            done(report);
            if (enough(report)) for (const other of threads) if (other !== worker) void other.terminate();
          });
          worker.once('error', failed);
          // a thread stopped before it answered (done() after the message changes nothing)
          worker.once('exit', () => done(stopped));
        }),
    ),
  );
}
