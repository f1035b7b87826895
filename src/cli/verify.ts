// `xdp-offload verify`: the host verifier's verdict on a program, as Linux 6.1 would give it.
import { OFFLOADABLE_HELPER_IDS, VerifyMode, nameOf } from '../codec/index.js';
import { verify as verifyProgram, VerifierErrno } from '../reference/verifier/index.js';
import {
  PROGRAM_PICK_HELP,
  PROGRAM_SOURCE_OPTIONS,
  listPrograms,
  loadProgram,
  mapDefinition,
  mapSizesOf,
  programSelector,
  verifyModeOf,
} from './program-input.js';
import { EXIT, UsageError, jsonText, parse, stringOption, type Output, type Subcommand } from './io.js';

const ERRNO_NAMES = { ...VerifierErrno, OK: 0 } as const;

export const verify: Subcommand = {
  name: 'verify',
  summary: 'verify an XDP program as Linux 6.1 does (accept, or the errno and the reason)',
  help: `usage: xdp-offload verify (--prog <sample|file> | --insns-hex <hex>) [--prog-name N | --section S]
                           [--map <def>]... [--verify-mode cap_bpf|trusted]
                           [--strict-alignment] [--json]

Verifies an XDP program: --prog names a sample (xdp1, xdp2), a file of assembler
text or instruction hex, or a BPF ELF object ('-' reads standard input), as for
run and demo; a lone positional is the same as --prog; or --insns-hex. Maps get handles 1, 2, ... as
--map array:VALUE_SIZE:ENTRIES or hash:KEY:VALUE:ENTRIES give them (samples and
objects bring their own). By default the verifier works as Linux does for a
loader with only CAP_BPF and CAP_NET_ADMIN (no pointer leaks, Spectre v1
sanitizing) and offers only the offloadable helpers, as a device with the
default verify_mode verifies; --verify-mode trusted (or --privileged) verifies
as for root, as a device whose operator declared its guests trusted. --strict-alignment is BPF_F_STRICT_ALIGNMENT:
packet (2 bytes past an aligned address) and map value accesses must be aligned.

${PROGRAM_PICK_HELP}
  --json  print {"accepted", "errno", "verify_mode", "log", "insns_processed"}

exit: 0 accepted, 1 rejected, 2 unusable input`,
  run(args: string[], out: Output): number {
    const parsed = parse(args, {
      ...PROGRAM_SOURCE_OPTIONS,
      map: { type: 'string', multiple: true },
      privileged: { type: 'boolean' },
      'verify-mode': { type: 'string' },
      'strict-alignment': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (parsed.positionals.length > 1) throw new UsageError('verify takes one program');
    const named = stringOption(parsed, 'prog');
    if (named !== undefined && parsed.positionals.length > 0)
      throw new UsageError('give the program once: --prog or a positional, not both');
    const prog = named ?? parsed.positionals[0];
    const listed = listPrograms(parsed, prog, out, parsed.values.json === true);
    if (listed !== undefined) return listed;
    const { insns, maps } = loadProgram(
      prog,
      stringOption(parsed, 'insns-hex'),
      programSelector(parsed),
      mapSizesOf(parsed),
    );
    const given = parsed.values.map;
    const defs = [...maps, ...(Array.isArray(given) ? (given as string[]) : [])].map((d) =>
      typeof d === 'string' ? mapDefinition(d) : d,
    );
    const mode = verifyModeOf(parsed, parsed.values.privileged === true ? 'trusted' : 'cap_bpf');
    const verdict = verifyProgram(insns, {
      maps: new Map(defs.map((d, i) => [i + 1, d])),
      privileged: mode === VerifyMode.TRUSTED,
      strictAlignment: parsed.values['strict-alignment'] === true,
      // the device offers only the offloadable helpers
      helpers: OFFLOADABLE_HELPER_IDS,
    });
    const errno = verdict.accepted ? null : String(nameOf(ERRNO_NAMES, verdict.errno) ?? verdict.errno);
    if (parsed.values.json) {
      out.stdout(
        jsonText({
          accepted: verdict.accepted,
          errno,
          verify_mode: nameOf(VerifyMode, mode),
          log: verdict.log,
          insns_processed: verdict.insnsProcessed,
        }),
      );
    } else {
      out.stdout(
        verdict.accepted
          ? `accepted as ${String(nameOf(VerifyMode, mode))} (${verdict.insnsProcessed} insns processed)`
          : `rejected as ${String(nameOf(VerifyMode, mode))}: ${errno ?? ''}`,
      );
      for (const line of verdict.log) out.stdout(`  ${line}`);
    }
    return verdict.accepted ? EXIT.ok : EXIT.failed;
  },
};
