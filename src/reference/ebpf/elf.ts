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
import { BpfMapType, type BpfInsn } from '../../codec/index.js';
import { Btf, BtfError } from './btf.js';
import { slotsFromBytes } from './bytes.js';
import type { MapDefinition } from './maps.js';
import { Op } from './opcodes.js';

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
  /** Its name: the function's, or the section's for a section without function symbols. */
  readonly name: string;
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
  /**
   * The program-array slots the object declares (libbpf's declarative init, `.values = { [i] =
   * &prog }`): which map (by handle - 1), which index, and the program (by name) to place there
   * once every program is loaded.
   */
  readonly slots: readonly ElfSlot[];
}

/** A program-array slot an object declares. */
export interface ElfSlot {
  /** The program array, by handle - 1. */
  readonly map: number;
  /** The slot. */
  readonly index: number;
  /** The program's name (an {@link ElfProgramEntry} name). */
  readonly program: string;
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

/**
 * Sanity limits, checked before anything is allocated: a name longer than this is refused (Linux
 * names are at most 512 bytes), a program or `.text` longer than Linux's 1,000,000-instruction
 * limit, and global data larger than a map value may be (1 MiB).
 */
export const ELF_LIMITS = {
  /** Longest section or symbol name, in bytes. */
  nameBytes: 4096,
  /** Most instruction slots in one executable section. */
  sectionSlots: 1_000_000,
  /** Largest global data section, in bytes. */
  dataBytes: 1 << 20,
  /** Most global data in all sections together (`.bss` sections cost no file bytes). */
  totalDataBytes: 4 << 20,
} as const;

const SHT_SYMTAB = 2;
const SHT_REL = 9;
const SHF_EXECINSTR = 4n;
const EM_BPF = 247;
const R_BPF_64_64 = 1;
/** A 64-bit data relocation: clang's for a pointer in `.maps` (a slot's program). */
const R_BPF_64_ABS64 = 2;
const MAP_DEF_SIZE = 20;

const latin1 = new TextDecoder('latin1');

/**
 * The NUL-terminated string at `at` of a string table ending at `end`: refused when it runs past the
 * table or past {@link ELF_LIMITS}.nameBytes, so a hostile table costs at most that much per name.
 */
function cString(bytes: Uint8Array, at: number, end: number, section: string): string {
  const stop = Math.min(end, at + ELF_LIMITS.nameBytes + 1);
  const nul = bytes.subarray(at, stop).indexOf(0);
  if (nul < 0)
    throw new ElfError(
      section,
      at,
      stop === end && end - at <= ELF_LIMITS.nameBytes
        ? 'string runs past the end of its table'
        : `string longer than ${ELF_LIMITS.nameBytes} bytes`,
    );
  return latin1.decode(bytes.subarray(at, at + nul));
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
    const name = cString(bytes, names.offset + s.nameAt, names.offset + names.size, '.shstrtab');
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
  if (symtab !== undefined && strtab !== undefined && strtab.type === SHT_NOBITS)
    throw new ElfError(symtab.name, symtab.offset, 'the string table has no data');
  // Names are decoded once per string-table offset: many symbols may share one long name.
  const nameCache = new Map<number, string>();
  const symbolName = (table: Section, off: number) => {
    let name = nameCache.get(off);
    if (name === undefined) {
      if (off >= table.size) throw new ElfError(table.name, table.offset + off, 'name offset out of range');
      name = cString(bytes, table.offset + off, table.offset + table.size, table.name);
      nameCache.set(off, name);
    }
    return name;
  };
  const symbols =
    symtab === undefined || strtab === undefined
      ? []
      : Array.from({ length: Math.floor(symtab.size / 24) }, (_, i) => {
          const at = symtab.offset + i * 24;
          return {
            name: symbolName(strtab, view.getUint32(at, true)),
            type: (bytes[at + 4] as number) & 0xf,
            global: (bytes[at + 4] as number) >> 4 === STB_GLOBAL,
            shndx: view.getUint16(at + 6, true),
            value: Number(view.getBigUint64(at + 8, true)),
            size: Number(view.getBigUint64(at + 16, true)),
          };
        });
  const bySection = new Map<number, (typeof symbols)[number][]>();
  for (const sym of symbols) {
    const list = bySection.get(sym.shndx);
    if (list === undefined) bySection.set(sym.shndx, [sym]);
    else list.push(sym);
  }
  return { view, sections, symbols, bySection };
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
  const { sections, bySection } = parse(bytes);
  return sections.flatMap((s, index) => {
    if ((s.flags & SHF_EXECINSTR) === 0n || s.size === 0) return [];
    return [
      {
        name: s.name,
        insns: codeSlots(bytes, s),
        symbols: (bySection.get(index) ?? [])
          .filter((sym) => sym.name !== '' && sym.type !== 3 && sym.type !== 4)
          .map((sym) => ({ name: sym.name, offset: sym.value }))
          .sort((a, b) => a.offset - b.offset || a.name.localeCompare(b.name)),
      },
    ];
  });
}

/** The instruction slots of an executable section, after checking its size. */
function codeSlots(bytes: Uint8Array, s: Section): BpfInsn[] {
  if (s.type === SHT_NOBITS) throw new ElfError(s.name, s.offset, 'an executable section has no data');
  if (s.size % 8 !== 0)
    throw new ElfError(s.name, s.offset, `size ${s.size} is not a whole number of instructions`);
  if (s.size / 8 > ELF_LIMITS.sectionSlots)
    throw new ElfError(
      s.name,
      s.offset,
      `${s.size / 8} instructions are more than the ${ELF_LIMITS.sectionSlots} Linux loads`,
    );
  return slotsFromBytes(bytes.subarray(s.offset, s.offset + s.size));
}

/** The names of the program sections of an object. */
export function elfProgramSections(bytes: Uint8Array): string[] {
  return programSections(parse(bytes).sections).map((s) => s.name);
}

/** One program of an object: a global function of a program section, as libbpf 1.x counts them. */
export interface ElfProgramEntry {
  /** The function's name (the section's, for a section without function symbols). */
  readonly name: string;
  /** Its section. */
  readonly section: string;
  /** Its first instruction slot in the section. */
  readonly start: number;
  /** The slot after its last. */
  readonly end: number;
}

/**
 * Every program of a parsed object, in file order: each global function of a program section
 * (libbpf 1.x loads every one as its own program), or the whole section when it declares none.
 */
function programEntries(parsed: Parsed): ElfProgramEntry[] {
  const { sections, bySection } = parsed;
  return programSections(sections).flatMap((s) => {
    const slots = s.size / 8;
    const functions = (bySection.get(sections.indexOf(s)) ?? [])
      .filter((sym) => sym.type === STT_FUNC && sym.global && sym.size > 0)
      .sort((a, b) => a.value - b.value);
    if (functions.length === 0) return [{ name: s.name, section: s.name, start: 0, end: slots }];
    return functions.map((fn) => {
      if (fn.value % 8 !== 0 || fn.size % 8 !== 0 || fn.value + fn.size > s.size)
        throw new ElfError(
          s.name,
          s.offset + fn.value,
          `function ${fn.name} lies outside whole instructions of the section`,
        );
      return { name: fn.name, section: s.name, start: fn.value / 8, end: (fn.value + fn.size) / 8 };
    });
  });
}

/** The programs of an object (what `--list` shows and `--prog-name` chooses from). */
export function elfPrograms(bytes: Uint8Array): ElfProgramEntry[] {
  return programEntries(parse(bytes));
}

/** Data sections loaded as single-element arrays, as Linux and libbpf load them for XDP. */
const DATA_SECTION = /^\.(rodata|data|bss)(\..*)?$/;
const R_BPF_64_32 = 10;
const STT_FUNC = 2;
const STB_GLOBAL = 1;
const SHT_NOBITS = 8;

type Parsed = ReturnType<typeof parse>;
type Symbol = Parsed['symbols'][number];

/** How a loader may adjust an object's maps before loading, as libbpf lets its user. */
export interface ElfLoadOptions {
  /** `max_entries` by map name (libbpf's `bpf_map__set_max_entries`; the CLI's `--map-size NAME=N`). */
  readonly mapSizes?: Readonly<Record<string, number>>;
}

/** `BPF_F_*` map creation flags by bit, for messages. */
const MAP_FLAG_NAMES: Readonly<Record<number, string>> = {
  0x1: 'BPF_F_NO_PREALLOC',
  0x2: 'BPF_F_NO_COMMON_LRU',
  0x4: 'BPF_F_NUMA_NODE',
  0x8: 'BPF_F_RDONLY',
  0x10: 'BPF_F_WRONLY',
  0x20: 'BPF_F_STACK_BUILD_ID',
  0x40: 'BPF_F_ZERO_SEED',
  0x80: 'BPF_F_RDONLY_PROG',
  0x100: 'BPF_F_WRONLY_PROG',
  0x200: 'BPF_F_CLONE',
  0x400: 'BPF_F_MMAPABLE',
  0x800: 'BPF_F_PRESERVE_ELEMS',
  0x1000: 'BPF_F_INNER_MAP',
};
const BPF_F_NO_PREALLOC = 0x1;
const BPF_F_NO_COMMON_LRU = 0x2;

/**
 * The flags of each map type that are allocation hints (or, for an LPM trie, Linux's requirement
 * of no preallocation): they change how a host allocates, not what the map holds.
 */
const HINT_FLAGS: Readonly<Record<number, number>> = {
  [BpfMapType.HASH]: BPF_F_NO_PREALLOC,
  [BpfMapType.PERCPU_HASH]: BPF_F_NO_PREALLOC,
  [BpfMapType.LPM_TRIE]: BPF_F_NO_PREALLOC,
  // Per-CPU LRU lists: an eviction policy, which X.7.4 leaves to the device.
  [BpfMapType.LRU_HASH]: BPF_F_NO_COMMON_LRU,
};

/**
 * A map's definition after its flags and the loader's sizes: BPF_F_NO_PREALLOC on the hash types
 * and the LPM trie, and BPF_F_NO_COMMON_LRU on an LRU hash, are allocation hints with no effect on
 * what the map holds, so they are dropped (a device accounts `max_entries` either way); every
 * other flag changes semantics the wire cannot carry and is refused by name; `max_entries` 0 is
 * left to the loader, as libbpf users leave it.
 */
function adjustedMap(
  where: { section: string; offset: number },
  name: string,
  definition: MapDefinition,
  flags: number,
  sizes: Readonly<Record<string, number>>,
): MapDefinition {
  const fail = (detail: string) => new ElfError(where.section, where.offset, `map ${name}: ${detail}`);
  const unsupported = flags & ~(HINT_FLAGS[definition.type] ?? 0);
  if (unsupported !== 0) {
    const names = Object.entries(MAP_FLAG_NAMES)
      .filter(([bit]) => (unsupported & Number(bit)) !== 0)
      .map(([, n]) => n);
    throw fail(
      `map_flags 0x${unsupported.toString(16)} (${names.join(', ') || 'undefined bits'}) cannot be offloaded`,
    );
  }
  const size = sizes[name];
  const maxEntries = size ?? definition.maxEntries;
  if (maxEntries === 0) throw fail('max_entries 0 is left to the loader; give this map a size');
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 0 || maxEntries > 0xffffffff)
    throw fail(`max_entries ${maxEntries} is not a u32`);
  return { ...definition, maxEntries };
}

/** The maps an object defines, in handle order: legacy `maps`, BTF `.maps`, then data sections. */
function objectMaps(bytes: Uint8Array, { view, sections, bySection }: Parsed, options: ElfLoadOptions = {}) {
  const sizes = options.mapSizes ?? {};
  const maps: {
    name: string;
    definition: MapDefinition;
    data?: Uint8Array;
    section: number;
    offset: number;
    valuesOffset?: number;
  }[] = [];
  const legacyIndex = sections.findIndex((s) => s.name === 'maps');
  if (legacyIndex >= 0) {
    const legacy = sections[legacyIndex] as Section;
    for (const sym of (bySection.get(legacyIndex) ?? [])
      .filter((s) => s.name !== '')
      .sort((a, b) => a.value - b.value)) {
      const at = legacy.offset + sym.value;
      if (sym.value + MAP_DEF_SIZE > legacy.size)
        throw new ElfError('maps', at, `map ${sym.name} runs past the section`);
      const definition = {
        type: view.getUint32(at, true),
        keySize: view.getUint32(at + 4, true),
        valueSize: view.getUint32(at + 8, true),
        maxEntries: view.getUint32(at + 12, true),
      };
      maps.push({
        name: sym.name,
        section: legacyIndex,
        offset: sym.value,
        definition: adjustedMap(
          { section: 'maps', offset: at },
          sym.name,
          definition,
          view.getUint32(at + 16, true),
          sizes,
        ),
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
    // clang writes 0 as every variable's offset in the .maps DATASEC and leaves the real place to
    // the symbol table, where libbpf reads it: so does this loader, falling back to the DATASEC
    // offset only for a variable without a symbol.
    const symbolOffset = new Map(
      (bySection.get(btfMapsIndex) ?? [])
        .filter((sym) => sym.name !== '')
        .map((sym) => [sym.name, sym.value]),
    );
    const placed = defined.map((m) => ({ ...m, offset: symbolOffset.get(m.name) ?? m.offset }));
    for (const m of placed.sort((a, b) => a.offset - b.offset)) {
      const definition = adjustedMap(
        { section: '.maps', offset: m.offset },
        m.name,
        m.definition,
        m.flags,
        sizes,
      );
      maps.push({
        name: m.name,
        section: btfMapsIndex,
        offset: m.offset,
        definition,
        ...(m.valuesOffset === undefined ? {} : { valuesOffset: m.valuesOffset }),
      });
    }
  }
  let dataTotal = 0;
  sections.forEach((s, index) => {
    if (!DATA_SECTION.test(s.name) || s.size === 0) return;
    dataTotal += s.size;
    if (dataTotal > ELF_LIMITS.totalDataBytes)
      throw new ElfError(s.name, s.offset, `global data beyond ${ELF_LIMITS.totalDataBytes} bytes in all`);
    if (s.size > ELF_LIMITS.dataBytes)
      throw new ElfError(
        s.name,
        s.offset,
        `${s.size} bytes of global data are more than a map value holds (${ELF_LIMITS.dataBytes})`,
      );
    const data = s.type === SHT_NOBITS ? new Uint8Array(s.size) : bytes.slice(s.offset, s.offset + s.size);
    maps.push({
      name: s.name,
      section: index,
      offset: 0,
      definition: { type: 2, keySize: 4, valueSize: s.size, maxEntries: 1 },
      data,
    });
  });
  for (const name of Object.keys(sizes))
    if (!maps.some((m) => m.name === name && m.data === undefined))
      throw new ElfError(
        '',
        0,
        `no map named ${name} to size (maps: ${
          maps
            .filter((m) => m.data === undefined)
            .map((m) => m.name)
            .join(', ') || 'none'
        })`,
      );
  return maps;
}

/**
 * Loads one program: the one named `select` (a function name, as xdp-loader's `--prog-name`
 * takes it, or a section name, whose first program it then is), or the object's first program.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * const elf = loadElfProgram(new Uint8Array(readFileSync('samples/tail_dispatch.o')), 'xdp_dispatch');
 * console.log(elf.mapNames, elf.slots.length); // [ 'jmp_table', 'hits' ] 3
 * ```
 * @throws ElfError naming the section, the byte offset and (where one is at fault) the map, for
 *   an object the loader cannot read or a program it cannot select.
 */
export function loadElfProgram(bytes: Uint8Array, select?: string, options: ElfLoadOptions = {}): ElfProgram {
  const parsed = parse(bytes);
  const { view, sections, symbols, bySection } = parsed;
  const entries = programEntries(parsed);
  const entry =
    select === undefined
      ? entries[0]
      : (entries.find((e) => e.name === select) ?? entries.find((e) => e.section === select));
  if (entry === undefined) {
    const have = entries
      .slice(0, 16)
      .map((e) => (e.name === e.section ? e.name : `${e.name} (${e.section})`));
    if (entries.length > 16) have.push(`and ${entries.length - 16} more`);
    const what = select === undefined ? 'no program' : `no program or program section named ${select}`;
    throw new ElfError('', 0, `${what} (have: ${have.join(', ') || 'none'})`);
  }
  const prog = sections.find((s) => s.name === entry.section) as Section;
  const maps = objectMaps(bytes, parsed, options);
  // Maps by (section, offset) and data maps by section, for relocations in constant time.
  const mapAt = new Map<string, number>();
  const dataMapOf = new Map<number, number>();
  maps.forEach((m, i) => {
    if (m.data !== undefined) dataMapOf.set(m.section, i);
    else if (!mapAt.has(`${m.section}:${m.offset}`)) mapAt.set(`${m.section}:${m.offset}`, i);
  });
  const textIndex = sections.findIndex((s) => s.name === '.text');
  const text = sections[textIndex];
  const textSlots = text === undefined || text.size === 0 ? [] : codeSlots(bytes, text);
  const insns = codeSlots(bytes, prog).slice(entry.start, entry.end);
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
  // .text's functions by start, for a binary search from any slot to the function holding it.
  const functions = (bySection.get(textIndex) ?? [])
    .filter((s) => s.type === STT_FUNC)
    .sort((a, b) => a.value - b.value);
  const functionAt = (slot: number): Symbol | undefined => {
    let lo = 0;
    let hi = functions.length - 1;
    let found: Symbol | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const fn = functions[mid] as Symbol;
      if (fn.value / 8 <= slot) {
        found = fn;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found !== undefined && slot < (found.value + found.size) / 8 ? found : undefined;
  };
  // Functions of .text appended after the program, by their first .text slot: the insns index of
  // a .text slot of the function is the slot plus this delta.
  const placed = new Map<number, number>();
  const pending: { base: number; sectionIndex: number; fnStart: number }[] = [
    { base: -entry.start, sectionIndex: sections.indexOf(prog), fnStart: -1 },
  ];

  /** Applies one relocation of section `rel` (entry `at`, at byte `offset`) to the instruction at `slot`. */
  type Relocate = (
    rel: Section,
    at: number,
    offset: number,
    slot: number,
    insn: BpfInsn,
    symbol: Symbol,
  ) => void;

  /** A call into .text: places the called function (once) and points the call at it. */
  const relocateCall: Relocate = (rel, at, offset, slot, insn, symbol) => {
    if (insn.code !== Op.CALL || insn.src_reg !== 1)
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
      const end = Math.min(textSlots.length, (fn.value + fn.size) / 8);
      for (let i = fnStart; i < end; i++) insns.push({ ...(textSlots[i] as BpfInsn) });
      if (insns.length > ELF_LIMITS.sectionSlots)
        throw new ElfError(rel.name, at, `the program grows past ${ELF_LIMITS.sectionSlots} instructions`);
      pending.push({ base: delta, sectionIndex: textIndex, fnStart });
    }
    insns[slot] = { ...insn, imm: delta + target - (slot + 1) };
  };

  /** An ld_imm64 of a map (src_reg 1) or of global data (src_reg 2, offset in the second slot). */
  const relocateData: Relocate = (rel, at, offset, slot, insn, symbol) => {
    if (insn.code !== Op.LDDW) throw new ElfError(rel.name, at, `relocation at ${offset} is not an ld_imm64`);
    const mapIndex = mapAt.get(`${symbol.shndx}:${symbol.value}`) ?? dataMapOf.get(symbol.shndx) ?? -1;
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

  // Relocations of .text by the function they fall in: placing a function visits only its own.
  const textRelocations = new Map<number, NonNullable<ReturnType<typeof relocations.get>>>();
  for (const r of relocations.get(textIndex) ?? []) {
    const fn = functionAt(r.offset / 8);
    if (fn === undefined) continue;
    const list = textRelocations.get(fn.value / 8);
    if (list === undefined) textRelocations.set(fn.value / 8, [r]);
    else list.push(r);
  }
  for (let job = pending.shift(); job !== undefined; job = pending.shift()) {
    const { base, sectionIndex, fnStart } = job;
    const own = sections[sectionIndex] as Section;
    // A placed function's own relocations (none when .text itself is the program, fnStart -1).
    const list =
      sectionIndex === textIndex
        ? (textRelocations.get(fnStart) ?? [])
        : (relocations.get(sectionIndex) ?? []);
    for (const { rel, at, offset, type, symbol } of list) {
      if (sectionIndex !== textIndex && offset >= own.size)
        throw new ElfError(rel.name, at, `relocation at ${offset} is past the section`);
      // Another program of the same section: its relocations are its own.
      if (fnStart === -1 && (offset < entry.start * 8 || offset >= entry.end * 8)) continue;
      const slot = base + offset / 8;
      const insn = insns[slot];
      if (symbol === undefined || insn === undefined || !Number.isInteger(offset / 8))
        throw new ElfError(rel.name, at, `relocation at ${offset} names no instruction and symbol`);
      if (type === R_BPF_64_32) relocateCall(rel, at, offset, slot, insn, symbol);
      else if (type === R_BPF_64_64) relocateData(rel, at, offset, slot, insn, symbol);
      else throw new ElfError(rel.name, at, `relocation type ${type} is not supported`);
    }
  }
  const slots = declaredSlots(sections, maps, relocations, entries);
  const licenseSection = sections.find((s) => s.name === 'license');
  const license =
    licenseSection === undefined
      ? undefined
      : licenseSection.type === SHT_NOBITS || licenseSection.size === 0
        ? ''
        : cString(bytes, licenseSection.offset, licenseSection.offset + licenseSection.size, 'license');
  return {
    name: entry.name,
    section: prog.name,
    insns,
    maps: maps.map((m) => m.definition),
    mapNames: maps.map((m) => m.name),
    mapData: maps.map((m) => m.data),
    license,
    slots,
  };
}

/**
 * The slots `.rel.maps` declares: each relocation points a `values` entry of a BTF map at a
 * program's symbol, as libbpf reads them; only a program array's values are supported, each naming
 * one of the object's programs at an index below the map's `max_entries`.
 */
function declaredSlots(
  sections: readonly Section[],
  maps: readonly {
    name: string;
    definition: MapDefinition;
    section: number;
    offset: number;
    valuesOffset?: number;
  }[],
  relocations: ReadonlyMap<
    number,
    readonly { rel: Section; at: number; offset: number; type: number; symbol: Symbol | undefined }[]
  >,
  entries: readonly ElfProgramEntry[],
): ElfSlot[] {
  const btfMapsIndex = sections.findIndex((s) => s.name === '.maps');
  const slots: ElfSlot[] = [];
  for (const { rel, at, offset, type, symbol } of relocations.get(btfMapsIndex) ?? []) {
    const fail = (detail: string) => new ElfError(rel.name, at, detail);
    // the variable the offset falls in: the last map of .maps that starts at or before it
    let mapIndex = -1;
    maps.forEach((m, i) => {
      if (
        m.section === btfMapsIndex &&
        m.offset <= offset &&
        (mapIndex < 0 || m.offset >= (maps[mapIndex]?.offset ?? 0))
      )
        mapIndex = i;
    });
    const map = maps[mapIndex];
    if (map === undefined || map.valuesOffset === undefined || offset < map.offset + map.valuesOffset)
      throw fail(`relocation at ${offset} of .maps is in no map's values`);
    if (type !== R_BPF_64_ABS64) throw fail(`map ${map.name}: relocation type ${type} in its values`);
    if (map.definition.type !== BpfMapType.PROG_ARRAY)
      throw fail(
        `map ${map.name}: declared values are supported for a program array only (map type ${map.definition.type})`,
      );
    const index = (offset - map.offset - map.valuesOffset) / 8;
    if (!Number.isInteger(index)) throw fail(`map ${map.name}: a value at ${offset} is not a whole slot`);
    const target = symbol === undefined ? undefined : sections[symbol.shndx];
    const entry = entries.find(
      (e) =>
        target !== undefined &&
        symbol !== undefined &&
        e.section === target.name &&
        e.start * 8 === symbol.value,
    );
    if (entry === undefined)
      throw fail(
        `map ${map.name}: slot ${index} names ${symbol?.name || 'a symbol'}, which is not a program`,
      );
    if (index >= map.definition.maxEntries)
      throw fail(`map ${map.name}: slot ${index} is beyond max_entries ${map.definition.maxEntries}`);
    slots.push({ map: mapIndex, index, program: entry.name });
  }
  return slots;
}
