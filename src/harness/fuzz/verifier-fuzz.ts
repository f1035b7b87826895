/**
 * The verifier's soundness campaign: generated programs (see {@link generateProgram}) verified as
 * the device verifies a guest's program (CAP_BPF and CAP_NET_ADMIN, offloadable helpers) and as a
 * loader with CAP_PERFMON does, and every accepted one run on adversarial packets and map contents
 * in two engines whose address layouts differ. Acceptance must imply:
 * - no engine fault (the verifier's promise of memory safety, in both modes), and
 * - for the device's verdict, the same return value, packet bytes, redirect target and map
 *   contents in both engines: a difference can only come from a host address that reached data
 *   the guest can read (a pointer leak).
 *
 * The verifier is a parameter, so a campaign can be pointed at a copy with a bug planted on
 * purpose and show that it finds it.
 *
 * @module
 */
import { BpfMapType, OFFLOADABLE_HELPER_IDS } from '../../codec/index.js';
import { XdpEngine, isArrayType, type BpfMap, type MapDefinition } from '../../reference/ebpf/index.js';
import type { VerifyOptions, Verdict } from '../../reference/verifier/index.js';
import { generateProgram, type GeneratedProgram } from './program-generator.js';
import { Rng, sessionSeed } from '../rng.js';

/** The verifier under test (the reference's `verify`, or a mutant of it). */
export type VerifyFunction = (insns: GeneratedProgram['insns'], options: VerifyOptions) => Verdict;

/** What one generated program did. */
export interface ProgramOutcome {
  /** The program's seed. */
  readonly seed: number;
  /** Whether the verifier accepted it as the device loads it (CAP_BPF and CAP_NET_ADMIN). */
  readonly accepted: boolean;
  /** Whether the verifier accepted it for a loader with CAP_PERFMON too. */
  readonly acceptedPrivileged: boolean;
  /** Instructions the verifier processed (both modes). */
  readonly processed: number;
  /** Runs made (per engine). */
  readonly runs: number;
  /** The first failure, if any: an engine fault after acceptance, or a difference between layouts. */
  readonly failure?: { readonly kind: 'fault' | 'leak'; readonly detail: string };
}

/** Packets per accepted program. */
const PACKETS = 4;
/** Processing limit: generated programs are small, and a lower limit only turns slow verdicts into refusals. */
const INSN_LIMIT = 100_000;
/** Engine budget per run (a verified program always ends well within it). */
const RUN_BUDGET = 1_000_000;

/** An adversarial packet: random bytes of a random length, sometimes very short or long. */
function adversarialPacket(rng: Rng): Uint8Array {
  const len = rng.pick([14, 15, 20, 34, 42, 54, 60, 64 + rng.int(64), 14 + rng.int(400), 1500]);
  const bytes = rng.bytes(len);
  if (rng.chance(0.3)) bytes.fill(rng.pick([0, 0xff]));
  return bytes;
}

/** A key the generator's programs look up (a small index) or random bytes, as wide as the map's key. */
function adversarialKey(rng: Rng, map: BpfMap, i: number): Uint8Array {
  const { keySize, type } = map.definition;
  const key = new Uint8Array(keySize);
  if (type === BpfMapType.LPM_TRIE) {
    // a prefix length the trie takes (0 to its data bits), then random data
    key.set(rng.bytes(keySize - 4), 4);
    new DataView(key.buffer).setUint32(0, rng.int((keySize - 4) * 8 + 1), true);
    return key;
  }
  const index = isArrayType(type) ? i : rng.chance(0.7) ? rng.int(4) : -1;
  if (index < 0) return rng.bytes(keySize);
  // little-endian index in however many bytes the key has (a 2-byte key holds it too)
  for (let b = 0; b < keySize && b < 4; b++) key[b] = (index >>> (8 * b)) & 0xff;
  return key;
}

/** Map contents chosen to hurt: random values, edge words, keys the generator looks up and others. */
function fillMaps(rng: Rng, maps: readonly BpfMap[]): void {
  for (const map of maps) {
    const { maxEntries, type } = map.definition;
    const entries = Math.min(64, isArrayType(type) ? maxEntries : rng.int(maxEntries + 1));
    for (let i = 0; i < entries; i++) {
      const key = adversarialKey(rng, map, i);
      const value = rng.chance(0.5)
        ? rng.bytes(map.wireValueSize)
        : new Uint8Array(map.wireValueSize).fill(rng.pick([0, 0xff]));
      map.update(key, value, 0); // a full hash map refuses (E2BIG): the contents so far stay
    }
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Everything a guest could observe of an engine's maps. */
function mapImage(maps: readonly BpfMap[]): string {
  return maps
    .map((m) =>
      m
        .entries()
        .map(([k, v]) => `${hex(k)}=${hex(v)}`)
        .join(','),
    )
    .join(' | ');
}

/** An engine with the program's maps, filled from `contentSeed`. */
function engineFor(
  maps: readonly MapDefinition[],
  layoutSeed: number,
  contentSeed: number,
): {
  engine: XdpEngine;
  maps: BpfMap[];
} {
  const engine = new XdpEngine(undefined, layoutSeed);
  const handles = maps.map((m) => engine.createMap(m));
  const created = handles.map((h) => engine.map(h) as BpfMap);
  fillMaps(new Rng(contentSeed), created);
  return { engine, maps: created };
}

/**
 * Verifies the program of one seed as the device does and as a loader with CAP_PERFMON does, and
 * runs it when either accepts: a fault is a failure in both modes, a difference between the two
 * layouts only when the device accepted it (CAP_PERFMON may leak pointers).
 */
export function fuzzProgram(seed: number, verify: VerifyFunction): ProgramOutcome {
  const program = generateProgram(seed);
  const maps = new Map(program.maps.map((m, i) => [i + 1, m] as const));
  const options = { maps, helpers: OFFLOADABLE_HELPER_IDS, insnLimit: INSN_LIMIT };
  const device = verify(program.insns, { ...options, privileged: false });
  const privileged = verify(program.insns, { ...options, privileged: true });
  const base = {
    seed,
    accepted: device.accepted,
    acceptedPrivileged: privileged.accepted,
    processed: device.insnsProcessed + privileged.insnsProcessed,
  };
  if (!device.accepted && !privileged.accepted) return { ...base, runs: 0 };
  const rng = new Rng(sessionSeed(seed, 2));
  const packets = Array.from({ length: PACKETS }, () => adversarialPacket(rng));
  const failure = runOnTwoLayouts(program, packets, {
    contentSeed: sessionSeed(seed, 1),
    layoutSeed: 1 + (seed % 0x7fff),
    leaks: device.accepted,
  });
  return {
    ...base,
    runs: failure?.runs ?? PACKETS,
    ...(failure === undefined ? {} : { failure: failure.failure }),
  };
}

/**
 * Runs a verified program on `packets` in two engines, one with the default address layout and one
 * with `layoutSeed`'s, whose maps hold the same adversarial contents (from `contentSeed`). Returns
 * the first fault (in either engine) or, when `leaks` is set, the first difference a guest could
 * observe: return value, redirect target, packet bytes or any map entry.
 */
export function runOnTwoLayouts(
  program: { readonly insns: GeneratedProgram['insns']; readonly maps: readonly MapDefinition[] },
  packets: readonly Uint8Array[],
  options: { readonly contentSeed: number; readonly layoutSeed: number; readonly leaks: boolean },
): { runs: number; failure: NonNullable<ProgramOutcome['failure']> } | undefined {
  const a = engineFor(program.maps, 0, options.contentSeed);
  const b = engineFor(program.maps, options.layoutSeed, options.contentSeed);
  const loadedA = a.engine.load(program.insns);
  const loadedB = b.engine.load(program.insns);
  for (const [run, packet] of packets.entries()) {
    const ra = a.engine.run(loadedA, packet, {}, RUN_BUDGET);
    const rb = b.engine.run(loadedB, packet, {}, RUN_BUDGET);
    const fault = ra.fault ?? rb.fault;
    if (fault !== undefined)
      return { runs: run + 1, failure: { kind: 'fault', detail: `packet ${hex(packet)}: ${fault.message}` } };
    if (!options.leaks) continue;
    const seenA = `${ra.retval} ${ra.redirectTarget ?? '-'} ${hex(ra.output)} ${mapImage(a.maps)}`;
    const seenB = `${rb.retval} ${rb.redirectTarget ?? '-'} ${hex(rb.output)} ${mapImage(b.maps)}`;
    if (seenA !== seenB)
      return {
        runs: run + 1,
        failure: { kind: 'leak', detail: `packet ${hex(packet)}: ${seenA} vs ${seenB}` },
      };
  }
  return undefined;
}

/** A campaign's totals. */
export interface CampaignReport {
  /** Programs generated and verified. */
  readonly programs: number;
  /** Programs the device's verifier accepted. */
  readonly accepted: number;
  /** Programs accepted for a loader with CAP_PERFMON. */
  readonly acceptedPrivileged: number;
  /** Runs made on each engine. */
  readonly runs: number;
  /** Instructions the verifier processed in total. */
  readonly processed: number;
  /** Failures found (each a seed that reproduces it). */
  readonly failures: readonly ProgramOutcome[];
}

/** Runs programs `first`, `first + stride`, ... until `count` are done or `deadline` (ms since epoch) passes. */
export function fuzzPrograms(
  verify: VerifyFunction,
  options: { first: number; stride?: number; count: number; deadline?: number; maxFailures?: number },
): CampaignReport {
  const stride = options.stride ?? 1;
  const failures: ProgramOutcome[] = [];
  let programs = 0;
  let accepted = 0;
  let acceptedPrivileged = 0;
  let runs = 0;
  let processed = 0;
  for (let i = 0; i < options.count; i++) {
    if ((i & 255) === 0 && options.deadline !== undefined && Date.now() > options.deadline) break;
    const outcome = fuzzProgram(options.first + i * stride, verify);
    programs++;
    if (outcome.accepted) accepted++;
    if (outcome.acceptedPrivileged) acceptedPrivileged++;
    runs += outcome.runs;
    processed += outcome.processed;
    if (outcome.failure !== undefined) {
      failures.push(outcome);
      if (failures.length >= (options.maxFailures ?? 20)) break;
    }
  }
  return { programs, accepted, acceptedPrivileged, runs, processed, failures };
}
