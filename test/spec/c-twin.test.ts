// The C twin: gcc compiles a program against the spec's header (and Linux's own headers for the
// structures Linux declares), prints sizeof and offsetof of every field and every constant, and encodes
// sample values by assigning struct members. The TypeScript codecs must agree byte for byte.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ALL_LAYOUTS,
  BpfMapType,
  BpfPseudo,
  BpfUpdateFlag,
  OffloadHelper,
  TUNXDPOFFLOAD,
  VIRTIO_NET_CTRL_XDP_OFFLOAD,
  VIRTIO_NET_ERR,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_OK,
  XdpAction,
  toHex,
  type AnyField,
  type Layout,
} from '../../src/codec/index.js';
import { CONSTANT_GROUPS, flexMemberName, nibbleMember } from '../../src/codec/render.js';
import { fc } from '../support/fc.js';
import { LAYOUT_CASES } from '../support/layout-table.js';

const HEADER_DIR = resolve('spec/include');

/** Layouts that C declares as a struct (bare byte strings and the ack typedef are checked by size). */
const STRUCTS = ALL_LAYOUTS.filter(
  (l) => l.fields.some((f) => f.fixedSize !== undefined) && l.cName !== 'virtio_net_ctrl_ack',
);

function cLiteral(field: AnyField, value: unknown): string {
  if (typeof value === 'bigint') return `0x${value.toString(16)}ULL`;
  if (typeof value === 'number') return value < 0 ? `(${value})` : `${value}u`;
  throw new Error(`no literal for ${field.name}`);
}

function cBytes(bytes: Uint8Array): string {
  return `"${Array.from(bytes, (b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}"`;
}

interface Sample {
  readonly id: string;
  readonly expected: string;
  readonly code: string;
}

/** C statements that build one sample value in `buf` and print it, with the TS encoding expected. */
function sampleCode(layout: Layout, value: Record<string, unknown>, outer: unknown, id: string): Sample {
  const expected = toHex(layout.encode(value, outer));
  const lines = [
    `{ static unsigned char buf[8192]; memset(buf, 0, sizeof buf); struct ${layout.cStruct} *p = (void *)buf; size_t tail = sizeof(*p);`,
  ];
  for (const [index, field] of layout.fields.entries()) {
    if (field.hidden) continue;
    const v = value[field.name];
    const name = field.name;
    const high = layout.fields[index + 1];
    if (field.bitWidth !== undefined && high?.bitWidth !== undefined) {
      // the two nibbles are one byte in the header, set through its macro
      lines.push(
        `p->${nibbleMember(field, high)} = VIRTIO_NET_XDP_INSN_REGS(${String(v)}, ${String(value[high.name])});`,
      );
    } else if (field.bitWidth !== undefined) {
      continue; // the high nibble, set with the low one
    } else if (field.fixedSize !== undefined) {
      if (v instanceof Uint8Array) lines.push(`memcpy(p->${name}, ${cBytes(v)}, ${v.length});`);
      else lines.push(`p->${name} = ${cLiteral(field, v)};`);
    } else if (field.json === 'array') {
      (v as Record<string, number>[]).forEach((insn, i) => {
        for (const [k, x] of Object.entries(insn))
          if (k !== 'dst_reg' && k !== 'src_reg') lines.push(`p->${name}[${i}].${k} = ${x};`);
        lines.push(
          `p->${name}[${i}].dst_src_reg = VIRTIO_NET_XDP_INSN_REGS(${String(insn.dst_reg)}, ${String(insn.src_reg)});`,
        );
      });
      lines.push(`tail += ${(v as unknown[]).length} * sizeof(p->${name}[0]);`);
    } else {
      const bytes = v instanceof Uint8Array ? v : Uint8Array.from(String(v), (c) => c.charCodeAt(0));
      if (bytes.length > 0) lines.push(`memcpy(buf + tail, ${cBytes(bytes)}, ${bytes.length});`);
      lines.push(`tail += ${bytes.length};`);
    }
  }
  lines.push(`printf("encode ${id} "); dump(buf, tail); }`);
  return { id, expected, code: lines.join('\n  ') };
}

let output = new Map<string, string>();
let samples: Sample[] = [];

before(() => {
  samples = [];
  for (const layout of STRUCTS) {
    const c = LAYOUT_CASES.find((x) => x.layout === layout);
    assert.ok(c, layout.cName);
    fc.sample(c.values, { seed: 2026, numRuns: 4 }).forEach((v, i) => {
      samples.push(sampleCode(layout, v, c.outer, `${layout.cName}#${i}`));
    });
  }
  const body: string[] = [];
  for (const layout of STRUCTS) {
    body.push(`printf("sizeof ${layout.cName} %zu\\n", sizeof(struct ${layout.cStruct}));`);
    for (const f of layout.fields) {
      if (f.bitWidth !== undefined || f.fixedSize === undefined) continue; // bit-fields: checked by the encodings
      body.push(
        `printf("offsetof ${layout.cName}.${f.name} %zu\\n", offsetof(struct ${layout.cStruct}, ${f.name}));`,
      );
    }
    const flex = flexMemberName(layout);
    if (flex !== undefined)
      body.push(
        `printf("offsetof ${layout.cName}.${flex} %zu\\n", offsetof(struct ${layout.cStruct}, ${flex}));`,
      );
  }
  body.push('printf("sizeof virtio_net_ctrl_ack %zu\\n", sizeof(virtio_net_ctrl_ack));');
  const constants: [string, string][] = [];
  for (const g of CONSTANT_GROUPS)
    for (const name of Object.keys(g.values)) constants.push([`${g.prefix}${name}`, `${g.prefix}${name}`]);
  for (const name of Object.keys(BpfMapType))
    constants.push([`BPF_MAP_TYPE_${name}`, `BPF_MAP_TYPE_${name}`]);
  for (const name of Object.keys(BpfUpdateFlag)) constants.push([`BPF_${name}`, `BPF_${name}`]);
  for (const name of Object.keys(OffloadHelper)) constants.push([`BPF_FUNC_${name}`, `BPF_FUNC_${name}`]);
  for (const name of Object.keys(XdpAction)) constants.push([`XDP_${name}`, `XDP_${name}`]);
  constants.push(
    ['BPF_PSEUDO_MAP_FD', 'BPF_PSEUDO_MAP_FD'],
    ['BPF_PSEUDO_MAP_VALUE', 'BPF_PSEUDO_MAP_VALUE'],
  );
  constants.push(
    ['VIRTIO_NET_OK', 'VIRTIO_NET_OK'],
    ['VIRTIO_NET_ERR', 'VIRTIO_NET_ERR'],
    ['VIRTIO_NET_F_CTRL_VQ', 'VIRTIO_NET_F_CTRL_VQ'],
  );
  constants.push(['TUNXDPOFFLOAD', 'TUNXDPOFFLOAD'], ['BPF_LD_IMM64', '(BPF_LD | BPF_IMM | BPF_DW)']);
  for (const [label, expr] of constants) body.push(`printf("const ${label} %lld\\n", (long long)(${expr}));`);
  const program = [
    '#include <stdio.h>',
    '#include <stddef.h>',
    '#include <string.h>',
    '#include "virtio_net_xdp_offload.h"',
    '#include "if_tun_xdp_offload.h"',
    'static void dump(const unsigned char *b, size_t n) { for (size_t i = 0; i < n; i++) printf("%02x", b[i]); printf("\\n"); }',
    'int main(void) {',
    ...body.map((l) => '  ' + l),
    ...samples.map((s) => '  ' + s.code),
    '  return 0;',
    '}',
  ].join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'xdp-ctwin-'));
  writeFileSync(join(dir, 'twin.c'), program);
  execFileSync(
    'gcc',
    [
      '-std=c11',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-pedantic-errors',
      '-Wno-variadic-macros',
      `-I${HEADER_DIR}`,
      '-o',
      join(dir, 'twin'),
      join(dir, 'twin.c'),
    ],
    { stdio: 'pipe' },
  );
  const text = execFileSync(join(dir, 'twin'), { encoding: 'utf8' });
  output = new Map(
    text
      .trim()
      .split('\n')
      .map((line) => {
        const at = line.lastIndexOf(' ');
        return [line.slice(0, at), line.slice(at + 1)] as [string, string];
      }),
  );
});

test('every struct has the size and field offsets of its layout [drv-prog-le]', () => {
  for (const layout of STRUCTS) {
    const size = output.get(`sizeof ${layout.cName}`);
    assert.equal(Number(size), layout.fixedSize ?? layout.headerSize, `sizeof ${layout.cName}`);
    let offset = 0;
    for (const f of layout.fields) {
      if (f.fixedSize === undefined) {
        const flex = flexMemberName(layout);
        assert.equal(
          Number(output.get(`offsetof ${layout.cName}.${flex}`)),
          offset,
          `${layout.cName}.${flex}`,
        );
        break; // the variable fields share one flexible member
      }
      if (f.bitWidth === undefined) {
        assert.equal(
          Number(output.get(`offsetof ${layout.cName}.${f.name}`)),
          offset,
          `${layout.cName}.${f.name}`,
        );
      }
      offset += f.fixedSize;
    }
  }
  assert.equal(output.get('sizeof virtio_net_ctrl_ack'), '1');
});

test('gcc encodes the same bytes as the codecs for sample values of every struct', () => {
  assert.ok(samples.length >= STRUCTS.length * 4);
  for (const s of samples) assert.equal(output.get(`encode ${s.id}`), s.expected, s.id);
});

test("every constant of the header, and Linux's own, has the codec's value", () => {
  for (const g of CONSTANT_GROUPS) {
    for (const [name, value] of Object.entries(g.values))
      assert.equal(Number(output.get(`const ${g.prefix}${name}`)), value, name);
  }
  for (const [name, v] of Object.entries(BpfMapType))
    assert.equal(Number(output.get(`const BPF_MAP_TYPE_${name}`)), v);
  for (const [name, v] of Object.entries(BpfUpdateFlag))
    assert.equal(Number(output.get(`const BPF_${name}`)), v);
  for (const [name, v] of Object.entries(OffloadHelper))
    assert.equal(Number(output.get(`const BPF_FUNC_${name}`)), v, name);
  for (const [name, v] of Object.entries(XdpAction)) assert.equal(Number(output.get(`const XDP_${name}`)), v);
  assert.equal(Number(output.get('const BPF_PSEUDO_MAP_FD')), BpfPseudo.MAP_FD);
  assert.equal(Number(output.get('const BPF_PSEUDO_MAP_VALUE')), BpfPseudo.MAP_VALUE);
  assert.equal(Number(output.get('const VIRTIO_NET_OK')), VIRTIO_NET_OK);
  assert.equal(Number(output.get('const VIRTIO_NET_ERR')), VIRTIO_NET_ERR);
  assert.equal(Number(output.get('const VIRTIO_NET_F_CTRL_VQ')), VIRTIO_NET_F_CTRL_VQ);
  assert.equal(Number(output.get('const TUNXDPOFFLOAD')), TUNXDPOFFLOAD);
  assert.equal(Number(output.get('const BPF_LD_IMM64')), 0x18);
  assert.equal(Number(output.get('const VIRTIO_NET_CTRL_XDP_OFFLOAD')), VIRTIO_NET_CTRL_XDP_OFFLOAD);
});
