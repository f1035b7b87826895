/**
 * The offload path, executable: the guest's virtio-net driver, the device (a VMM on a tap), the host
 * tap with the offload hook, control virtqueue elements as the spec frames them, and the topology
 * that wires them end to end. Also the hostile-guest fuzzer and the pcapng writer the command line
 * uses, so that an implementer can drive the same checks against their own device.
 *
 * @module offload
 */
export * from './topology.js';
export * from './device/device.js';
export * from './device/caps.js';
export * from './device/maps.js';
export * from './device/frontend.js';
export * from './device/map-commands.js';
export * from './virtqueue/element.js';
export * from './host/tap.js';
export * from './ebpf/actions.js';
export * from './host/programs.js';
export * from './host/bridge.js';
export * from './guest/driver.js';
export * from '../fuzz/hostile-guest.js';
export * from '../pcap/pcapng.js';
