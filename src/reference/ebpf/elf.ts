/**
 * A reader of BPF ELF objects as `clang -O2 -g -target bpf` writes them: program sections (`xdp`,
 * `xdp/...` or any executable section), maps defined in the legacy `maps` section or in BTF (the
 * `.maps` section), global data (`.rodata`, `.data`, `.bss`) as single-element arrays, as Linux
 * loads it for XDP, `R_BPF_64_64` relocations of `ld_imm64` to maps and data, `R_BPF_64_32`
 * relocations of calls to functions in `.text` (appended after the program, as libbpf does), and
 * the license.
 *
 * Map references become `ld_imm64` with `src_reg` 1 and the map's handle; data references
 * `src_reg` 2 with the handle and the offset in the second slot: the forms offloaded programs use.
 * Handles are 1, 2, ... in the order of {@link ElfProgram.maps}.
 *
 * @module
 */
import type { BpfInsn } from '../../codec/index.js';
import { Btf, BtfError } from './btf.js';
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
  /** Map names, by handle - 1 (a data section's map is named after the section). */
  readonly mapNames: string[];
  /**
   * The initial value of element 0, by handle - 1, for maps that hold global data (the section's
   * bytes; zeros for `.bss`); undefined for other maps.
   */
  readonly mapData: (Uint8Array | undefined)[];
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
            type: (bytes[at + 4] as number) & 0xf,
            shndx: view.getUint16(at + 6, true),
            value: Number(view.getBigUint64(at + 8, true)),
            size: Number(view.getBigUint64(at + 16, true)),
          };
        });
  return { view, sections, symbols };
}

/**
 * Program sections: executable sections other than `.text` (which holds the functions programs
 * call), or `.text` itself when it is the only code.
 */
function programSections(sections: readonly Section[]): Section[] {
  const code = sections.filter((s) => (s.flags & SHF_EXECINSTR) !== 0n && s.size > 0);
  const named = code.filter((s) => s.name !== '.text');
  return named.length > 0 ? named : code;
}

/** An executable section as it is in the file (before any relocation), with its symbols. */
export interface ElfCodeSection {
  /** The section's name. */
  readonly name: string;
  /** Its instruction slots, as stored. */
  readonly insns: BpfInsn[];
  /** Named symbols in it (functions and labels), by byte offset. */
  readonly symbols: readonly {
    /** The symbol's name. */
    readonly name: string;
    /** Its byte offset in the section. */
    readonly offset: number;
  }[];
}

/** Every non-empty executable section, in file order, as stored (for disassembly). */
export function elfCodeSections(bytes: Uint8Array): ElfCodeSection[] {
  const { sections, symbols } = parse(bytes);
  return sections.flatMap((s, index) => {
    if ((s.flags & SHF_EXECINSTR) === 0n || s.size === 0) return [];
    if (s.size % 8 !== 0)
      throw new ElfError(s.name, s.offset, `size ${s.size} is not a whole number of instructions`);
    return [
      {
        name: s.name,
        insns: slotsFromBytes(bytes.subarray(s.offset, s.offset + s.size)),
        symbols: symbols
          .filter((sym) => sym.shndx === index && sym.name !== '' && sym.type !== 3 && sym.type !== 4)
          .map((sym) => ({ name: sym.name, offset: sym.value }))
          .sort((a, b) => a.offset - b.offset || a.name.localeCompare(b.name)),
      },
    ];
  });
}

/** The names of the program sections of an object. */
export function elfProgramSections(bytes: Uint8Array): string[] {
  return programSections(parse(bytes).sections).map((s) => s.name);
}

/** Data sections loaded as single-element arrays, as Linux and libbpf load them for XDP. */
const DATA_SECTION = /^\.(rodata|data|bss)(\..*)?$/;
const R_BPF_64_32 = 10;
const STT_FUNC = 2;
const SHT_NOBITS = 8;

type Parsed = ReturnType<typeof parse>;
type Symbol = Parsed['symbols'][number];

/** The maps an object defines, in handle order: legacy `maps`, BTF `.maps`, then data sections. */
function objectMaps(bytes: Uint8Array, { view, sections, symbols }: Parsed) {
  const maps: {
    name: string;
    definition: MapDefinition;
    data?: Uint8Array;
    section: number;
    offset: number;
  }[] = [];
  const legacyIndex = sections.findIndex((s) => s.name === 'maps');
  if (legacyIndex >= 0) {
    const legacy = sections[legacyIndex] as Section;
    for (const sym of symbols
      .filter((s) => s.shndx === legacyIndex && s.name !== '')
      .sort((a, b) => a.value - b.value)) {
      const at = legacy.offset + sym.value;
      if (sym.value + MAP_DEF_SIZE > legacy.size)
        throw new ElfError('maps', at, `map ${sym.name} runs past the section`);
      maps.push({
        name: sym.name,
        section: legacyIndex,
        offset: sym.value,
        definition: {
          type: view.getUint32(at, true),
          keySize: view.getUint32(at + 4, true),
          valueSize: view.getUint32(at + 8, true),
          maxEntries: view.getUint32(at + 12, true),
        },
      });
    }
  }
  const btfMapsIndex = sections.findIndex((s) => s.name === '.maps');
  if (btfMapsIndex >= 0) {
    const btfSection = sections.find((s) => s.name === '.BTF');
    if (btfSection === undefined) throw new ElfError('.maps', 0, 'BTF-defined maps need a .BTF section');
    let defined;
    try {
      defined = new Btf(bytes.subarray(btfSection.offset, btfSection.offset + btfSection.size)).maps();
    } catch (error) {
      if (error instanceof BtfError)
        throw new ElfError('.BTF', btfSection.offset + error.offset, error.message);
      throw error;
    }
    for (const m of defined.sort((a, b) => a.offset - b.offset)) {
      if (m.flags !== 0)
        throw new ElfError('.maps', m.offset, `map ${m.name}: map_flags ${m.flags} are not supported`);
      maps.push({ name: m.name, section: btfMapsIndex, offset: m.offset, definition: m.definition });
    }
  }
  sections.forEach((s, index) => {
    if (!DATA_SECTION.test(s.name) || s.size === 0) return;
    const data = s.type === SHT_NOBITS ? new Uint8Array(s.size) : bytes.slice(s.offset, s.offset + s.size);
    maps.push({
      name: s.name,
      section: index,
      offset: 0,
      definition: { type: 2, keySize: 4, valueSize: s.size, maxEntries: 1 },
      data,
    });
  });
  return maps;
}

/** Loads one program section (the first one when `section` is not given). */
export function loadElfProgram(bytes: Uint8Array, section?: string): ElfProgram {
  const parsed = parse(bytes);
  const { view, sections, symbols } = parsed;
  const programs = programSections(sections);
  const prog = section === undefined ? programs[0] : programs.find((s) => s.name === section);
  if (prog === undefined) {
    throw new ElfError(
      section ?? '',
      0,
      `no such program section (have: ${programs.map((s) => s.name).join(', ') || 'none'})`,
    );
  }
  const maps = objectMaps(bytes, parsed);
  const slotsOf = (s: Section) => {
    if (s.size % 8 !== 0)
      throw new ElfError(s.name, s.offset, `size ${s.size} is not a whole number of instructions`);
    return slotsFromBytes(bytes.subarray(s.offset, s.offset + s.size));
  };
  const textIndex = sections.findIndex((s) => s.name === '.text');
  const text = sections[textIndex];
  const textSlots = text === undefined || text.size === 0 ? [] : slotsOf(text);
  const insns = slotsOf(prog);
  // Relocation records by the section they apply to, read once.
  const relocations = new Map<
    number,
    { rel: Section; at: number; offset: number; type: number; symbol: Symbol | undefined }[]
  >();
  for (const rel of sections.filter((s) => s.type === SHT_REL)) {
    const list = relocations.get(rel.info) ?? [];
    for (let at = rel.offset; at + 16 <= rel.offset + rel.size; at += 16) {
      const info = view.getBigUint64(at + 8, true);
      list.push({
        rel,
        at,
        offset: Number(view.getBigUint64(at, true)),
        type: Number(info & 0xffffffffn),
        symbol: symbols[Number(info >> 32n)],
      });
    }
    relocations.set(rel.info, list);
  }
  const functionAt = (slot: number): Symbol | undefined =>
    symbols.find(
      (s) =>
        s.shndx === textIndex && s.type === STT_FUNC && s.value / 8 <= slot && slot < (s.value + s.size) / 8,
    );
  // Functions of .text appended after the program, by their first .text slot: the insns index of
  // a .text slot of the function is the slot plus this delta.
  const placed = new Map<number, number>();
  const pending: { base: number; sectionIndex: number }[] = [
    { base: 0, sectionIndex: sections.indexOf(prog) },
  ];

  /** A call into .text: places the called function (once) and points the call at it. */
  const relocateCall = (
    rel: Section,
    at: number,
    offset: number,
    slot: number,
    insn: BpfInsn,
    symbol: Symbol,
  ) => {
    if (insn.code !== 0x85 || insn.src_reg !== 1)
      throw new ElfError(rel.name, at, `R_BPF_64_32 at ${offset} is not a bpf-to-bpf call`);
    if (symbol.shndx !== textIndex)
      throw new ElfError(rel.name, at, `call to ${symbol.name || 'a section'} outside .text`);
    const target = symbol.value / 8 + insn.imm + 1;
    const fn = functionAt(target);
    if (fn === undefined)
      throw new ElfError(rel.name, at, `call target ${target} of .text is not a function`);
    const fnStart = fn.value / 8;
    let delta = placed.get(fnStart);
    if (delta === undefined) {
      delta = insns.length - fnStart;
      placed.set(fnStart, delta);
      insns.push(...textSlots.slice(fnStart, (fn.value + fn.size) / 8).map((i) => ({ ...i })));
      pending.push({ base: delta, sectionIndex: textIndex });
    }
    insns[slot] = { ...insn, imm: delta + target - (slot + 1) };
  };

  /** An ld_imm64 of a map (src_reg 1) or of global data (src_reg 2, offset in the second slot). */
  const relocateData = (
    rel: Section,
    at: number,
    offset: number,
    slot: number,
    insn: BpfInsn,
    symbol: Symbol,
  ) => {
    if (insn.code !== 0x18) throw new ElfError(rel.name, at, `relocation at ${offset} is not an ld_imm64`);
    const mapIndex = maps.findIndex(
      (m) => m.section === symbol.shndx && (m.data !== undefined || m.offset === symbol.value),
    );
    const map = maps[mapIndex];
    if (map === undefined)
      throw new ElfError(rel.name, at, `symbol ${symbol.name || '(section)'} is not a map or global data`);
    const next = insns[slot + 1];
    if (map.data === undefined) {
      insns[slot] = { ...insn, src_reg: 1, imm: mapIndex + 1 };
    } else if (next !== undefined) {
      // The offset into the data: the symbol's value plus the addend clang left in imm.
      insns[slot] = { ...insn, src_reg: 2, imm: mapIndex + 1 };
      insns[slot + 1] = { ...next, imm: symbol.value + insn.imm };
    }
  };

  for (let job = pending.shift(); job !== undefined; job = pending.shift()) {
    const { base, sectionIndex } = job;
    const own = sections[sectionIndex] as Section;
    for (const { rel, at, offset, type, symbol } of relocations.get(sectionIndex) ?? []) {
      // Relocations of .text apply only to the function being placed.
      if (sectionIndex === textIndex) {
        const fn = functionAt(offset / 8);
        if (fn === undefined || placed.get(fn.value / 8) !== base) continue;
      } else if (offset >= own.size)
        throw new ElfError(rel.name, at, `relocation at ${offset} is past the section`);
      const slot = base + offset / 8;
      const insn = insns[slot];
      if (symbol === undefined || insn === undefined || !Number.isInteger(offset / 8))
        throw new ElfError(rel.name, at, `relocation at ${offset} names no instruction and symbol`);
      if (type === R_BPF_64_32) relocateCall(rel, at, offset, slot, insn, symbol);
      else if (type === R_BPF_64_64) relocateData(rel, at, offset, slot, insn, symbol);
      else throw new ElfError(rel.name, at, `relocation type ${type} is not supported`);
    }
  }
  const licenseSection = sections.find((s) => s.name === 'license');
  const license =
    licenseSection === undefined
      ? undefined
      : cString(bytes.subarray(0, licenseSection.offset + licenseSection.size), licenseSection.offset);
  return {
    section: prog.name,
    insns,
    maps: maps.map((m) => m.definition),
    mapNames: maps.map((m) => m.name),
    mapData: maps.map((m) => m.data),
    license,
  };
}
