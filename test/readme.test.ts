// The README's console examples are real: every `npx xdp-offload ...` command shown (except those
// that run for a time (--seconds) or read files outside the repository) runs here and prints exactly
// what the README shows, with the exit status `echo $?` shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { main } from '../src/cli/run.js';

interface Example {
  readonly argv: string[];
  readonly head?: number;
  readonly output: string;
  readonly status?: number;
}

/** Splits a command line as a shell would, for the quoting the README uses. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

function examples(markdown: string): Example[] {
  const found: Example[] = [];
  for (const block of markdown.matchAll(/```console\n([\s\S]*?)```/g)) {
    const lines = (block[1] as string).split('\n');
    for (let i = 0; i < lines.length; i++) {
      let command = lines[i] as string;
      if (!command.startsWith('$ ')) continue;
      while (command.endsWith('\\')) command = `${command.slice(0, -1)} ${(lines[++i] ?? '').trim()}`;
      const output: string[] = [];
      while (i + 1 < lines.length && !(lines[i + 1] as string).startsWith('$ '))
        output.push(lines[++i] as string);
      const text = command.slice(2);
      // Runnable here: the package's own command, not timing-dependent, not reading outside the repository.
      if (!text.startsWith('npx xdp-offload ') || /--seconds|\.\.\/shared|--pcap/.test(text)) continue;
      const [cmd, pipe] = text.split(' | ') as [string, string | undefined];
      const head = pipe === undefined ? undefined : Number(/^head -(\d+)$/.exec(pipe)?.[1]);
      const next = lines[i + 1];
      const status = next === '$ echo $?' ? Number(lines[i + 2]) : undefined;
      found.push({
        argv: words(cmd).slice(2),
        output: output.join('\n').replace(/\n+$/, ''),
        ...(head === undefined ? {} : { head }),
        ...(status === undefined ? {} : { status }),
      });
    }
  }
  return found;
}

/** A command the kit starts (`--device 'npx xdp-offload device-serve'`), as this checkout runs it. */
const here = (arg: string) => arg.replace(/^npx xdp-offload /, `${process.execPath} dist/cli/main.js `);

test('every runnable console example of the README prints what the README shows', async () => {
  const all = examples(readFileSync('README.md', 'utf8'));
  assert.ok(all.length >= 10, `${all.length} examples`);
  for (const ex of all) {
    let stdout = '';
    let stderr = '';
    const status = await main(ex.argv.map(here), {
      stdout: (s) => (stdout += `${s}\n`),
      stderr: (s) => (stderr += `${s}\n`),
    });
    const printed = (stdout + stderr).replace(/\n+$/, '');
    const shown = ex.head === undefined ? printed : printed.split('\n').slice(0, ex.head).join('\n');
    // A campaign's `time:` line is the machine's, not the seed's: the only line compared by form.
    const timing = (text: string) => text.replace(/^time: [\d.]+ s, \d+ (messages|calls)\/s$/gm, 'time: $1');
    assert.equal(timing(shown), timing(ex.output), `xdp-offload ${ex.argv.join(' ')}`);
    if (ex.status !== undefined)
      assert.equal(status, ex.status, `exit status of xdp-offload ${ex.argv.join(' ')}`);
  }
});

test('the README shows the architecture page’s picture of the two flows, unchanged', () => {
  const picture = (text: string) => /```text\n( CONTROL PATH[\s\S]*?)```/.exec(text)?.[1];
  const page = picture(readFileSync('docs/architecture.md', 'utf8'));
  assert.ok(page !== undefined && page.includes('PACKET PATH'), 'the architecture page has the picture');
  assert.equal(picture(readFileSync('README.md', 'utf8')), page);
});
