// `xdp-offload fuzz`: a hostile guest against the reference device, with the checks of
// src/fuzz/hostile-guest.ts after every control element.
import { fuzzCampaign, fuzzSession, loadCorpus, type FuzzFailure } from '../fuzz/hostile-guest.js';
import {
  EXIT,
  UsageError,
  integerOption,
  jsonText,
  parse,
  stringOption,
  type Output,
  type Subcommand,
} from './io.js';

const SEED = { min: 0, max: 2 ** 32 - 1 };
const COUNT = { min: 0, max: 1_000_000_000 };
const SECONDS = { min: 0, max: 7 * 24 * 3600 };

function describeFailure(f: FuzzFailure): string[] {
  return [
    `FAIL ${f.check} at message ${f.message} of session ${f.session}`,
    `  ${f.detail}`,
    `  request ${f.request.length > 200 ? `${f.request.slice(0, 200)}...` : f.request}`,
    `  replay: xdp-offload fuzz --replay ${f.session} --messages ${f.message + 1}`,
  ];
}

export const fuzz: Subcommand = {
  name: 'fuzz',
  summary: 'send random and mutated control elements to the reference device and check every answer',
  help: `usage: xdp-offload fuzz [--seconds N | --messages N] [--seed S] [--json]
       xdp-offload fuzz --replay SESSION [--messages N]

A hostile guest: mutants of the golden vectors, structured requests with wrong
sizes, unknown handles and huge values, framing errors, frames and resets, sent
to two devices whose host identifiers differ. After every element: no exception,
identical answers from both devices (no host identifier reaches the guest), a
well-formed answer with a defined status, nothing changed by a refused command,
limits held, acknowledged map updates never lost.

  --seconds N    run for N seconds (default 10 unless --messages is given)
  --messages N   stop after N control elements (with --replay: the session length)
  --seed S       campaign seed (default 1); each session's seed derives from it
  --replay S     replay one session by its seed (printed with any failure)
  --json         print the report as JSON

Progress goes to standard error once a second on runs longer than that.

exit: 0 no failure, 1 a check failed, 2 bad usage`,
  run(args: string[], out: Output): number {
    const parsed = parse(args, {
      seconds: { type: 'string' },
      messages: { type: 'string' },
      seed: { type: 'string' },
      replay: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (parsed.values.help) {
      out.stdout(this.help);
      return EXIT.ok;
    }
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
    if (stringOption(parsed, 'replay') !== undefined) {
      const session = integerOption(parsed, 'replay', SEED, 0);
      const report = fuzzSession(session, integerOption(parsed, 'messages', COUNT, 500), loadCorpus());
      if (parsed.values.json) out.stdout(jsonText(report));
      else {
        out.stdout(`session ${session}: ${report.messages} messages, ${report.frames} frames`);
        if (report.failure !== undefined)
          for (const line of describeFailure(report.failure)) out.stdout(line);
        else out.stdout('0 failures');
      }
      return report.failure === undefined ? EXIT.ok : EXIT.failed;
    }
    const messagesText = stringOption(parsed, 'messages');
    const secondsText = stringOption(parsed, 'seconds');
    const report = fuzzCampaign({
      seed: integerOption(parsed, 'seed', SEED, 1),
      ...(messagesText === undefined ? {} : { messages: integerOption(parsed, 'messages', COUNT, 0) }),
      ...(secondsText === undefined && messagesText !== undefined
        ? {}
        : { seconds: integerOption(parsed, 'seconds', SECONDS, 10) }),
      progress: (messages, ms) =>
        out.stderr(`fuzz: ${messages} messages, ${Math.round((messages * 1000) / Math.max(ms, 1))}/s`),
    });
    if (parsed.values.json) {
      out.stdout(jsonText(report));
    } else {
      const seconds = report.elapsedMs / 1000;
      const rate = Math.round(report.messages / Math.max(seconds, 0.001));
      out.stdout(
        `${report.messages} messages (${report.frames} frames, ${report.sessions} sessions) in ${seconds.toFixed(1)} s: ${rate} messages/s`,
      );
      const statuses = Object.entries(report.statuses)
        .sort(([, a], [, b]) => b - a)
        .map(([k, v]) => `${k} ${v}`);
      out.stdout(`answers: ${statuses.join(', ')}`);
      for (const f of report.failures) for (const line of describeFailure(f)) out.stdout(line);
      out.stdout(`${report.failures.length} failures`);
    }
    return report.failures.length === 0 ? EXIT.ok : EXIT.failed;
  },
};
