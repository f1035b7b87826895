/**
 * The helpers an XDP program can call, with Linux 6.1's argument checks and return values. Time and
 * randomness are injected so that runs are reproducible.
 *
 * @module
 */
import { BPF_FUNC_REDIRECT_MAP, Errno, OffloadHelper, XdpAction } from '../../codec/index.js';
import { EngineFault } from './fault.js';
import { mapOfRegion, type BpfMap } from './maps.js';
import type { Region } from './memory.js';
import { isProgArray, MAX_TAIL_CALLS } from './prog-array.js';
import type { Helper, Vm } from './vm.js';
import type { XdpBuffer } from './xdp.js';

/** Sources of time and randomness for `bpf_ktime_get_ns` and `bpf_get_prandom_u32`. */
export interface HelperEnvironment {
  /** Nanoseconds of a monotonic clock. */
  clock(): bigint;
  /**
   * The same clock at a coarser resolution (`bpf_ktime_get_coarse_ns`); by default {@link clock}
   * rounded down to a multiple of 4 ms, the tick of a 250 Hz kernel.
   */
  coarseClock?(): bigint;
  /** A uniformly distributed 32-bit value. */
  random(): number;
}

/** A deterministic environment: a clock that advances 1000 ns per call, and xorshift32 numbers. */
export function deterministicEnvironment(seed = 1): HelperEnvironment {
  let now = 1_000_000_000n;
  let state = seed >>> 0 || 1;
  return {
    clock: () => (now += 1000n),
    random: () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state >>> 0;
    },
  };
}

/** The resolution of the default coarse clock: 4 ms, a 250 Hz kernel's tick. */
const COARSE_TICK_NS = 4_000_000n;

function setR0(vm: Vm, value: number): void {
  vm.lo[0] = value | 0;
  vm.hi[0] = value < 0 ? -1 : 0;
}

function region(vm: Vm, r: number, size: number, write: boolean, pc: number): { region: Region; at: number } {
  const reg = vm.space.check(vm.hi[r] as number, vm.lo[r] as number, size, write, pc);
  if (reg.kind === 'ctx' || reg.kind === 'map') {
    throw new EngineFault('helper-argument', pc, `r${r} points to ${reg.kind}, not to memory`);
  }
  return { region: reg, at: vm.space.offsetOf(vm.lo[r] as number) };
}

/** `size` bytes of memory that r`r` points at (checked). */
function bytesAt(vm: Vm, r: number, size: number, pc: number): Uint8Array {
  if (size === 0) return new Uint8Array(0);
  const { region: reg, at } = region(vm, r, size, false, pc);
  return reg.bytes.subarray(at, at + size);
}

function mapArg(vm: Vm, pc: number, r = 1): BpfMap {
  const map = vm.lo[r] === vm.space.loOf(0) ? mapOfRegion(vm.space.regionOf(vm.hi[r] as number)) : undefined;
  if (map === undefined) throw new EngineFault('helper-argument', pc, `r${r} is not a map`);
  return map;
}

function xdpArg(vm: Vm, xdp: XdpBuffer, pc: number): void {
  if (vm.hi[1] !== vm.space.hiOf(xdp.ctx) || vm.lo[1] !== vm.space.loOf(0)) {
    throw new EngineFault('helper-argument', pc, 'r1 is not the XDP context');
  }
}

/** x86-64 `csum_partial` over 4-byte-multiple data: 64-bit end-around-carry sum, folded to 32 bits. */
export function csumPartial(data: Uint8Array, seed: number): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let t = BigInt(seed >>> 0);
  const add = (q: bigint) => {
    t += q;
    if (t >= 1n << 64n) t = t - (1n << 64n) + 1n;
  };
  let i = 0;
  for (; i + 8 <= data.length; i += 8) add(view.getBigUint64(i, true));
  if (i + 4 <= data.length) add(BigInt(view.getUint32(i, true)));
  let r = (t >> 32n) + (t & 0xffffffffn);
  if (r >= 1n << 32n) r = r - (1n << 32n) + 1n;
  return Number(r) | 0;
}

/** A parsed number: bytes consumed (sign and prefix included), magnitude and sign. */
export interface StrtoullResult {
  /** Bytes consumed. */
  consumed: number;
  /** The magnitude. */
  value: bigint;
  /** Whether a minus sign preceded it. */
  negative: boolean;
}

/** Linux's `__bpf_strtoull`: the consumed length (and the value) or a negative errno. */
export function bpfStrtoull(buf: Uint8Array, flags: number): StrtoullResult | number {
  if (buf.length === 0) return -Errno.EINVAL;
  if (flags & ~0x1f) return -Errno.EINVAL;
  let base = flags & 0x1f;
  if (base !== 0 && base !== 8 && base !== 10 && base !== 16) return -Errno.EINVAL;
  let i = 0;
  const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);
  while (i < buf.length && isSpace(buf[i] as number)) i++;
  const negative = i < buf.length && buf[i] === 0x2d;
  if (negative) i++;
  const consumed = i;
  let rest = buf.length - consumed;
  if (rest === 0) return -Errno.EINVAL;
  rest = Math.min(rest, 63);
  const str = buf.subarray(consumed, consumed + rest);
  let j = 0;
  // _parse_integer_fixup_radix
  const lower = (c: number | undefined) => (c === undefined ? 0 : c | 0x20);
  if (base === 0) {
    if (str[0] === 0x30) {
      base = lower(str[1]) === 0x78 && isHex(str[2]) ? 16 : 8;
    } else base = 10;
  }
  if (base === 16 && str[0] === 0x30 && lower(str[1]) === 0x78) j = 2;
  // _parse_integer
  let value = 0n;
  let digits = 0;
  let overflow = false;
  const b = BigInt(base);
  for (; j < str.length && str[j] !== 0; j++, digits++) {
    const c = str[j] as number;
    let v: number;
    if (c >= 0x30 && c <= 0x39) v = c - 0x30;
    else if (lower(c) >= 0x61 && lower(c) <= 0x66) v = lower(c) - 0x61 + 10;
    else break;
    if (v >= base) break;
    value = value * b + BigInt(v);
    if (value >= 1n << 64n) overflow = true;
  }
  if (overflow) return -Errno.ERANGE;
  if (digits === 0) return -Errno.EINVAL;
  return { consumed: consumed + j, value, negative };
}

function isHex(c: number | undefined): boolean {
  if (c === undefined) return false;
  const l = c | 0x20;
  return (c >= 0x30 && c <= 0x39) || (l >= 0x61 && l <= 0x66);
}

/** The helper table of an XDP program running on `xdp`. */
export function xdpHelpers(xdp: XdpBuffer, env: HelperEnvironment): (Helper | undefined)[] {
  const table: (Helper | undefined)[] = [];
  table[OffloadHelper.map_lookup_elem] = (vm, pc) => {
    const map = mapArg(vm, pc);
    const key = region(vm, 2, map.definition.keySize, false, pc);
    const value = map.valueRegionAt(key.region.bytes, key.at, xdp.slot);
    vm.hi[0] = value === undefined ? 0 : vm.space.hiOf(value);
    vm.lo[0] = value === undefined ? 0 : vm.space.loOf(0);
  };
  table[OffloadHelper.map_update_elem] = (vm, pc) => {
    const map = mapArg(vm, pc);
    const key = Uint8Array.from(bytesAt(vm, 2, map.definition.keySize, pc));
    const value = Uint8Array.from(bytesAt(vm, 3, map.definition.valueSize, pc));
    const flags = vm.hi[4] === 0 ? (vm.lo[4] as number) >>> 0 : 0xffffffff;
    const errno = map.updateFromProgram(key, value, flags, xdp.slot);
    setR0(vm, -errno);
  };
  table[OffloadHelper.map_delete_elem] = (vm, pc) => {
    const map = mapArg(vm, pc);
    setR0(vm, -map.delete(Uint8Array.from(bytesAt(vm, 2, map.definition.keySize, pc))));
  };
  table[OffloadHelper.ktime_get_ns] = (vm) => vm.setReg(0, env.clock());
  table[OffloadHelper.ktime_get_coarse_ns] = (vm) => {
    const coarse = env.coarseClock?.();
    const now = coarse ?? env.clock();
    vm.setReg(0, coarse ?? now - (now % COARSE_TICK_NS));
  };
  table[OffloadHelper.get_smp_processor_id] = (vm) => {
    vm.lo[0] = xdp.slot;
    vm.hi[0] = 0;
  };
  // [dev-prog-tail-call]: Linux's order: an index beyond the array, then the run's 33 tail calls,
  // then an empty slot, each fall through to the next instruction (r0 untouched); the count goes
  // up before the slot is read.
  table[OffloadHelper.tail_call] = (vm, pc) => {
    xdpArg(vm, xdp, pc);
    const map = mapArg(vm, pc, 2);
    if (!isProgArray(map)) throw new EngineFault('helper-argument', pc, 'r2 is not a program array');
    const index = (vm.lo[3] as number) >>> 0;
    if (index >= map.definition.maxEntries || vm.tailCalls >= MAX_TAIL_CALLS) return;
    vm.tailCalls++;
    vm.pendingTail = map.program(index);
  };
  table[OffloadHelper.get_prandom_u32] = (vm) => {
    vm.lo[0] = env.random() | 0;
    vm.hi[0] = 0;
  };
  // [dev-prog-helper-redirect]: the index is never looked up
  table[OffloadHelper.redirect] = (vm) => {
    if (vm.lo[2] !== 0 || vm.hi[2] !== 0) return setR0(vm, XdpAction.ABORTED);
    xdp.redirectTarget = (vm.lo[1] as number) >>> 0;
    setR0(vm, XdpAction.REDIRECT);
  };
  table[OffloadHelper.csum_diff] = (vm, pc) => {
    const fromSize = (vm.lo[2] as number) >>> 0;
    const toSize = (vm.lo[4] as number) >>> 0;
    if (vm.hi[2] !== 0 || vm.hi[4] !== 0 || ((fromSize | toSize) & 3) !== 0 || fromSize + toSize > 512) {
      return setR0(vm, -Errno.EINVAL);
    }
    const diff = new Uint8Array(fromSize + toSize);
    const from = bytesAt(vm, 1, fromSize, pc);
    for (let i = 0; i < fromSize; i++) diff[i] = ~(from[i] as number) & 0xff;
    diff.set(bytesAt(vm, 3, toSize, pc), fromSize);
    const sum = csumPartial(diff, vm.lo[5] as number);
    vm.lo[0] = sum;
    vm.hi[0] = 0;
  };
  table[OffloadHelper.xdp_adjust_head] = (vm, pc) => {
    xdpArg(vm, xdp, pc);
    setR0(vm, xdp.adjustHead(vm.lo[2] as number));
  };
  table[OffloadHelper.xdp_adjust_meta] = (vm, pc) => {
    xdpArg(vm, xdp, pc);
    setR0(vm, xdp.adjustMeta(vm.lo[2] as number));
  };
  table[OffloadHelper.xdp_adjust_tail] = (vm, pc) => {
    xdpArg(vm, xdp, pc);
    setR0(vm, xdp.adjustTail(vm.lo[2] as number));
  };
  const strto = (signed: boolean): Helper => {
    return (vm, pc) => {
      const len = (vm.lo[2] as number) >>> 0;
      if (vm.hi[2] !== 0) return setR0(vm, -Errno.EINVAL);
      const flags = vm.hi[3] === 0 ? (vm.lo[3] as number) >>> 0 : 0xffffffff;
      const parsed = bpfStrtoull(bytesAt(vm, 1, len, pc), flags);
      if (typeof parsed === 'number') return setR0(vm, parsed);
      let value = parsed.value;
      if (signed) {
        if (parsed.negative ? value > 1n << 63n : value > (1n << 63n) - 1n) return setR0(vm, -Errno.ERANGE);
        value = parsed.negative ? -value : value;
      } else {
        if (parsed.negative) return setR0(vm, -Errno.EINVAL);
      }
      const { region: out, at } = region(vm, 4, 8, true, pc);
      out.view.setBigUint64(at, BigInt.asUintN(64, value), true);
      setR0(vm, parsed.consumed);
    };
  };
  table[OffloadHelper.strtol] = strto(true);
  table[OffloadHelper.strtoul] = strto(false);
  const copy = (store: boolean): Helper => {
    return (vm, pc) => {
      xdpArg(vm, xdp, pc);
      const offset = (vm.lo[2] as number) >>> 0;
      const len = (vm.lo[4] as number) >>> 0;
      if (vm.hi[2] !== 0 || vm.hi[4] !== 0 || offset > 0xffff || len > 0xffff) return setR0(vm, -14);
      if (len === 0) return setR0(vm, offset > xdp.dataEnd - xdp.data + xdp.fragsLength() ? -22 : 0);
      const { region: buf, at } = region(vm, 3, len, !store, pc);
      if (!xdp.copy(offset, buf.bytes.subarray(at, at + len), store)) return setR0(vm, -Errno.EINVAL);
      setR0(vm, 0);
    };
  };
  table[OffloadHelper.xdp_load_bytes] = copy(false);
  table[OffloadHelper.xdp_store_bytes] = copy(true);
  table[BPF_FUNC_REDIRECT_MAP] = (_vm, pc) => {
    throw new EngineFault(
      'helper-argument',
      pc,
      'bpf_redirect_map needs a DEVMAP, CPUMAP or XSKMAP, which are not offloadable',
    );
  };
  return table;
}
