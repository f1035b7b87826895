/**
 * Renders the layouts and constants as the spec's struct tables (Markdown) and as the normative C
 * header, so that neither can drift from the codecs.
 *
 * @module
 */
import {
  IFF_XDP_OFFLOAD,
  IsaGroup,
  BpfMapType,
  VerifyMode,
  LogLevel,
  NextKeyFlag,
  ProgFeature,
  ProgLoadFlag,
  QueryFlag,
  TunXdpOffloadOp,
  TUN_XDP_OFFLOAD_NR,
  VIRTIO_NET_CTRL_XDP_OFFLOAD,
  VIRTIO_NET_F_XDP_OFFLOAD,
  XdpCommand,
  XdpStatus,
  HELPER_BITMAP_BYTES,
  OffloadHelper,
} from './constants.js';
import { COMMAND_FRAMES } from './control.js';
import type { AnyField } from './fields.js';
import type { Layout } from './layout.js';
import { ALL_LAYOUTS } from './structs.js';

/** One group of `#define`s in the header: a prefix and a name → value table. */
export interface ConstantGroup {
  /** What the group is. */
  readonly doc: string;
  /** Prefix of every macro name. */
  readonly prefix: string;
  /** Name → value. */
  readonly values: Readonly<Record<string, number>>;
  /** Print values in hex. */
  readonly hex?: boolean;
  /** The header it belongs to: the VIRTIO one, or the Linux tap companion's (default `virtio`). */
  readonly header?: 'virtio' | 'tun';
}

/** Every constant group the header defines, in order. */
export const CONSTANT_GROUPS: readonly ConstantGroup[] = [
  {
    doc: 'Feature bit (requires VIRTIO_NET_F_CTRL_VQ) and control class',
    prefix: '',
    values: { VIRTIO_NET_F_XDP_OFFLOAD, VIRTIO_NET_CTRL_XDP_OFFLOAD },
  },
  {
    doc: 'Commands of class VIRTIO_NET_CTRL_XDP_OFFLOAD',
    prefix: 'VIRTIO_NET_CTRL_XDP_',
    values: XdpCommand,
  },
  { doc: 'Status codes (Linux errno values)', prefix: 'VIRTIO_NET_XDP_S_', values: XdpStatus },
  { doc: 'MAP_GET_NEXT_KEY flags', prefix: 'VIRTIO_NET_XDP_NEXT_KEY_F_', values: NextKeyFlag },
  { doc: 'PROG_LOAD flags', prefix: 'VIRTIO_NET_XDP_PROG_LOAD_F_', values: ProgLoadFlag },
  { doc: 'PROG_LOAD log levels', prefix: 'VIRTIO_NET_XDP_LOG_', values: LogLevel },
  {
    doc: 'Offloadable map types (Linux enum bpf_map_type values; map_types bits)',
    prefix: 'VIRTIO_NET_XDP_MAP_TYPE_',
    values: BpfMapType,
  },
  { doc: 'verify_mode values', prefix: 'VIRTIO_NET_XDP_VERIFY_', values: VerifyMode },
  {
    doc: 'isa_groups bits: RFC 9669 conformance groups',
    prefix: 'VIRTIO_NET_XDP_ISA_',
    values: IsaGroup,
    hex: true,
  },
  { doc: 'prog_features bits', prefix: 'VIRTIO_NET_XDP_PROG_F_', values: ProgFeature, hex: true },
  { doc: 'QUERY flags', prefix: 'VIRTIO_NET_XDP_QUERY_F_', values: QueryFlag },
  {
    doc: 'Size of the helpers bitmap',
    prefix: '',
    values: { VIRTIO_NET_XDP_HELPER_BITMAP_BYTES: HELPER_BITMAP_BYTES },
  },
  { doc: 'TUNGETFEATURES bit', prefix: '', values: { IFF_XDP_OFFLOAD }, hex: true, header: 'tun' },
  { doc: 'TUNXDPOFFLOAD operations', prefix: 'TUN_XDP_OFFLOAD_', values: TunXdpOffloadOp, header: 'tun' },
];

/**
 * The C member that stands for a layout's variable part: C allows one flexible array, so several
 * variable fields share one member named after all of them (`key_value`). Undefined when fixed.
 */
export function flexMemberName(layout: Layout): string | undefined {
  const names = layout.fields.filter((f) => f.fixedSize === undefined).map((f) => f.name);
  return names.length === 0 ? undefined : names.join('_');
}

function fieldDeclaration(field: AnyField, variableNames: readonly string[]): string {
  const c = field.c;
  const name = field.name;
  if (c.bits !== undefined) return `${c.type} ${name}:${c.bits};`;
  if (c.array === 'flex') {
    if (variableNames.length <= 1) return `${c.type} ${name}[];`;
    return `${c.type} ${variableNames.join('_')}[]; /* ${variableNames.join(', then ')} */`;
  }
  if (typeof c.array === 'number') return `${c.type} ${name}[${c.array}];`;
  return `${c.type} ${name};`;
}

/** The C declaration of one layout, or a comment when C cannot declare it (a lone flexible array). */
export function renderCStruct(layout: Layout): string {
  const lines = [`/* ${layout.doc} */`];
  const fixed = layout.fields.filter((f) => f.fixedSize !== undefined || f.bitWidth !== undefined);
  const variable = layout.fields.filter((f) => f.fixedSize === undefined && f.bitWidth === undefined);
  if (fixed.length === 0) {
    const v = variable.map((f) => `${f.wire} ${f.name}`).join(', ');
    lines.push(`/* struct ${layout.cStruct} is a bare byte string: ${v}. */`);
    return lines.join('\n');
  }
  lines.push(`struct ${layout.cStruct} {`);
  for (let i = 0; i < fixed.length; i++) {
    const field = fixed[i] as AnyField;
    const next = fixed[i + 1];
    if (field.bitWidth !== undefined && next?.bitWidth !== undefined) {
      // Two nibbles of one byte: one __u8, since bit-field order follows the host's byte order.
      lines.push(`\t__u8 ${nibbleMember(field, next)}; /* ${field.name} bits 0-3, ${next.name} bits 4-7 */`);
      i++;
    } else lines.push(`\t${fieldDeclaration(field, [])}`);
  }
  if (variable.length > 0) {
    lines.push(
      `\t${fieldDeclaration(
        variable[0] as AnyField,
        variable.map((f) => f.name),
      )}`,
    );
  }
  lines.push('};');
  return lines.join('\n');
}

/**
 * A layout as VIRTIO's own structure listings write it: VIRTIO's types (`le32`, `u8`), arrays
 * sized by the fields that give their length (`u8 key[key_size];`), and a nibble pair as one `u8`
 * whose bits a comment names.
 */
export function virtioStructListing(layout: Layout): string {
  const lines = [`struct ${layout.cName} {`];
  const fields = layout.fields;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as AnyField;
    const next = fields[i + 1];
    if (field.bitWidth !== undefined && next?.bitWidth !== undefined) {
      lines.push(
        `        u8 ${nibbleMember(field, next)}; /* ${field.name}: bits 0-3, ${next.name}: bits 4-7 */`,
      );
      i++;
      continue;
    }
    const { type } = tableType(field, TUN_LAYOUTS.includes(layout.cName));
    const array = /^(.+)\[(.+)\]$/.exec(type);
    // The listing is C-like ASCII: a length written with × in the tables is a product here.
    const length = array?.[2]?.replace(/ × /g, ' * ');
    lines.push(
      array === null
        ? `        ${type} ${field.name};`
        : `        ${array[1] as string} ${field.name}[${length as string}];`,
    );
  }
  lines.push('};');
  return lines.join('\n');
}

/** The C member that holds two nibble fields (`dst_reg`, `src_reg` become `dst_src_reg`). */
export function nibbleMember(low: AnyField, high: AnyField): string {
  return `${low.name.split('_')[0] as string}_${high.name}`;
}

function renderConstants(group: ConstantGroup): string {
  const lines = [`/* ${group.doc} */`];
  for (const [name, value] of Object.entries(group.values)) {
    const text = group.hex
      ? `0x${value.toString(16).padStart(group.prefix === '' ? 8 : 2, '0')}`
      : String(value);
    lines.push(`#define ${group.prefix}${name} ${text}`);
  }
  return lines.join('\n');
}

/** The layouts of the Linux tap companion (the rest are the VIRTIO part's). */
const TUN_LAYOUTS: readonly string[] = ['tun_xdp_offload'];

/** The complete normative C header of the VIRTIO part. */
export function renderCHeader(): string {
  const parts = [
    '/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause */',
    '/*',
    ' * virtio-net XDP offload: wire structures and constants (VIRTIO_NET_F_XDP_OFFLOAD).',
    ' * Generated from the codec layouts by `npm run gen`; the spec text is normative, and this',
    ' * header is checked against the codecs byte for byte by the test suite. Do not edit.',
    ' * All fields are little-endian.',
    ' */',
    '#ifndef VIRTIO_NET_XDP_OFFLOAD_H',
    '#define VIRTIO_NET_XDP_OFFLOAD_H',
    '',
    '#include <linux/types.h>',
    '#include <linux/bpf.h>        /* BPF_MAP_TYPE_*, BPF_ANY..., BPF_FUNC_* */',
    '#include <linux/virtio_net.h> /* struct virtio_net_ctrl_hdr, virtio_net_ctrl_ack */',
    '',
    ...CONSTANT_GROUPS.filter((g) => g.header !== 'tun').map((g) => renderConstants(g) + '\n'),
    ...ALL_LAYOUTS.filter((l) => l.external === undefined && !TUN_LAYOUTS.includes(l.cName)).map(
      (l) => renderCStruct(l) + '\n',
    ),
    '/* The register nibbles of struct virtio_net_xdp_insn, the same on every host */',
    '#define VIRTIO_NET_XDP_INSN_DST_REG(insn) ((insn)->dst_src_reg & 0x0f)',
    '#define VIRTIO_NET_XDP_INSN_SRC_REG(insn) ((insn)->dst_src_reg >> 4)',
    '#define VIRTIO_NET_XDP_INSN_REGS(dst, src) ((__u8)(((src) & 0x0f) << 4 | ((dst) & 0x0f)))',
    '',
    '#endif /* VIRTIO_NET_XDP_OFFLOAD_H */',
    '',
  ];
  return parts.join('\n');
}

/** The C header of the Linux tap companion: what it proposes to add to <linux/if_tun.h>. */
export function renderTunHeader(): string {
  const parts = [
    '/* SPDX-License-Identifier: GPL-2.0+ WITH Linux-syscall-note */',
    '/*',
    " * Linux tun/tap: offloading a virtio-net guest's XDP program to a tap (proposed additions to",
    ' * <linux/if_tun.h>). Generated from the codec layouts by `npm run gen`; checked against the',
    ' * codecs byte for byte by the test suite. Do not edit. The argument is in host byte order.',
    ' */',
    '#ifndef IF_TUN_XDP_OFFLOAD_H',
    '#define IF_TUN_XDP_OFFLOAD_H',
    '',
    '#include <linux/types.h>',
    '#include <linux/ioctl.h>',
    '',
    ...CONSTANT_GROUPS.filter((g) => g.header === 'tun').map((g) => renderConstants(g) + '\n'),
    '/* TUNXDPOFFLOAD: attach, detach or query the offloaded XDP program of a tap */',
    `#define TUNXDPOFFLOAD _IOWR('T', ${TUN_XDP_OFFLOAD_NR}, struct tun_xdp_offload)`,
    '',
    ...ALL_LAYOUTS.filter((l) => TUN_LAYOUTS.includes(l.cName)).map((l) => renderCStruct(l) + '\n'),
    '#endif /* IF_TUN_XDP_OFFLOAD_H */',
    '',
  ];
  return parts.join('\n');
}

function sizeText(field: AnyField): string {
  if (field.bitWidth !== undefined) return `${field.bitWidth} bits`;
  if (field.fixedSize !== undefined) return String(field.fixedSize);
  const m = /\[(.*)\]$/.exec(field.wire);
  return m?.[1] === undefined ? 'variable' : field.json === 'array' ? `8 × ${m[1]}` : m[1];
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/**
 * How a table writes a field's type. The VIRTIO part uses VIRTIO's types only: a 4-bit field is a
 * part of a `u8` (its bits in the offset column), signed fields are `le16`/`le32` holding two's
 * complement, text is `u8`. The tap companion's structure is in host byte order, so it uses
 * Linux's uAPI types.
 */
function tableType(field: AnyField, hostOrder: boolean): { type: string; note: string } {
  const wire = field.wire;
  if (field.bitWidth !== undefined) return { type: 'u8', note: '' };
  const signed = /^s(16|32|64)$/.exec(wire);
  if (hostOrder) {
    const host = /^(?:le|u|s)(8|16|32|64)$/.exec(wire);
    if (host !== null) return { type: `__${wire.startsWith('s') ? 's' : 'u'}${host[1] as string}`, note: '' };
  }
  if (signed !== null) {
    const note = /signed/i.test(field.doc) ? " Two's complement." : " Signed, two's complement.";
    return { type: `le${signed[1] as string}`, note };
  }
  return { type: wire.replace(/^char\[/, 'u8['), note: '' };
}

/**
 * The spec's table for one layout: offset, size, type, field, meaning. Offsets after the first
 * variable field are written relative to it.
 */
export function renderStructTable(layout: Layout): string {
  const rows = ['| offset | size | type | field | meaning |', '|---|---|---|---|---|'];
  let offset = 0;
  let variableBase: string | undefined;
  let bit = 0;
  for (const field of layout.fields) {
    const at =
      variableBase === undefined
        ? String(offset)
        : offset === 0
          ? variableBase
          : `${variableBase} + ${offset}`;
    const where = field.bitWidth !== undefined ? `${at} (bits ${bit}-${bit + field.bitWidth - 1})` : at;
    const { type, note } = tableType(field, TUN_LAYOUTS.includes(layout.cName));
    rows.push(
      `| ${where} | ${sizeText(field)} | \`${escapeCell(type)}\` | \`${field.name}\` | ${escapeCell(field.doc + note)} |`,
    );
    if (field.bitWidth !== undefined) bit = (bit + field.bitWidth) % 8;
    if (field.fixedSize === undefined) {
      variableBase =
        variableBase === undefined
          ? `${offset} + ${sizeText(field)}`
          : `${variableBase} + ${sizeText(field)}`;
      offset = 0;
    } else {
      offset += field.fixedSize;
    }
  }
  const total = layout.fixedSize === undefined ? `${layout.headerSize} + variable` : String(layout.fixedSize);
  const origin = layout.external === undefined ? '' : ` Declared in ${layout.external}.`;
  return `**struct ${layout.cName}** (${total} bytes). ${layout.doc}${origin}\n\n${rows.join('\n')}\n`;
}

/** Replaces every `<!-- struct:NAME -->…<!-- /struct -->` block of a Markdown text with its table. */
export function fillStructTables(markdown: string): string {
  return markdown.replace(/<!-- struct:([a-z0-9_]+) -->[\s\S]*?<!-- \/struct -->/g, (_all, name: string) => {
    const layout = ALL_LAYOUTS.find((l) => l.cName === name);
    if (layout === undefined) throw new Error(`spec names an unknown struct ${name}`);
    return `<!-- struct:${name} -->\n${renderStructTable(layout)}<!-- /struct -->`;
  });
}

/** A table of constants the spec prints, generated like the struct tables. */
export interface SpecConstantTable {
  /** Prefix of every name as the spec and the header spell it. */
  readonly prefix: string;
  /** Name → value. */
  readonly values: Readonly<Record<string, number>>;
  /** Headings of the name and value columns. */
  readonly heading: readonly [string, string];
  /** Values are single bits: print them in hex with the bit number. */
  readonly bits?: boolean;
}

/**
 * The constant tables the spec prints, by the name of the codec's table (in `constants.ts`) that is
 * their one source. A spec block `<!-- table:NAME -->…<!-- /table -->` is filled from it.
 */
export const SPEC_CONSTANT_TABLES: Readonly<Record<string, SpecConstantTable>> = {
  XdpStatus: { prefix: 'VIRTIO_NET_XDP_S_', values: XdpStatus, heading: ['status', 'value'] },
  IsaGroup: { prefix: 'VIRTIO_NET_XDP_ISA_', values: IsaGroup, heading: ['group', 'value'], bits: true },
  ProgFeature: {
    prefix: 'VIRTIO_NET_XDP_PROG_F_',
    values: ProgFeature,
    heading: ['feature', 'value'],
    bits: true,
  },
  OffloadHelper: { prefix: '', values: OffloadHelper, heading: ['helper', 'id'] },
  BpfMapType: { prefix: 'VIRTIO_NET_XDP_MAP_TYPE_', values: BpfMapType, heading: ['map type', 'value'] },
  VerifyMode: { prefix: 'VIRTIO_NET_XDP_VERIFY_', values: VerifyMode, heading: ['mode', 'value'] },
};

/** The documentation of a member of one of the codec's constant tables (its doc comment). */
export type MemberDoc = (table: string, member: string) => string | undefined;

function constantTable(name: string, table: SpecConstantTable, doc: MemberDoc): string {
  const rows = [`| ${table.heading[0]} | ${table.heading[1]} | meaning |`, '|---|---|---|'];
  for (const [member, value] of Object.entries(table.values)) {
    const meaning = doc(name, member);
    if (meaning === undefined) throw new Error(`${name}.${member} has no doc comment for the spec`);
    const shown = table.bits === true ? `0x${value.toString(16)} (bit ${Math.log2(value)})` : String(value);
    rows.push(`| ${table.prefix}${member} | ${shown} | ${escapeCell(meaning)} |`);
  }
  return rows.join('\n') + '\n';
}

/** The command table of the control class: name, value, device-readable data, device-writable result. */
export function renderCommandTable(): string {
  const part = (layout: Layout | null) => (layout === null ? 'none' : `\`struct ${layout.cName}\``);
  const rows = [
    '| command | value | device-readable data | device-writable result (after the status header) |',
    '|---|---|---|---|',
  ];
  for (const [name, value] of Object.entries(XdpCommand)) {
    const frame = COMMAND_FRAMES[name as keyof typeof COMMAND_FRAMES];
    rows.push(`| VIRTIO_NET_CTRL_XDP_${name} | ${value} | ${part(frame.request)} | ${part(frame.result)} |`);
  }
  return rows.join('\n') + '\n';
}

/**
 * Replaces every `<!-- table:NAME -->…<!-- /table -->` block of a Markdown text: `commands` with the
 * command table, any other name with that constant table of {@link SPEC_CONSTANT_TABLES}, its
 * meanings taken from the members' doc comments through `doc`.
 */
export function fillConstantTables(markdown: string, doc: MemberDoc): string {
  return markdown.replace(/<!-- table:([A-Za-z]+) -->[\s\S]*?<!-- \/table -->/g, (_all, name: string) => {
    const table = SPEC_CONSTANT_TABLES[name];
    if (name !== 'commands' && table === undefined) throw new Error(`spec names an unknown table ${name}`);
    const body = table === undefined ? renderCommandTable() : constantTable(name, table, doc);
    return `<!-- table:${name} -->\n${body}<!-- /table -->`;
  });
}
