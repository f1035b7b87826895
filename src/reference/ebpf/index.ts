/**
 * The eBPF engine: RFC 9669 execution with Linux's extensions, maps, helpers, the XDP context and
 * test runs, and the suite-syntax assembler.
 *
 * @module virtio-xdp-offload/ebpf
 */
export { type MapSource, TestRunError, XdpEngine, type XdpRunContext, type XdpRunResult } from './engine.js';
export { EngineFault, type FaultKind } from './fault.js';
export {
  type BpfMap,
  CACHED_VALUE_REGIONS,
  checkDefinition,
  createMap,
  Errno,
  MapCreateError,
  type MapDefinition,
  isArrayType,
  isPerCpu,
  mapFootprint,
  mapOfRegion,
} from './maps.js';
export { isProgArray, MAX_TAIL_CALLS, ProgArray, type TailProgram } from './prog-array.js';
export {
  AsmError,
  assemble,
  disassemble,
  disassembleLlvm,
  formatLlvm,
  formatObjdump,
  type LlvmLine,
} from './asm.js';
export { slotsFromBytes, slotsToBytes } from './bytes.js';
export {
  ConformanceFormatError,
  type ConformanceOutcome,
  type ConformanceTest,
  parseConformance,
  rawWords,
  runConformanceProgram,
  runConformanceSource,
  runConformanceTest,
  type ConformanceFailure,
  type ConformanceRunner,
} from './conformance.js';
export {
  ELF_LIMITS,
  type ElfCodeSection,
  elfCodeSections,
  ElfError,
  type ElfProgram,
  elfProgramSections,
  elfPrograms,
  type ElfLoadOptions,
  type ElfProgramEntry,
  type ElfSlot,
  loadElfProgram,
} from './elf.js';
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
export { helperBitSet, programNeeds, type ProgramNeeds, rewriteMapRefs } from './needs.js';
