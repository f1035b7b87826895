// `xdp-offload device-serve`, `engine-serve` and `verifier-serve`: the reference's device, eBPF
// engine and verifier behind the kit's three line protocols, on standard input and output, so that
// the kit drives them through a real process boundary.
import { createInterface } from 'node:readline';
import { ReferenceDevice } from '../harness/kit/reference-device.js';
import { answerLine, serveLine } from '../harness/kit/serve-lines.js';
import { ReferenceEngine } from '../harness/kit/engine-protocol.js';
import { referenceVerifierLine } from '../harness/kit/verifier-protocol.js';
import { EXIT, UsageError, parse, type Output, type Subcommand } from './io.js';

/** Answers lines until `quit` or the end of input. */
function serveStdin(
  out: Output,
  answer: (line: string) => { reply: string; quit: boolean },
): Promise<number> {
  const lines = createInterface({ input: process.stdin });
  return new Promise((resolve) => {
    lines.on('line', (line) => {
      const { reply, quit } = answer(line);
      out.stdout(reply);
      if (quit) lines.close();
    });
    lines.on('close', () => resolve(EXIT.ok));
  });
}

/** A server takes no argument; --json, which every subcommand accepts, changes nothing: it speaks JSON. */
function refuseArguments(args: string[]): void {
  const { positionals } = parse(args, { json: { type: 'boolean' } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
}

const serveHelp = (what: string, protocol: string, flag: string) => `usage: xdp-offload ${what}-serve

Reads requests of the ${protocol} protocol, one JSON object per line on
standard input, and answers each with one line on standard output, until
'quit' or the end of input. The protocols are described in docs/testing.md.
Point the kit at it with: xdp-offload replay ${flag} 'xdp-offload ${what}-serve'
--json is accepted and changes nothing: every line is JSON already.

exit: 0 at quit or end of input`;

export const deviceServe: Subcommand = {
  name: 'device-serve',
  summary: 'serve the reference device over the device-under-test protocol (JSON lines on stdio)',
  help: `${serveHelp('device', 'device-under-test (virtio-xdp-offload/device/1)', '--device')}
Its schema is vectors/schema/device-protocol.schema.json.`,
  run(args: string[], out: Output): Promise<number> {
    refuseArguments(args);
    const device = new ReferenceDevice();
    return serveStdin(out, (line) => serveLine(device, line));
  },
};

export const engineServe: Subcommand = {
  name: 'engine-serve',
  summary: 'serve the reference eBPF engine over the engine protocol (JSON lines on stdio)',
  help: serveHelp('engine', 'engine (virtio-xdp-offload/engine/1)', '--engine'),
  run(args: string[], out: Output): Promise<number> {
    refuseArguments(args);
    const engine = new ReferenceEngine();
    return serveStdin(out, (line) => answerLine(line, (request) => engine.handle(request)));
  },
};

export const verifierServe: Subcommand = {
  name: 'verifier-serve',
  summary: 'serve the reference verifier over the verifier protocol (JSON lines on stdio)',
  help: serveHelp('verifier', 'verifier (virtio-xdp-offload/verifier/1)', '--verifier'),
  run(args: string[], out: Output): Promise<number> {
    refuseArguments(args);
    return serveStdin(out, (line) => answerLine(line, referenceVerifierLine));
  },
};
