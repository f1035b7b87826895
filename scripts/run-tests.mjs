// Runs every test file under test/ with node's test runner (TypeScript through tsx).
// Fails loudly when no test file is found, so a broken glob can never pass as "0 failed".
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = collect('test');
if (files.length === 0) {
  console.error('no test files found under test/');
  process.exit(1);
}
const extra = process.argv.slice(2);
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...extra, ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
