// Writes the generated pages of the docs site into docs/generated/ (not committed): the traceability
// table, the command-line guide from each subcommand's help, and the vector schemas. Requirement
// anchors and links are added to the rendered HTML afterwards (scripts/docs-anchors.ts).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { SUBCOMMANDS } from '../src/cli/run.js';
import { citations, citingTests, requirements } from './requirements.js';

const out = 'docs/generated';
mkdirSync(out, { recursive: true });

const escapeCell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function traceability(): string {
  const cited = citations();
  const titles = citingTests();
  const rows = requirements().map((r) => {
    const tests = titles.get(r.id) ?? [];
    const filesOnly = [...(cited.get(r.id) ?? [])].filter((f) => !tests.some((t) => t.startsWith(`${f}:`)));
    const where = [...tests, ...filesOnly].map((w) => `\`${escapeCell(w)}\``).join('<br>');
    const text = r.text.length > 110 ? `${r.text.slice(0, 107)}...` : r.text;
    return `| \`[${r.id}]\` | ${escapeCell(text)} | ${where || '**none**'} |`;
  });
  return [
    '---',
    'title: Traceability',
    '---',
    '',
    '# Traceability: requirement → citing tests',
    '',
    'Every normative statement of the draft, with the tests (file and test title) and vectors that',
    'cite its identifier. A test in the suite fails when an identifier has no citation.',
    '',
    '| requirement | statement | cited by |',
    '|---|---|---|',
    ...rows,
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
