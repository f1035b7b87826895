// The shared bpf_conformance suite through the engine, in one process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runConformanceSource } from '../../../src/reference/ebpf/index.js';
import { main } from '../../../src/cli/run.js';

const SUITE = '../shared/conformance/bpf_conformance/tests';
const present = existsSync(SUITE);

test(
  'every shared bpf_conformance file passes (235 files)',
  { skip: present ? false : `${SUITE} is absent on this machine` },
  () => {
    const files = readdirSync(SUITE).filter((n) => n.endsWith('.data'));
    assert.equal(files.length, 235);
    const failures = files
      .map((n) => runConformanceSource(join(SUITE, n), readFileSync(join(SUITE, n), 'utf8')))
      .filter((o) => !o.passed);
    assert.deepEqual(failures, []);
  },
);

test(
  'xdp-offload conformance runs the suite and ends with the CI line',
  { skip: present ? false : `${SUITE} is absent` },
  () => {
    let stdout = '';
    const code = main(['conformance', SUITE], {
      stdout: (t) => (stdout += t + '\n'),
      stderr: () => undefined,
    });
    assert.equal(code, 0);
    assert.equal(stdout.trim().split('\n').at(-1), '235 passed, 0 failed');
  },
);

test('a wrong expectation fails the run with exit 1', () => {
  let stdout = '';
  const code = main(['conformance', 'test/fixtures/wrong-result.data'], {
    stdout: (t) => (stdout += t + '\n'),
    stderr: () => undefined,
  });
  assert.equal(code, 1);
  assert.match(stdout, /FAIL .*r0 = 0x2, expected 0x3/);
  assert.equal(stdout.trim().split('\n').at(-1), '0 passed, 1 failed');
});
