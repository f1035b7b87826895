// The offload pool under the names the tests use.
import { OFFLOAD_POOL, OFFLOAD_POOL_MAPS } from '../../src/reference/ebpf/samples.js';

export const POOL = OFFLOAD_POOL;
export const POOL_MAPS = OFFLOAD_POOL_MAPS;
export const POOL_NAMES = Object.keys(OFFLOAD_POOL);
