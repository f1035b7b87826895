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
import { EXIT, UsageError, errorJson, jsonText, oneLine, type Output, type Subcommand } from './io.js';
import { CodecError } from '../codec/index.js';
import { AsmError, ElfError, MapCreateError, TestRunError } from '../reference/ebpf/index.js';
import { BtfError } from '../reference/ebpf/btf.js';
import { ConformanceFormatError } from '../reference/ebpf/conformance.js';
import { CapsError } from '../reference/device/caps.js';
import { FramingError } from '../reference/virtqueue/element.js';
import { ProtocolFailure } from '../harness/kit/line-protocol.js';
import { deviceServe, engineServe, verifierServe } from './serve.js';

/** Errors that mean the input was refused (exit 2); anything else is a defect of the CLI (exit 70). */
const INPUT_ERRORS = [
  UsageError,
  CodecError,
  ElfError,
  BtfError,
  AsmError,
  FramingError,
  MapCreateError,
  TestRunError,
  CapsError,
  ConformanceFormatError,
  SyntaxError, // JSON.parse of a document given on the command line
  ProtocolFailure, // a device under test that broke its protocol
] as const;

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
  deviceServe,
  engineServe,
  verifierServe,
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
export function main(argv: string[], out: Output): number | Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'help' && rest[0] !== undefined) return main([rest[0], '--help'], out);
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
  // Every subcommand's help, whatever else the line holds (as `git` and `npm` do).
  if (rest.includes('--help') || rest.includes('-h')) {
    out.stdout(sub.help);
    return EXIT.ok;
  }
  const report = (error: unknown): number => {
    // Never a stack trace: one line on stderr, or under --json an {"error": ...} object on stdout.
    const refused = INPUT_ERRORS.some((type) => error instanceof type);
    if (rest.includes('--json')) out.stdout(jsonText(errorJson(error)));
    else out.stderr(refused ? oneLine(error) : `internal error: ${oneLine(error).replace(/^error: /, '')}`);
    return refused ? EXIT.usage : EXIT.internal;
  };
  try {
    const code = sub.run(rest, out);
    return typeof code === 'number' ? code : code.catch(report);
  } catch (error) {
    return report(error);
  }
}
