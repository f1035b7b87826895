// Requirement traceability: every normative statement of the spec has a stable identifier; each is
// cited by a test or vector that checks it, or listed as pending with what it waits for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  citations,
  implementations,
  requirements,
  untaggedNormativeLines,
} from '../../scripts/requirements.js';

const all = requirements();
const cited = citations();
const pending = (
  JSON.parse(readFileSync('test/spec/pending-requirements.json', 'utf8')) as {
    pending: Record<string, string>;
  }
).pending;

test('requirement identifiers are unique and every one is drv-, dev- or tun-', () => {
  assert.ok(all.length >= 50, `${all.length} requirements`);
  const ids = all.map((r) => r.id);
  assert.deepEqual(
    ids.filter((id, i) => ids.indexOf(id) !== i),
    [],
  );
});

test('every normative statement says MUST, MUST NOT, SHOULD or MAY', () => {
  const vague = all.filter((r) => !/\b(MUST|SHOULD|MAY|SHALL|REQUIRED)\b/.test(r.text)).map((r) => r.id);
  assert.deepEqual(vague, []);
});

test('no normative keyword appears outside an identified requirement statement', () => {
  assert.deepEqual(untaggedNormativeLines(), []);
});

test('every citation names a requirement that exists', () => {
  const ids = new Set(all.map((r) => r.id));
  const dangling = [...cited.entries()]
    .filter(([id]) => !ids.has(id))
    .map(([id, where]) => `${id} (${[...where].join(', ')})`);
  assert.deepEqual(dangling, []);
});

test('every requirement is cited by a test or vector, or pending with a reason', () => {
  const uncovered = all.filter((r) => !cited.has(r.id) && pending[r.id] === undefined).map((r) => r.id);
  assert.deepEqual(uncovered, [], `requirements with no citing test: ${uncovered.join(', ')}`);
});

test('every requirement is implemented by a line of src/ that cites it, and every such citation is a requirement', () => {
  const code = implementations();
  const ids = new Set(all.map((r) => r.id));
  assert.deepEqual(
    all.filter((r) => !code.has(r.id)).map((r) => r.id),
    [],
    'requirements no line of src/ cites as the rule it implements',
  );
  assert.deepEqual(
    [...code.entries()].filter(([id]) => !ids.has(id)).map(([id, where]) => `${id} (${where.join(', ')})`),
    [],
    'src/ cites requirements that do not exist',
  );
});

test('the pending list only names real, still uncited requirements', () => {
  const ids = new Set(all.map((r) => r.id));
  assert.deepEqual(
    Object.keys(pending).filter((id) => !ids.has(id)),
    [],
    'pending names unknown requirements',
  );
  assert.deepEqual(
    Object.keys(pending).filter((id) => cited.has(id)),
    [],
    'cited now: remove from pending',
  );
});
