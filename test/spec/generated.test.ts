// The C header and the spec's tables are generated from the codec, the schema types from the vector
// schemas; committed copies must equal what they generate today.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { generatedFiles, HEADER_PATH } from '../../scripts/generated-files.js';

test('the committed header, spec tables and schema types are what the code generates (npm run gen)', async () => {
  const files = await generatedFiles();
  assert.ok(files.has(HEADER_PATH));
  assert.ok(files.size >= 2, 'the spec has at least one Markdown file');
  for (const [path, text] of files) assert.equal(readFileSync(path, 'utf8'), text, `${path} is stale`);
});
