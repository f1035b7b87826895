import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** One `no-restricted-imports` block per layer: files matching the glob may not import the groups. */
function layerRules(layers) {
  return layers.map(([files, forbidden]) => ({
    files: [files],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: forbidden, message: `the dependency rules forbid this import in ${files}` }] },
      ],
    },
  }));
}

export default tseslint.config(
  { ignores: ['dist/**', 'docs/site/**', 'node_modules/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs'] } },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  // The dependency rules of the model: the codec is a leaf; the engine and verifier know nothing of
  // virtio; the three parties (driver/, device/, tun/) speak only through the wire format and never
  // import each other; the reference never imports the harness that drives it; the library never
  // imports the CLI. A violation fails the build. Later blocks replace earlier ones for the same
  // file, so the general rule comes first.
  ...layerRules([
    ['src/{reference,harness,vectors}/**', ['**/cli/**']],
    ['src/codec/**', ['**/reference/**', '**/harness/**', '**/cli/**', '**/vectors/**']],
    ['src/reference/*.ts', ['**/harness/**', '**/cli/**', '**/vectors/**']],
    [
      'src/reference/{ebpf,verifier}/**',
      [
        '**/device/**',
        '**/driver/**',
        '**/tun/**',
        '**/virtqueue/**',
        '**/topology.js',
        '**/harness/**',
        '**/vectors/**',
        '**/cli/**',
      ],
    ],
    ['src/reference/driver/**', ['**/device/**', '**/tun/**', '**/harness/**', '**/vectors/**', '**/cli/**']],
    ['src/reference/device/**', ['**/driver/**', '**/tun/**', '**/harness/**', '**/vectors/**', '**/cli/**']],
    ['src/reference/tun/**', ['**/driver/**', '**/device/**', '**/harness/**', '**/vectors/**', '**/cli/**']],
    [
      'src/reference/virtqueue/**',
      ['**/driver/**', '**/device/**', '**/tun/**', '**/harness/**', '**/cli/**'],
    ],
  ]),
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['scripts/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
