// Entry of a worker thread that runs a TypeScript module: workers do not inherit the main
// thread's loader hooks, so tsx is registered here before the module (workerData.module) loads.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
