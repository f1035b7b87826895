// `xdp-offload bpf-plugin`: the bpf_conformance plugin protocol, so the suite's own runner can drive
// the engine: program bytes as hex on standard input, memory hex as the first argument, r0 in hex on
// standard output.
import { parseHex } from '../codec/index.js';
import { EngineFault } from '../reference/ebpf/fault.js';
import { runConformanceProgram } from '../reference/ebpf/conformance.js';
import { slotsFromBytes } from '../reference/ebpf/bytes.js';
import { EXIT, UsageError, jsonText, readInputFile, type Output, type Subcommand } from './io.js';

function hexBytes(text: string, what: string): Uint8Array {
  const bytes = parseHex(text);
  if (bytes === undefined) throw new UsageError(`${what} is not hex`);
  return bytes;
}

export const bpfPlugin: Subcommand = {
  name: 'bpf-plugin',
  summary: "speak the bpf_conformance plugin protocol (for the suite's own runner)",
  help: `usage: xdp-offload bpf-plugin [<memory-hex>] [--json] [--<runner option>...]

Reads the program as hex bytes (whitespace allowed) from standard input, runs it
with the memory given as the first argument (none if absent), and prints r0 in
hex. Options the runner passes through (--jit, --interpret...) are accepted and
ignored: there is one engine. With --json, one object on standard output
instead: {"r0": "<hex>"}, or {"fault": {"kind", "pc", "message"}} (errors of
input, as every subcommand's, are {"error": {...}}).

exit: 0 ran (r0 printed), 1 the program faulted (reason on standard error),
2 bad input`,
  run(args: string[], out: Output): number {
    const positionals = args.filter((a) => !a.startsWith('--'));
    if (positionals.length > 1) throw new UsageError('bpf-plugin takes at most one memory argument');
    const memory = hexBytes(positionals[0] ?? '', 'the memory argument');
    const stdin = Buffer.from(readInputFile('-', 'the program on standard input')).toString('utf8');
    const program = slotsFromBytes(hexBytes(stdin, 'the program on standard input'));
    const result = runConformanceProgram(program, memory);
    const json = args.includes('--json');
    if (result instanceof EngineFault) {
      if (json)
        out.stdout(jsonText({ fault: { kind: result.kind, pc: result.pc, message: result.message } }));
      else out.stderr(result.message);
      return EXIT.failed;
    }
    out.stdout(json ? jsonText({ r0: result.toString(16) }) : result.toString(16));
    return EXIT.ok;
  },
};
