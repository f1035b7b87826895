// No block of six or more lines stands twice inside src/ (jscpd, the copy-paste detector, with the
// thresholds of .jscpd.json); the one deliberate exception is marked where it stands, with its
// reason. The check itself finds a block planted twice on purpose in a copy of a source file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

// jscpd's ES module build does not load under Node 20 (its colors import); its CommonJS build does.
const { detectClones } = createRequire(import.meta.url)('jscpd') as typeof import('jscpd');

const CONFIG = JSON.parse(readFileSync('.jscpd.json', 'utf8')) as { minLines: number; minTokens: number };

async function clones(path: string): Promise<string[]> {
  const found = await detectClones({
    path: [path],
    format: ['typescript'],
    minLines: CONFIG.minLines,
    minTokens: CONFIG.minTokens,
    silent: true,
    reporters: [],
  });
  return found.map(
    (c) =>
      `${c.duplicationA.sourceId}:${c.duplicationA.start.line} = ${c.duplicationB.sourceId}:${c.duplicationB.start.line}`,
  );
}

test('no block of six or more lines stands twice inside src/', async () => {
  assert.equal(CONFIG.minLines, 6);
  assert.deepEqual(await clones('src'), []);
});

test('the check finds a block planted twice in a copy of a source file', async () => {
  const planted = mkdtempSync(join(tmpdir(), 'duplicates-planted-'));
  const untouched = mkdtempSync(join(tmpdir(), 'duplicates-untouched-'));
  try {
    const source = readFileSync('src/reference/ebpf/maps.ts', 'utf8');
    // One class of the file, pasted again under another name.
    const start = source.indexOf('class ValueRegions {');
    const copy = source
      .slice(start, source.indexOf('\n}\n', start) + 3)
      .replace('ValueRegions', 'PastedRegions');
    assert.ok(copy.split('\n').length > 20);
    writeFileSync(join(planted, 'maps.ts'), `${source}\n${copy}`);
    writeFileSync(join(untouched, 'maps.ts'), source);
    assert.deepEqual(await clones(untouched), [], 'the unchanged file has no clone');
    const found = await clones(planted);
    assert.equal(found.length, 1, found.join('; '));
  } finally {
    rmSync(planted, { recursive: true, force: true });
    rmSync(untouched, { recursive: true, force: true });
  }
});
