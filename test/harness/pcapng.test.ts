// pcapng output of replay and demo, read back with tshark (Wireshark's command-line reader).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/run.js';

const dir = mkdtempSync(join(tmpdir(), 'xdp-pcap-'));
const quiet = { stdout: () => undefined, stderr: () => undefined };

/** tshark's fields for every frame of a capture, as rows of strings. */
function tshark(file: string, ...fields: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

test('demo --pcap: every frame from the host, its verdict, and what the offloaded program sent back', () => {
  const file = join(dir, 'demo.pcapng');
  assert.equal(main(['demo', '--program', 'xdp2', '--frames', '40', '--pcap', file], quiet), 0);
  const rows = tshark(file, 'frame.interface_name', 'frame.comment', 'eth.dst', 'eth.src', 'frame.len');
  assert.equal(rows.length, 80); // 40 in, 40 transmitted back
  for (let i = 0; i < rows.length; i += 2) {
    const [inIf, inComment, inDst, inSrc, inLen] = rows[i] as string[];
    const [outIf, outComment, outDst, outSrc, outLen] = rows[i + 1] as string[];
    assert.equal(inIf, 'from-host');
    assert.equal(inComment, `xdp2 frame ${i / 2}: offloaded program: tx`);
    assert.equal(outIf, 'to-host');
    assert.match(outComment as string, /sent back toward the host/);
    // xdp2 swaps the addresses and keeps the length
    assert.deepEqual([outDst, outSrc, outLen], [inSrc, inDst, inLen]);
  }
});

test('replay --pcap: XDP runs with their verdicts and outputs, scenarios with their fates', () => {
  const file = join(dir, 'replay.pcapng');
  assert.equal(main(['replay', 'vectors/xdp/xdp1.json', 'vectors/scenarios', '--pcap', file], quiet), 0);
  const rows = tshark(file, 'frame.interface_name', 'frame.comment', 'ip.proto');
  const xdp1 = rows.filter(([, c]) => (c as string).startsWith('xdp1/'));
  assert.equal(xdp1.length, 72); // xdp1 drops everything it accepts: only inputs
  assert.ok(
    xdp1.every(
      ([iface, c]) =>
        iface === 'from-host' && /: (XDP_DROP|XDP_PASS|refused with errno \d+)$/.test(c as string),
    ),
  );
  assert.ok(xdp1.some(([, c]) => (c as string).endsWith('XDP_DROP')));
  const bridged = rows.filter(([, c]) => (c as string).startsWith('rfc-xdp2-through-bridge'));
  assert.ok(bridged.some(([iface]) => iface === 'to-host'));
  assert.ok(rows.some(([iface, c]) => iface === 'to-guest' && /delivered to the guest/.test(c as string)));
});
