// `xdp-offload disasm`: llvm-objdump-style disassembly of an object's code sections or of raw slots.
import { existsSync } from 'node:fs';
import { parseHex, toHex } from '../codec/index.js';
import {
  ElfError,
  disassembleLlvm,
  elfCodeSections,
  formatLlvm,
  formatObjdump,
  slotsFromBytes,
  type LlvmLine,
} from '../reference/ebpf/index.js';
import {
  EXIT,
  UsageError,
  jsonText,
  parse,
  readInputFile,
  stringOption,
  type Output,
  type Subcommand,
} from './io.js';

/** One disassembled instruction as --json prints it. */
const lineJson = (l: LlvmLine) => ({ index: l.index, bytes: toHex(l.bytes), text: l.text });

export const disasm: Subcommand = {
  name: 'disasm',
  summary: 'print llvm-objdump-style disassembly of a BPF object or of instruction hex',
  help: `usage: xdp-offload disasm <file.o | file of hex | hex | -> [--section <name>] [--json]

For a BPF ELF object, prints what 'llvm-objdump -d' prints: every code section
(or only --section) with its symbols as labels, each instruction's index, bytes
and text in LLVM's syntax, jumps annotated with the label they reach; the slots
are shown as stored, before relocation. For instruction hex, one line per
instruction. --json prints the same as one object: for an object, its sections
with their symbols (the labels jumps reach) and instructions; for hex, the instructions (index, bytes in
hex, text).

exit: 0 printed, 2 bad usage or an unreadable object`,
  run(args: string[], out: Output): number {
    const parsed = parse(args, { section: { type: 'string' }, json: { type: 'boolean' } });
    const json = parsed.values.json === true;
    const [input, extra] = parsed.positionals;
    if (input === undefined || extra !== undefined)
      throw new UsageError('disasm takes one object, file or hex');
    const section = stringOption(parsed, 'section');
    const raw = input === '-' || existsSync(input) ? readInputFile(input, 'disasm') : undefined;
    if (raw !== undefined && raw[0] === 0x7f && raw[1] === 0x45 && raw[2] === 0x4c && raw[3] === 0x46) {
      let sections;
      try {
        sections = elfCodeSections(raw);
      } catch (error) {
        if (error instanceof ElfError) throw new UsageError(`${input}: ${error.message}`);
        throw error;
      }
      const chosen = section === undefined ? sections : sections.filter((s) => s.name === section);
      if (chosen.length === 0)
        throw new UsageError(
          `${input}: no code section ${String(section)} (have: ${sections.map((s) => s.name).join(', ')})`,
        );
      if (json)
        out.stdout(
          jsonText({
            file: input,
            sections: chosen.map((s) => ({
              name: s.name,
              symbols: s.symbols,
              insns: disassembleLlvm(s.insns).map(lineJson),
            })),
          }),
        );
      else for (const line of formatObjdump(input, chosen)) out.stdout(line);
      return EXIT.ok;
    }
    if (section !== undefined) throw new UsageError('--section applies to objects only');
    const text = raw === undefined ? input : Buffer.from(raw).toString('utf8');
    const bytes = parseHex(text.trim());
    if (bytes === undefined || bytes.length % 8 !== 0)
      throw new UsageError('not an object, and not hex of whole 8-byte instruction slots');
    const lines = disassembleLlvm(slotsFromBytes(bytes));
    if (json) out.stdout(jsonText({ insns: lines.map(lineJson) }));
    else for (const line of formatLlvm(lines)) out.stdout(line);
    return EXIT.ok;
  },
};
