// Helpers for tests of the offload path: a negotiated topology, programs assembled against guest map
// fds, raw control exchanges that keep the bytes the device wrote, and sample frames.
import assert from 'node:assert/strict';
import {
  BpfMapType,
  decodeResult,
  encodeRequest,
  writableSize,
  type BpfInsn,
  type ControlRequest,
  type ResultOf,
  type XdpCommandName,
} from '../../src/codec/index.js';
import { assemble } from '../../src/reference/ebpf/asm.js';
import type { MapDefinition } from '../../src/reference/ebpf/maps.js';
import { rewriteMapRefs } from '../../src/reference/ebpf/needs.js';
import { Topology, type TopologyOptions } from '../../src/reference/topology.js';
import { ControlElement } from '../../src/reference/virtqueue/element.js';

/** A topology whose driver has negotiated offload and read the capabilities. */
export function negotiated(options: TopologyOptions = {}): Topology {
  const t = new Topology(options);
  assert.equal(t.driver.probe(), true);
  return t;
}

/** An array of u64 counters. */
export const counters = (maxEntries = 256): MapDefinition => ({
  type: BpfMapType.ARRAY,
  keySize: 4,
  valueSize: 8,
  maxEntries,
});

/** Creates maps through the driver (offloaded or local) and returns their guest fds. */
export function createMaps(t: Topology, defs: readonly MapDefinition[], offload: boolean): number[] {
  return defs.map((def) => {
    const created = t.driver.mapCreate(def, offload);
    if (!('fd' in created)) assert.fail(`map create failed with ${created.errno}`);
    return created.fd;
  });
}

/** Assembles a program whose `map[n]` references (1-based) become the given guest fds. */
export function program(text: string, fds: readonly number[] = []): BpfInsn[] {
  return rewriteMapRefs(assemble(text), (n) => fds[n - 1] ?? n);
}

/** Offloads a program (map[n] = the n-th of the offloaded maps created for it); asserts success. */
export function offload(t: Topology, text: string, defs: readonly MapDefinition[] = []): number[] {
  const fds = createMaps(t, defs, true);
  const outcome = t.driver.attach(program(text, fds), 'offload');
  assert.equal(outcome.errno, 0, outcome.log);
  return fds;
}

/** A raw exchange with the device: the element as a conforming driver frames it. */
export interface RawExchange<C extends XdpCommandName = XdpCommandName> {
  /** The bytes the device wrote (its used length). */
  readonly bytes: Uint8Array;
  /** Those bytes decoded with the driver's strict decoder. */
  readonly answer: ResultOf<C>;
}

/** Sends a request straight to the device, bypassing the driver's own checks. */
export function exchange<R extends ControlRequest>(
  t: Topology,
  request: R,
  writable = writableSize(request),
): RawExchange<R['command']> {
  const element = ControlElement.forRequest(encodeRequest(request), writable);
  const used = t.device.serve(element).used;
  const bytes = element.readAnswer(used).slice();
  return { bytes, answer: decodeResult(request, bytes) };
}

/** A 62-byte UDP/IPv4 frame with a chosen IP protocol and first destination MAC byte. */
export function ipv4Frame(protocol = 17, tag = 0x02, length = 62): Uint8Array {
  const f = new Uint8Array(length);
  f.set([tag, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00], 0);
  f.set([0x45, 0, 0, length - 14, 0, 0, 0x40, 0, 64, protocol, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  return f;
}

/** A program that returns a constant. */
export const returns = (value: number): string => `mov %r0, ${value}\nexit\n`;
