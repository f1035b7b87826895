// The spec's requirement identifiers, the places that cite them, and the conformance lists built
// from them.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** A normative statement: its identifier and the file it is stated in. */
export interface Requirement {
  readonly id: string;
  readonly file: string;
  readonly text: string;
}

const STATEMENT = /^- \[((?:drv|dev|tun)-[a-z0-9-]+)\] ([\s\S]*?)(?=\n- |\n\n|\n#|(?![\s\S]))/gm;
const CITATION = /\b((?:drv|dev|tun)-[a-z0-9]+(?:-[a-z0-9]+)*)\b/g;

/** Every requirement stated in the spec's Markdown files, in document order. */
export function requirements(dir = 'spec'): Requirement[] {
  const out: Requirement[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.md'))
    .sort()) {
    const text = readFileSync(join(dir, name), 'utf8');
    for (const m of text.matchAll(STATEMENT)) {
      out.push({ id: m[1] as string, file: name, text: (m[2] as string).replace(/\s+/g, ' ').trim() });
    }
  }
  return out;
}

function files(dir: string, suffixes: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path, suffixes));
    else if (suffixes.some((s) => name.endsWith(s))) out.push(path);
  }
  return out;
}

/** Identifier → the test and vector files citing it (tests in `test/`, vectors' `spec` fields). */
export function citations(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (id: string, where: string) => {
    const set = out.get(id) ?? new Set<string>();
    set.add(where);
    out.set(id, set);
  };
  for (const path of files('test', ['.test.ts'])) {
    for (const m of readFileSync(path, 'utf8').matchAll(CITATION)) add(m[1] as string, path);
  }
  for (const path of files('vectors', ['.json'])) {
    if (path.includes('schema')) continue;
    const doc = JSON.parse(readFileSync(path, 'utf8')) as {
      vectors?: { spec?: string }[];
      scenarios?: { steps: { spec?: string[] }[] }[];
    };
    for (const v of doc.vectors ?? [])
      for (const m of (v.spec ?? '').matchAll(CITATION)) add(m[1] as string, path);
    for (const scenario of doc.scenarios ?? [])
      for (const step of scenario.steps) for (const id of step.spec ?? []) add(id, path);
  }
  return out;
}

/** A requirement's identifier in brackets, as the source cites the rule a line implements. */
const BRACKETED = /\[((?:drv|dev|tun)-[a-z0-9]+(?:-[a-z0-9]+)*)\]/g;

/**
 * Identifier → the places in `src/` that implement it, as `path:line`: every line whose comment
 * (or doc comment) cites it in brackets, `[dev-prog-limit]`.
 */
export function implementations(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const path of files('src', ['.ts'])) {
    readFileSync(path, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const m of line.matchAll(BRACKETED)) {
          const list = out.get(m[1] as string) ?? [];
          if (!list.includes(`${path}:${i + 1}`)) list.push(`${path}:${i + 1}`);
          out.set(m[1] as string, list);
        }
      });
  }
  return out;
}

/** Replaces each `<!-- conformance:PREFIX -->…<!-- /conformance -->` block with its requirement list. */
export function fillConformance(markdown: string, all: readonly Requirement[]): string {
  return markdown.replace(
    /<!-- conformance:(drv|dev|tun) -->[\s\S]*?<!-- \/conformance -->/g,
    (_m, prefix: string) => {
      const ids = all.filter((r) => r.id.startsWith(prefix + '-')).map((r) => `\`[${r.id}]\``);
      return `<!-- conformance:${prefix} -->\n${ids.join(', ')}.\n<!-- /conformance -->`;
    },
  );
}

const KEYWORD = /\b(MUST|SHOULD|SHALL|REQUIRED|RECOMMENDED|MAY|OPTIONAL)\b/;

/**
 * Lines that use a normative keyword outside a requirement statement (the conventions section,
 * which defines the keywords, is exempt): every MUST must carry an identifier.
 */
export function untaggedNormativeLines(dir = 'spec'): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.md'))
    .sort()) {
    const text = readFileSync(join(dir, name), 'utf8')
      .replace(STATEMENT, '')
      .replace(/^## [XT]\.1 Conventions[\s\S]*?(?=^## )/m, '');
    text.split('\n').forEach((line) => {
      if (KEYWORD.test(line)) out.push(`${name}: ${line.trim()}`);
    });
  }
  return out;
}

/** Test titles that cite an identifier in brackets, by identifier: `file: title`. */
export function citingTests(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const TITLE = /\btest\(\s*(['"`])((?:(?!\1).)*)\1/g;
  for (const path of files('test', ['.test.ts'])) {
    for (const m of readFileSync(path, 'utf8').matchAll(TITLE)) {
      const title = m[2] as string;
      for (const id of title.matchAll(/\[((?:drv|dev|tun)-[a-z0-9-]+)\]/g)) {
        const list = out.get(id[1] as string) ?? [];
        list.push(`${path}: ${title.replace(/\s*\[(?:drv|dev|tun)-[a-z0-9-]+\]/g, '').trim()}`);
        out.set(id[1] as string, list);
      }
    }
  }
  return out;
}
