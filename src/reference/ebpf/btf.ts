/**
 * Enough of BTF (the BPF Type Format in an object's `.BTF` section) to read BTF-defined maps: the
 * `.maps` data section lists one variable per map, whose struct type encodes the map's parameters
 * as libbpf's `__uint` and `__type` macros write them (`int (*type)[N]` carries N; `T *key` carries
 * `sizeof(T)`).
 *
 * @module
 */
import type { MapDefinition } from './maps.js';

/** A malformed or unsupported BTF section: what is wrong and where (offset within the section). */
export class BtfError extends Error {
  /** Byte offset within the `.BTF` section. */
  readonly offset: number;
  constructor(offset: number, message: string) {
    super(message);
    this.name = 'BtfError';
    this.offset = offset;
  }
}

/** BTF kinds the reader tells apart. */
const Kind = {
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

/** One member of a struct, union or data section. */
interface Member {
  readonly name: string;
  readonly type: number;
  /** Struct: bit offset; data section: byte offset. */
  readonly offset: number;
  /** Data section: size in bytes. */
  readonly size: number;
}

interface BtfType {
  readonly kind: number;
  readonly name: string;
  /** size for sized kinds, referenced type otherwise. */
  readonly sizeOrType: number;
  readonly members: readonly Member[];
  /** ARRAY: element type and count. */
  readonly array?: { readonly type: number; readonly nelems: number };
  /** Where the type starts in the section. */
  readonly at: number;
}

/** Longest BTF name the reader accepts (Linux refuses names of KSYM_NAME_LEN, 512, or more). */
const BTF_NAME_LIMIT = 4096;
/** Deepest chain of arrays, typedefs and qualifiers `sizeOf` follows. */
const BTF_CHAIN_LIMIT = 32;

const latin1 = new TextDecoder('latin1');

/** Parsed BTF types, by id (id 0 is void). */
export class Btf {
  private readonly types: (BtfType | undefined)[] = [undefined];

  /** Parses a `.BTF` section; throws {@link BtfError}. */
  constructor(bytes: Uint8Array) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const u32 = (at: number) => {
      if (at + 4 > bytes.length) throw new BtfError(at, 'truncated');
      return view.getUint32(at, true);
    };
    if (bytes.length < 24 || view.getUint16(0, true) !== 0xeb9f) throw new BtfError(0, 'bad BTF magic');
    const hdrLen = u32(4);
    const typeStart = hdrLen + u32(8);
    const typeEnd = typeStart + u32(12);
    const strStart = hdrLen + u32(16);
    const strEnd = strStart + u32(20);
    if (typeEnd > bytes.length || strEnd > bytes.length)
      throw new BtfError(4, 'type or string section runs past the end');
    // Each name is decoded once (many types may share one), and none may exceed the limit.
    const names = new Map<number, string>();
    const name = (off: number) => {
      let text = names.get(off);
      if (text !== undefined) return text;
      const at = strStart + off;
      if (at >= strEnd) throw new BtfError(at, `string offset ${off} out of range`);
      const stop = Math.min(strEnd, at + BTF_NAME_LIMIT + 1);
      const nul = bytes.subarray(at, stop).indexOf(0);
      if (nul < 0)
        throw new BtfError(at, `string at ${off} is unterminated or longer than ${BTF_NAME_LIMIT} bytes`);
      text = latin1.decode(bytes.subarray(at, at + nul));
      names.set(off, text);
      return text;
    };
    let at = typeStart;
    while (at < typeEnd) {
      const start = at;
      const nameOff = u32(at);
      const info = u32(at + 4);
      const sizeOrType = u32(at + 8);
      at += 12;
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      const members: Member[] = [];
      let array: BtfType['array'];
      switch (kind) {
        case Kind.INT:
        case Kind.VAR:
        case Kind.DECL_TAG:
          at += 4;
          break;
        case Kind.ARRAY:
          array = { type: u32(at), nelems: u32(at + 8) };
          at += 12;
          break;
        case Kind.STRUCT:
        case Kind.UNION:
          for (let i = 0; i < vlen; i++, at += 12)
            members.push({ name: name(u32(at)), type: u32(at + 4), offset: u32(at + 8), size: 0 });
          break;
        case Kind.DATASEC:
          for (let i = 0; i < vlen; i++, at += 12)
            members.push({ name: '', type: u32(at), offset: u32(at + 4), size: u32(at + 8) });
          break;
        case Kind.ENUM:
        case Kind.FUNC_PROTO:
          at += vlen * 8;
          break;
        case Kind.ENUM64:
          at += vlen * 12;
          break;
        case Kind.PTR:
        case Kind.FWD:
        case Kind.TYPEDEF:
        case Kind.VOLATILE:
        case Kind.CONST:
        case Kind.RESTRICT:
        case Kind.FUNC:
        case Kind.FLOAT:
        case Kind.TYPE_TAG:
          break;
        default:
          throw new BtfError(start, `unknown BTF kind ${kind}`);
      }
      if (at > typeEnd) throw new BtfError(start, 'type runs past the type section');
      this.types.push({
        kind,
        name: name(nameOff),
        sizeOrType,
        members,
        ...(array ? { array } : {}),
        at: start,
      });
    }
  }

  private type(id: number): BtfType {
    const t = this.types[id];
    if (t === undefined) throw new BtfError(0, `type id ${id} does not exist`);
    return t;
  }

  /** The type behind typedefs and qualifiers. */
  private resolve(id: number): BtfType {
    let t = this.type(id);
    for (let hops = 0; ; hops++) {
      if (hops > BTF_CHAIN_LIMIT) throw new BtfError(t.at, 'type chain too long');
      if (
        t.kind !== Kind.TYPEDEF &&
        t.kind !== Kind.VOLATILE &&
        t.kind !== Kind.CONST &&
        t.kind !== Kind.RESTRICT &&
        t.kind !== Kind.TYPE_TAG
      )
        return t;
      t = this.type(t.sizeOrType);
    }
  }

  /**
   * sizeof a type, in bytes: a loop over nested arrays (at most 32 deep, so a
   * cycle or a long chain is an error, not a stack overflow), refused above 2^32 bytes.
   */
  sizeOf(id: number): number {
    let count = 1;
    for (let depth = 0; ; depth++) {
      if (depth > BTF_CHAIN_LIMIT) throw new BtfError(0, `type #${id}: arrays nested too deep`);
      const t = this.resolve(id);
      let size: number;
      switch (t.kind) {
        case Kind.ARRAY:
          count *= t.array?.nelems ?? 0;
          id = t.array?.type ?? 0;
          continue;
        case Kind.PTR:
          size = 8;
          break;
        case Kind.INT:
        case Kind.STRUCT:
        case Kind.UNION:
        case Kind.ENUM:
        case Kind.ENUM64:
        case Kind.FLOAT:
        case Kind.DATASEC:
          size = t.sizeOrType;
          break;
        default:
          throw new BtfError(t.at, `type ${t.name || `#${id}`} has no size`);
      }
      const total = count * size;
      if (total > 2 ** 32) throw new BtfError(t.at, `type #${id}: size ${total} is above 2^32`);
      return total;
    }
  }

  /**
   * The maps of the `.maps` data section, by variable name, with each one's byte offset in the
   * section and, for a map declaring initial values (`__array(values, ...)`, a program array's
   * slots), the byte offset of those values within the variable. Throws {@link BtfError} for a
   * definition the reader does not understand.
   */
  maps(): {
    name: string;
    offset: number;
    definition: MapDefinition;
    flags: number;
    valuesOffset?: number;
  }[] {
    const section = this.types.find((t) => t?.kind === Kind.DATASEC && t.name === '.maps');
    if (section === undefined) return [];
    return section.members.map((entry) => {
      const variable = this.type(entry.type);
      if (variable.kind !== Kind.VAR) throw new BtfError(variable.at, '.maps entry is not a variable');
      const struct = this.resolve(variable.sizeOrType);
      if (struct.kind !== Kind.STRUCT) throw new BtfError(struct.at, `map ${variable.name} is not a struct`);
      const fields = new Map<string, number>();
      const sizes = new Map<string, number>();
      let valuesOffset: number | undefined;
      for (const m of struct.members) {
        const pointer = this.resolve(m.type);
        // __array(values, T): a flexible array of pointers, the values the object gives the map
        if (m.name === 'values' && pointer.kind === Kind.ARRAY) {
          if (this.resolve(pointer.array?.type ?? 0).kind !== Kind.PTR)
            throw new BtfError(struct.at, `map ${variable.name}: values is not an array of pointers`);
          valuesOffset = m.offset / 8;
          continue;
        }
        if (pointer.kind !== Kind.PTR)
          throw new BtfError(struct.at, `map ${variable.name}: member ${m.name} is not a pointer`);
        const target = this.resolve(pointer.sizeOrType);
        // __uint(name, N): a pointer to an array of N ints. __type(name, T): a pointer to T.
        if (target.kind === Kind.ARRAY && m.name !== 'key' && m.name !== 'value')
          fields.set(m.name, target.array?.nelems ?? 0);
        else sizes.set(m.name, this.sizeOf(pointer.sizeOrType));
      }
      const need = (name: string, size: string) => {
        const v = fields.get(name) ?? sizes.get(size);
        if (v === undefined) throw new BtfError(struct.at, `map ${variable.name} has no ${name}`);
        return v;
      };
      for (const member of fields.keys())
        if (!['type', 'key_size', 'value_size', 'max_entries', 'map_flags', 'pinning'].includes(member))
          throw new BtfError(struct.at, `map ${variable.name}: member ${member} is not supported`);
      return {
        name: variable.name,
        offset: entry.offset,
        definition: {
          type: need('type', 'type'),
          keySize: fields.get('key_size') ?? need('key', 'key'),
          // with declared values, each is a 4-byte reference (a program fd), as libbpf sizes it
          valueSize: fields.get('value_size') ?? (valuesOffset !== undefined ? 4 : need('value', 'value')),
          // Absent, it is 0: libbpf leaves it to its user to set before load.
          maxEntries: fields.get('max_entries') ?? 0,
        },
        flags: fields.get('map_flags') ?? 0,
        ...(valuesOffset === undefined ? {} : { valuesOffset }),
      };
    });
  }
}
