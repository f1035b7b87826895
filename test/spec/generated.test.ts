// The C header and the spec's struct tables are generated from the codec layouts; committed copies
// must equal what the layouts generate today.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { generatedFiles, HEADER_PATH } from '../../scripts/generated-files.js';

test('the committed header and spec tables are what the layouts generate (npm run gen)', () => {
  const files = generatedFiles();
  assert.ok(files.has(HEADER_PATH));
  assert.ok(files.size >= 2, 'the spec has at least one Markdown file');
  for (const [path, text] of files) assert.equal(readFileSync(path, 'utf8'), text, `${path} is stale`);
});
