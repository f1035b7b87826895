// The CLI takes files and arguments from anywhere: every input is read one checked way, with its size
// capped before parsing; every refusal is one line on stderr with exit 2 (under --json an
// {"error": ...} object on stdout), never a stack trace; no option makes a run unbounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/run.js';
import { fc } from '../support/fc.js';

function run(...argv: string[]): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const code = main(argv, { stdout: (t) => (stdout += t + '\n'), stderr: (t) => (stderr += t + '\n') });
  if (typeof code !== 'number') throw new Error('an asynchronous subcommand: await its exit code');
  return { code, stdout, stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'xdp-offload-cli-'));
const file = (name: string, content: string | Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

/** A refusal: exit 2, nothing on stdout, exactly one line on stderr matching `message`. */
function refused(argv: string[], message: RegExp): void {
  const r = run(...argv);
  assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}${r.stdout}`);
  assert.equal(r.stdout, '', argv.join(' '));
  assert.equal(r.stderr.trim().split('\n').length, 1, `${argv.join(' ')}: one line, got ${r.stderr}`);
  assert.match(r.stderr, message, argv.join(' '));
}

const EXIT0 = '9500000000000000';
const PACKET = '00'.repeat(14);

test('missing files, directories and oversized inputs are one-line refusals [INPUT_LIMIT]', () => {
  refused(['run', '--insns-hex', EXIT0, '--packet', `@${join(dir, 'absent')}`], /--packet: no such file/);
  refused(['run', '--prog', dir, '--packet', PACKET], /--prog: .* is a directory/);
  refused(['verify', dir], /is a directory/);
  refused(['disasm', dir], /disasm: .* is a directory/);
  refused(['demo', '--object', join(dir, 'absent.o')], /--object: no such file/);
  const big = file('big.hex', 'ab'.repeat(9 << 20));
  refused(['run', '--insns-hex', EXIT0, '--packet', `@${big}`], /more than the 16777216 this reads/);
  // decode reads at most 4 MiB of hex: a 10 MB PROG_LOAD is refused before it is parsed.
  const start = performance.now();
  refused(['decode', `@${big}`], /more than the 4194304 this reads/);
  refused(['decode', 'ab'.repeat(3 << 20)], /more than the 4194304 characters/);
  assert.ok(performance.now() - start < 2000, 'refused from the size alone');
});

test('numbers are checked against their option range; negative numbers get the option message', () => {
  refused(
    ['run', '--insns-hex', EXIT0, '--packet', PACKET, '--repeat', '1000000000000000'],
    /--repeat must be an integer from 1 to 10000000/,
  );
  refused(
    ['run', '--insns-hex', EXIT0, '--packet', PACKET, '--repeat', '-5'],
    /--repeat must be an integer from 1 to 10000000, got '-5'/,
  );
  refused(['run', '--insns-hex', EXIT0, '--packet', PACKET, '--repeat', '1e3'], /--repeat must be/);
  refused(['demo', '--frames', '-1'], /--frames must be an integer from 1/);
  refused(['fuzz', '--seconds', '-3'], /--seconds must be an integer from 0/);
  refused(['fuzz', '--replay', 'x'], /--replay must be an integer/);
  refused(['device-serve', 'x'], /unexpected argument 'x'/);
  refused(['fuzz', '--device', 'cat', '--mode', 'lying'], /--mode lying fuzzes the driver/);
});

test('conformance refuses (exit 2) a file that is not a bpf_conformance test', () => {
  refused(['conformance', file('empty.data', '')], /not a bpf_conformance test/);
  refused(
    [
      'conformance',
      file(
        'random.data',
        Uint8Array.from({ length: 4096 }, (_, i) => (i * 151 + 7) & 0xff),
      ),
    ],
    /not a bpf_conformance test/,
  );
  refused(
    ['conformance', file('badmem.data', '-- asm\nexit\n-- mem\nzz 00\n-- result\n0x0\n')],
    /-- mem byte 'zz' is not hex/,
  );
  refused(
    ['conformance', file('badresult.data', '-- asm\nexit\n-- result\nbanana\n')],
    /-- result 'banana' is not a number/,
  );
  // A well-formed test that fails is still exit 1.
  assert.equal(run('conformance', 'test/fixtures/wrong-result.data').code, 1);
});

test('replay of a vector holding a 10 MB hex string fails that file in one line, without a stack overflow', () => {
  // A shipped vector file with one run's packet replaced by 10 MB of hex.
  const vector = JSON.parse(readFileSync('vectors/xdp/encap_trim.json', 'utf8')) as {
    runs: { packet: string }[];
  };
  (vector.runs[0] as { packet: string }).packet = 'ab'.repeat(5 << 20);
  const path = file('huge.json', JSON.stringify(vector));
  const r = run('replay', path);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr, '');
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.length <= 3, `a short report, got ${lines.length} lines`);
  assert.match(r.stdout, /FAIL/);
  assert.doesNotMatch(r.stdout, /function|Maximum call stack/);
  assert.ok(r.stdout.length < 2000, 'the report does not echo the input');
});

test('under --json a refusal is an {"error": ...} object on stdout with the CodecError fields', () => {
  const r = run('decode', '0a07', '--json');
  assert.equal(r.code, 2);
  assert.equal(r.stderr, '');
  assert.deepEqual(JSON.parse(r.stdout), {
    error: {
      message: 'truncated: insn_cnt at byte 2: needs 4 bytes, 0 available',
      type: 'CodecError',
      kind: 'truncated',
      field: 'insn_cnt',
      offset: 2,
    },
  });
  const usage = run('run', '--packet', PACKET, '--repeat', '0', '--insns-hex', EXIT0, '--json');
  assert.equal(usage.code, 2);
  assert.equal((JSON.parse(usage.stdout) as { error: { type: string } }).error.type, 'UsageError');
});

test('random command lines never crash: exit 0, 1 or 2, and a refusal is one line without a stack trace', () => {
  const words = fc.constantFrom(
    'decode',
    'encode',
    'disasm',
    'run',
    'verify',
    'conformance',
    '--json',
    '--prog',
    '--packet',
    '--repeat',
    '--insns-hex',
    '--map',
    '--section',
    '--result',
    '--frames',
    '-',
    '@',
    `@${dir}`,
    dir,
    '-1',
    '0',
    '1',
    '99999999999999999999',
    'xdp1',
    'array:8:4',
    'hash:0:0:0',
    EXIT0,
    PACKET,
    '0a00',
    '0a07',
    '{}',
    '{"class":10}',
    '',
    '--',
    'test/fixtures/wrong-result.data',
    'samples/mac_swap.o',
    'samples/mac_swap.c',
  );
  fc.assert(
    fc.property(fc.array(words, { minLength: 1, maxLength: 7 }), (argv) => {
      if (argv.includes('-')) return; // standard input is the test runner's
      const r = run(...argv);
      assert.ok([0, 1, 2].includes(r.code), `${JSON.stringify(argv)} exited ${r.code}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /^\s+at /m, `${JSON.stringify(argv)}: a stack trace`);
      if (r.code === 2 && !argv.includes('--json'))
        assert.equal(r.stderr.trim().split('\n').length, 1, `${JSON.stringify(argv)}: ${r.stderr}`);
    }),
    { numRuns: 300 },
  );
});

test('every pattern of the shipped schemas is bounded by a maxLength that ajv checks first', () => {
  const unbounded: string[] = [];
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) node.forEach((child, i) => walk(child, `${path}[${i}]`));
    else if (node !== null && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (typeof record.pattern === 'string' && typeof record.maxLength !== 'number') unbounded.push(path);
      for (const [key, child] of Object.entries(record)) walk(child, `${path}.${key}`);
    }
  };
  for (const name of readdirSync('vectors/schema'))
    walk(JSON.parse(readFileSync(`vectors/schema/${name}`, 'utf8')), name);
  assert.deepEqual(unbounded, []);
});
