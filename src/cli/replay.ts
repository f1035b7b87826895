// `xdp-offload replay`: replays golden vectors and ends with the line CI reads.
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { PcapngWriter } from '../harness/pcapng.js';
import {
  replayDocument,
  replayPaths,
  replayPathsOn,
  summarize,
  VECTORS_DIR,
  type FileOutcome,
  type ReplaySummary,
  type ScenarioOutcome,
} from '../vectors/index.js';
import { spawnDevice, type DeviceUnderTest } from '../harness/kit/device-under-test.js';
import { spawnEngine, type EngineUnderTest } from '../harness/kit/engine-protocol.js';
import { spawnVerifier, type VerifierUnderTest } from '../harness/kit/verifier-protocol.js';
import {
  EXIT,
  UsageError,
  integerOption,
  jsonText,
  stringOption,
  parse,
  progressReporter,
  readArgument,
  type Output,
  type Subcommand,
} from './io.js';

/** A line of a step's difference, shortened: a map read can be kilobytes of hex. */
const cut = (line: string) =>
  line.length > 300 ? `${line.slice(0, 300)}... (${line.length} characters)` : line;

export const replay: Subcommand = {
  name: 'replay',
  summary: 'replay golden vector files through the reference and print N passed, N failed',
  help: `usage: xdp-offload replay [<file|dir|->...] [--json] [--verbose] [--pcap <file>] [--progress]
       xdp-offload replay [--device CMD] [--engine CMD] [--verifier CMD] [--timeout MS]
                          [<file|dir>...] [--json] [--verbose]

Validates every vector file against its JSON Schema and replays it. With no
path, replays the vectors shipped with the package. Ends with the line
'N passed, N failed'.

  --json     print per-vector outcomes as JSON
  --verbose  list every vector, not only failures
  --pcap F   write the frames the replay processes to F (pcapng): each XDP run's
             and scenario's input, with its verdict as comment, and its outputs
  --device CMD  replay the scenario files on the device CMD starts, speaking the
             device-under-test protocol (docs/testing.md), instead of the
             reference; every step that differs is listed with the
             requirements it checks
  --engine CMD  replay the XDP run files on the eBPF engine CMD starts (the engine
             protocol)
  --verifier CMD  replay the verifier vectors on the verifier CMD starts (the
             verifier protocol)
             With any of the three, only the formats they replay are read.
  --timeout MS  longest wait for one reply of the device (default 30000)

exit: 0 all passed, 1 a vector failed, 2 bad usage or a missing path`,
  run(args: string[], out: Output): number | Promise<number> {
    const parsed = parse(args, {
      device: { type: 'string' },
      engine: { type: 'string' },
      verifier: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
      pcap: { type: 'string' },
      progress: { type: 'boolean' },
    });
    const { values, positionals } = parsed;
    const paths = positionals.length > 0 ? positionals : [fileURLToPath(VECTORS_DIR)];
    for (const p of paths)
      if (p !== '-' && !existsSync(p)) throw new UsageError(`no such file or directory: ${p}`);
    const pcapFile = typeof values.pcap === 'string' ? values.pcap : undefined;
    const pcap = pcapFile === undefined ? undefined : new PcapngWriter();
    // `-` is one vector document on standard input; anything else a file or a folder.
    const progress = progressReporter(out, parsed);
    const onFile = (done: number, total: number, file: FileOutcome) =>
      progress?.(`replay: ${done}/${total} files (${file.file})`);
    const print = (summary: ReplaySummary, onDevice = false): number => {
      if (values.json) {
        out.stdout(jsonText(summary));
      } else {
        for (const file of summary.files) {
          const failed = file.outcomes.filter((o) => !o.passed).length;
          out.stdout(
            `${file.file}: ${file.outcomes.length - failed}/${file.outcomes.length} passed (${file.format})`,
          );
          for (const o of file.outcomes) {
            if (!o.passed) {
              const steps = (o as Partial<ScenarioOutcome>).failures ?? [];
              if (!onDevice || steps.length === 0) out.stdout(`  FAIL ${o.name}: ${o.detail}`);
              else {
                out.stdout(`  FAIL ${o.name}: ${steps.length} steps differ`);
                for (const f of steps) {
                  const ids = f.spec.map((id) => `[${id}]`).join(' ');
                  out.stdout(`    step ${f.index} (${f.do}: ${f.note})${ids === '' ? '' : ` ${ids}`}`);
                  for (const line of f.detail.split(/\n\s*/)) out.stdout(`      ${cut(line)}`);
                }
              }
            } else if (values.verbose) out.stdout(`  ok   ${o.name}`);
          }
        }
        out.stdout(`${summary.passed} passed, ${summary.failed} failed`);
      }
      return summary.failed === 0 ? EXIT.ok : EXIT.failed;
    };
    const commands = {
      device: stringOption(parsed, 'device'),
      engine: stringOption(parsed, 'engine'),
      verifier: stringOption(parsed, 'verifier'),
    };
    if (Object.values(commands).some((c) => c !== undefined)) {
      if (pcapFile !== undefined || paths.includes('-'))
        throw new UsageError(
          '--device, --engine and --verifier replay files: neither --pcap nor - goes with them',
        );
      const timeoutMs = integerOption(parsed, 'timeout', { min: 1, max: 3_600_000 }, 30_000);
      return (async () => {
        const targets: { device?: DeviceUnderTest; engine?: EngineUnderTest; verifier?: VerifierUnderTest } =
          {};
        try {
          if (commands.device !== undefined)
            targets.device = await spawnDevice(commands.device, { timeoutMs });
          if (commands.engine !== undefined)
            targets.engine = await spawnEngine(commands.engine, { timeoutMs });
          if (commands.verifier !== undefined)
            targets.verifier = await spawnVerifier(commands.verifier, { timeoutMs });
          const summary = await replayPathsOn(paths, targets, onFile);
          if (values.json !== true) {
            if (targets.device !== undefined) out.stdout(`device: ${targets.device.hello.implementation}`);
            if (targets.engine !== undefined) out.stdout(`engine: ${targets.engine.implementation}`);
            if (targets.verifier !== undefined) out.stdout(`verifier: ${targets.verifier.implementation}`);
          }
          return print(summary, true);
        } finally {
          await Promise.all(Object.values(targets).map((t: { close(): Promise<void> }) => t.close()));
        }
      })();
    }
    const summary = summarize(
      paths.flatMap((p) =>
        p === '-'
          ? [replayDocument(JSON.parse(readArgument('-', 'replay')) as unknown, 'standard input', pcap)]
          : replayPaths([p], pcap, onFile).files,
      ),
    );
    if (pcapFile !== undefined && pcap !== undefined) writeFileSync(pcapFile, pcap.bytes());
    return print(summary);
  },
};
