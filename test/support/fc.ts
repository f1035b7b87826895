// Run counts for property tests: modest by default, raised with FC_RUNS for longer campaigns; FC_SEED
// replays a reported failure.
import fc from 'fast-check';

const runs = Number(process.env.FC_RUNS ?? '200');
const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
fc.configureGlobal({ numRuns: runs, ...(seed === undefined ? {} : { seed }) });

export { fc };
export const RUNS = runs;
