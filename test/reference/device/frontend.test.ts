// The device's front end: every malformed readable part of the codec vectors is refused with the
// spec's status before anything executes, and a result area too small stops the command.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  VIRTIO_NET_ERR,
  XdpStatus,
  decodeResult,
  parseHex,
  writableSize,
  type ControlRequest,
} from '../../../src/codec/index.js';
import { serveElement, type CommandExecutor } from '../../../src/reference/device/frontend.js';
import { ControlElement } from '../../../src/reference/virtqueue/element.js';

interface RequestVector {
  readonly name: string;
  readonly kind: 'valid' | 'malformed';
  readonly hex: string;
  readonly error?: { readonly kind: string; readonly field: string };
}
const vectors = (
  JSON.parse(readFileSync('vectors/codec/requests.json', 'utf8')) as { vectors: RequestVector[] }
).vectors;
const bytesOf = (hex: string) => parseHex(hex) ?? assert.fail(`bad hex ${hex}`);

/** An executor that records calls and fails every command with ENOENT (no result to build). */
function recording(): { calls: ControlRequest[]; execute: CommandExecutor } {
  const calls: ControlRequest[] = [];
  return {
    calls,
    execute: (request) => {
      calls.push(request);
      return {
        command: request.command,
        ack: VIRTIO_NET_ERR,
        status: XdpStatus.ENOENT,
        result: null,
      };
    },
  };
}

describe('malformed readable parts [dev-wire-malformed]', () => {
  test('each malformed codec vector is answered EOPNOTSUPP or EINVAL and never executed', () => {
    const malformed = vectors.filter((v) => v.kind === 'malformed');
    assert.ok(malformed.length >= 20);
    for (const v of malformed) {
      const { calls, execute } = recording();
      const bytes = bytesOf(v.hex);
      const element = ControlElement.forRequest(bytes, 9 + 128);
      const served = serveElement(element, execute);
      assert.equal(calls.length, 0, v.name);
      if (bytes.length < 2) {
        // [dev-wire-broken]: no room for the header is no command at all.
        assert.match(served.broken ?? '', /no room for the command header/, v.name);
        assert.equal(served.used, 0, v.name);
        continue;
      }
      if (bytes[0] !== 10) {
        // [dev-wire-other-class]: another class's answer is ack alone.
        assert.deepEqual([...element.readAnswer(served.used)], [VIRTIO_NET_ERR], v.name);
        continue;
      }
      const undefinedValue = v.error?.kind === 'unknown' && /(^|\.)(cmd|map_type)$/.test(v.error.field);
      const want = undefinedValue ? XdpStatus.EOPNOTSUPP : XdpStatus.EINVAL;
      assert.equal(served.status, want, v.name);
      assert.equal(calls.length, 0, v.name);
      assert.equal(served.used, 9, v.name);
      const answer = element.readAnswer(served.used);
      assert.deepEqual([...answer], [VIRTIO_NET_ERR, want & 0xff, want >> 8, 0, 0, 0, 0, 0, 0], v.name);
    }
  });

  test('a readable buffer after a writable one breaks the element: nothing executed, nothing written [dev-wire-broken]', () => {
    const { calls, execute } = recording();
    const writable = new Uint8Array(80).fill(0xa5);
    const element = new ControlElement([
      { bytes: new Uint8Array([10, 8]), deviceWritable: false },
      { bytes: writable, deviceWritable: true },
      { bytes: new Uint8Array([0]), deviceWritable: false },
    ]);
    const served = serveElement(element, execute);
    assert.match(served.broken ?? '', /readable-after-writable/);
    assert.equal(served.used, 0);
    assert.ok(writable.every((b) => b === 0xa5));
    assert.equal(calls.length, 0);
  });

  test('an element with no writable byte breaks too; one with a byte gets VIRTIO_NET_ERR alone [dev-wire-broken] [dev-wire-writable-short]', () => {
    const { calls, execute } = recording();
    assert.match(
      serveElement(ControlElement.forRequest(Uint8Array.of(10, 9), 0), execute).broken ?? '',
      /no room for ack/,
    );
    const one = ControlElement.forRequest(Uint8Array.of(10, 9), 1);
    const served = serveElement(one, execute);
    assert.equal(served.broken, undefined);
    assert.deepEqual([...one.readAnswer(served.used)], [VIRTIO_NET_ERR]);
    assert.equal(calls.length, 0);
  });
});

describe('result area too small [dev-wire-writable-short]', () => {
  const valid = vectors.filter((v) => v.kind === 'valid');

  test('with 9 writable bytes but less than the result needs: EINVAL, nothing executed', () => {
    for (const v of valid) {
      const bytes = bytesOf(v.hex);
      const { calls, execute } = recording();
      const probe = ControlElement.forRequest(bytes, 9 + 4096);
      const request = serveElement(probe, execute).request ?? assert.fail(v.name);
      const need = writableSize(request);
      calls.length = 0;
      for (const room of need > 9 ? [9, need - 1] : []) {
        const element = ControlElement.forRequest(bytes, room);
        const served = serveElement(element, execute);
        assert.equal(served.status, XdpStatus.EINVAL, `${v.name} with ${room}`);
        assert.equal(served.executed, false);
        const answer = decodeResult(request, element.readAnswer(served.used));
        assert.equal(answer.status, XdpStatus.EINVAL);
      }
      assert.equal(calls.length, 0, v.name);
      const exact = serveElement(ControlElement.forRequest(bytes, need), execute);
      assert.equal(exact.executed, true, `${v.name} runs with exactly ${need} writable bytes`);
    }
  });

  test('with fewer than 9 writable bytes: VIRTIO_NET_ERR in ack alone, or nothing when no byte is writable', () => {
    const bytes = bytesOf(valid[0]?.hex ?? '');
    for (let room = 0; room < 9; room++) {
      const { calls, execute } = recording();
      const element = ControlElement.forRequest(bytes, room);
      const served = serveElement(element, execute);
      assert.equal(served.used, room === 0 ? 0 : 1);
      assert.equal(served.status, undefined);
      assert.deepEqual([...element.readAnswer(served.used)], room === 0 ? [] : [VIRTIO_NET_ERR]);
      assert.equal(calls.length, 0);
    }
  });
});
