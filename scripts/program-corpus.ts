// Draws the normative program corpus (section X.8.6) from the verifier corpus, whose verdicts a
// real Linux 6.1 gave: `npm run corpus:programs` writes vectors/programs/must-accept.json and
// must-refuse.json. The replay then checks the reference device against them in every test run.
//
// Must accept: programs Linux loads in every mode (root, CAP_BPF + CAP_NET_ADMIN, strict
// alignment), with no documented deviation, that a simple verifier can prove too: no backward
// jump (no loop), no bpf-to-bpf call, at most 64 slots; and that the reference device loads under
// its default capabilities (a program needing a helper or map type the device does not offer is
// one a device may refuse).
// Must refuse: programs Linux refuses in every mode with the same errno, EACCES (unsafe) or EINVAL
// (malformed), and programs it refuses without privileges for a breach of the contract (a pointer
// stored where the guest reads it, stack read before written), with no documented deviation; the
// status is the one the reference device answers,
// which the spec fixes (a call form or a reference the device refuses before verifying is EINVAL
// even where Linux's verifier says EACCES).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { XdpStatus, nameOf, parseHex, type XdpStatusName } from '../src/codec/index.js';
import { Cls, OPCODE_MASK, Op } from '../src/reference/ebpf/opcodes.js';
import { slotsFromBytes } from '../src/reference/ebpf/index.js';
import {
  PROGRAM_CONFORMANCE_FORMAT,
  loadStatus,
  type ProgramConformanceFile,
  type ProgramConformanceVector,
  type VerifierVector,
  type VerifierVectorFile,
} from '../src/vectors/index.js';

const SOURCE = 'vectors/verifier/linux-6.1.json';
/** Linux's reasons, unprivileged, that name a breach of the contract (not a limit of its proof). */
const CONTRACT_BREACH =
  /leaks addr into (map|packet|mem|helper)|leaking pointer|invalid (indirect )?read from stack/;

/** The kernel's reason line: the last log line that is neither an instruction dump nor the summary. */
function reason(log: readonly string[]): string {
  const lines = log.filter((l) => !/^\d+: /.test(l) && !l.startsWith('processed '));
  return lines[lines.length - 1] ?? '';
}
const MAX_SLOTS = 64;

function simple(p: VerifierVector): boolean {
  const insns = slotsFromBytes(parseHex(p.insns) as Uint8Array);
  if (insns.length > MAX_SLOTS) return false;
  return insns.every((insn) => {
    const cls = insn.code & OPCODE_MASK.CLASS;
    const jump = (cls === Cls.JMP || cls === Cls.JMP32) && insn.code !== Op.CALL && insn.code !== Op.EXIT;
    return !(jump && insn.off < 0) && !(insn.code === Op.CALL && insn.src_reg === 1);
  });
}

const source = JSON.parse(readFileSync(SOURCE, 'utf8')) as VerifierVectorFile;
const accept: ProgramConformanceVector[] = [];
const refuse: ProgramConformanceVector[] = [];
const skipped: string[] = [];
for (const p of source.programs) {
  if (p.deviation !== undefined) continue;
  const verdicts = [p.privileged, p.unprivileged, p.strict];
  const vector = (status: XdpStatusName): ProgramConformanceVector => ({
    name: p.name,
    about: p.about,
    insns: p.insns,
    maps: p.maps,
    status,
    linux_errno: p.unprivileged.errno,
  });
  if (verdicts.every((v) => v?.accepted === true) && simple(p)) {
    const { status, stage } = loadStatus(p);
    if (stage === 'PROG_LOAD' && status === XdpStatus.OK) accept.push(vector('OK'));
    else skipped.push(`${p.name}: accepted by Linux, ${stage} ${status} here (a device may refuse it)`);
    continue;
  }
  const errno = p.unprivileged.errno;
  const sameEverywhere = verdicts.every((v) => v !== undefined && !v.accepted && v.errno === errno);
  // Refused only without privileges, and for breaking the contract: a host address stored where the
  // guest reads it, or stack bytes read before they are written.
  const breach = !p.unprivileged.accepted && CONTRACT_BREACH.test(reason(p.unprivileged.log));
  if (!(sameEverywhere || breach) || (errno !== XdpStatus.EACCES && errno !== XdpStatus.EINVAL)) continue;
  const { status, stage } = loadStatus(p);
  const name = nameOf(XdpStatus, status);
  if (stage === 'PROG_LOAD' && (status === XdpStatus.EACCES || status === XdpStatus.EINVAL) && name)
    refuse.push(vector(name));
  else skipped.push(`${p.name}: refused by Linux with ${errno}, ${stage} ${status} here`);
}

const file = (part: 'accept' | 'refuse', programs: ProgramConformanceVector[]): ProgramConformanceFile => ({
  format: PROGRAM_CONFORMANCE_FORMAT,
  part,
  description:
    part === 'accept'
      ? `Programs every conforming device must load under its default capabilities (section X.8.6, [dev-prog-corpus-accept]). Drawn from ${SOURCE}: loaded by Linux 6.1 in every mode, no loop, no bpf-to-bpf call, at most ${MAX_SLOTS} slots.`
      : `Programs every conforming device must refuse with the status given (section X.8.6, [dev-prog-corpus-refuse]). Drawn from ${SOURCE}: refused by Linux 6.1 in every mode with the same errno, EACCES (unsafe) or EINVAL (malformed), or refused without privileges for a breach of the contract (a pointer stored where the guest reads it, stack read before written).`,
  programs,
});
mkdirSync('vectors/programs', { recursive: true });
writeFileSync('vectors/programs/must-accept.json', JSON.stringify(file('accept', accept), null, 1) + '\n');
writeFileSync('vectors/programs/must-refuse.json', JSON.stringify(file('refuse', refuse), null, 1) + '\n');
console.log(
  `must accept: ${accept.length}, must refuse: ${refuse.length}, left to the device: ${skipped.length}`,
);
for (const line of skipped) console.log(`  ${line}`);
