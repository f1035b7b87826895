// The headers describe the wire on every host, not only on the little-endian one the C twin runs
// on: Debian's cross compilers for big-endian s390x, ppc64 and mips compile both headers with
// static assertions of every size and offset the codec lays out. The instruction's register
// nibbles are one byte (no bit-field, whose order would follow the host's); a header declaring them
// as Linux's bit-fields fails the same check (planted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ALL_LAYOUTS, type AnyField } from '../../src/codec/index.js';
import { flexMemberName, nibbleMember } from '../../src/codec/render.js';

const HEADERS = resolve('spec/include');
/** Big-endian targets, each a Debian cross compiler (`.ci/run` installs them). */
const TARGETS = ['s390x-linux-gnu-gcc', 'powerpc64-linux-gnu-gcc', 'mips-linux-gnu-gcc'];

/** One static assertion per size and offset of every structure the headers declare. */
function assertions(): string[] {
  const out: string[] = [];
  for (const layout of ALL_LAYOUTS) {
    const fixed = layout.fields.filter((f) => f.fixedSize !== undefined || f.bitWidth !== undefined);
    if (fixed.length === 0 || layout.cName === 'virtio_net_ctrl_ack') continue;
    const struct = `struct ${layout.cStruct}`;
    out.push(
      `_Static_assert(sizeof(${struct}) == ${layout.fixedSize ?? layout.headerSize}, "sizeof ${struct}");`,
    );
    let offset = 0;
    for (let i = 0; i < fixed.length; i++) {
      const field = fixed[i] as AnyField;
      const next = fixed[i + 1];
      const member =
        field.bitWidth !== undefined && next?.bitWidth !== undefined ? nibbleMember(field, next) : field.name;
      out.push(`_Static_assert(offsetof(${struct}, ${member}) == ${offset}, "${struct}.${member}");`);
      if (field.bitWidth !== undefined && next?.bitWidth !== undefined) i++;
      offset += field.bitWidth !== undefined ? 1 : (field.fixedSize as number);
    }
    const flex = flexMemberName(layout);
    if (flex !== undefined)
      out.push(`_Static_assert(offsetof(${struct}, ${flex}) == ${offset}, "${struct}.${flex}");`);
  }
  return out;
}

function compile(compiler: string, includeDir: string): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'c-cross-'));
  try {
    const file = join(dir, 'layout.c');
    const body = [
      '#include <stddef.h>',
      '#include "virtio_net_xdp_offload.h"',
      '#include "if_tun_xdp_offload.h"',
    ];
    writeFileSync(file, [...body, ...assertions(), ''].join('\n'));
    const run = spawnSync(
      compiler,
      ['-std=c11', '-Wall', '-Werror', '-fsyntax-only', '-I', includeDir, file],
      {
        encoding: 'utf8',
      },
    );
    return { status: run.status, stderr: run.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const compiler of ['gcc', ...TARGETS]) {
  test(`${compiler}: every size and offset of both headers is the codec's`, () => {
    assert.ok(assertions().length > 80, `${assertions().length} assertions`);
    const { status, stderr } = compile(compiler, HEADERS);
    assert.equal(status, 0, stderr);
  });
}

test('the instruction declares no bit-field, and a header declaring the nibbles as Linux’s bit-fields fails the check', () => {
  const header = readFileSync(join(HEADERS, 'virtio_net_xdp_offload.h'), 'utf8');
  assert.doesNotMatch(header, /:\s*4\s*;/);
  const dir = mkdtempSync(join(tmpdir(), 'c-cross-planted-'));
  try {
    writeFileSync(join(dir, 'if_tun_xdp_offload.h'), readFileSync(join(HEADERS, 'if_tun_xdp_offload.h')));
    // Linux's bit-field form: the nibbles as two members (no dst_src_reg to find at offset 1).
    const planted = header.replace(/\t__u8 dst_src_reg;[^\n]*/, '\t__u8 dst_reg:4;\n\t__u8 src_reg:4;');
    assert.notEqual(planted, header);
    writeFileSync(join(dir, 'virtio_net_xdp_offload.h'), planted);
    assert.notEqual(compile(TARGETS[0] as string, dir).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
