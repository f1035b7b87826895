#!/usr/bin/env node
// The xdp-offload command: one binary, one subcommand per capability of the library.
import { main } from './run.js';
import type { Output } from './io.js';

const console_: Output = {
  stdout: (text) => process.stdout.write(text + '\n'),
  stderr: (text) => process.stderr.write(text + '\n'),
};

process.exitCode = main(process.argv.slice(2), console_);
