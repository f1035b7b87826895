/**
 * The device side of the protocol's framing: one request line in, one reply line out. A line that
 * is not a request the protocol defines is answered with an error naming what is wrong (never a
 * hang, never silence), so a kit that sends a later version's request learns it at once.
 *
 * @module
 */
import { DeviceProtocolError, replyToJson, requestFromJson } from './device-protocol.js';
import type { ReferenceDevice } from './reference-device.js';

/** A reply line, and whether it answered `quit`. */
export interface ServedLine {
  /** The reply (no newline). */
  readonly reply: string;
  /** True after `quit`: the server stops reading. */
  readonly quit: boolean;
}

/** Answers one line of the protocol with one line (no newline); `quit` is true after a quit. */
export function serveLine(device: ReferenceDevice, line: string): ServedLine {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return answer(null, { code: 'bad-request', message: 'the line is not JSON' });
  }
  const object = (typeof json === 'object' && json !== null && !Array.isArray(json) ? json : {}) as Record<
    string,
    unknown
  >;
  const id = typeof object.id === 'number' && Number.isInteger(object.id) ? object.id : null;
  if (id === null) return answer(null, { code: 'bad-request', message: 'id: not an integer' });
  let request;
  try {
    request = requestFromJson(object);
  } catch (error) {
    if (!(error instanceof DeviceProtocolError)) throw error;
    const unknown = typeof object.op !== 'string' || error.message.startsWith('op:');
    return answer(id, { code: unknown ? 'unknown-op' : 'bad-request', message: error.message });
  }
  const result = device.handle(request);
  if (result.error !== undefined) return answer(id, result.error);
  return {
    reply: JSON.stringify({ id, ...replyToJson(request.op, result.reply) }),
    quit: request.op === 'quit',
  };
}

function answer(id: number | null, error: { code: string; message: string }): ServedLine {
  return { reply: JSON.stringify({ id, error }), quit: false };
}
