// `xdp-offload replay`: replays golden vectors and ends with the line CI reads.
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { replayPaths, VECTORS_DIR } from '../vectors/index.js';
import { EXIT, UsageError, jsonText, parse, type Output, type Subcommand } from './io.js';

export const replay: Subcommand = {
  name: 'replay',
  summary: 'replay golden vector files through the reference and print N passed, N failed',
  help: `usage: xdp-offload replay [<file|dir>...] [--json] [--verbose]

Validates every vector file against its JSON Schema and replays it. With no
path, replays the vectors shipped with the package. Ends with the line
'N passed, N failed'.

  --json     print per-vector outcomes as JSON
  --verbose  list every vector, not only failures

exit: 0 all passed, 1 a vector failed, 2 bad usage or a missing path`,
  run(args: string[], out: Output): number {
    const { values, positionals } = parse(args, { json: { type: 'boolean' }, verbose: { type: 'boolean' } });
    if (values.help) {
      out.stdout(this.help);
      return EXIT.ok;
    }
    const paths = positionals.length > 0 ? positionals : [fileURLToPath(VECTORS_DIR)];
    for (const p of paths) if (!existsSync(p)) throw new UsageError(`no such file or directory: ${p}`);
    const summary = replayPaths(paths);
    if (values.json) {
      out.stdout(jsonText(summary));
    } else {
      for (const file of summary.files) {
        const failed = file.outcomes.filter((o) => !o.passed).length;
        out.stdout(
          `${file.file}: ${file.outcomes.length - failed}/${file.outcomes.length} passed (${file.format})`,
        );
        for (const o of file.outcomes) {
          if (!o.passed) out.stdout(`  FAIL ${o.name}: ${o.detail}`);
          else if (values.verbose) out.stdout(`  ok   ${o.name}`);
        }
      }
      out.stdout(`${summary.passed} passed, ${summary.failed} failed`);
    }
    return summary.failed === 0 ? EXIT.ok : EXIT.failed;
  },
};
