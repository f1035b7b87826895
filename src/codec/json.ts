/**
 * The JSON form of decoded values, used by vectors and the CLI: keys are the spec's field names,
 * `le64` values are decimal strings (exact beyond 2^53), byte strings are lowercase hex.
 *
 * Conversion from JSON never throws: a value of the wrong shape is passed through unchanged, so that
 * the encoder reports it as a typed error naming the field and its byte offset.
 *
 * @module
 */
import { commandName, type ControlRequest, type ControlResult, COMMAND_FRAMES } from './control.js';
import { VIRTIO_NET_CTRL_XDP_OFFLOAD, XdpCommand, type XdpCommandName } from './constants.js';
import type { Layout } from './layout.js';
import { parseHex, toHex } from './hex.js';
import type { AnyField } from './fields.js';

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function elementLayout(field: AnyField): Layout | undefined {
  return (field as { element?: Layout }).element;
}

/** A decoded structure to its JSON form. */
export function structToJson(layout: Layout, value: object): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  const fields = value as Readonly<Record<string, unknown>>;
  for (const field of layout.fields) {
    if (field.hidden) continue;
    const v = fields[field.name];
    switch (field.json) {
      case 'u64':
        out[field.name] = String(v);
        break;
      case 'hex':
        out[field.name] = toHex(v as Uint8Array);
        break;
      case 'array': {
        const element = elementLayout(field) as Layout;
        out[field.name] = (v as Record<string, unknown>[]).map((e) => structToJson(element, e));
        break;
      }
      default:
        out[field.name] = v as Json;
    }
  }
  return out;
}

/** A structure's JSON form back to a value the encoder takes (unusable parts pass through). */
export function structFromJson(layout: Layout, json: unknown): unknown {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return json;
  const src = json as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(src)) {
    const field = layout.fields.find((f) => f.name === key && !f.hidden);
    out[key] = field === undefined ? v : fieldFromJson(field, v);
  }
  return out;
}

function fieldFromJson(field: AnyField, v: unknown): unknown {
  switch (field.json) {
    case 'u64':
      if (typeof v === 'string' && /^(0|[1-9][0-9]*|0x[0-9a-fA-F]+)$/.test(v)) return BigInt(v);
      if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
      return v;
    case 'hex':
      return typeof v === 'string' ? (parseHex(v) ?? v) : v;
    case 'array': {
      const element = elementLayout(field) as Layout;
      return Array.isArray(v) ? v.map((e) => structFromJson(element, e)) : v;
    }
    default:
      return v;
  }
}

/**
 * A request's JSON form: `{ class, command, data }` with the command's numeric value.
 *
 * @example
 * ```ts
 * const request = decodeRequest(parseHex('0a02 07000000 00000000') as Uint8Array); // MAP_FREE of 7
 * const json = requestToJson(request); // { class: 10, command: 2, data: { map_handle: 7 } }
 * toHex(encodeRequest(requestFromJson(json))); // '0a020700000000000000'
 * ```
 */
export function requestToJson(request: ControlRequest): { [key: string]: Json } {
  const layout = COMMAND_FRAMES[request.command].request;
  return {
    class: VIRTIO_NET_CTRL_XDP_OFFLOAD,
    command: XdpCommand[request.command],
    data: layout === null || request.data === null ? null : structToJson(layout, request.data),
  };
}

/** The command named by a JSON `command` (its number or its spec name), if defined. */
function commandFromJson(v: unknown): XdpCommandName | undefined {
  if (typeof v === 'number') return commandName(v);
  if (typeof v === 'string' && v in XdpCommand) return v as XdpCommandName;
  return undefined;
}

/**
 * A request from JSON. Returns the value to encode; an undefined command or class is returned as a
 * string so that {@link encodeRequest} reports it.
 */
export function requestFromJson(json: unknown): ControlRequest {
  const src = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const name = commandFromJson(src.command);
  if (name === undefined || (src.class !== undefined && src.class !== VIRTIO_NET_CTRL_XDP_OFFLOAD)) {
    return { command: JSON.stringify(src.command ?? null), data: null } as unknown as ControlRequest;
  }
  const layout = COMMAND_FRAMES[name].request;
  const data = src.data === undefined ? null : src.data;
  return { command: name, data: layout === null ? data : structFromJson(layout, data) } as ControlRequest;
}

/** A result's JSON form: `{ ack, status, result }`. */
export function resultToJson(answer: ControlResult): { [key: string]: Json } {
  const layout = COMMAND_FRAMES[answer.command].result;
  return {
    ack: answer.ack,
    status: answer.status,
    result: layout === null || answer.result === null ? null : structToJson(layout, answer.result),
  };
}

/** A result from JSON, for the given request. */
export function resultFromJson(request: ControlRequest, json: unknown): ControlResult {
  const src = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const layout = COMMAND_FRAMES[request.command].result;
  const result = src.result === undefined || src.result === null ? null : src.result;
  return {
    command: request.command,
    ack: src.ack,
    status: src.status,
    result: layout === null || result === null ? result : structFromJson(layout, result),
  } as ControlResult;
}
