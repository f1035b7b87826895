// The rendered reference: the spec documents and the API of the three public entry points.
/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  // Each entry point is a module named by its import path. The subpaths come first, so that a
  // symbol the root re-exports is filed where users import it alone (codec symbols under /codec).
  entryPoints: [
    'src/codec/index.ts',
    'src/vectors/index.ts',
    'src/reference/ebpf/index.ts',
    'src/reference/verifier/index.ts',
    'src/reference/offload.ts',
    'src/harness/index.ts',
    'src/index.ts',
  ],
  tsconfig: 'tsconfig.build.json',
  out: 'docs/site',
  name: 'virtio-xdp-offload',
  readme: 'README.md',
  projectDocuments: ['spec/*.md', 'docs/*.md', 'docs/generated/*.md'],
  disableSources: true,
  // One search over the API and the documents: spec text and requirement identifiers included.
  searchInDocuments: true,
  customCss: 'docs/theme/site.css',
  excludePrivate: true,
  excludeInternal: true,
  validation: { notExported: true, invalidLink: true, notDocumented: true },
  treatWarningsAsErrors: true,
};
