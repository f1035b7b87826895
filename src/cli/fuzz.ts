// `xdp-offload fuzz`: a hostile guest against the reference device (src/harness/fuzz/hostile-guest.ts), in
// the mixed or the limits mode, or a lying device against the guest driver (src/harness/fuzz/lying-device.ts).
import {
  fuzzCampaign,
  fuzzSession,
  loadCorpus,
  type CampaignReport,
  type FuzzFailure,
  type FuzzMode,
  type FuzzTwins,
} from '../harness/fuzz/hostile-guest.js';
import { spawnDevice } from '../harness/kit/device-under-test.js';
import { lyingCampaign, lyingDeviceSession, type LyingFailure } from '../harness/fuzz/lying-device.js';
import {
  EXIT,
  UsageError,
  integerOption,
  jsonText,
  parse,
  stringOption,
  type Output,
  type Parsed,
  progressReporter,
  type Subcommand,
} from './io.js';

const SEED = { min: 0, max: 2 ** 32 - 1 };
const COUNT = { min: 0, max: 1_000_000_000 };
const SECONDS = { min: 0, max: 7 * 24 * 3600 };
const MODES = ['mixed', 'limits', 'lying'] as const;

function describeFailure(f: FuzzFailure, mode: FuzzMode, target = ''): string[] {
  const flag = (mode === 'mixed' ? '' : ` --mode ${mode}`) + target;
  const requirements = f.requirements.map((id) => `[${id}]`).join(' ');
  return [
    `FAIL ${f.check} at message ${f.message} of session ${f.session}${requirements === '' ? '' : ` ${requirements}`}`,
    `  ${f.detail}`,
    `  request ${f.request.length > 200 ? `${f.request.slice(0, 200)}...` : f.request}`,
    `  replay: xdp-offload fuzz${flag} --replay ${f.session} --messages ${f.message + 1}`,
  ];
}

function describeLie(f: LyingFailure): string[] {
  return [
    `FAIL ${f.check} at call ${f.step} (${f.call}, lie ${f.lie}) of session ${f.session}`,
    `  ${f.detail}`,
    `  replay: xdp-offload fuzz --mode lying --replay ${f.session} --messages ${f.step + 1}`,
  ];
}

/** A campaign's budget: `--messages`, and `--seconds` (10 unless only --messages is given). */
function budget(parsed: ReturnType<typeof parse>): { count?: number; seconds?: number } {
  const count =
    stringOption(parsed, 'messages') === undefined ? undefined : integerOption(parsed, 'messages', COUNT, 0);
  const timed = count === undefined || stringOption(parsed, 'seconds') !== undefined;
  return {
    ...(count === undefined ? {} : { count }),
    ...(timed ? { seconds: integerOption(parsed, 'seconds', SECONDS, 10) } : {}),
  };
}

const MB = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Prints one replayed session (its report as JSON, or a headline and its failure) and its exit code. */
function printSession<F>(
  parsed: Parsed,
  out: Output,
  report: { readonly failure?: F },
  headline: string,
  describe: (failure: F) => string[],
): number {
  if (parsed.values.json) out.stdout(jsonText(report));
  else {
    out.stdout(headline);
    if (report.failure !== undefined) for (const line of describe(report.failure)) out.stdout(line);
    else out.stdout('0 failures');
  }
  return report.failure === undefined ? EXIT.ok : EXIT.failed;
}
export const fuzz: Subcommand = {
  name: 'fuzz',
  summary: 'a hostile guest against the reference device, or a lying device against the driver',
  help: `usage: xdp-offload fuzz [--mode mixed|limits|lying] [--seconds N | --messages N] [--seed S] [--json] [--progress]
       xdp-offload fuzz [--mode M] --replay SESSION [--messages N]
       xdp-offload fuzz --device CMD [--wire-only] [--timeout MS] [options]

--mode mixed (the default): mutants of the golden vectors, structured requests
with wrong sizes, unknown handles and huge values, framing errors, frames and
resets, sent to two devices whose host identifiers differ. After every element:
no exception, identical answers from both devices (no host identifier reaches
the guest), a well-formed answer with a defined status, nothing changed by a
refused command, limits held, acknowledged map updates never lost.

--mode limits: the same checks on an attack at the limits (maps filled to
max_entries or max_map_memory, freed and refilled, handle churn, one value
replaced with the largest allowed, GET_NEXT_KEY walks of full maps, programs at
max_insns), plus the resource bounds: heap held at most 2x the accounted map
memory plus 16 MiB, and no command other than a verified PROG_LOAD over 20 ms
of CPU time (on both twin devices, so one collector pause is not a failure;
with --device, 20 ms of round trip and no heap bound).

--mode lying: a device that lies (used lengths, ack, statuses, result lengths,
reserved bytes, repeated handles, capabilities below the minimum, QUERY counters,
GET_NEXT_KEY that repeats or never ends) against the guest driver: every driver
call must end within a bound of elements, and every call that was lied to must
fail with EIO. --messages counts driver calls.

  --seconds N    run for N seconds (default 10 unless --messages is given)
  --messages N   stop after N control elements (with --replay: the session length)
  --seed S       campaign seed (default 1); each session's seed derives from it
  --replay S     replay one session by its seed (printed with any failure)
  --json         print the report as JSON
  --device CMD   fuzz the device CMD starts (twice: two instances side by side),
                 speaking the device-under-test protocol (docs/testing.md)
                 instead of the reference; with its introspect extension every
                 check runs, without it the checks on the wire alone
  --wire-only    the checks on the wire alone, even with introspect
  --timeout MS   longest wait for one reply of the device (default 30000)

Progress goes to standard error once a second on runs longer than that.

exit: 0 no failure, 1 a check failed, 2 bad usage`,
  run(args: string[], out: Output): number | Promise<number> {
    const parsed = parse(args, {
      device: { type: 'string' },
      'wire-only': { type: 'boolean' },
      timeout: { type: 'string' },
      mode: { type: 'string' },
      seconds: { type: 'string' },
      messages: { type: 'string' },
      seed: { type: 'string' },
      replay: { type: 'string' },
      json: { type: 'boolean' },
      progress: { type: 'boolean' },
    });
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
    const mode = stringOption(parsed, 'mode') ?? 'mixed';
    if (!(MODES as readonly string[]).includes(mode))
      throw new UsageError(`--mode must be mixed, limits or lying, got '${mode}'`);
    const command = stringOption(parsed, 'device');
    if (mode === 'lying') {
      if (command !== undefined)
        throw new UsageError('--device fuzzes a device; --mode lying fuzzes the driver');
      return runLying(parsed, out);
    }
    const fuzzMode = mode as FuzzMode;
    const timeoutMs = integerOption(parsed, 'timeout', TIMEOUT, 30_000);
    const wireOnly = parsed.values['wire-only'] === true;
    const target = command === undefined ? '' : ` --device ${JSON.stringify(command)}`;
    const describe = (f: FuzzFailure) =>
      describeFailure(f, fuzzMode, target + (wireOnly ? ' --wire-only' : ''));
    // The arguments are all checked before any device starts.
    const replay =
      stringOption(parsed, 'replay') === undefined ? undefined : integerOption(parsed, 'replay', SEED, 0);
    const length = integerOption(parsed, 'messages', COUNT, fuzzMode === 'limits' ? 30_000 : 500);
    const { count, seconds } = budget(parsed);
    const seed = integerOption(parsed, 'seed', SEED, 1);
    const progress = progressReporter(out, parsed);
    return withTwins(command, timeoutMs, async (twins) => {
      if (replay !== undefined) {
        const report = await fuzzSession(replay, length, loadCorpus(), {
          mode: fuzzMode,
          wireOnly,
          ...twins,
        });
        const headline = `session ${replay}: ${report.messages} messages, ${report.frames} frames`;
        return printSession(parsed, out, report, headline, describe);
      }
      const report = await fuzzCampaign({
        mode: fuzzMode,
        seed,
        wireOnly,
        ...twins,
        ...(count === undefined ? {} : { messages: count }),
        ...(seconds === undefined ? {} : { seconds }),
        progress: (messages, ms) =>
          progress?.(`fuzz: ${messages} messages, ${Math.round((messages * 1000) / Math.max(ms, 1))}/s`),
      });
      return printCampaign(parsed, out, report, describe);
    });
  },
};

const TIMEOUT = { min: 1, max: 3_600_000 };

/** Runs `body` on two instances of the device `command` starts (or on the reference when none), then stops them. */
async function withTwins(
  command: string | undefined,
  timeoutMs: number,
  body: (twins: { twins?: FuzzTwins }) => Promise<number>,
): Promise<number> {
  if (command === undefined) return body({});
  const a = await spawnDevice(command, { timeoutMs });
  try {
    const b = await spawnDevice(command, { timeoutMs });
    try {
      return await body({ twins: { a, b, inProcess: false } });
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}

/** Prints a campaign's report and returns its exit code. */
function printCampaign(
  parsed: Parsed,
  out: Output,
  report: CampaignReport,
  describe: (f: FuzzFailure) => string[],
): number {
  if (parsed.values.json) {
    out.stdout(jsonText(report));
  } else {
    const seconds = report.elapsedMs / 1000;
    const rate = Math.round(report.messages / Math.max(seconds, 0.001));
    // The counts are the seed's; the time is the machine's, on a line of its own.
    out.stdout(`${report.messages} messages (${report.frames} frames, ${report.sessions} sessions)`);
    out.stdout(`time: ${seconds.toFixed(1)} s, ${rate} messages/s`);
    const statuses = Object.entries(report.statuses)
      .sort(([, a], [, b]) => b - a)
      .map(([k, v]) => `${k} ${v}`);
    out.stdout(`answers: ${statuses.join(', ')}`);
    if (report.heapPeak !== undefined)
      out.stdout(`peak heap held beyond a session's start: ${MB(report.heapPeak)}`);
    if (report.slowestMs !== undefined) {
      const slowest = Object.entries(report.slowestMs)
        .sort(([, a], [, b]) => b - a)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`);
      out.stdout(`slowest command, ms: ${slowest.join(', ')}`);
    }
    for (const f of report.failures) for (const line of describe(f)) out.stdout(line);
    out.stdout(`${report.failures.length} failures`);
  }
  return report.failures.length === 0 ? EXIT.ok : EXIT.failed;
}

/** `--mode lying`: the lying device against the driver. */
function runLying(parsed: ReturnType<typeof parse>, out: Output): number {
  if (stringOption(parsed, 'replay') !== undefined) {
    const session = integerOption(parsed, 'replay', SEED, 0);
    const report = lyingDeviceSession(session, integerOption(parsed, 'messages', COUNT, 500));
    return printSession(parsed, out, report, `session ${session}: ${report.calls} driver calls`, describeLie);
  }
  const { count, seconds } = budget(parsed);
  const progress = progressReporter(out, parsed);
  const report = lyingCampaign({
    seed: integerOption(parsed, 'seed', SEED, 1),
    ...(count === undefined ? {} : { calls: count }),
    ...(seconds === undefined ? {} : { seconds }),
    progress: (calls, ms) =>
      progress?.(`fuzz: ${calls} driver calls, ${Math.round((calls * 1000) / Math.max(ms, 1))}/s`),
  });
  if (parsed.values.json) out.stdout(jsonText(report));
  else {
    const seconds = report.elapsedMs / 1000;
    out.stdout(`${report.calls} driver calls (${report.sessions} sessions)`);
    out.stdout(
      `time: ${seconds.toFixed(1)} s, ${Math.round(report.calls / Math.max(seconds, 0.001))} calls/s`,
    );
    const lies = Object.entries(report.lies)
      .sort(([, a], [, b]) => b - a)
      .map(([k, v]) => `${k} ${v}`);
    out.stdout(`lies told: ${lies.join(', ')}`);
    for (const f of report.failures) for (const line of describeLie(f)) out.stdout(line);
    out.stdout(`${report.failures.length} failures`);
  }
  return report.failures.length === 0 ? EXIT.ok : EXIT.failed;
}
