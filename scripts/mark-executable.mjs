// npm links `bin` entries from a fresh checkout; the compiled CLI entry must be executable.
import { chmodSync } from 'node:fs';
chmodSync(new URL('../dist/cli/main.js', import.meta.url), 0o755);
