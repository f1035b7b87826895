// The model's dependency rules are enforced by the lint configuration (which `npm test` runs): a
// party importing another party, the codec importing the model, or the engine importing virtio
// fails the build. Each case lints an import as if it stood in a real file of that layer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: resolve('.') });

async function restricted(file: string, specifier: string): Promise<boolean> {
  const code = `import * as probe from '${specifier}';\nexport const x = probe;\n`;
  const [result] = await eslint.lintText(code, { filePath: resolve(file) });
  const messages = result?.messages ?? [];
  assert.ok(
    messages.every((m) => m.ruleId !== null),
    messages.map((m) => m.message).join('; '),
  );
  return messages.some((m) => m.ruleId === 'no-restricted-imports');
}

const cases: [string, string, boolean][] = [
  // The three parties speak only bytes: driver, device and tap never import each other.
  ['src/reference/driver/driver.ts', '../device/caps.js', true],
  ['src/reference/driver/driver.ts', '../tun/tap.js', true],
  ['src/reference/device/device.ts', '../driver/driver.js', true],
  ['src/reference/device/device.ts', '../tun/tap.js', true],
  ['src/reference/tun/tap.ts', '../device/device.js', true],
  ['src/reference/tun/tap.ts', '../driver/driver.js', true],
  ['src/reference/virtqueue/element.ts', '../device/device.js', true],
  // The codec is a leaf; the engine and verifier know nothing of virtio; the reference never needs
  // the harness that drives it; the library never needs the CLI.
  ['src/codec/control.ts', '../reference/ebpf/engine.js', true],
  ['src/codec/control.ts', '../harness/rng.js', true],
  ['src/reference/ebpf/engine.ts', '../virtqueue/element.js', true],
  ['src/reference/verifier/verify.ts', '../device/maps.js', true],
  ['src/reference/topology.ts', '../harness/fuzz/hostile-guest.js', true],
  ['src/reference/device/device.ts', '../../harness/rng.js', true],
  ['src/harness/rng.ts', '../cli/io.js', true],
  ['src/vectors/replay.ts', '../cli/io.js', true],
  // What each layer may use.
  ['src/reference/driver/driver.ts', '../../codec/index.js', false],
  ['src/reference/driver/driver.ts', '../ebpf/engine.js', false],
  ['src/reference/device/device.ts', '../virtqueue/element.js', false],
  ['src/reference/topology.ts', './device/device.js', false],
  ['src/harness/fuzz/hostile-guest.ts', '../../reference/topology.js', false],
];

for (const [file, specifier, forbidden] of cases) {
  test(`${file} importing ${specifier} is ${forbidden ? 'refused' : 'allowed'} by the lint rule`, async () => {
    assert.equal(await restricted(file, specifier), forbidden);
  });
}
