// Where a program comes from on the command line: a sample, a file (assembler text, instruction hex
// or a BPF ELF object), or inline instruction hex.
import { existsSync } from 'node:fs';
import { parseHex, type BpfInsn } from '../codec/index.js';
import {
  assemble,
  slotsFromBytes,
  AsmError,
  ElfError,
  loadElfProgram,
  type MapDefinition,
} from '../reference/ebpf/index.js';
import { SAMPLES } from '../reference/ebpf/samples.js';
import { UsageError, readInputFile } from './io.js';

/** A program from a sample name, a file of assembler text or instruction hex, or inline hex. */
export function loadProgram(
  prog: string | undefined,
  hex: string | undefined,
  section: string | undefined,
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
      const elf = loadElfProgram(new Uint8Array(raw), section);
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
