// The xdp-offload CLI: decode and encode round-trip every codec vector, bad input exits 2 with one
// line naming the field and offset, every subcommand has --help, and replay ends with the CI line.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { main } from '../../src/cli/run.js';
import { parseHex, toHex } from '../../src/codec/index.js';
import { replayPaths, vectorFiles, type CodecVectorFile } from '../../src/vectors/index.js';
import { progressReporter } from '../../src/cli/io.js';

function run(...argv: string[]): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const code = main(argv, { stdout: (t) => (stdout += t + '\n'), stderr: (t) => (stderr += t + '\n') });
  if (typeof code !== 'number') throw new Error('an asynchronous subcommand: await its exit code');
  return { code, stdout, stderr };
}

const files = vectorFiles('vectors/codec').map((p) => JSON.parse(readFileSync(p, 'utf8')) as CodecVectorFile);
const flat = (hex: string) => toHex(parseHex(hex) as Uint8Array);

describe('decode and encode round-trip every request and result vector', () => {
  for (const file of files.filter((f) => f.target !== 'struct')) {
    test(`${file.target} vectors`, () => {
      let checked = 0;
      for (const v of file.vectors) {
        const args =
          file.target === 'request' ? [flat(v.hex)] : [flat(v.request ?? ''), '--result', flat(v.hex)];
        const decoded = run('decode', ...args, '--json');
        if (v.kind === 'malformed') {
          // Under --json the refusal is an {"error": ...} object on stdout, with the CodecError's fields.
          assert.equal(decoded.code, 2, v.name);
          assert.equal(decoded.stderr, '');
          const error = (JSON.parse(decoded.stdout) as { error: Record<string, unknown> }).error;
          assert.deepEqual(
            [error.type, error.kind, error.field, error.offset],
            ['CodecError', v.error?.kind, v.error?.field, v.error?.offset],
            v.name,
          );
          const plain = run('decode', ...args);
          assert.equal(plain.code, 2, v.name);
          assert.equal(plain.stdout, '');
          assert.equal(plain.stderr.trim().split('\n').length, 1, 'one line');
          assert.match(
            plain.stderr,
            new RegExp(
              `^error: ${v.error?.kind}: ${v.error?.field.replace(/[[\]]/g, '\\$&')} at byte ${v.error?.offset}:`,
            ),
            v.name,
          );
          continue;
        }
        assert.equal(decoded.code, 0, `${v.name}: ${decoded.stderr}`);
        const encoded = run('encode', decoded.stdout, '--json');
        assert.equal(encoded.code, 0, `${v.name}: ${encoded.stderr}`);
        const hexes = JSON.parse(encoded.stdout) as { readable: string; writable?: string };
        if (file.target === 'request') assert.equal(hexes.readable, flat(v.hex), v.name);
        else {
          assert.equal(hexes.readable, flat(v.request ?? ''), v.name);
          assert.equal(hexes.writable, flat(v.hex), v.name);
        }
        checked++;
      }
      assert.ok(checked > 10);
    });
  }
});

describe('bad input and usage exit 2 with one line', () => {
  const cases: [string, string[], RegExp][] = [
    ['odd hex', ['decode', '0a0'], /not an even number of hex digits/],
    ['no argument', ['decode'], /exactly one hex argument/],
    ['unknown option', ['decode', '0a00', '--bogus'], /bogus/],
    ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['not JSON', ['encode', '{'], /not JSON/],
    ['JSON array', ['encode', '[]'], /expected a JSON object/],
    [
      'undefined command name',
      ['encode', '{"class":10,"command":"NOPE","data":null}'],
      /unknown: command at byte 1/,
    ],
    [
      'value out of range',
      ['encode', '{"class":10,"command":2,"data":{"map_handle":4294967296}}'],
      /range: map_handle at byte 2/,
    ],
    [
      'wrong key length',
      ['encode', '{"class":10,"command":5,"data":{"map_handle":1,"key_size":4,"key":"00"}}'],
      /length: key at byte 10/,
    ],
    [
      'unknown field',
      ['encode', '{"class":10,"command":2,"data":{"map_handle":1,"fd":3}}'],
      /type: fd at byte 2: not a field/,
    ],
    [
      'bad u64 string',
      [
        'encode',
        '{"class":10,"command":9,"data":null,"ack":0,"status":0,"result":{"flags":0,"insn_cnt":0,"map_count":0,"map_memory":"-1","packets":"0","aborted":"0","drop":"0","pass":"0","tx":"0","redirect":"0"}}',
      ],
      /type: map_memory at byte 25/,
    ],
    ['missing path', ['replay', '/nonexistent/vectors'], /no such file or directory/],
  ];
  for (const [name, argv, message] of cases) {
    test(name, () => {
      const r = run(...argv);
      assert.equal(r.code, 2, r.stderr + r.stdout);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, message);
    });
  }
});

test('every subcommand has --help, exit 0', () => {
  for (const sub of ['decode', 'encode', 'replay']) {
    const r = run(sub, '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^usage: xdp-offload ${sub}`));
  }
  assert.equal(run('--help').code, 0);
  assert.match(run('--help').stdout, /commands:/);
});

test('replay ends with "N passed, N failed" and exits 1 when a vector fails', () => {
  const ok = run('replay', 'vectors/codec');
  assert.equal(ok.code, 0);
  assert.match(ok.stdout.trim().split('\n').at(-1) ?? '', /^\d+ passed, 0 failed$/);
  const json = run('replay', 'vectors/codec', '--json');
  assert.equal((JSON.parse(json.stdout) as { failed: number }).failed, 0);
  const bad = run('replay', 'test/fixtures/broken-vectors.json');
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /FAIL/);
  assert.match(bad.stdout.trim().split('\n').at(-1) ?? '', /^1 passed, 1 failed$/);
});

test('the real binary runs through node with the documented exit codes', () => {
  const cli = ['--import', 'tsx', 'src/cli/main.ts'];
  const ok = spawnSync(process.execPath, [...cli, 'decode', '0a09', '--json'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout), { class: 10, command: 9, data: null });
  const bad = spawnSync(process.execPath, [...cli, 'decode', '0a0d'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, 'error: unknown: cmd at byte 1: undefined value 13\n');
});

test('disasm --json gives the instructions the text form prints, for an object and for hex', () => {
  const text = run('disasm', 'samples/mac_swap.o');
  const json = run('disasm', 'samples/mac_swap.o', '--json');
  assert.equal(json.code, 0, json.stderr);
  const doc = JSON.parse(json.stdout) as {
    sections: { name: string; insns: { index: number; bytes: string; text: string }[] }[];
  };
  const printed = text.stdout.split('\n').filter((l) => /^\s+\d+:\t/.test(l));
  const fromJson = doc.sections.flatMap((s) => s.insns);
  assert.ok(fromJson.length > 10);
  assert.deepEqual(
    fromJson.map((i) => i.text),
    // the text form annotates a jump with the label it reaches; JSON gives the labels as symbols
    printed.map((l) => (l.split('\t')[2] as string).replace(/ <[^>]+>$/, '')),
  );
  const hex = JSON.parse(run('disasm', 'b7000000020000009500000000000000', '--json').stdout) as {
    insns: { text: string }[];
  };
  assert.deepEqual(
    hex.insns.map((i) => i.text),
    ['r0 = 2', 'exit'],
  );
});

test('- reads standard input wherever a file is read: replay, disasm and run --prog', () => {
  const cli = ['--import', 'tsx', 'src/cli/main.ts'];
  const stdin = (input: string | Buffer, ...argv: string[]) =>
    spawnSync(process.execPath, [...cli, ...argv], { encoding: 'utf8', input });
  const replayed = stdin(readFileSync('vectors/codec/structs.json'), 'replay', '-');
  assert.equal(replayed.status, 0, replayed.stderr);
  assert.match(
    replayed.stdout,
    /^standard input: (\d+)\/\1 passed \(virtio-xdp-offload\/codec-vectors\/1\)$/m,
  );
  const slots = 'b7000000020000009500000000000000';
  const listed = stdin(slots, 'disasm', '-');
  assert.equal(listed.status, 0, listed.stderr);
  assert.match(listed.stdout, /r0 = 2\n.*exit\n$/);
  const ran = stdin(slots, 'run', '--prog', '-', '--packet', '00'.repeat(14), '--json');
  assert.equal(ran.status, 0, ran.stderr);
  assert.equal((JSON.parse(ran.stdout) as { retval: number }).retval, 2);
});

test('progress goes to stderr only when it is a terminal or --progress asks, and replay reports every file', () => {
  const quiet = { stdout: () => undefined, stderr: () => undefined };
  const parsedWith = (progress: boolean) => ({ values: progress ? { progress: true } : {}, positionals: [] });
  assert.equal(progressReporter(quiet, parsedWith(false)), undefined, 'a pipe gets no progress');
  assert.equal(typeof progressReporter(quiet, parsedWith(true)), 'function');
  assert.equal(typeof progressReporter({ ...quiet, interactive: true }, parsedWith(false)), 'function');
  const seen: [number, number][] = [];
  const summary = replayPaths(['vectors/codec'], undefined, (done, total) => seen.push([done, total]));
  assert.equal(seen.length, summary.files.length);
  assert.deepEqual(seen.at(-1), [summary.files.length, summary.files.length]);
});
