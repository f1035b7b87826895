// [dev-wire-in-order]: the device completes control elements one at a time in the order they were
// made available, also when it verifies a PROG_LOAD in the background. The check compares every
// answer with the answers of the same elements served one after another; as evidence that it can
// fail, a loop that lets later elements overtake a verification in flight is caught.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfMapType, LogLevel, toHex, type BpfInsn, type ControlRequest } from '../../../src/codec/index.js';
import { ControlQueue } from '../../../src/reference/device/control-queue.js';
import type { OffloadDevice } from '../../../src/reference/device/device.js';
import { ControlElement } from '../../../src/reference/virtqueue/element.js';
import { negotiated, program } from '../../support/offload.js';

const load = (insns: BpfInsn[]): ControlRequest => ({
  command: 'PROG_LOAD',
  data: { insn_cnt: insns.length, log_size: 0, log_level: LogLevel.NONE, prog_flags: 0, insns },
});

/** A driver's burst: a map, a program using it, then commands the program's attach decides. */
const BURST: ControlRequest[] = [
  {
    command: 'MAP_CREATE',
    data: { map_type: BpfMapType.ARRAY, key_size: 4, value_size: 8, max_entries: 4, map_flags: 0 },
  },
  load(program(`lddw %r1, map[1]\nmov %r0, 2\nexit\n`, [1])),
  { command: 'MAP_FREE', data: { map_handle: 1 } },
  { command: 'QUERY', data: null },
  { command: 'PROG_UNLOAD', data: null },
  { command: 'MAP_FREE', data: { map_handle: 1 } },
];

/** The answers of the burst through a queue, in used-ring order, with the element each answers. */
function answers(queueOf: (device: OffloadDevice) => ControlQueue): string[] {
  const t = negotiated();
  const queue = queueOf(t.device);
  const elements = BURST.map((r) => ControlElement.forControlRequest(r));
  for (const e of elements) queue.makeAvailable(e);
  queue.drain();
  return queue.usedRing.map(
    ({ element, used }) => `${elements.indexOf(element)}: ${toHex(element.readAnswer(used))}`,
  );
}

/** The answers of the burst served one after another, without a queue. */
function serial(): string[] {
  const t = negotiated();
  return BURST.map((r, i) => {
    const e = ControlElement.forControlRequest(r);
    return `${i}: ${toHex(e.readAnswer(t.device.serve(e).used))}`;
  });
}

/** A loop that serves the next element while a verification is in flight: against the rule. */
class OvertakingQueue extends ControlQueue {
  override turn(): boolean {
    const next = this.inFlight === undefined ? undefined : this.available.shift();
    if (next !== undefined) {
      this.complete(next);
      return true;
    }
    return super.turn();
  }
}

describe('the control queue is served in order [dev-wire-in-order]', () => {
  test('inline and background verification give every element the answer serial service gives', () => {
    const want = serial();
    assert.equal(want.length, BURST.length);
    assert.deepEqual(
      answers((d) => new ControlQueue(d)),
      want,
    );
    assert.deepEqual(
      answers((d) => new ControlQueue(d, true)),
      want,
    );
  });

  test('a loop letting a MAP_FREE overtake the PROG_LOAD being verified is caught', () => {
    const got = answers((d) => new OvertakingQueue(d, true));
    assert.notDeepEqual(got, serial());
    // The overtaking MAP_FREE freed the map the program needs: the free succeeds, the load fails.
    assert.match(got[1] ?? '', /^2: 00/);
  });
});
