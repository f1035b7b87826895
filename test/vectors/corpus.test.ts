// The golden codec vectors: schema-valid, replayed through the codecs in both directions, covering
// every command, every status, every structure and every decoding error class; and the replayer
// itself can fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  ALL_LAYOUTS,
  CODEC_ERROR_KINDS,
  COMMAND_FRAMES,
  XdpCommand,
  XdpStatus,
  decodeRequest,
  parseHex,
} from '../../src/codec/index.js';
import {
  replayCodecVector,
  replayPaths,
  schemaErrors,
  vectorFiles,
  type CodecVector,
  type CodecVectorFile,
} from '../../src/vectors/index.js';

const files = vectorFiles('vectors/codec').map((path) => ({
  path,
  doc: JSON.parse(readFileSync(path, 'utf8')) as CodecVectorFile,
}));
const all = files.flatMap(({ doc }) => doc.vectors.map((v) => ({ target: doc.target, v })));

test('every vector file matches its JSON Schema', () => {
  assert.ok(files.length >= 3);
  for (const { path, doc } of files)
    assert.deepEqual(schemaErrors('codec-vectors.schema.json', doc), [], path);
});

test('every vector replays: valid ones round-trip byte for byte, malformed ones fail exactly as stated', () => {
  const summary = replayPaths(['vectors/codec']);
  const failures = summary.files.flatMap((f) =>
    f.outcomes.filter((o) => !o.passed).map((o) => `${f.file}: ${o.name}: ${o.detail}`),
  );
  assert.deepEqual(failures, []);
  assert.equal(summary.passed, all.length);
  assert.ok(summary.passed >= 100, `only ${summary.passed} vectors`);
});

test('coverage: every command has a valid request and a valid result; every status and error class appears', () => {
  const requestCommands = new Set<string>();
  const resultCommands = new Set<string>();
  const statuses = new Set<number>();
  const errorKinds = new Set<string>();
  for (const { target, v } of all) {
    if (v.kind === 'malformed') errorKinds.add(v.error?.kind ?? '');
    if (v.kind !== 'valid') continue;
    if (target === 'request') requestCommands.add(decodeRequest(parseHex(v.hex) as Uint8Array).command);
    if (target === 'result') {
      resultCommands.add(decodeRequest(parseHex(v.request ?? '') as Uint8Array).command);
      statuses.add((v.value as { status: number }).status);
    }
  }
  assert.deepEqual([...requestCommands].sort(), Object.keys(XdpCommand).sort());
  assert.deepEqual([...resultCommands].sort(), Object.keys(XdpCommand).sort());
  assert.deepEqual(
    [...statuses].sort((a, b) => a - b),
    Object.values(XdpStatus).sort((a, b) => a - b),
  );
  // 'type' is an encoder-only error (a JavaScript value of the wrong type); bytes cannot produce it.
  assert.deepEqual([...errorKinds].sort(), CODEC_ERROR_KINDS.filter((k) => k !== 'type').sort());
});

test('coverage: every structure is decoded by at least one valid vector', () => {
  const reached = new Set<string>(['virtio_net_ctrl_hdr', 'virtio_net_ctrl_ack']);
  for (const { target, v } of all) {
    if (v.kind !== 'valid') continue;
    if (target === 'struct') reached.add(v.struct ?? '');
    const hex = target === 'request' ? v.hex : target === 'result' ? v.request : undefined;
    if (hex === undefined) continue;
    const command = decodeRequest(parseHex(hex) as Uint8Array).command;
    const frame = COMMAND_FRAMES[command];
    if (target === 'request' && frame.request !== null) reached.add(frame.request.cName);
    if (target === 'result') {
      reached.add('virtio_net_xdp_status');
      const value = v.value as { result: unknown };
      if (frame.result !== null && value.result !== null) reached.add(frame.result.cName);
    }
  }
  assert.deepEqual(
    ALL_LAYOUTS.map((l) => l.cName).filter((n) => !reached.has(n)),
    [],
  );
});

test('the replayer fails a vector whose bytes, value or expected error are wrong', () => {
  for (const { target, v } of all) {
    if (v.kind === 'valid') {
      // A changed value must fail.
      const value = JSON.parse(JSON.stringify(v.value)) as Record<string, unknown>;
      value.__extra = 1;
      assert.equal(replayCodecVector(target, { ...v, value } as CodecVector).passed, false, v.name);
      // One more byte must fail.
      const longer = v.hex + (v.hex === '' ? '' : ' ') + '00';
      assert.equal(replayCodecVector(target, { ...v, hex: longer }).passed, false, v.name);
    } else {
      const error = { ...(v.error as NonNullable<CodecVector['error']>), offset: (v.error?.offset ?? 0) + 1 };
      assert.equal(replayCodecVector(target, { ...v, error }).passed, false, v.name);
    }
  }
});

test('the schema rejects a malformed vector without its error, and a valid one without its value', () => {
  const base = { format: 'virtio-xdp-offload/codec-vectors/1', target: 'request' };
  assert.notDeepEqual(
    schemaErrors('codec-vectors.schema.json', {
      ...base,
      vectors: [{ name: 'x', kind: 'malformed', spec: 's', hex: '00' }],
    }),
    [],
  );
  assert.notDeepEqual(
    schemaErrors('codec-vectors.schema.json', {
      ...base,
      vectors: [{ name: 'x', kind: 'valid', spec: 's', hex: '00' }],
    }),
    [],
  );
  assert.notDeepEqual(
    schemaErrors('codec-vectors.schema.json', {
      ...base,
      vectors: [{ name: 'x', kind: 'valid', spec: 's', hex: '0g', value: null }],
    }),
    [],
  );
  assert.deepEqual(
    schemaErrors('codec-vectors.schema.json', {
      ...base,
      vectors: [{ name: 'x', kind: 'valid', spec: 's', hex: '0a 00', value: null }],
    }),
    [],
  );
});
