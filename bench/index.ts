// npm run bench: codec, engine, verifier and offload-path throughput. Figures come from tinybench on this machine; compare only runs
// taken with the same tool on the same machine.
import { Bench } from 'tinybench';
import { Topology } from '../src/reference/topology.js';
import { ControlElement } from '../src/reference/virtqueue/element.js';
import { rewriteMapRefs } from '../src/reference/ebpf/needs.js';
import { writableSize } from '../src/codec/index.js';
import { XdpEngine, assemble, loadElfProgram, type MapDefinition } from '../src/reference/ebpf/index.js';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  referenceUnderTest,
  spawnDevice,
  type DeviceUnderTest,
} from '../src/harness/kit/device-under-test.js';
import { defaultCaps } from '../src/reference/device/device.js';
import { verify } from '../src/reference/verifier/index.js';
import type { BpfInsn } from '../src/codec/index.js';
import { XDP1, XDP2, PROTO_COUNTERS, udpFrame } from '../src/reference/ebpf/samples.js';
import {
  decodeRequest,
  decodeResult,
  encodeRequest,
  encodeResult,
  parseHex,
  type ControlRequest,
} from '../src/codec/index.js';

const update: ControlRequest = {
  command: 'MAP_UPDATE',
  data: {
    map_handle: 1,
    key_size: 4,
    value_size: 8,
    flags: 0,
    key: Uint8Array.of(6, 0, 0, 0),
    value: Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0),
  },
};
const updateBytes = encodeRequest(update);
const lookup = decodeRequest(parseHex('0a04 01000000 04000000 08000000 00000000 06000000') as Uint8Array);
const lookupResult = parseHex('000000000008000000 2a00000000000000') as Uint8Array;
const program: ControlRequest = {
  command: 'PROG_LOAD',
  data: {
    insn_cnt: 64,
    log_size: 0,
    log_level: 0,
    prog_flags: 0,
    insns: Array.from({ length: 64 }, (_, i) => ({
      code: i === 63 ? 0x95 : 0xb7,
      dst_reg: 0,
      src_reg: 0,
      off: 0,
      imm: i,
    })),
  },
};
const programBytes = encodeRequest(program);

const engine = new XdpEngine();
engine.createMap(PROTO_COUNTERS);
const xdp1 = engine.load(assemble(XDP1));
const xdp2 = engine.load(assemble(XDP2));
const frame = udpFrame();

const counters = new Map<number, MapDefinition>([[1, PROTO_COUNTERS]]);
const xdp1Insns = assemble(XDP1);
const xdp2Insns = assemble(XDP2);
/**
 * A straight-line program of n instructions: pairs of `rK = i; rK += i+1` over r1-r9 (each add
 * reads the register its mov just wrote), then r0 = 2; exit. The verifier accepts it, so a row
 * that verifies it times verification, not a refusal at the first instruction.
 */
const straight = (n: number): BpfInsn[] => [
  ...Array.from({ length: n - 2 }, (_, i) => ({
    code: i % 2 ? 0x07 : 0xb7,
    dst_reg: (Math.floor(i / 2) % 9) + 1,
    src_reg: 0,
    off: 0,
    imm: i,
  })),
  { code: 0xb7, dst_reg: 0, src_reg: 0, off: 0, imm: 2 },
  { code: 0x95, dst_reg: 0, src_reg: 0, off: 0, imm: 0 },
];
const lines = [1024, 4096, 16384].map((n) => [n, straight(n)] as const);
for (const [n, insns] of lines) {
  const verdict = verify(insns, { maps: new Map(), privileged: false });
  if (!verdict.accepted)
    throw new Error(`the ${n}-instruction straight line is refused: ${verdict.log.join('; ')}`);
}

// The offload path: a frame from the host through the tap to the guest, offloaded and in driver mode,
// and a control element served by the device.

function xdp1Topology(mode: 'offload' | 'driver'): Topology {
  const t = new Topology();
  t.driver.probe();
  const created = t.driver.mapCreate(PROTO_COUNTERS, mode === 'offload');
  if (!('fd' in created)) throw new Error('map create failed');
  const outcome = t.driver.attach(
    rewriteMapRefs(xdp1Insns, () => created.fd),
    mode,
  );
  if (outcome.errno !== 0) throw new Error(`attach failed: ${outcome.errno}`);
  return t;
}
const offloaded = xdp1Topology('offload');
const native = xdp1Topology('driver');
const served = new Topology();
served.device.setFeatures(served.device.offeredFeatures());
served.device.execute({
  command: 'MAP_CREATE',
  data: { map_type: 2, key_size: 4, value_size: 8, max_entries: 256, map_flags: 0 },
});

const bench = new Bench({ time: 1000, warmupTime: 200 });
bench
  .add('offload path: xdp1 offloaded, host frame through the tap (dropped on the host)', () => {
    offloaded.fromHost(frame);
  })
  .add('offload path: xdp1 in driver mode, host frame into the guest (dropped there)', () => {
    native.fromHost(frame);
  })
  .add('device: serve a MAP_UPDATE element (frame, decode, execute, answer)', () => {
    served.device.serve(ControlElement.forRequest(updateBytes, writableSize(update)));
  });
bench
  .add('MAP_UPDATE encode+decode (k4 v8, 30 bytes)', () => {
    decodeRequest(encodeRequest(update));
  })
  .add('MAP_UPDATE decode', () => {
    decodeRequest(updateBytes);
  })
  .add('MAP_UPDATE encode', () => {
    encodeRequest(update);
  })
  .add('MAP_LOOKUP result decode+encode', () => {
    encodeResult(lookup, decodeResult(lookup, lookupResult));
  })
  .add('PROG_LOAD 64 insns decode', () => {
    decodeRequest(programBytes);
  })
  .add('xdp1 run (parse, count in array map, XDP_DROP), 62-byte frame', () => {
    engine.runFast(xdp1, frame);
  })
  .add('xdp2 run (parse, count, MAC swap, XDP_TX), 62-byte frame', () => {
    engine.runFast(xdp2, frame);
  })
  .add('verify xdp1 (unprivileged)', () => {
    verify(xdp1Insns, { maps: counters, privileged: false });
  })
  .add('verify xdp2 (unprivileged)', () => {
    verify(xdp2Insns, { maps: counters, privileged: false });
  });
for (const [n, insns] of lines) {
  bench.add(`verify straight-line ${n} insns`, () => {
    verify(insns, { maps: new Map(), privileged: false });
  });
}

await bench.run();

// ---- hostile input: what a guest's largest requests and an object file from anywhere cost ----

/** A device with default capabilities and a full 65,536-entry hash of `keySize`-byte keys. */
function fullHash(keySize: number): { t: Topology; handle: number; key: (n: number) => Uint8Array } {
  const t = new Topology();
  t.device.setFeatures(t.device.offeredFeatures());
  const create = t.device.execute({
    command: 'MAP_CREATE',
    data: { map_type: 1, key_size: keySize, value_size: 8, max_entries: 65536, map_flags: 0 },
  });
  const handle = (create.result as { map_handle: number }).map_handle;
  const key = (n: number) => {
    const k = new Uint8Array(keySize);
    new DataView(k.buffer).setUint32(0, n, true);
    return k;
  };
  for (let i = 0; i < 65536; i++)
    t.device.execute({
      command: 'MAP_UPDATE',
      data: {
        map_handle: handle,
        key_size: keySize,
        value_size: 8,
        flags: 0,
        key: key(i),
        value: new Uint8Array(8),
      },
    });
  return { t, handle, key };
}
const small = fullHash(8);
const wide = fullHash(256);
let cursor = 0;
const element = (request: ControlRequest) =>
  ControlElement.forRequest(encodeRequest(request), writableSize(request));
const nextKey = (h: typeof small, keySize: number) =>
  element({
    command: 'MAP_GET_NEXT_KEY',
    data: {
      map_handle: h.handle,
      key_size: keySize,
      flags: 0,
      key: h.key((cursor = (cursor + 7919) % 65536)),
    },
  });
const maxInsns = 4096;
const loadAt = (n: number) =>
  encodeRequest({
    command: 'PROG_LOAD',
    data: { insn_cnt: n, log_size: 0, log_level: 0, prog_flags: 0, insns: straight(n) },
  });
const atLimit = loadAt(maxInsns);
const pastLimit = loadAt(maxInsns + 1);
/** Room for PROG_LOAD's answer without a log: ack, status header and the 12-byte result header. */
const loadRoom = 9 + 12;
// the rows time what they name: the load at the limit is verified and attached, the others refused
for (const [bytes, want] of [
  [atLimit, 0],
  [pastLimit, 7],
] as const) {
  const status = served.device.serve(ControlElement.forRequest(bytes, loadRoom)).status;
  if (status !== want)
    throw new Error(`PROG_LOAD of ${bytes.length} bytes answered ${String(status)}, not ${want}`);
}
const eightMiB = new Uint8Array(8 << 20);
eightMiB.set(pastLimit.subarray(0, 6));
new DataView(eightMiB.buffer).setUint32(2, (eightMiB.length - 18) / 8, true);
const largestObject = readdirSync('samples')
  .filter((f) => f.endsWith('.o'))
  .map((f) => `samples/${f}`)
  .concat(
    readdirSync('oracle/c')
      .filter((f) => f.endsWith('.o'))
      .map((f) => `oracle/c/${f}`),
  )
  .map((path) => ({ path, bytes: new Uint8Array(readFileSync(path)) }))
  .sort((a, b) => b.bytes.length - a.bytes.length)[0] as { path: string; bytes: Uint8Array };

const hostile = new Bench({ time: 1000, warmupTime: 200 });
hostile
  .add('device MAP_UPDATE, 65,536-entry hash (k8 v8), replacing a key', () => {
    small.t.device.serve(
      element({
        command: 'MAP_UPDATE',
        data: {
          map_handle: small.handle,
          key_size: 8,
          value_size: 8,
          flags: 0,
          key: small.key((cursor = (cursor + 7919) % 65536)),
          value: new Uint8Array(8),
        },
      }),
    );
  })
  .add('device GET_NEXT_KEY, 65,536-entry hash (k8 v8)', () => {
    small.t.device.serve(nextKey(small, 8));
  })
  .add('device GET_NEXT_KEY, 65,536-entry hash (k256 v8)', () => {
    wide.t.device.serve(nextKey(wide, 256));
  })
  .add(`device PROG_LOAD at max_insns (${maxInsns} straight-line insns, verified, attached)`, () => {
    served.device.serve(ControlElement.forRequest(atLimit, loadRoom));
  })
  .add(`device PROG_LOAD of max_insns + 1 (E2BIG from the header)`, () => {
    served.device.serve(ControlElement.forRequest(pastLimit, 9 + 8));
  })
  .add('device PROG_LOAD of 8 MiB (E2BIG from the header)', () => {
    served.device.serve(ControlElement.forRequest(eightMiB, 9 + 8));
  })
  .add(`ELF load of the largest object (${largestObject.path}, ${largestObject.bytes.length} bytes)`, () => {
    loadElfProgram(largestObject.bytes);
  });
await hostile.run();

const rows = [...bench.tasks, ...hostile.tasks].map((task) => {
  const r = task.result;
  if (r === undefined || !('throughput' in r)) return { task: task.name, 'ops/s': 'n/a', 'median ns': 'n/a' };
  return {
    task: task.name,
    'ops/s': Math.round(r.throughput.mean).toLocaleString('en-US'),
    'median ns': Math.round((r.latency.p50 ?? 0) * 1e6).toLocaleString('en-US'),
  };
});
console.table(rows);

// ---- verifier throughput: processed instructions per second, and the heap a verification keeps --

/** One verification, timed, with the heap it grew (after a collection when --expose-gc is on). */
function verifierRun(name: string, text: string, privileged: boolean): Record<string, string> {
  const insns = assemble(text);
  (globalThis as { gc?: () => void }).gc?.();
  const heap = process.memoryUsage().heapUsed;
  const started = performance.now();
  const verdict = verify(insns, { maps: new Map(), privileged });
  const ms = performance.now() - started;
  const processed = Number(
    /Processed (\d+)|processed (\d+)/
      .exec(verdict.log[0] ?? '')
      ?.slice(1)
      .find(Boolean),
  );
  return {
    task: name,
    verdict: verdict.accepted ? 'accepted' : `errno ${verdict.errno}`,
    // a refusal other than the instruction limit does not report its count
    'processed insns': Number.isFinite(processed) ? processed.toLocaleString('en-US') : '-',
    ms: ms.toFixed(0),
    'insns/s': Number.isFinite(processed) ? Math.round(processed / (ms / 1000)).toLocaleString('en-US') : '-',
    'heap MB': ((process.memoryUsage().heapUsed - heap) / 1e6).toFixed(0),
  };
}

const loopTo = (n: number) =>
  `mov %r0, 0\nmov %r1, 0\nl: add %r1, 1\nadd %r0, 3\njlt %r1, ${n}, l\nmov %r0, 0\nexit`;
console.table([
  verifierRun('loop to the 1M-insn limit (CAP_PERFMON): E2BIG', loopTo(2_000_000), true),
  verifierRun('loop, 8193 speculative paths (CAP_BPF only): EFAULT', loopTo(2_000_000), false),
  verifierRun('loop of 100,000 iterations (CAP_PERFMON)', loopTo(100_000), true),
  verifierRun('loop of 1,000 iterations (CAP_BPF only)', loopTo(1_000), false),
]);

// ---- the conformance kit: round trips per second through a child process ----

/** Round trips per second of `rounds` runs of `n` QUERY elements, one after another: min, median, max. */
async function roundTrips(
  device: DeviceUnderTest,
  n: number,
  rounds: number,
): Promise<Record<string, string>> {
  const { features } = await device.request({
    op: 'start',
    caps: defaultCaps(3520),
    queues: 1,
    host_variant: 0,
  });
  await device.request({ op: 'negotiate', features });
  const query = encodeRequest({ command: 'QUERY', data: null });
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    for (let i = 0; i < n; i++)
      await device.request({ op: 'control', segments: [{ readable: query }, { writable: 9 + 72 }] });
    rates.push(n / ((performance.now() - started) / 1000));
  }
  rates.sort((a, b) => a - b);
  const f = (x: number) => Math.round(x).toLocaleString('en-US');
  return {
    device: device.hello.implementation,
    'round trips/s min': f(rates[0] as number),
    median: f(rates[Math.floor(rates.length / 2)] as number),
    max: f(rates[rates.length - 1] as number),
  };
}

const kitRows = [await roundTrips(referenceUnderTest(), 20_000, 5)];
const serve = await spawnDevice(`${process.execPath} --import tsx src/cli/main.ts device-serve`);
kitRows.push({ ...(await roundTrips(serve, 2000, 5)), device: 'device-serve (reference, child process)' });
await serve.close();
const cDevice = join(mkdtempSync(join(tmpdir(), 'bench-c-device-')), 'xdp-device');
if (spawnSync('make', ['-s', '-C', 'examples/c-device', `OUT=${cDevice}`]).status === 0) {
  const c = await spawnDevice(cDevice);
  kitRows.push({ ...(await roundTrips(c, 5000, 5)), device: 'examples/c-device (child process)' });
  await c.close();
}
console.table(kitRows);
