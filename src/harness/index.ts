/**
 * What drives the parties of the offload rather than being one of them: the hostile-guest fuzzer
 * (mixed and limits modes) against a device, the lying device against a guest driver, the pcapng
 * writer that captures frames at the tap, the RFC's experiments (offloaded beside driver mode) with
 * the traffic they send, and the seeded generator that makes every campaign replayable from a
 * printed seed.
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
