// After TypeDoc: gives every requirement statement of the rendered spec an anchor named by its
// identifier, and links every cited identifier (`[id]` in code) on the document pages to it. Done on
// the HTML because TypeDoc checks links to another document's anchors against its headings only;
// the site test checks every one of these links instead.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = 'docs/site/documents';
/** The spec's page (TypeDoc names a document's file after its title). */
const SPEC_PAGE = 'XDP_Offload_for_virtio-net_(draft).html';
const ID = '((?:drv|dev|tun)-[a-z0-9-]+)';

let anchors = 0;
let links = 0;
for (const name of readdirSync(dir).filter((n) => n.endsWith('.html'))) {
  const path = join(dir, name);
  let html = readFileSync(path, 'utf8');
  const page = name === SPEC_PAGE ? '' : SPEC_PAGE;
  if (name === SPEC_PAGE)
    html = html.replace(new RegExp(`<li>\\[${ID}\\]`, 'g'), (_m, id: string) => {
      anchors++;
      return `<li id="${id}"><a href="#${id}">[${id}]</a>`;
    });
  html = html.replace(new RegExp(`<code>\\[${ID}\\]</code>`, 'g'), (_m, id: string) => {
    links++;
    return `<a href="${page}#${id}"><code>[${id}]</code></a>`;
  });
  writeFileSync(path, html);
}
if (anchors === 0) throw new Error(`no requirement statement found in ${SPEC_PAGE}`);
console.log(`requirement anchors: ${anchors}, links to them: ${links}`);
