// The built package as a consumer sees it: its exports resolve, its declarations type-check without
// skipLibCheck (no dependency on restructure's missing types), and the main job and the binary run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = resolve('.');

test('every export and the bin of package.json name a built file, and every src module is built', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
    exports: Record<string, string | Record<string, string>>;
    bin: Record<string, string>;
  };
  const targets = Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e)));
  targets.push(...Object.values(pkg.bin));
  assert.ok(targets.length >= 14, `${targets.length} targets`);
  // A pattern (`./spec/include/*`) names a folder that must hold files.
  const exists = (t: string) =>
    t.endsWith('/*') ? existsSync(t.slice(0, -2)) && readdirSync(t.slice(0, -2)).length > 0 : existsSync(t);
  const missing = targets.filter((t) => !exists(t));
  assert.deepEqual(missing, [], 'package.json names files the build does not make');
  const modules = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? modules(join(dir, e.name))
        : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')
          ? [join(dir, e.name)]
          : [],
    );
  const unbuilt = modules('src').filter(
    (m) => !existsSync(m.replace(/^src/, 'dist').replace(/\.ts$/, '.js')),
  );
  assert.deepEqual(unbuilt, []);
});

test('the package exports resolve by name and decode a buffer', () => {
  const script = `
    import { decodeRequest, parseHex } from 'virtio-xdp-offload/codec';
    import { replayPaths } from 'virtio-xdp-offload/vectors';
    import * as all from 'virtio-xdp-offload';
    const r = decodeRequest(parseHex('0a09'));
    console.log(JSON.stringify({ command: r.command, replay: typeof replayPaths, root: typeof all.encodeRequest }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.deepEqual(JSON.parse(out), { command: 'QUERY', replay: 'function', root: 'function' });
});

test('a CommonJS consumer requires every entry point, and the C headers resolve through exports', () => {
  const script = `
    const entries = ['', '/codec', '/vectors', '/ebpf', '/verifier', '/offload', '/harness'];
    const sizes = entries.map((e) => Object.keys(require('virtio-xdp-offload' + e)).length);
    const { decodeRequest, parseHex } = require('virtio-xdp-offload/codec');
    const header = require.resolve('virtio-xdp-offload/include/virtio_net_xdp_offload.h');
    const tun = require.resolve('virtio-xdp-offload/include/if_tun_xdp_offload.h');
    console.log(JSON.stringify({ sizes, command: decodeRequest(parseHex('0a09')).command, header, tun }));
  `;
  const out = JSON.parse(
    execFileSync(process.execPath, ['--input-type=commonjs', '-e', script], { cwd: root, encoding: 'utf8' }),
  ) as { sizes: number[]; command: string; header: string; tun: string };
  assert.equal(out.command, 'QUERY');
  assert.ok(
    out.sizes.every((n) => n > 5),
    JSON.stringify(out.sizes),
  );
  assert.equal(out.header, join(root, 'spec/include/virtio_net_xdp_offload.h'));
  assert.equal(out.tun, join(root, 'spec/include/if_tun_xdp_offload.h'));
});

test('the published declarations type-check in a strict consumer without skipLibCheck', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xdp-consumer-'));
  writeFileSync(
    join(dir, 'consumer.ts'),
    `import { encodeRequest, decodeResult, type ControlRequest, CodecError } from '${root}/dist/codec/index.js';
const request: ControlRequest = { command: 'MAP_FREE', data: { map_handle: 7 } };
const bytes: Uint8Array = encodeRequest(request);
try { decodeResult(request, bytes); } catch (e) { if (e instanceof CodecError) { const f: string = e.field; void f; } }
`,
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'ES2022',
        types: [],
        typeRoots: [join(root, 'node_modules/@types')],
      },
      files: ['consumer.ts'],
    }),
  );
  const result = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});

test('npm start (the main job) replays the shipped vectors and prints the summary', () => {
  const result = spawnSync(process.execPath, ['dist/cli/main.js', 'replay'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout.trim().split('\n').at(-1) ?? '', /^\d+ passed, 0 failed$/);
});

test('the packed tarball installs into a scratch project: ESM and CommonJS imports, the binary, README files, no dead source map', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xdp-packed-'));
  try {
    // --ignore-scripts: the build already ran, and rebuilding dist here would race the other tests.
    const name = execFileSync(
      'npm',
      ['pack', root, '--pack-destination', dir, '--ignore-scripts', '--silent'],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    ).trim();
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'scratch', version: '1.0.0', type: 'module' }),
    );
    execFileSync('npm', ['install', `./${name}`, '--no-audit', '--no-fund', '--prefer-offline', '--silent'], {
      cwd: dir,
      stdio: 'pipe',
    });
    const installed = join(dir, 'node_modules', 'virtio-xdp-offload');
    const esm = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { decodeRequest, parseHex } from 'virtio-xdp-offload/codec'; console.log(decodeRequest(parseHex('0a09')).command);",
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    assert.equal(esm.trim(), 'QUERY');
    const cjs = execFileSync(
      process.execPath,
      ['--input-type=commonjs', '-e', "console.log(typeof require('virtio-xdp-offload/offload').Topology);"],
      { cwd: dir, encoding: 'utf8' },
    );
    assert.equal(cjs.trim(), 'function');
    // The README's examples work from the installed package: its samples, vectors and docs are there.
    const bin = join(dir, 'node_modules', '.bin', 'xdp-offload');
    const replay = spawnSync(bin, ['replay', join(installed, 'vectors', 'codec')], { encoding: 'utf8' });
    assert.equal(replay.status, 0, replay.stderr);
    assert.match(replay.stdout, /\d+ passed, 0 failed\n$/);
    const disasm = spawnSync(bin, ['disasm', join(installed, 'samples', 'mac_swap.o')], { encoding: 'utf8' });
    assert.equal(disasm.status, 0, disasm.stderr);
    for (const file of [
      'README.md',
      'CHANGELOG.md',
      'docs/vectors.md',
      'spec/include/if_tun_xdp_offload.h',
      'oracle/README.md',
    ])
      assert.ok(existsSync(join(installed, file)), file);
    // Every source map names sources the tarball ships.
    const dead: string[] = [];
    const maps = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? maps(join(d, e.name)) : e.name.endsWith('.map') ? [join(d, e.name)] : [],
      );
    const all = maps(join(installed, 'dist'));
    assert.ok(all.length > 100, `${all.length} source maps`);
    for (const map of all)
      for (const source of (JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] }).sources)
        if (!existsSync(resolve(dirname(map), source))) dead.push(`${map}: ${source}`);
    assert.deepEqual(dead.slice(0, 5), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
