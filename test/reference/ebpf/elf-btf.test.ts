// BTF-defined maps as clang writes them: every variable of the .maps DATASEC has offset 0 there,
// and the symbol table says where each map is, as libbpf reads it. An object with two maps, the
// program using both, compiled here with clang, loads with each reference bound to its own map.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadElfProgram, XdpEngine } from '../../../src/reference/ebpf/index.js';

test('two BTF maps: each reference is bound to its map by the symbol table, and the program runs on both', () => {
  const dir = mkdtempSync(join(tmpdir(), 'btf-maps-'));
  try {
    const object = join(dir, 'two_btf_maps.o');
    execFileSync('clang', [
      '-O2',
      '-g',
      '-target',
      'bpf',
      '-I/usr/include/x86_64-linux-gnu',
      '-c',
      'test/fixtures/two_btf_maps.c',
      '-o',
      object,
    ]);
    const program = loadElfProgram(new Uint8Array(readFileSync(object)));
    // In the symbol table's order: clang put `second` at offset 0 and `first` after it.
    assert.deepEqual(program.mapNames, ['second', 'first']);
    assert.deepEqual(
      program.maps.map((m) => (typeof m === 'string' ? m : m.type)),
      [1, 2],
      'second is the hash, first the array',
    );
    const engine = new XdpEngine();
    for (const def of program.maps) if (typeof def !== 'string') engine.createMap(def);
    const key = new Uint8Array(4);
    assert.equal(engine.map(1)?.update(key, Uint8Array.of(1, 0, 0, 0), 0), 0); // second[0] = XDP_DROP
    const loaded = engine.load(program.insns);
    const frame = new Uint8Array(64);
    assert.equal(engine.run(loaded, frame).action, 1, 'the verdict read from second');
    engine.run(loaded, frame);
    assert.deepEqual(
      [...(engine.map(2)?.lookup(key) as Uint8Array)],
      [2, 0, 0, 0, 0, 0, 0, 0],
      'first counts',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
