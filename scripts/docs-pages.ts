// Writes the generated pages of the docs site into docs/generated/ (not committed): the traceability
// table, the command-line guide from each subcommand's help, and the vector schemas. Requirement
// anchors and links are added to the rendered HTML afterwards (scripts/docs-anchors.ts).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { SUBCOMMANDS } from '../src/cli/run.js';
import { citations, citingTests, implementations, requirements } from './requirements.js';

const out = 'docs/generated';
mkdirSync(out, { recursive: true });

const escapeCell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function traceability(): string {
  const cited = citations();
  const titles = citingTests();
  const code = implementations();
  const all = requirements();
  const rows = all.map((r) => {
    const tests = titles.get(r.id) ?? [];
    const filesOnly = [...(cited.get(r.id) ?? [])].filter((f) => !tests.some((t) => t.startsWith(`${f}:`)));
    const where = [...tests, ...filesOnly].map((w) => `\`${escapeCell(w)}\``).join('<br>');
    const implemented = (code.get(r.id) ?? []).map((w) => `\`${w}\``).join('<br>');
    const text = r.text.length > 110 ? `${r.text.slice(0, 107)}...` : r.text;
    return `| \`[${r.id}]\` | ${escapeCell(text)} | ${implemented || '**none**'} | ${where || '**none**'} |`;
  });
  // The other way: each source file and the requirements its lines implement.
  const byFile = new Map<string, Set<string>>();
  for (const [id, places] of code)
    for (const place of places) {
      const file = place.slice(0, place.lastIndexOf(':'));
      byFile.set(file, (byFile.get(file) ?? new Set()).add(id));
    }
  const order = new Map(all.map((r, i) => [r.id, i]));
  const fileRows = [...byFile.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([file, ids]) => {
      const sorted = [...ids].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
      return `| \`${file}\` | ${sorted.map((id) => `\`[${id}]\``).join(' ')} |`;
    });
  return [
    '---',
    'title: Traceability',
    '---',
    '',
    '# Traceability: requirement → code and tests, and code → requirements',
    '',
    'Every normative statement of the draft, with the lines of `src/` that implement it (each cites',
    'the identifier in a comment) and the tests (file and test title) and vectors that check it. A',
    'test in the suite fails when an identifier has no implementing line or no citing test.',
    '',
    '| requirement | statement | implemented in | checked by |',
    '|---|---|---|---|',
    ...rows,
    '',
    '## Source files → the requirements they implement',
    '',
    '| file | requirements |',
    '|---|---|',
    ...fileRows,
    '',
  ].join('\n');
}

function cliGuide(): string {
  const parts = [
    '---',
    'title: Command line',
    '---',
    '',
    '# The `xdp-offload` command',
    '',
    '`npm ci` builds the package, so `npx xdp-offload` works from a checkout. Exit status: 0 on',
    'success, 1 when a check fails, 2 on bad usage or bad input (with a one-line reason).',
    '',
  ];
  for (const sub of SUBCOMMANDS)
    parts.push(`## ${sub.name}`, '', sub.summary + '.', '', '```text', sub.help, '```', '');
  return parts.join('\n');
}

function schemas(): string {
  const parts = [
    '---',
    'title: Vector schemas',
    '---',
    '',
    '# Vector schemas',
    '',
    'The JSON Schemas (draft 2020-12) every vector file is checked against before it is replayed;',
    'the formats are described in the vector format document.',
    '',
  ];
  for (const name of readdirSync('vectors/schema').sort()) {
    parts.push(`## ${name}`, '', '```json', readFileSync(`vectors/schema/${name}`, 'utf8').trim(), '```', '');
  }
  return parts.join('\n');
}

writeFileSync(`${out}/traceability.md`, traceability());
writeFileSync(`${out}/cli.md`, cliGuide());
writeFileSync(`${out}/schemas.md`, schemas());
