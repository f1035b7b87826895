// `xdp-offload decode`: one control-queue buffer from hex to the spec's fields.
import {
  XdpCommand,
  XdpStatus,
  decodeRequest,
  decodeResult,
  nameOf,
  parseHex,
  requestToJson,
  resultToJson,
  type Json,
} from '../codec/index.js';
import {
  EXIT,
  UsageError,
  jsonText,
  parse,
  readArgument,
  stringOption,
  type Output,
  type Subcommand,
} from './io.js';

/**
 * Most hex text `decode` reads (2 MiB of bytes: a PROG_LOAD of 262,142 instructions, far above any
 * device's max_insns), so that printing a decoded buffer stays within seconds and a few hundred MB.
 */
const DECODE_LIMIT = 4 << 20;

function hexArgument(text: string, what: string): Uint8Array {
  const bytes = parseHex(readArgument(text, what, DECODE_LIMIT).trim());
  if (bytes === undefined) throw new UsageError(`${what} is not an even number of hex digits`);
  return bytes;
}

/** Appends the indented text lines of one decoded field (nested structures and arrays below it). */
function describeValue(key: string, value: Json, indent: string, lines: string[]): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    lines.push(`${indent}${key}:`);
    for (const [k, v] of Object.entries(value)) describeValue(k, v, indent + '  ', lines);
    return;
  }
  if (Array.isArray(value)) {
    lines.push(`${indent}${key}: [${value.length}]`);
    value.forEach((v, i) => describeValue(`[${i}]`, v, indent + '  ', lines));
    return;
  }
  let text = JSON.stringify(value);
  if ((key === 'command' || key === 'cmd') && typeof value === 'number')
    text += ` (${String(nameOf(XdpCommand, value))})`;
  if (key === 'status' && typeof value === 'number') text += ` (${String(nameOf(XdpStatus, value))})`;
  lines.push(`${indent}${key}: ${text}`);
}

export const decode: Subcommand = {
  name: 'decode',
  summary: 'decode a control-queue buffer (and its device-writable part) to the spec fields',
  help: `usage: xdp-offload decode <hex> [--result <hex>] [--json]

Decodes the device-readable part of one control-queue command of class
VIRTIO_NET_CTRL_XDP_OFFLOAD (class, command, command-specific data). With
--result, also decodes the device-writable part the device wrote for it (ack,
status, result). Hex may contain spaces and colons; '@file' reads a file, '-'
standard input; at most 4 MiB of hex text is read.

  --result <hex>  the device-writable bytes (the used length)
  --json          print JSON whose keys are the spec's field names

exit: 0 decoded, 2 bad usage or malformed bytes (the reason names the field and
byte offset)`,
  run(args: string[], out: Output): number {
    const parsed = parse(args, { result: { type: 'string' }, json: { type: 'boolean' } });
    const { values, positionals } = parsed;
    const resultHex = stringOption(parsed, 'result');
    if (positionals.length !== 1) throw new UsageError('decode takes exactly one hex argument');
    const request = decodeRequest(hexArgument(positionals[0] as string, 'the buffer'));
    let doc: { [key: string]: Json } = requestToJson(request);
    if (resultHex !== undefined) {
      const result = decodeResult(request, hexArgument(resultHex, '--result'));
      doc = { ...doc, ...resultToJson(result) };
    }
    if (values.json) out.stdout(jsonText(doc));
    else {
      const lines: string[] = [];
      for (const [k, v] of Object.entries(doc)) describeValue(k, v, '', lines);
      out.stdout(lines.join('\n'));
    }
    return EXIT.ok;
  },
};
