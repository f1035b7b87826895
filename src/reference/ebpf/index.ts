/**
 * The eBPF engine: RFC 9669 execution with Linux's extensions, maps, helpers, the XDP context and
 * test runs, and the suite-syntax assembler.
 *
 * @module ebpf
 */
export * from './engine.js';
export * from './fault.js';
export * from './maps.js';
export * from './asm.js';
export * from './bytes.js';
export * from './conformance.js';
export * from './elf.js';
export {
  deterministicEnvironment,
  csumPartial,
  bpfStrtoull,
  type HelperEnvironment,
  type StrtoullResult,
} from './helpers.js';
export type { Pair } from './arith.js';
export { decodeProgram, type DecodedProgram, type PseudoResolver } from './program.js';
export { Vm, DEFAULT_BUDGET, type Helper, type ContextReader } from './vm.js';
export {
  AddressSpace,
  DEFAULT_LAYOUT,
  seededLayout,
  type AddressLayout,
  type Region,
  type RegionKind,
} from './memory.js';
export {
  XDP_HEADROOM,
  XDP_MAX_LINEAR,
  XDP_MAX_FRAME,
  XDP_FRAME_SIZE,
  XDP_TAILROOM,
  ETH_HLEN,
  XdpBuffer,
} from './xdp.js';
export * from './needs.js';
