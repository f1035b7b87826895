// After TypeDoc: gives every requirement statement of the rendered spec documents an anchor named by
// its identifier, and links every cited identifier (`[id]` in code) on the document pages to it:
// driver and device requirements are stated in the VIRTIO part, tap requirements in the Linux tap
// companion. Done on the HTML because TypeDoc checks links to another document's anchors against
// its headings only; the site test checks every one of these links instead.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = 'docs/site/documents';
/** The page stating each prefix's requirements (TypeDoc names a document's file after its title). */
const PAGES: Readonly<Record<string, string>> = {
  drv: 'XDP_Offload_for_virtio-net_(draft).html',
  dev: 'XDP_Offload_for_virtio-net_(draft).html',
  tun: 'Companion__XDP_offload_to_a_Linux_tap_(proposed_uAPI).html',
};
const ID = '((drv|dev|tun)-[a-z0-9-]+)';

let anchors = 0;
let links = 0;
for (const name of readdirSync(dir).filter((n) => n.endsWith('.html'))) {
  const path = join(dir, name);
  let html = readFileSync(path, 'utf8');
  html = html.replace(new RegExp(`<li>\\[${ID}\\]`, 'g'), (m, id: string, prefix: string) => {
    if (PAGES[prefix] !== name) return m;
    anchors++;
    return `<li id="${id}"><a href="#${id}">[${id}]</a>`;
  });
  html = html.replace(new RegExp(`<code>\\[${ID}\\]</code>`, 'g'), (_m, id: string, prefix: string) => {
    links++;
    const page = PAGES[prefix] === name ? '' : PAGES[prefix];
    return `<a href="${page}#${id}"><code>[${id}]</code></a>`;
  });
  writeFileSync(path, html);
}
const pages = new Set(Object.values(PAGES));
if (anchors === 0) throw new Error(`no requirement statement found in ${[...pages].join(', ')}`);
for (const page of pages)
  if (!readdirSync(dir).includes(page)) throw new Error(`no page ${page}: a spec document's title changed`);
console.log(`requirement anchors: ${anchors}, links to them: ${links}`);
