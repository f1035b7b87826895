/**
 * Golden vectors: schema validation and replay through the codecs.
 *
 * @module virtio-xdp-offload/vectors
 */
export {
  CODEC_VECTORS_FORMAT,
  type CodecVector,
  type CodecVectorFile,
  replayCodecFile,
  replayCodecVector,
  type VectorOutcome,
} from './codec-vectors.js';
export {
  type FileOutcome,
  replayDocument,
  replayFile,
  replayPaths,
  replayPathsOn,
  type ReplayTargets,
  summarize,
  type ReplaySummary,
  VECTOR_FILE_LIMIT,
  vectorFiles,
} from './replay.js';
export {
  actionName,
  definitionOfVectorMap,
  mapContents,
  replayXdpRunFile,
  type VectorMapContents,
  type VectorMapDefinition,
  XDP_RUNS_FORMAT,
  type XdpRunFile,
  type XdpSlotVector,
  type XdpRunVector,
  vectorMapOf,
  vectorMapTable,
} from './xdp-vectors.js';
export {
  type KernelVerdict,
  replayVerifierFile,
  VERIFIER_FORMAT,
  type VerifierVector,
  type VerifierVectorFile,
} from './verifier-vectors.js';
export { schemaErrors, schemaValidator, VECTORS_DIR } from './schema.js';
export {
  canonicalJson,
  capsToScenario,
  type ControlExpect,
  type DeviceExchange,
  type ControlStep,
  executeStep,
  type MapExpect,
  type MapStep,
  type MigrateStep,
  type PacketExpect,
  type PacketStep,
  replayScenarioFile,
  replayScenarioFileOn,
  type ResetStep,
  runOnDevice,
  runOnReference,
  type Scenario,
  SCENARIO_FORMAT,
  scenarioCaps,
  type ScenarioCaps,
  type ScenarioFile,
  type ScenarioOutcome,
  type ScenarioSession,
  type ScenarioSetup,
  type ScenarioStep,
  type SegmentSpec,
  startSession,
  type StepFailure,
  type UnfixedField,
} from './scenario-vectors.js';
export {
  capsWith,
  type CapsOverrides,
  type ControlOptions,
  ScenarioAssertionError,
  ScenarioWriter,
  type WriterSetup,
} from './scenario-writer.js';
export {
  loadStatus,
  type LoadStatus,
  PROGRAM_CONFORMANCE_FORMAT,
  type ProgramConformanceFile,
  type ProgramConformanceVector,
  replayProgramConformanceFile,
} from './program-vectors.js';
