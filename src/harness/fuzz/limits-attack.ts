/**
 * The hostile guest's attack on the device's limits: requests that fill maps to the limit (by
 * entries or by memory), free and refill them, churn handles, replace one value many times with the
 * largest value allowed, walk big maps with GET_NEXT_KEY, look up every index of a big array, and
 * load programs at and past `max_insns`. A phase runs for many messages; the session's checks apply
 * to every one, and the session adds the heap and time bounds of `RESOURCE_BOUNDS`.
 *
 * @module
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  BpfMapType,
  LogLevel,
  NextKeyFlag,
  XdpStatus,
  type BpfInsn,
  type ControlRequest,
} from '../../codec/index.js';
import type { DeviceCaps } from '../../reference/device/caps.js';
import { defaultCaps } from '../../reference/device/device.js';
import { mapMemory } from '../../reference/device/maps.js';
import { mapLimitsOf } from '../../reference/device/caps.js';
import type { Rng } from '../rng.js';

/**
 * Capabilities for the attack: large enough that a full map is big (16,384 entries, keys of up to
 * 256 bytes, 8 MiB in all), so a command whose cost grows with the map shows in its time.
 */
export const LIMITS_CAPS: DeviceCaps = {
  ...defaultCaps(3520),
  max_maps: 8,
  max_entries: 16384,
  max_map_memory: 8n << 20n,
  max_key_size: 256,
  max_value_size: 4096,
  max_insns: 4096,
  max_log_size: 4096,
};

/** What the attack knows of the device's maps (from acknowledged commands). */
export interface AttackView {
  /** Live handles with their definitions. */
  readonly handles: ReadonlyMap<number, { keySize: number; valueSize: number; type: number }>;
  /** Elements each map holds, as far as the guest knows. */
  readonly entries: ReadonlyMap<number, number>;
}

type Phase =
  | { kind: 'fill'; handle?: number; keySize: number; valueSize: number; next: number; left: number }
  | { kind: 'churn'; handle?: number | undefined; left: number }
  | { kind: 'walk'; handle: number; key: Uint8Array | null; left: number }
  | { kind: 'free-all'; left: number }
  | { kind: 'handles'; left: number; created?: number | undefined }
  | { kind: 'array-sweep'; handle: number; index: number; left: number }
  | { kind: 'programs'; left: number };

/** How many entries the attack believes a map holds. */
function entriesOf(view: AttackView, handle: number): number {
  return view.entries.get(handle) ?? 0;
}

/** A key whose first four bytes hold `n` (the rest zero): distinct for distinct n. */
function numberedKey(n: number, size: number): Uint8Array {
  const key = new Uint8Array(size);
  for (let i = 0; i < Math.min(4, size); i++) key[i] = (n >>> (8 * i)) & 0xff;
  return key;
}

/** A straight-line program of exactly `n` slots that verifies: r0 = 0 repeated, then exit. */
function straightProgram(n: number): BpfInsn[] {
  const body = Array.from({ length: Math.max(0, n - 1) }, () => ({
    code: 0xb7,
    dst_reg: 0,
    src_reg: 0,
    off: 0,
    imm: 0,
  }));
  return [...body, { code: 0x95, dst_reg: 0, src_reg: 0, off: 0, imm: 0 }];
}

/** The requests of the limits attack, phase after phase, each phase drawn from the session's Rng. */
export class LimitsAttack {
  private phase: Phase = { kind: 'free-all', left: 0 };
  /** Memory the attack believes its maps take (to size the next fill to what is left). */
  private used = 0n;

  constructor(private readonly caps: DeviceCaps) {}

  /** The next request, given what the guest knows. */
  next(rng: Rng, view: AttackView): ControlRequest {
    for (let tries = 0; tries < 8; tries++) {
      if (this.phase.left <= 0) this.phase = this.choose(rng, view);
      const request = this.step(rng, view);
      if (request !== undefined) return request;
      this.phase = { kind: 'free-all', left: 0 };
    }
    return { command: 'QUERY', data: null };
  }

  /** Tells the attack what a MAP_CREATE it sent was answered (its handle, or undefined). */
  created(handle: number | undefined): void {
    if ((this.phase.kind === 'fill' || this.phase.kind === 'churn') && this.phase.handle === undefined) {
      if (handle === undefined) this.phase.left = 0;
      else this.phase.handle = handle;
    }
    if (this.phase.kind === 'handles') this.phase.created = handle;
  }

  /** Tells the attack a MAP_UPDATE's status: E2BIG (the map is full) ends a fill. */
  updated(status: number | undefined): void {
    if (this.phase.kind === 'fill' && status === XdpStatus.E2BIG) this.phase.left = 0;
  }

  /** Tells the attack the key a GET_NEXT_KEY of its walk returned (undefined at the end). */
  walked(next: Uint8Array | undefined): void {
    if (this.phase.kind !== 'walk') return;
    if (next === undefined) this.phase.left = Math.min(this.phase.left, 1);
    this.phase.key = next ?? null;
  }

  /** Tells the attack the device's accounted memory now. */
  usage(mapMemoryNow: bigint): void {
    this.used = mapMemoryNow;
  }

  /**
   * Every session opens with the attacks that cost a device most when it is wrong: one small map's
   * values replaced thousands of times with the largest value, then a map filled to the limit with
   * the largest keys and walked from its middle. Random phases follow.
   */
  private readonly opening: ('churn' | 'fill' | 'walk')[] = ['churn', 'fill', 'walk'];

  private choose(rng: Rng, view: AttackView): Phase {
    const handles = [...view.handles.keys()];
    const hashes = handles.filter((h) => view.handles.get(h)?.type === BpfMapType.HASH);
    const arrays = handles.filter((h) => view.handles.get(h)?.type === BpfMapType.ARRAY);
    const opening = this.opening.shift();
    if (opening === 'churn') return { kind: 'churn', left: 3000 };
    const roll = opening === 'walk' ? 30 : rng.int(100);
    if (opening === 'fill')
      return {
        kind: 'fill',
        keySize: this.caps.max_key_size,
        valueSize: 8,
        next: 0,
        left: this.caps.max_entries + 2,
      };
    if (roll < 30 || handles.length === 0) {
      // Mostly maps that fill by entries with big keys, sometimes by memory with big values.
      const big = rng.chance(0.6);
      const keySize = big ? rng.pick([64, 128, 256, 256]) : rng.pick([4, 8]);
      const valueSize = big ? rng.pick([8, 16]) : rng.pick([1024, 4096]);
      return { kind: 'fill', keySize, valueSize, next: 0, left: this.caps.max_entries + 2 };
    }
    if (roll < 50 && hashes.length > 0) {
      // The walk starts at the largest hash: the one whose iteration costs most if done wrong.
      const largest = hashes.reduce((x, y) => (entriesOf(view, y) > entriesOf(view, x) ? y : x));
      const handle = opening === 'walk' || rng.chance(0.7) ? largest : rng.pick(hashes);
      // From the first key, or from anywhere in the map (a fill's keys are numbered from 0).
      const d = view.handles.get(handle) as { keySize: number };
      const start =
        opening !== 'walk' && rng.chance(0.5)
          ? null
          : numberedKey(rng.int(Math.max(1, entriesOf(view, handle))), d.keySize);
      return { kind: 'walk', handle, key: start, left: 64 + rng.int(512) };
    }
    if (roll < 65) return { kind: 'churn', left: 1000 + rng.int(4000) };
    if (roll < 75) return { kind: 'handles', left: 100 + rng.int(400) };
    if (roll < 82 && arrays.length > 0)
      return { kind: 'array-sweep', handle: rng.pick(arrays), index: 0, left: 200 + rng.int(800) };
    if (roll < 90) return { kind: 'programs', left: 4 + rng.int(8) };
    return { kind: 'free-all', left: handles.length };
  }

  private step(rng: Rng, view: AttackView): ControlRequest | undefined {
    const phase = this.phase;
    phase.left--;
    const handles = [...view.handles.keys()];
    switch (phase.kind) {
      case 'fill': {
        if (phase.handle === undefined) {
          // As many entries as the memory left allows, at most max_entries: fill to the limit.
          const perEntry = mapMemory(
            {
              type: BpfMapType.HASH,
              keySize: phase.keySize,
              valueSize: phase.valueSize,
              maxEntries: 1,
            },
            mapLimitsOf(this.caps),
          );
          const left = this.caps.max_map_memory - this.used;
          const fits = Number(left / perEntry);
          const maxEntries = Math.min(this.caps.max_entries, fits + (rng.chance(0.2) ? 1 : 0));
          if (maxEntries < 1) return undefined;
          return {
            command: 'MAP_CREATE',
            data: {
              map_type: BpfMapType.HASH,
              key_size: phase.keySize,
              value_size: phase.valueSize,
              max_entries: maxEntries,
              map_flags: 0,
            },
          };
        }
        const handle = phase.handle;
        if (!view.handles.has(handle)) return undefined;
        return {
          command: 'MAP_UPDATE',
          data: {
            map_handle: handle,
            key_size: phase.keySize,
            value_size: phase.valueSize,
            flags: 0,
            key: numberedKey(phase.next++, phase.keySize),
            value: fillValue(rng, phase.valueSize),
          },
        };
      }
      case 'churn': {
        // A tiny hash with the largest key and value sizes, whose few keys are replaced, deleted
        // and added again thousands of times: little is accounted, so little may be held.
        if (phase.handle === undefined) {
          const need = mapMemory(
            {
              type: BpfMapType.HASH,
              keySize: this.caps.max_key_size,
              valueSize: this.caps.max_value_size,
              maxEntries: 4,
            },
            mapLimitsOf(this.caps),
          );
          // Room first: a full device would refuse the map, and the churn would not happen.
          const first = handles[0];
          if (this.caps.max_map_memory - this.used < need && first !== undefined)
            return { command: 'MAP_FREE', data: { map_handle: first } };
          return {
            command: 'MAP_CREATE',
            data: {
              map_type: BpfMapType.HASH,
              key_size: this.caps.max_key_size,
              value_size: this.caps.max_value_size,
              max_entries: 1 + rng.int(4),
              map_flags: 0,
            },
          };
        }
        const handle = phase.handle;
        const d = view.handles.get(handle);
        if (d === undefined) return undefined;
        const key = numberedKey(rng.int(4), d.keySize);
        if (rng.chance(0.2))
          return { command: 'MAP_DELETE', data: { map_handle: handle, key_size: d.keySize, key } };
        return {
          command: 'MAP_UPDATE',
          data: {
            map_handle: handle,
            key_size: d.keySize,
            value_size: d.valueSize,
            flags: 0,
            key,
            value: fillValue(rng, d.valueSize),
          },
        };
      }
      case 'walk': {
        const d = view.handles.get(phase.handle);
        if (d === undefined) return undefined;
        // Mostly the next key of the previous answer; sometimes an absent key (restart).
        const absent = rng.chance(0.05);
        const key = absent ? numberedKey(0xfffffff0 - rng.int(16), d.keySize) : phase.key;
        return {
          command: 'MAP_GET_NEXT_KEY',
          data: {
            map_handle: phase.handle,
            key_size: d.keySize,
            flags: key === null ? NextKeyFlag.FIRST : 0,
            key: key ?? new Uint8Array(0),
          },
        };
      }
      case 'free-all': {
        const handle = handles[0];
        if (handle === undefined) {
          phase.left = 0;
          return { command: 'QUERY', data: null };
        }
        return { command: 'MAP_FREE', data: { map_handle: handle } };
      }
      case 'handles': {
        // Create and free tiny maps: handle numbers and the host's region table churn.
        if (phase.created !== undefined && view.handles.has(phase.created)) {
          const handle = phase.created;
          phase.created = undefined;
          return { command: 'MAP_FREE', data: { map_handle: handle } };
        }
        return {
          command: 'MAP_CREATE',
          data: {
            map_type: rng.pick([BpfMapType.ARRAY, BpfMapType.HASH]),
            key_size: 4,
            value_size: 8,
            max_entries: 1 + rng.int(4),
            map_flags: 0,
          },
        };
      }
      case 'array-sweep': {
        const d = view.handles.get(phase.handle);
        if (d === undefined) return undefined;
        const index = phase.index++;
        return {
          command: 'MAP_LOOKUP',
          data: {
            map_handle: phase.handle,
            key_size: 4,
            value_size: d.valueSize,
            key: numberedKey(index, 4),
          },
        };
      }
      case 'programs': {
        // At max_insns (accepted), one past it (E2BIG), and a huge insn_cnt with a short body.
        const n = this.caps.max_insns + rng.pick([0, 0, 1, -1]);
        if (rng.chance(0.15)) {
          return {
            command: 'PROG_LOAD',
            data: {
              insn_cnt: 2,
              log_size: 0,
              log_level: LogLevel.NONE,
              prog_flags: 0,
              insns: straightProgram(2),
            },
          };
        }
        const logSize = rng.chance(0.5) ? this.caps.max_log_size : 0;
        return {
          command: 'PROG_LOAD',
          data: {
            insn_cnt: n,
            log_size: logSize,
            log_level: logSize === 0 ? LogLevel.NONE : LogLevel.BASIC,
            prog_flags: 0,
            insns: straightProgram(n),
          },
        };
      }
    }
  }
}

/** A value of `size` bytes: random head, patterned tail (cheap to make, never all zero). */
function fillValue(rng: Rng, size: number): Uint8Array {
  const value = new Uint8Array(size);
  const head = rng.bytes(Math.min(size, 8));
  value.set(head);
  for (let i = head.length; i < size; i++) value[i] = i & 0xff;
  return value;
}

let collect: (() => void) | undefined;

/** A full garbage collection (exposed at run time, so no node flag is needed). */
export function collectGarbage(): void {
  if (collect === undefined) {
    setFlagsFromString('--expose_gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Bytes the process holds after a full collection: the JS heap and every ArrayBuffer. V8 frees
 * the backing stores of dead ArrayBuffers on a background thread, so a collection is followed by a
 * short pause and a second one before the count is read (without it, garbage shows as held).
 */
export function heldBytes(): number {
  collectGarbage();
  Atomics.wait(pause, 0, 0, 25);
  collectGarbage();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** The resource bounds the attack checks. */
export const RESOURCE_BOUNDS = {
  /** Heap held per accounted byte of map memory, over both devices. */
  heapPerAccountedByte: 2,
  /** Plus this much, whatever the guest sent (caches, tables, loaded programs, the JIT's code). */
  heapConstant: 16 << 20,
  /** Longest a control command other than a PROG_LOAD that is verified may take, in ms. */
  commandMs: 20,
} as const;
