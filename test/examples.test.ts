// The `@example` of each entry function runs: its code, taken from the doc comment the site shows,
// is run with the names its entry point exports (its own `import` lines go first, a package import
// path standing for its source), and must end without an exception or a line on standard error.
// An example that goes stale fails here. And every exported function whose body throws an error
// of its own documents it with @throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** The entry functions, by the entry point a user imports them from. */
const ENTRY_FUNCTIONS: Readonly<Record<string, readonly [file: string, name: string][]>> = {
  'src/codec/index.ts': [
    ['src/codec/control.ts', 'decodeRequest'],
    ['src/codec/control.ts', 'encodeRequest'],
    ['src/codec/hex.ts', 'parseHex'],
    ['src/codec/json.ts', 'requestToJson'],
  ],
  'src/vectors/index.ts': [
    ['src/vectors/replay.ts', 'replayPaths'],
    ['src/vectors/replay.ts', 'replayFile'],
    ['src/vectors/schema.ts', 'schemaErrors'],
  ],
  'src/reference/ebpf/index.ts': [
    ['src/reference/ebpf/asm.ts', 'assemble'],
    ['src/reference/ebpf/asm.ts', 'disassemble'],
    ['src/reference/ebpf/elf.ts', 'loadElfProgram'],
    ['src/reference/ebpf/conformance.ts', 'runConformanceSource'],
  ],
  'src/reference/verifier/index.ts': [['src/reference/verifier/verify.ts', 'verify']],
  'src/reference/offload.ts': [['src/reference/device/device.ts', 'defaultCaps']],
  'src/harness/index.ts': [
    ['src/harness/fuzz/hostile-guest.ts', 'fuzzCampaign'],
    ['src/harness/fuzz/lying-device.ts', 'lyingCampaign'],
    ['src/harness/experiments.ts', 'runDemo'],
    ['src/harness/experiments.ts', 'runObjectDemo'],
  ],
};

/** The code of the `@example` in the doc comment right before `export function name`. */
function exampleOf(file: string, name: string): string {
  const text = readFileSync(file, 'utf8');
  const at = text.search(new RegExp(`\\nexport (async )?function ${name}[<(]`));
  assert.ok(at > 0, `${file}: no export function ${name}`);
  const comment = text.slice(text.lastIndexOf('/**', at), at);
  const block = /@example\s*\n\s*\* ```ts\n([\s\S]*?)\n\s*\* ```/.exec(comment);
  assert.ok(block !== null, `${name} (${file}) has no @example with a ts block`);
  return (block[1] as string)
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n');
}

const DIR = '.tmp/examples';

/** The package's import paths, as an example names them, and the source each one is. */
const ENTRY_OF: Readonly<Record<string, string>> = {
  'virtio-xdp-offload': 'src/index.ts',
  'virtio-xdp-offload/codec': 'src/codec/index.ts',
  'virtio-xdp-offload/vectors': 'src/vectors/index.ts',
  'virtio-xdp-offload/ebpf': 'src/reference/ebpf/index.ts',
  'virtio-xdp-offload/verifier': 'src/reference/verifier/index.ts',
  'virtio-xdp-offload/offload': 'src/reference/offload.ts',
  'virtio-xdp-offload/harness': 'src/harness/index.ts',
};

/** An example's import line, with a package import path turned into the source it stands for. */
function localImport(line: string): string {
  return line.replace(/from '(virtio-xdp-offload[^']*)'/, (whole, path: string) => {
    const source = ENTRY_OF[path];
    return source === undefined ? whole : `from '../../${source.replace(/\.ts$/, '.js')}'`;
  });
}

for (const [entry, functions] of Object.entries(ENTRY_FUNCTIONS)) {
  test(`the examples of ${entry} run: ${functions.map(([, n]) => n).join(', ')}`, async () => {
    const exported = Object.keys((await import(`../${entry}`)) as object);
    const imports = new Set<string>();
    const blocks = functions.map(([file, name]) => {
      const lines = exampleOf(file, name).split('\n');
      for (const l of lines.filter((l) => l.startsWith('import '))) imports.add(localImport(l));
      // each example in its own block, so that two may use the same names
      return `{ // ${name}\n${lines.filter((l) => !l.startsWith('import ')).join('\n')}\n}`;
    });
    mkdirSync(DIR, { recursive: true });
    const path = join(DIR, `${entry.replace(/[/.]/g, '_')}.ts`);
    writeFileSync(
      path,
      [
        ...imports,
        `import { ${exported.join(', ')} } from '../../${entry.replace(/\.ts$/, '.js')}';`,
        ...blocks,
      ].join('\n'),
    );
    const run = spawnSync(process.execPath, ['--import', 'tsx', path], { encoding: 'utf8' });
    assert.equal(run.status, 0, `${path}:\n${run.stderr}`);
    assert.equal(run.stderr, '');
  });
}

test('every exported function of an entry point that throws an error of its own says so in @throws', () => {
  const entries = [...Object.keys(ENTRY_FUNCTIONS), 'src/index.ts'];
  const program = ts.createProgram(entries, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
  });
  const checker = program.getTypeChecker();
  const seen = new Set<ts.Symbol>();
  const silent: string[] = [];
  let throwing = 0;
  for (const entry of entries) {
    const source = program.getSourceFile(entry);
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
    assert.ok(module !== undefined, entry);
    for (const exported of checker.getExportsOfModule(module)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      if (seen.has(symbol) || (symbol.flags & ts.SymbolFlags.Function) === 0) continue;
      seen.add(symbol);
      const body = (symbol.declarations?.[0] as ts.FunctionDeclaration | undefined)?.body?.getText() ?? '';
      if (!/throw new \w+/.test(body)) continue;
      throwing++;
      if (!symbol.getJsDocTags(checker).some((t) => t.name === 'throws')) silent.push(symbol.name);
    }
  }
  assert.ok(throwing >= 15, `${throwing} throwing functions found`);
  assert.deepEqual(silent, [], 'functions that throw without @throws');
});
