/**
 * The offload path, executable: the guest's virtio-net driver, the device (a VMM on a tap), the host
 * tap with the offload hook, control virtqueue elements as the spec frames them, and the topology
 * that wires them end to end. The fuzzers and the pcapng writer that drive it are in
 * `virtio-xdp-offload/harness`.
 *
 * @module virtio-xdp-offload/offload
 */
export { type FrameFate, Topology, type TopologyOptions } from './topology.js';
export {
  DEFAULT_HELPERS,
  defaultCaps,
  DEVICE_MAC,
  type DeviceBackend,
  type DeviceUsage,
  helperBitmap,
  MigrationBlockedError,
  OffloadDevice,
  type ProgramTable,
  type ReceivedBuffer,
  type TapIoctlAnswer,
  type TapPort,
} from './device/device.js';
export { advertisedHelpers, CapsError, checkCaps, type DeviceCaps, mapLimitsOf } from './device/caps.js';
export { DeviceMaps, type MapLimits, mapMemory, type Outcome } from './device/maps.js';
export {
  applyRxFilterCommand,
  RESET_RX_FILTER,
  type RxFilterState,
  tunFilterOf,
} from './device/rx-filter.js';
export {
  type ActiveTxFilter,
  installTxFilter,
  isMulticast,
  multicastHashBit,
  TAP_EXACT_ADDRESSES,
  txFilterPasses,
} from './tun/tx-filter.js';
export {
  brokenElement,
  type OtherClassServer,
  type CommandExecutor,
  malformedStatus,
  requestBounds,
  type RequestBounds,
  type Served,
  serveElement,
} from './device/frontend.js';
export { executeMapCommand, isMapCommand, type MapCommandRequest } from './device/map-commands.js';
export { ControlQueue, type ElementServer, type UsedElement } from './device/control-queue.js';
export {
  ControlElement,
  FramingError,
  type FramingErrorKind,
  type Segment,
  writableRoomFor,
} from './virtqueue/element.js';
export {
  type HookFate,
  type HookOutcome,
  type IoctlAnswer,
  Tap,
  type TapOptions,
  TUN_BASE_FEATURES,
  type TunXdpOffloadArg,
} from './tun/tap.js';
export { type ActionCounters, countAction, counterOf, zeroCounters } from './ebpf/actions.js';
export { type HostProgram, HostPrograms, type HostProgramType } from './tun/programs.js';
export { Bridge, type BridgePort } from './tun/bridge.js';
export {
  type AttachOptions,
  type AttachOutcome,
  type DriverReceive,
  type DriverTransport,
  GuestErrno,
  type BatchUpdateOutcome,
  type MapElement,
  VirtioNetDriver,
  type XdpMode,
} from './driver/driver.js';
