// What the codec generates: the normative C header, and inside the spec the struct tables, the
// command table and the constant tables (statuses, ISA groups, program features, helpers); and
// the TypeScript types the vector schemas describe, which the vector types are checked against.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fillConstantTables, fillStructTables, renderCHeader, renderTunHeader } from '../src/codec/render.js';
import { constantMemberDocs } from './member-docs.js';
import { renderSchemaTypes, SCHEMA_TYPES_PATH } from './schema-types.js';
import { fillConformance, requirements } from './requirements.js';
import { renderLatex } from './latex.js';

export const HEADER_PATH = 'spec/include/virtio_net_xdp_offload.h';
export const TUN_HEADER_PATH = 'spec/include/if_tun_xdp_offload.h';

/** Path → the content it must have. */
export async function generatedFiles(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  out.set(HEADER_PATH, renderCHeader());
  out.set(TUN_HEADER_PATH, renderTunHeader());
  out.set(SCHEMA_TYPES_PATH, await renderSchemaTypes());
  const all = requirements();
  const docs = constantMemberDocs();
  for (const name of readdirSync('spec')
    .filter((n) => n.endsWith('.md'))
    .sort()) {
    const path = join('spec', name);
    out.set(
      path,
      fillConformance(fillConstantTables(fillStructTables(readFileSync(path, 'utf8')), docs), all),
    );
  }
  for (const [path, text] of renderLatex(out)) out.set(path, text);
  return out;
}
