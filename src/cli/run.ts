// The xdp-offload command's dispatcher: one subcommand per capability of the library.
import { readFileSync } from 'node:fs';
import { decode } from './decode.js';
import { encode } from './encode.js';
import { replay } from './replay.js';
import { conformance } from './conformance.js';
import { bpfPlugin } from './bpf-plugin.js';
import { runXdp } from './run-xdp.js';
import { verify } from './verify.js';
import { fuzz } from './fuzz.js';
import { demo } from './demo.js';
import { disasm } from './disasm.js';
import { EXIT, UsageError, oneLine, type Output, type Subcommand } from './io.js';
import { CodecError } from '../codec/index.js';

/** Every subcommand, in the order the usage lists them. */
export const SUBCOMMANDS: readonly Subcommand[] = [
  decode,
  encode,
  replay,
  conformance,
  bpfPlugin,
  runXdp,
  verify,
  fuzz,
  demo,
  disasm,
];

function usage(): string {
  const width = Math.max(...SUBCOMMANDS.map((s) => s.name.length));
  return [
    'usage: xdp-offload <command> [options]',
    '',
    'XDP offload from a virtio-net guest to its host: codecs, vectors and the reference model.',
    '',
    'commands:',
    ...SUBCOMMANDS.map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`),
    '',
    "Run 'xdp-offload <command> --help' for a command's options.",
  ].join('\n');
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Runs the CLI with arguments and returns the exit code (exported for tests). */
export function main(argv: string[], out: Output): number {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out.stdout(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version') {
    out.stdout(version());
    return EXIT.ok;
  }
  const sub = SUBCOMMANDS.find((s) => s.name === name);
  if (sub === undefined) {
    out.stderr(`error: unknown command '${name}' (see xdp-offload --help)`);
    return EXIT.usage;
  }
  try {
    return sub.run(rest, out);
  } catch (error) {
    if (error instanceof UsageError || error instanceof CodecError) {
      out.stderr(oneLine(error));
      return EXIT.usage;
    }
    throw error;
  }
}
