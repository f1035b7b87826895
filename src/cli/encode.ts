// `xdp-offload encode`: the JSON form of a command (and optionally its result) back to bytes.
import { encodeRequest, encodeResult, requestFromJson, resultFromJson, toHex } from '../codec/index.js';
import { EXIT, UsageError, jsonText, parse, readArgument, type Output, type Subcommand } from './io.js';

export const encode: Subcommand = {
  name: 'encode',
  summary: 'encode the JSON form of a command (and its result) to hex',
  help: `usage: xdp-offload encode <json> [--json]

Encodes what 'decode --json' prints: {"class": 10, "command": N, "data": {...}}
and, when "ack", "status" and "result" are present, the device-writable part
too. 'command' may be its number or its spec name (MAP_UPDATE). le64 values are
decimal strings, byte strings hex. '@file' reads a file, '-' standard input.

  --json  print {"readable": hex, "writable": hex}

exit: 0 encoded, 2 bad usage or a value that does not fit (the reason names the
field and byte offset)`,
  run(args: string[], out: Output): number {
    const { values, positionals } = parse(args, { json: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError('encode takes exactly one JSON argument');
    let doc: unknown;
    try {
      doc = JSON.parse(readArgument(positionals[0] as string));
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`not JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
      throw new UsageError('expected a JSON object');
    const request = requestFromJson(doc);
    const readable = toHex(encodeRequest(request));
    const hasResult = 'ack' in doc || 'status' in doc || 'result' in doc;
    const writable = hasResult ? toHex(encodeResult(request, resultFromJson(request, doc))) : undefined;
    if (values.json) out.stdout(jsonText(writable === undefined ? { readable } : { readable, writable }));
    else out.stdout(writable === undefined ? readable : `${readable}\n${writable}`);
    return EXIT.ok;
  },
};
