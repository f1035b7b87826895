// Where a program comes from on the command line: a sample, a file (assembler text, instruction hex
// or a BPF ELF object), or inline instruction hex.
import { existsSync } from 'node:fs';
import { VerifyMode, parseHex, type BpfInsn, type VerifyModeValue } from '../codec/index.js';
import {
  assemble,
  slotsFromBytes,
  AsmError,
  ElfError,
  elfPrograms,
  loadElfProgram,
  type MapDefinition,
} from '../reference/ebpf/index.js';
import { SAMPLES } from '../reference/ebpf/samples.js';
import { UsageError, jsonText, readInputFile, stringOption, type Output, type Parsed } from './io.js';

/** The options that pick one program of an object, the same on every subcommand. */
export const PROGRAM_PICK_OPTIONS = {
  'prog-name': { type: 'string' },
  section: { type: 'string' },
  list: { type: 'boolean' },
  'map-size': { type: 'string', multiple: true },
} as const;

/** The options that give a program as `run` and `verify` take it: `--prog`, `--insns-hex` and the picks. */
export const PROGRAM_SOURCE_OPTIONS = {
  prog: { type: 'string' },
  'insns-hex': { type: 'string' },
  ...PROGRAM_PICK_OPTIONS,
} as const;

/** Help text for {@link PROGRAM_PICK_OPTIONS}. */
export const PROGRAM_PICK_HELP = `  --prog-name N  the object's program N: a global function of a program section (as
                 xdp-loader names it; libbpf loads each as its own program)
  --section S    the first program of section S (the default: the object's first)
  --list         list the object's programs (name, section, instructions) and exit
  --map-size M=N set max_entries of the object's map M to N (repeatable; needed for
                 a map that leaves max_entries 0 to the loader)`;

/** The `--map-size NAME=N` options as max_entries by map name. */
/** `--verify-mode` spellings, as the device's `verify_mode` values. */
const VERIFY_MODES: Readonly<Record<string, VerifyModeValue>> = {
  cap_bpf: VerifyMode.CAP_BPF,
  trusted: VerifyMode.TRUSTED,
};

/** The `verify_mode` a `--verify-mode` option names (`fallback` when it is absent). */
export function verifyModeOf(parsed: Parsed, fallback = 'cap_bpf'): VerifyModeValue {
  const name = stringOption(parsed, 'verify-mode') ?? fallback;
  const mode = VERIFY_MODES[name];
  if (mode === undefined) throw new UsageError(`--verify-mode ${name}: give cap_bpf or trusted`);
  return mode;
}

export function mapSizesOf(parsed: Parsed): Record<string, number> {
  const given = parsed.values['map-size'];
  const sizes: Record<string, number> = {};
  for (const spec of Array.isArray(given) ? (given as string[]) : []) {
    const m = /^([A-Za-z_][A-Za-z0-9_.]*)=(\d+)$/.exec(spec);
    const n = Number(m?.[2]);
    if (m === null || !Number.isSafeInteger(n) || n < 1 || n > 0xffffffff)
      throw new UsageError(`--map-size ${spec}: expected NAME=N with N from 1 to 4294967295`);
    sizes[m[1] as string] = n;
  }
  return sizes;
}

/**
 * Which program of an object the options pick: `--prog-name` or `--section` (one of them), or
 * undefined for the first.
 */
export function programSelector(parsed: Parsed): string | undefined {
  const name = stringOption(parsed, 'prog-name');
  const section = stringOption(parsed, 'section');
  if (name !== undefined && section !== undefined)
    throw new UsageError('give --prog-name or --section, not both');
  return name ?? section;
}

/**
 * With `--list`, prints the programs of the object `file` (as JSON with `json`) and returns the
 * exit code 0; otherwise undefined, and the subcommand goes on.
 */
export function listPrograms(
  parsed: Parsed,
  file: string | undefined,
  out: Output,
  json: boolean,
): number | undefined {
  if (parsed.values.list !== true) return undefined;
  if (file === undefined) throw new UsageError('--list needs a BPF ELF object');
  let programs;
  try {
    programs = elfPrograms(readInputFile(file, file));
  } catch (error) {
    if (error instanceof ElfError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
  const rows = programs.map((p) => ({ name: p.name, section: p.section, insns: p.end - p.start }));
  if (json) out.stdout(jsonText(rows));
  else for (const r of rows) out.stdout(`${r.name}\t${r.section}\t${r.insns} insns`);
  return 0;
}

/** A program from a sample name, a file of assembler text or instruction hex, or inline hex. */
export function loadProgram(
  prog: string | undefined,
  hex: string | undefined,
  section: string | undefined,
  mapSizes: Readonly<Record<string, number>> = {},
): { insns: BpfInsn[]; maps: (string | MapDefinition)[]; mapData?: (Uint8Array | undefined)[] } {
  if (hex !== undefined) return { insns: slotsFromHex(hex), maps: [] };
  if (prog === undefined) throw new UsageError('give --prog <sample|file> or --insns-hex <hex>');
  const sample = SAMPLES[prog];
  if (sample !== undefined) return { insns: assemble(sample.text), maps: sample.maps };
  if (prog !== '-' && !existsSync(prog))
    throw new UsageError(
      `--prog: no sample or file named ${prog} (samples: ${Object.keys(SAMPLES).join(', ')})`,
    );
  const raw = Buffer.from(readInputFile(prog, '--prog'));
  if (raw.subarray(0, 4).toString('latin1') === '\x7fELF') {
    try {
      const elf = loadElfProgram(new Uint8Array(raw), section, { mapSizes });
      return { insns: elf.insns, maps: elf.maps, mapData: elf.mapData };
    } catch (error) {
      if (error instanceof ElfError) throw new UsageError(`${prog}: ${error.message}`);
      throw error;
    }
  }
  const text = raw.toString('utf8');
  if (/^[\s0-9a-fA-F]*$/.test(text)) return { insns: slotsFromHex(text), maps: [] };
  try {
    return { insns: assemble(text), maps: [] };
  } catch (error) {
    if (error instanceof AsmError) throw new UsageError(`${prog}: ${error.message}`);
    throw error;
  }
}

function slotsFromHex(text: string): BpfInsn[] {
  const bytes = parseHex(text.trim());
  if (bytes === undefined) throw new UsageError('the program hex is not an even number of hex digits');
  return slotsFromBytes(bytes);
}

/** A map from the command line: `array:VALUE:ENTRIES` or `hash:KEY:VALUE:ENTRIES`. */
export function mapDefinition(spec: string): MapDefinition {
  const parts = spec.split(':');
  const n = (text: string | undefined) => {
    const v = Number(text);
    if (!Number.isSafeInteger(v) || v <= 0)
      throw new UsageError(`--map ${spec}: sizes are positive integers`);
    return v;
  };
  if (parts[0] === 'array' && parts.length === 3) {
    return { type: 2, keySize: 4, valueSize: n(parts[1]), maxEntries: n(parts[2]) };
  }
  if (parts[0] === 'hash' && parts.length === 4) {
    return { type: 1, keySize: n(parts[1]), valueSize: n(parts[2]), maxEntries: n(parts[3]) };
  }
  throw new UsageError(`--map ${spec}: expected array:VALUE:ENTRIES or hash:KEY:VALUE:ENTRIES`);
}
