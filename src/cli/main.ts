#!/usr/bin/env node
// The xdp-offload command: one binary, one subcommand per capability of the library.
import { main } from './run.js';
import type { Output } from './io.js';

// A reader that stops early (`xdp-offload disasm x.o | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const console_: Output = {
  stdout: (text) => process.stdout.write(text + '\n'),
  stderr: (text) => process.stderr.write(text + '\n'),
  interactive: process.stderr.isTTY,
};

const code = main(process.argv.slice(2), console_);
if (typeof code === 'number') process.exitCode = code;
else void code.then((c) => (process.exitCode = c));
