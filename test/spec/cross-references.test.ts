// Every section a spec document cites exists: `X.n.m` in the VIRTIO part, `A.n` in appendix A and
// `T.n` in the Linux tap companion, wherever any spec document cites them. A planted reference to
// a section that does not exist is found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const DIR = 'spec';
const docs = readdirSync(DIR)
  .filter((n) => n.endsWith('.md'))
  .map((name) => ({ name, text: readFileSync(join(DIR, name), 'utf8') }));

/** The section numbers the headings define, such as X.8.5, A.8 or T.3.1. */
function defined(texts: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const text of texts)
    for (const m of text.matchAll(/^#{2,4} ([XAT]\.\d+(?:\.\d+)*) /gm)) out.add(m[1] as string);
  return out;
}

/** Citations of sections that are not defined, as `file: ref`. */
function dangling(files: readonly { name: string; text: string }[]): string[] {
  const sections = defined(files.map((f) => f.text));
  const out: string[] = [];
  for (const { name, text } of files) {
    // Headings define; everything else (prose, tables, requirement statements) cites.
    const body = text.replace(/^#{1,4} .*$/gm, '');
    for (const m of body.matchAll(/(?<![\w.])([XAT]\.\d+(?:\.\d+)*)(?![\w.]*\d)/g))
      if (!sections.has(m[1] as string)) out.push(`${name}: ${m[1]}`);
  }
  return out;
}

test('every section the spec documents cite exists', () => {
  assert.ok(defined(docs.map((d) => d.text)).size > 40);
  const citations = docs.flatMap((d) => [...d.text.replace(/^#{1,4} .*$/gm, '').matchAll(/\b[XAT]\.\d+/g)]);
  assert.ok(citations.length > 80, `${citations.length} citations`);
  assert.deepEqual(dangling(docs), []);
});

test('a citation of a section that does not exist is found', () => {
  const planted = docs.map((d) =>
    d.name === 'xdp-offload.md' ? { ...d, text: `${d.text}\nSee section X.8.9 and T.7.\n` } : d,
  );
  assert.deepEqual(dangling(planted), ['xdp-offload.md: X.8.9', 'xdp-offload.md: T.7']);
});
