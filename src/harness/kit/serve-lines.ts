/**
 * The server side of the line framing, for all three protocols: one request line in, one reply
 * line out, with the request's `id`. A line that is not a JSON object with an integer `id` is
 * answered `bad-request` with a null id; a request the handler does not carry out is answered
 * with its error (never a hang, never silence), so a kit that sends a later version's request
 * learns it at once.
 *
 * @module
 */
import { DeviceProtocolError, replyToJson, requestFromJson } from './device-protocol.js';
import { ErrorReply } from './line-protocol.js';
import type { ReferenceDevice } from './reference-device.js';

/** A reply line, and whether it answered `quit`. */
export interface ServedLine {
  /** The reply (no newline). */
  readonly reply: string;
  /** True after `quit`: the server stops reading. */
  readonly quit: boolean;
}

/**
 * Answers one line with `handle`, which takes the request's fields and returns the reply's, or
 * throws {@link ErrorReply} for a request it does not carry out. Any other error is the request's
 * fault as far as the server can tell, and is answered `bad-request` with its message.
 */
export function answerLine(
  line: string,
  handle: (request: Record<string, unknown>) => Record<string, unknown>,
): ServedLine {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return refusal(null, 'bad-request', 'the line is not JSON');
  }
  const request = (typeof json === 'object' && json !== null && !Array.isArray(json) ? json : {}) as Record<
    string,
    unknown
  >;
  const id = typeof request.id === 'number' && Number.isInteger(request.id) ? request.id : null;
  if (id === null) return refusal(null, 'bad-request', 'id: not an integer');
  try {
    return { reply: JSON.stringify({ id, ...handle(request) }), quit: request.op === 'quit' };
  } catch (error) {
    if (error instanceof ErrorReply)
      return refusal(id, error.code, error.message.replace(/^[^:]*: [^:]*: /, ''));
    return refusal(id, 'bad-request', error instanceof Error ? error.message : String(error));
  }
}

function refusal(id: number | null, code: string, message: string): ServedLine {
  return { reply: JSON.stringify({ id, error: { code, message } }), quit: false };
}

/**
 * One device-protocol request's fields for the reference device: the reply's fields.
 *
 * @throws ErrorReply for a request the protocol does not define or the device does not carry out.
 */
function deviceFields(device: ReferenceDevice, fields: Record<string, unknown>): Record<string, unknown> {
  let request;
  try {
    request = requestFromJson(fields);
  } catch (error) {
    if (!(error instanceof DeviceProtocolError)) throw error;
    const unknown = typeof fields.op !== 'string' || error.message.startsWith('op:');
    throw new ErrorReply(String(fields.op), unknown ? 'unknown-op' : 'bad-request', error.message);
  }
  return replyToJson(request.op, device.reply(request));
}

/** Answers one line of the device protocol for the reference device (errors as error replies). */
export function serveLine(device: ReferenceDevice, line: string): ServedLine {
  return answerLine(line, (fields) => deviceFields(device, fields));
}
