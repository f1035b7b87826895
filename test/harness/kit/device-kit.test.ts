// The conformance kit against devices in other processes: the reference's device-serve passes
// every scenario and the fuzzer through a real process boundary; a device with a planted bug is
// caught with the requirement named; a device that breaks the protocol is reported, never waited on
// without end; every line either side writes is one the protocol's schema allows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtocolFailure } from '../../../src/harness/kit/line-protocol.js';
import {
  referenceUnderTest,
  spawnDevice,
  type DeviceUnderTest,
} from '../../../src/harness/kit/device-under-test.js';
import {
  DEVICE_OPS,
  DEVICE_PROTOCOL,
  replyFromJson,
  requestToJson,
  type DeviceOp,
  type DeviceReply,
  type DeviceRequest,
} from '../../../src/harness/kit/device-protocol.js';
import { ReferenceDevice } from '../../../src/harness/kit/reference-device.js';
import {
  ENGINE_PROTOCOL,
  ReferenceEngine,
  type EngineDump,
  type EngineRun,
  type EngineUnderTest,
} from '../../../src/harness/kit/engine-protocol.js';
import {
  VERIFIER_PROTOCOL,
  referenceVerifierLine,
  type Verdict,
  type VerifierUnderTest,
} from '../../../src/harness/kit/verifier-protocol.js';
import { answerLine, serveLine } from '../../../src/harness/kit/serve-lines.js';
import { replayPathsOn } from '../../../src/vectors/replay.js';
import { fuzzCampaign } from '../../../src/harness/fuzz/hostile-guest.js';
import { DEVICE_BUGS, KIT_BUGS, plant } from '../../../scripts/planted-bugs.js';
import { main } from '../../../src/cli/run.js';

const SERVE = 'node dist/cli/main.js device-serve';

const schema = JSON.parse(readFileSync('vectors/schema/device-protocol.schema.json', 'utf8')) as object;
const ajv = new Ajv2020({ strict: true });
ajv.addSchema(schema);
const validate = (def: string, line: unknown): string | undefined => {
  const check = ajv.getSchema(`urn:virtio-xdp-offload:device-protocol:1#/$defs/${def}`);
  assert.ok(check !== undefined, def);
  return check(line) ? undefined : ajv.errorsText(check.errors);
};

/** The reference behind the protocol's JSON lines in this process, every line checked against the schema. */
function schemaCheckedReference(lines: { sent: number; checked: Set<DeviceOp> }): DeviceUnderTest {
  const device = new ReferenceDevice();
  let id = 0;
  const request = <O extends DeviceOp>(req: DeviceRequest<O>): Promise<DeviceReply<O>> => {
    const line = { id: ++id, ...requestToJson(req) };
    assert.equal(validate('request', line), undefined, JSON.stringify(line).slice(0, 200));
    const { reply } = serveLine(device, JSON.stringify(line));
    const json = JSON.parse(reply) as Record<string, unknown>;
    const problem = json.error === undefined ? validate(`reply-${req.op}`, json) : validate('error', json);
    assert.equal(problem, undefined, reply.slice(0, 200));
    lines.sent++;
    lines.checked.add(req.op);
    if (json.error !== undefined) return Promise.reject(new Error(JSON.stringify(json.error)));
    return Promise.resolve(replyFromJson(req.op as O, json));
  };
  return {
    hello: { protocol: DEVICE_PROTOCOL, implementation: 'loopback', extensions: ['introspect'] },
    request,
    close: () => Promise.resolve(),
  };
}

test('every line the kit sends and the reference answers is one the protocol schema allows', async () => {
  const lines = { sent: 0, checked: new Set<DeviceOp>() };
  const a = schemaCheckedReference(lines);
  const summary = await replayPathsOn(['vectors/scenarios'], { device: a });
  assert.equal(summary.failed, 0);
  const report = await fuzzCampaign({
    seed: 2,
    messages: 600,
    twins: { a, b: schemaCheckedReference(lines), inProcess: true },
  });
  assert.deepEqual(report.failures, []);
  for (const op of ['hello', 'quit'] as const) {
    const { reply } = serveLine(
      new ReferenceDevice(),
      JSON.stringify({ id: 7, op, protocol: DEVICE_PROTOCOL }),
    );
    assert.equal(validate(`reply-${op}`, JSON.parse(reply)), undefined, reply);
    lines.checked.add(op);
  }
  assert.deepEqual([...lines.checked].sort(), [...DEVICE_OPS].sort());
  assert.ok(lines.sent > 3000, `${lines.sent} lines`);
});

test('a line the device cannot carry out is answered with an error naming why, never with silence', () => {
  const device = new ReferenceDevice();
  const answer = (line: string) =>
    JSON.parse(serveLine(device, line).reply) as { id: unknown; error?: { code: string } };
  assert.equal(answer('{"id":1,"op":"teleport"}').error?.code, 'unknown-op');
  assert.equal(answer('not json').error?.code, 'bad-request');
  assert.equal(answer('{"op":"reset"}').error?.code, 'bad-request');
  assert.equal(answer('{"id":2,"op":"frame","queue":0,"frame":"xyz"}').error?.code, 'bad-request');
  assert.equal(answer('{"id":3,"op":"reset"}').error?.code, 'not-started');
  // The engine and verifier servers answer the same way.
  const engine = new ReferenceEngine();
  const engineAnswer = (line: string) =>
    (
      JSON.parse(answerLine(line, (r) => engine.handle(r)).reply) as {
        error?: { code: string; message: string };
      }
    ).error;
  assert.equal(engineAnswer('{"id":1,"op":"teleport"}')?.code, 'unknown-op');
  assert.equal(engineAnswer('{"id":2,"op":"run","packet":"00"}')?.code, 'not-started');
  assert.match(
    engineAnswer('{"id":3,"op":"load","maps":[],"slots":[],"insns":"zz"}')?.message ?? '',
    /insns/,
  );
  assert.match(
    engineAnswer('{"id":4,"op":"load","maps":[{"handle":1}],"slots":[],"insns":""}')?.message ?? '',
    /maps\[0\]\.type/,
  );
  const verdict = (line: string) =>
    (JSON.parse(answerLine(line, referenceVerifierLine).reply) as { error?: { code: string } }).error?.code;
  assert.equal(verdict('{"id":1,"op":"verify","insns":"","maps":[],"mode":"root"}'), 'bad-request');
  assert.equal(verdict('{"op":"verify"}'), 'bad-request');
  const huge =
    '{"id":5,"op":"control","segments":[{"readable":"0a09"},{"writable":16777216},{"writable":1}]}';
  assert.match(JSON.stringify(answer(huge).error), /bad-request.*more than 16777216 writable bytes in all/);
  const caps = '00'.repeat(96);
  assert.equal(
    answer(`{"id":4,"op":"start","caps":"${caps}","queues":1,"host_variant":0}`).error?.code,
    'bad-request',
  );
});

test('replay --device passes every shipped scenario on device-serve, through a real process', async () => {
  const device = await spawnDevice(SERVE);
  try {
    assert.deepEqual(device.hello.extensions, ['introspect']);
    const summary = await replayPathsOn(['vectors/scenarios'], { device: device });
    assert.equal(
      summary.failed,
      0,
      JSON.stringify(summary.files.flatMap((f) => f.outcomes.filter((o) => !o.passed))),
    );
    assert.equal(summary.passed, 11);
  } finally {
    await device.close();
  }
});

test('fuzz --device against two device-serve processes finds nothing, with introspection and on the wire alone', async () => {
  for (const wireOnly of [false, true]) {
    let out = '';
    const code = await main(
      ['fuzz', '--device', SERVE, '--messages', '1000', '--seed', '4', ...(wireOnly ? ['--wire-only'] : [])],
      { stdout: (s) => (out += `${s}\n`), stderr: () => undefined },
    );
    assert.equal(code, 0, out);
    assert.match(out, /^1000 messages/m);
    assert.match(out, /^0 failures$/m);
  }
});

test('a planted bug in the device, the engine or the verifier is caught by replay through its protocol', async () => {
  const vectors = {
    device: 'vectors/scenarios',
    engine: 'vectors/xdp',
    verifier: 'vectors/verifier/linux-6.1.json',
  };
  for (const [name, bug] of Object.entries(KIT_BUGS)) {
    const planted = new URL(plant(name, bug, 'cli/main.ts')).pathname;
    let out = '';
    const code = await main(
      ['replay', `--${bug.serves}`, `node --import tsx ${planted} ${bug.serves}-serve`, vectors[bug.serves]],
      { stdout: (s) => (out += `${s}\n`), stderr: () => undefined },
    );
    assert.equal(code, 1, `${name}: ${out.slice(0, 2000)}`);
    assert.match(out, bug.finds, `${name}: ${out.slice(0, 2000)}`);
  }
});

test('a device with a planted wire bug is caught by fuzz --device --wire-only, naming the requirement', async () => {
  const bug = DEVICE_BUGS['insn-cnt-after-decode'];
  assert.ok(bug !== undefined);
  const main_ = plant('insn-cnt-after-decode', bug, 'cli/main.ts');
  let out = '';
  const code = await main(
    [
      'fuzz',
      '--device',
      `node --import tsx ${new URL(main_).pathname} device-serve`,
      '--wire-only',
      '--messages',
      '20000',
      '--seed',
      '1',
    ],
    { stdout: (s) => (out += `${s}\n`), stderr: () => undefined },
  );
  assert.equal(code, 1, out);
  assert.match(out, /^FAIL prog-limit at message \d+ of session \d+ \[dev-prog-limit\]$/m);
  assert.match(out, /replay: xdp-offload fuzz --device ".*" --wire-only --replay \d+ --messages \d+/);
});

test('a device that breaks the protocol is reported at once, never waited on without end', async () => {
  const fake = (script: string) => `node -e ${JSON.stringify(script)}`;
  const cases: [string, RegExp][] = [
    [fake("process.stdin.once('data', () => console.log('hello there'))"), /not JSON/],
    [fake("process.stdin.on('data', () => undefined)"), /no reply to hello within 500 ms/],
    [fake('process.exit(3)'), /exited \(status 3\)/],
    [
      fake("process.stdin.once('data', () => console.log(JSON.stringify({ id: 9 })))"),
      /an id it was not asked/,
    ],
    [
      fake(
        "process.stdin.once('data', () => console.log(JSON.stringify({ id: 1, protocol: 'other/9', implementation: 'x', extensions: [] })))",
      ),
      /speaks other\/9/,
    ],
    [
      fake("process.stdin.once('data', () => console.log(JSON.stringify({ id: 1, protocol: 1 })))"),
      /reply to hello is malformed: protocol/,
    ],
  ];
  for (const [command, message] of cases) {
    const started = Date.now();
    await assert.rejects(spawnDevice(command, { timeoutMs: 500 }), (error: unknown) => {
      assert.ok(error instanceof ProtocolFailure, String(error));
      assert.match(error.message, message);
      return true;
    });
    assert.ok(Date.now() - started < 10_000);
  }
});

test('replay --engine and --verifier pass every XDP run and verdict on engine-serve and verifier-serve', async () => {
  for (const [flag, serve, path, count] of [
    ['--engine', 'engine-serve', 'vectors/xdp', /^1783 passed, 0 failed$/m],
    ['--verifier', 'verifier-serve', 'vectors/verifier/generated-6.1.json', /^5000 passed, 0 failed$/m],
  ] as const) {
    let out = '';
    const code = await main(['replay', flag, `node dist/cli/main.js ${serve}`, path], {
      stdout: (s) => (out += `${s}\n`),
      stderr: () => undefined,
    });
    assert.equal(code, 0, out.slice(0, 2000));
    assert.match(out, count);
  }
});

test('conformance --engine runs each test on a bpf_conformance plugin and catches a wrong one', () => {
  // Tests of the suite's format, written here (the suite itself may be absent from the machine).
  const dir = mkdtempSync(join(tmpdir(), 'plugin-tests-'));
  const tests: Record<string, string> = {
    'alu.data': '-- asm\nmov %r0, 40\nadd %r0, 2\nexit\n-- result\n0x2a\n',
    'mem.data': '-- asm\nldxw %r0, [%r1]\nexit\n-- mem\n01 02 03 04\n-- result\n0x4030201\n',
    'lddw.data': '-- asm\nlddw %r0, 0x1122334455667788\nexit\n-- result\n0x1122334455667788\n',
  };
  for (const [name, text] of Object.entries(tests)) writeFileSync(join(dir, name), text);
  const run = (engine: string) => {
    let out = '';
    const code = main(['conformance', dir, '--engine', engine], {
      stdout: (s) => (out += `${s}\n`),
      stderr: () => undefined,
    });
    assert.equal(typeof code, 'number');
    return { code, out };
  };
  const good = run('node dist/cli/main.js bpf-plugin');
  assert.equal(good.code, 0, good.out);
  assert.match(good.out, /^3 passed, 0 failed$/m);
  // A plugin whose every program returns 0: each test with another result fails, named.
  const bad = run(`node -e "process.stdin.resume(); process.stdin.on('end', () => console.log('0'))"`);
  assert.equal(bad.code, 1, bad.out);
  assert.match(bad.out, /^FAIL .*alu\.data: r0 = 0x0, expected 0x2a$/m);
  assert.match(bad.out, /^0 passed, 3 failed$/m);
});

test('a device that claims a used length past the writable bytes is caught [dev-wire-no-readable-write]', async () => {
  // The reference, with one lie on the wire: every answer's used length one past the room.
  const lying = (): DeviceUnderTest => {
    const inner = referenceUnderTest();
    return {
      hello: inner.hello,
      request: async <O extends DeviceOp>(request: DeviceRequest<O>): Promise<DeviceReply<O>> => {
        const reply = await inner.request(request);
        if (request.op !== 'control') return reply;
        const { segments } = request;
        const room = segments.reduce((n, s) => n + ('writable' in s ? s.writable : 0), 0);
        const control = reply as DeviceReply<'control'>;
        if (control.used === 0) return reply;
        const written = new Uint8Array(room + 1);
        written.set(control.written);
        return { ...control, used: room + 1, written } as DeviceReply<O>;
      },
      close: () => inner.close(),
    };
  };
  const report = await fuzzCampaign({
    seed: 1,
    messages: 200,
    twins: { a: lying(), b: lying(), inProcess: true },
  });
  assert.equal(report.failures[0]?.check, 'used-past-room');
  assert.deepEqual(report.failures[0]?.requirements, ['dev-wire-no-readable-write']);
});

test('a device that writes a line without end is stopped at the bound', async () => {
  const endless = `node -e ${JSON.stringify("process.stdin.once('data', () => process.stdout.write('x'.repeat(1 << 16)))")}`;
  await assert.rejects(
    spawnDevice(endless, { timeoutMs: 5000, maxLineLength: 1000 }),
    /longer than 1000 characters/,
  );
});

test('every line of the engine and verifier protocols, both ways, is one their schemas allow', async () => {
  const checker = (file: string, urn: string) => {
    const ajv2 = new Ajv2020({ strict: true });
    ajv2.addSchema(JSON.parse(readFileSync(`vectors/schema/${file}`, 'utf8')) as object);
    return (def: string, line: unknown) => {
      const check = ajv2.getSchema(`${urn}#/$defs/${def}`);
      assert.ok(check !== undefined, def);
      assert.ok(
        check(line),
        `${def}: ${ajv2.errorsText(check.errors)}: ${JSON.stringify(line).slice(0, 200)}`,
      );
    };
  };
  let id = 0;
  const exchange =
    (check: ReturnType<typeof checker>, handle: (r: Record<string, unknown>) => Record<string, unknown>) =>
    (request: Record<string, unknown> & { op: string }) => {
      const line = { id: ++id, ...request };
      check('request', line);
      const reply = { id: line.id, ...handle(line) };
      check(`reply-${request.op}`, reply);
      return reply;
    };
  const engineCheck = checker('engine-protocol.schema.json', 'urn:virtio-xdp-offload:engine-protocol:1');
  const reference = new ReferenceEngine();
  const call = exchange(engineCheck, (r) => reference.handle(r));
  call({ op: 'hello', protocol: ENGINE_PROTOCOL });
  const engine: EngineUnderTest = {
    implementation: 'schema-checked reference engine',
    load: (request) => Promise.resolve(void call({ ...request })),
    run: (packet) => Promise.resolve(call({ op: 'run', packet }) as unknown as EngineRun),
    dump: (handle) => Promise.resolve(call({ op: 'dump', handle }) as unknown as EngineDump),
    close: () => Promise.resolve(void call({ op: 'quit' })),
  };
  const xdp = await replayPathsOn(['vectors/xdp'], { engine });
  assert.equal(xdp.failed, 0);
  assert.ok(xdp.passed > 1000);
  await engine.close();
  const verifierCheck = checker(
    'verifier-protocol.schema.json',
    'urn:virtio-xdp-offload:verifier-protocol:1',
  );
  const ask = exchange(verifierCheck, referenceVerifierLine);
  ask({ op: 'hello', protocol: VERIFIER_PROTOCOL });
  const verifier: VerifierUnderTest = {
    implementation: 'schema-checked reference verifier',
    verify: (request) => Promise.resolve(ask({ op: 'verify', ...request }) as unknown as Verdict),
    close: () => Promise.resolve(void ask({ op: 'quit' })),
  };
  const verdicts = await replayPathsOn(['vectors/verifier/generated-6.1.json'], { verifier });
  assert.equal(verdicts.failed, 0);
  assert.equal(verdicts.passed, 5000);
  await verifier.close();
});
