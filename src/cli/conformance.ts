// `xdp-offload conformance`: runs bpf_conformance test files through the engine in one process.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runConformanceSource, type ConformanceOutcome } from '../reference/ebpf/conformance.js';
import { pluginRunner } from '../harness/kit/conformance-plugin.js';
import {
  EXIT,
  UsageError,
  jsonText,
  parse,
  progressReporter,
  readInputFile,
  stringOption,
  type Output,
  type Subcommand,
} from './io.js';

function dataFiles(path: string): string[] {
  if (path === '-' || !statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((n) => n.endsWith('.data'))
    .sort()
    .map((n) => join(path, n));
}

export const conformance: Subcommand = {
  name: 'conformance',
  summary: 'run bpf_conformance test files through the eBPF engine',
  help: `usage: xdp-offload conformance <file.data|dir|->... [--engine CMD] [--json] [--verbose] [--progress]

Runs bpf_conformance-format files (sections -- asm or -- raw, -- mem, -- result
or -- error) in one process: r1 points at the memory, r2 holds its length, r10
is the top of a 512-byte stack, helper 5 returns r1. Ends with the line
'N passed, N failed'.

  --engine CMD  run each test on the engine CMD starts instead, as a
              bpf_conformance plugin (memory hex as its argument, program hex
              on standard input, r0 hex on standard output; nonzero exit: the
              program did not finish), as the suite's own runner does
  --json      print per-test outcomes as JSON
  --verbose   list passing tests too
  --progress  a line on standard error once a second (unasked on a terminal)

exit: 0 all passed, 1 a test failed, 2 bad usage, a missing path or a file that is
not a conformance test`,
  run(args: string[], out: Output): number {
    const parsed = parse(args, {
      engine: { type: 'string' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
      progress: { type: 'boolean' },
    });
    const { values, positionals } = parsed;
    if (positionals.length === 0) throw new UsageError('conformance needs at least one file or directory');
    for (const p of positionals)
      if (p !== '-' && !existsSync(p)) throw new UsageError(`no such file or directory: ${p}`);
    const progress = progressReporter(out, parsed);
    const paths = positionals.flatMap(dataFiles);
    const command = stringOption(parsed, 'engine');
    const runner = command === undefined ? undefined : pluginRunner(command);
    const outcomes: ConformanceOutcome[] = paths.map((path, i) => {
      progress?.(`conformance: ${i}/${paths.length} files (${path})`);
      return runConformanceSource(
        path,
        Buffer.from(readInputFile(path, 'conformance')).toString('utf8'),
        runner,
      );
    });
    const passed = outcomes.filter((o) => o.passed).length;
    const failed = outcomes.length - passed;
    if (values.json) {
      out.stdout(jsonText({ tests: outcomes, passed, failed }));
    } else {
      for (const o of outcomes) {
        if (!o.passed) out.stdout(`FAIL ${o.name}: ${o.detail}`);
        else if (values.verbose) out.stdout(`ok   ${o.name}: ${o.detail}`);
      }
      out.stdout(`${passed} passed, ${failed} failed`);
    }
    return failed === 0 ? EXIT.ok : EXIT.failed;
  },
};
