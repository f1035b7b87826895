// Runs the test files under test/ with node's test runner (TypeScript through tsx), by tier:
//   unit    no external tool, no corpus or campaign: the fast loop while changing code;
//   system  the C header (gcc), clang objects and llvm-objdump, tshark, the packed package, the
//           README's commands, the vector corpora and the campaigns with their planted bugs;
//   docs    the rendered site in Chromium;
//   all     every file once (what `npm test` runs).
// Files run in parallel, one per core, the longest first so that no long file starts last. With
// --with-checks the type check and the lint run beside the tests (their output follows the tests'),
// so a core the tests leave idle does that work; any of the three failing fails the run.
// Fails loudly when a tier has no file, so a broken glob can never pass as "0 failed".
import { availableParallelism } from 'node:os';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

/** Files outside the unit tier, by tier. */
const TIERS = {
  system: [
    'test/spec/c-twin.test.ts',
    'test/spec/c-cross.test.ts',
    'test/spec/latex.test.ts',
    'test/spec/uapi-patch.test.ts',
    'test/harness/pcapng.test.ts',
    'test/reference/ebpf/llvm-disasm.test.ts',
    'test/reference/ebpf/samples.test.ts',
    'test/reference/ebpf/elf-btf.test.ts',
    'test/reference/ebpf/elf-programs.test.ts',
    'test/package/package.test.ts',
    'test/readme.test.ts',
    'test/vectors/corpus.test.ts',
    'test/vectors/verifier-corpus.test.ts',
    'test/harness/fuzz/verifier-campaign.test.ts',
    'test/harness/fuzz/planted-verifier.test.ts',
    'test/reference/verifier/domain.test.ts',
    'test/harness/fuzz/planted-device-driver.test.ts',
    'test/reference/topology.test.ts',
    'test/examples.test.ts',
    'test/harness/kit/device-kit.test.ts',
    'test/harness/kit/c-device.test.ts',
  ],
  docs: ['test/docs.test.ts'],
};

/** The files that take longest (about 10 s or more here), longest first: they start first. */
const LONGEST = [
  'test/docs.test.ts',
  'test/package/package.test.ts',
  'test/readme.test.ts',
  'test/harness/fuzz/planted-device-driver.test.ts',
  'test/harness/kit/device-kit.test.ts',
  'test/reference/verifier/verify.test.ts',
  'test/reference/verifier/domain.test.ts',
  'test/reference/verifier/soundness-rules.test.ts',
  'test/harness/fuzz/planted-verifier.test.ts',
  'test/reference/device/resources.test.ts',
  'test/reference/topology.test.ts',
];

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const all = collect('test');
const named = new Set(Object.values(TIERS).flat());
const missing = [...named, ...LONGEST].filter((f) => !all.includes(f));
if (missing.length > 0) {
  console.error(`tier lists name files that do not exist: ${missing.join(', ')}`);
  process.exit(1);
}
const given = process.argv.slice(2);
const withChecks = given.includes('--with-checks');
const args = given.filter((a) => a !== '--with-checks');
// A first argument that is an option (node --test's) leaves the tier at `all`.
const tier = args[0] === undefined || args[0].startsWith('-') ? 'all' : args[0];
const extra = tier === args[0] ? args.slice(1) : args;
const chosen =
  tier === 'all' ? all : tier === 'unit' ? all.filter((f) => !named.has(f)) : (TIERS[tier] ?? []);
if (!(tier in TIERS) && tier !== 'unit' && tier !== 'all') {
  console.error(`unknown tier '${tier}' (unit, system, docs or all)`);
  process.exit(2);
}
const rank = (f) => (LONGEST.includes(f) ? LONGEST.indexOf(f) : LONGEST.length);
const files = [...chosen].sort((x, y) => rank(x) - rank(y));
if (files.length === 0) {
  console.error(`no test files in tier ${tier}`);
  process.exit(1);
}

/** Runs a command; resolves to its exit status and, when `capture`, its output. */
function run(command, argv, capture) {
  return new Promise((resolve) => {
    const child = spawn(command, argv, { stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    if (capture) {
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
    }
    child.on('close', (code) => resolve({ status: code ?? 1, output }));
  });
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const checks = withChecks
  ? ['typecheck', 'lint'].map((script) => [script, run(npm, ['run', '--silent', script], true)])
  : [];
const concurrency = `--test-concurrency=${availableParallelism()}`;
const tests = await run(
  process.execPath,
  ['--import', 'tsx', '--test', concurrency, ...extra, ...files],
  false,
);
let failed = tests.status !== 0;
for (const [script, pending] of checks) {
  const { status, output } = await pending;
  console.log(`\n# npm run ${script}: ${status === 0 ? 'ok' : `failed (exit ${status})`}`);
  if (status !== 0) {
    process.stdout.write(output);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
