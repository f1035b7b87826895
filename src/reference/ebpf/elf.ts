/**
 * A minimal reader of BPF ELF objects as `clang -O2 -target bpf` writes them: program sections,
 * legacy map definitions in the `maps` section, `R_BPF_64_64` relocations of `ld_imm64` to those maps,
 * and the license. Map references become `ld_imm64` with `src_reg` 1 and the map's handle (its index
 * in the `maps` section plus one), the form offloaded programs use.
 *
 * @module
 */
import type { BpfInsn } from '../../codec/index.js';
import { slotsFromBytes } from './bytes.js';
import type { MapDefinition } from './maps.js';

/** A malformed or unsupported object, naming the section and byte offset. */
export class ElfError extends Error {
  /** The section concerned ('' for the file header). */
  readonly section: string;
  /** Byte offset in the file. */
  readonly offset: number;
  constructor(section: string, offset: number, message: string) {
    super(`${section === '' ? 'ELF header' : `section ${section}`} at byte ${offset}: ${message}`);
    this.name = 'ElfError';
    this.section = section;
    this.offset = offset;
  }
}

/** A program read from an object. */
export interface ElfProgram {
  /** Its section. */
  readonly section: string;
  /** Instruction slots, map references rewritten to handles. */
  readonly insns: BpfInsn[];
  /** Maps, by handle - 1. */
  readonly maps: MapDefinition[];
  /** Map names, by handle - 1. */
  readonly mapNames: string[];
  /** The license string, if any. */
  readonly license: string | undefined;
}

interface Section {
  readonly name: string;
  readonly type: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly entsize: number;
  readonly flags: bigint;
}

const SHT_SYMTAB = 2;
const SHT_REL = 9;
const SHF_EXECINSTR = 4n;
const EM_BPF = 247;
const R_BPF_64_64 = 1;
const MAP_DEF_SIZE = 20;

function cString(bytes: Uint8Array, at: number): string {
  let end = at;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return String.fromCharCode(...bytes.subarray(at, end));
}

/** Reads the sections, symbols and relocations of an object; throws {@link ElfError}. */
function parse(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (section: string, at: number, n: number) => {
    if (at < 0 || at + n > bytes.length)
      throw new ElfError(section, at, `needs ${n} bytes, the file has ${bytes.length}`);
  };
  need('', 0, 64);
  if (view.getUint32(0) !== 0x7f454c46) throw new ElfError('', 0, 'not an ELF file');
  if (bytes[4] !== 2 || bytes[5] !== 1) throw new ElfError('', 4, 'not a 64-bit little-endian object');
  if (view.getUint16(18, true) !== EM_BPF)
    throw new ElfError('', 18, `machine ${view.getUint16(18, true)} is not BPF (247)`);
  const shoff = Number(view.getBigUint64(40, true));
  const shentsize = view.getUint16(58, true);
  const shnum = view.getUint16(60, true);
  const shstrndx = view.getUint16(62, true);
  if (shentsize !== 64) throw new ElfError('', 58, `section header size ${shentsize}, expected 64`);
  need('', shoff, shnum * 64);
  const raw = Array.from({ length: shnum }, (_, i) => {
    const at = shoff + i * 64;
    return {
      nameAt: view.getUint32(at, true),
      type: view.getUint32(at + 4, true),
      flags: view.getBigUint64(at + 8, true),
      offset: Number(view.getBigUint64(at + 24, true)),
      size: Number(view.getBigUint64(at + 32, true)),
      link: view.getUint32(at + 40, true),
      info: view.getUint32(at + 44, true),
      entsize: Number(view.getBigUint64(at + 56, true)),
    };
  });
  const names = raw[shstrndx];
  if (names === undefined) throw new ElfError('', 62, `section name table index ${shstrndx} out of range`);
  need('.shstrtab', names.offset, names.size);
  const sections: Section[] = raw.map((s) => {
    if (s.nameAt >= names.size)
      throw new ElfError('.shstrtab', names.offset + s.nameAt, 'name offset out of range');
    const name = cString(bytes.subarray(0, names.offset + names.size), names.offset + s.nameAt);
    if (s.type !== 8) need(name, s.offset, s.size); // SHT_NOBITS has no file data
    return {
      name,
      type: s.type,
      offset: s.offset,
      size: s.size,
      link: s.link,
      info: s.info,
      entsize: s.entsize,
      flags: s.flags,
    };
  });
  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  const strtab = symtab === undefined ? undefined : sections[symtab.link];
  const symbols =
    symtab === undefined || strtab === undefined
      ? []
      : Array.from({ length: Math.floor(symtab.size / 24) }, (_, i) => {
          const at = symtab.offset + i * 24;
          return {
            name: cString(
              bytes.subarray(0, strtab.offset + strtab.size),
              strtab.offset + view.getUint32(at, true),
            ),
            shndx: view.getUint16(at + 6, true),
            value: Number(view.getBigUint64(at + 8, true)),
          };
        });
  return { view, sections, symbols };
}

/** The names of the program sections of an object (executable sections other than an empty `.text`). */
export function elfProgramSections(bytes: Uint8Array): string[] {
  const { sections } = parse(bytes);
  return sections.filter((s) => (s.flags & SHF_EXECINSTR) !== 0n && s.size > 0).map((s) => s.name);
}

/** Loads one program section (the first one when `section` is not given). */
export function loadElfProgram(bytes: Uint8Array, section?: string): ElfProgram {
  const { view, sections, symbols } = parse(bytes);
  const programs = sections.filter((s) => (s.flags & SHF_EXECINSTR) !== 0n && s.size > 0);
  const prog = section === undefined ? programs[0] : programs.find((s) => s.name === section);
  if (prog === undefined) {
    throw new ElfError(
      section ?? '',
      0,
      `no such program section (have: ${programs.map((s) => s.name).join(', ') || 'none'})`,
    );
  }
  if (prog.size % 8 !== 0)
    throw new ElfError(prog.name, prog.offset, `size ${prog.size} is not a whole number of instructions`);
  const insns = slotsFromBytes(bytes.subarray(prog.offset, prog.offset + prog.size));
  const mapsIndex = sections.findIndex((s) => s.name === 'maps');
  const mapsSection = sections[mapsIndex];
  const mapSymbols = symbols
    .filter((s) => mapsIndex >= 0 && s.shndx === mapsIndex && s.name !== '')
    .sort((a, b) => a.value - b.value);
  const maps: MapDefinition[] = mapSymbols.map((s) => {
    const at = (mapsSection as Section).offset + s.value;
    if (s.value + MAP_DEF_SIZE > (mapsSection as Section).size)
      throw new ElfError('maps', at, `map ${s.name} runs past the section`);
    return {
      type: view.getUint32(at, true),
      keySize: view.getUint32(at + 4, true),
      valueSize: view.getUint32(at + 8, true),
      maxEntries: view.getUint32(at + 12, true),
    };
  });
  const progIndex = sections.indexOf(prog);
  for (const rel of sections.filter((s) => s.type === SHT_REL && s.info === progIndex)) {
    for (let at = rel.offset; at + 16 <= rel.offset + rel.size; at += 16) {
      const offset = Number(view.getBigUint64(at, true));
      const info = view.getBigUint64(at + 8, true);
      const type = Number(info & 0xffffffffn);
      const symbol = symbols[Number(info >> 32n)];
      const slot = offset / 8;
      const insn = insns[slot];
      if (type !== R_BPF_64_64) throw new ElfError(rel.name, at, `relocation type ${type} is not supported`);
      if (symbol === undefined || insn === undefined || insn.code !== 0x18 || !Number.isInteger(slot)) {
        throw new ElfError(rel.name, at, `relocation at ${offset} does not name an ld_imm64 and a symbol`);
      }
      const handle = mapSymbols.indexOf(symbol) + 1;
      if (handle === 0)
        throw new ElfError(rel.name, at, `symbol ${symbol.name} is not a map of the maps section`);
      insns[slot] = { ...insn, src_reg: 1, imm: handle };
    }
  }
  const licenseSection = sections.find((s) => s.name === 'license');
  const license =
    licenseSection === undefined
      ? undefined
      : cString(bytes.subarray(0, licenseSection.offset + licenseSection.size), licenseSection.offset);
  return { section: prog.name, insns, maps, mapNames: mapSymbols.map((s) => s.name), license };
}
