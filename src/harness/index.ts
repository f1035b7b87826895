/**
 * What drives the parties of the offload rather than being one of them: the hostile-guest fuzzer
 * (mixed and limits modes) against a device, the lying device against a guest driver, the pcapng
 * writer that captures frames at the tap, the RFC's experiments (offloaded beside driver mode) with
 * the traffic they send, and the seeded generator that makes every campaign replayable from a
 * printed seed; and the conformance kit (`kit/`): the device, engine and verifier protocols that
 * drive implementations in other processes, the reference behind each, and the bpf_conformance
 * plugin runner.
 *
 * @module virtio-xdp-offload/harness
 */
export {
  type CampaignOptions,
  type CampaignReport,
  FUZZ_CAPS,
  fuzzCampaign,
  type FuzzCheck,
  type FuzzFailure,
  type FuzzMode,
  type FuzzTwins,
  FUZZ_CHECK_REQUIREMENTS,
  fuzzSession,
  loadCorpus,
  type SessionOptions,
  type SessionReport,
} from './fuzz/hostile-guest.js';
export {
  type Lie,
  LIES,
  lyingCampaign,
  type LyingCampaignReport,
  lyingDeviceSession,
  type LyingFailure,
  type LyingReport,
} from './fuzz/lying-device.js';
export { LIMITS_CAPS, RESOURCE_BOUNDS } from './fuzz/limits-attack.js';
export { type CapturePoint, type PacketSink, PcapngWriter } from './pcapng.js';
export { Rng, sessionSeed } from './rng.js';
export {
  DEMO_PROGRAMS,
  type DemoComparison,
  type DemoProgramName,
  type DemoProgress,
  type DemoSide,
  type ObjectDemoSide,
  runDemo,
  runObjectDemo,
} from './experiments.js';
export { demoTraffic, randomFrame } from './packets.js';
export {
  DEVICE_OPS,
  DEVICE_PROTOCOL,
  type DeviceErrorBody,
  type DeviceErrorCode,
  type DeviceExtension,
  type DeviceOp,
  DeviceProtocolError,
  type DeviceReplies,
  type DeviceReply,
  type DeviceRequest,
  type DeviceRequests,
  type ElementSegment,
  INTROSPECT_OPS,
  MAX_SEGMENTS,
  MAX_WRITABLE,
  type JsonObject,
  type OpOf,
  type MigrationPhase,
  replyFromJson,
  replyToJson,
  requestFromJson,
  requestToJson,
} from './kit/device-protocol.js';
export { type DeviceUnderTest, referenceUnderTest, spawnDevice } from './kit/device-under-test.js';
export { type DeviceAnswer, REFERENCE_IMPLEMENTATION, ReferenceDevice } from './kit/reference-device.js';
export { answerLine, serveLine, type ServedLine } from './kit/serve-lines.js';
export {
  ErrorReply,
  type JsonLine,
  type LineClient,
  type LineOptions,
  ProtocolFailure,
  runExchange,
  runExchangeAsync,
  spawnLines,
} from './kit/line-protocol.js';
export {
  ENGINE_PROTOCOL,
  type EngineDump,
  type EngineRequest,
  type EngineRun,
  type EngineSlot,
  type EngineUnderTest,
  ReferenceEngine,
  spawnEngine,
} from './kit/engine-protocol.js';
export {
  referenceVerdict,
  referenceVerifierLine,
  spawnVerifier,
  type Verdict,
  VERIFIER_PROTOCOL,
  type VerifierMode,
  type VerifierUnderTest,
  type VerifyRequest,
} from './kit/verifier-protocol.js';
export { pluginRunner, type PluginOptions } from './kit/conformance-plugin.js';
