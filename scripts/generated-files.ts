// What the codec layouts generate: the normative C header and the struct tables inside the spec.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fillStructTables, renderCHeader } from '../src/codec/render.js';
import { fillConformance, requirements } from './requirements.js';

export const HEADER_PATH = 'spec/include/virtio_net_xdp_offload.h';

/** Path → the content it must have. */
export function generatedFiles(): Map<string, string> {
  const out = new Map<string, string>();
  out.set(HEADER_PATH, renderCHeader());
  const all = requirements();
  for (const name of readdirSync('spec')
    .filter((n) => n.endsWith('.md'))
    .sort()) {
    const path = join('spec', name);
    out.set(path, fillConformance(fillStructTables(readFileSync(path, 'utf8')), all));
  }
  return out;
}
