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
  // virtio; the three parties (guest driver, device, host tap) speak only through the wire format
  // and never import each other; the library never imports the CLI. A violation fails the build.
  // Later blocks replace earlier ones for the same file, so the general rule comes first.
  ...layerRules([
    ['src/{reference,fuzz,vectors,pcap}/**', ['**/cli/**']],
    ['src/codec/**', ['**/reference/**', '**/fuzz/**', '**/cli/**', '**/vectors/**', '**/pcap/**']],
    [
      'src/reference/{ebpf,verifier}/**',
      [
        '**/device/**',
        '**/guest/**',
        '**/host/**',
        '**/virtqueue/**',
        '**/topology.js',
        '**/fuzz/**',
        '**/cli/**',
      ],
    ],
    ['src/reference/guest/**', ['**/device/**', '**/host/**', '**/fuzz/**', '**/cli/**']],
    ['src/reference/device/**', ['**/guest/**', '**/host/**', '**/fuzz/**', '**/cli/**']],
    ['src/reference/host/**', ['**/guest/**', '**/device/**', '**/fuzz/**', '**/cli/**']],
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
