// Regenerates the C header and the spec's struct tables from the codec layouts. `--check` reports
// drift instead of writing (the test suite runs the same comparison).
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { generatedFiles } from './generated-files.js';

const check = process.argv.includes('--check');
let stale = 0;
for (const [path, text] of await generatedFiles()) {
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '';
  if (current === text) continue;
  stale++;
  if (check) console.error(`stale: ${path} (run npm run gen)`);
  else {
    writeFileSync(path, text);
    console.log(`wrote ${path}`);
  }
}
if (check && stale > 0) process.exit(1);
