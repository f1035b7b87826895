// Boots the pinned kernel with the oracle driver and a script: shared by the XDP-run oracle and the
// verifier campaign.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

/** A newc cpio archive of the given files (directories are listed with a trailing slash). */
function cpio(entries: readonly { name: string; data?: Uint8Array; mode: number }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const pad = (n: number) => new Uint8Array((4 - (n % 4)) % 4);
  let ino = 1;
  const add = (name: string, mode: number, data: Uint8Array) => {
    const fields = [ino++, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length + 1, 0];
    const header = '070701' + fields.map((f) => f.toString(16).padStart(8, '0')).join('');
    const head = new TextEncoder().encode(header + name + '\0');
    parts.push(head, pad(head.length), data, pad(data.length));
  };
  for (const e of entries) add(e.name, e.mode, e.data ?? new Uint8Array(0));
  add('TRAILER!!!', 0, new Uint8Array(0));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const INIT = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs devtmpfs /dev
echo 0 > /proc/sys/net/core/bpf_jit_enable
/xdp_oracle < /spec.txt > /dev/ttyS1 2>&1
/bin/busybox poweroff -f
`;

/**
 * Builds the static driver, packs it with `script` into a busybox initramfs, boots `kernel` under
 * QEMU (TCG, inside `timeout`) and leaves the driver's output in `results`.
 */
export function bootVm(script: string, work: string, results: string, kernel: string, seconds = 600): void {
  mkdirSync(work, { recursive: true });
  execFileSync(
    'gcc',
    ['-O2', '-Wall', '-Wextra', '-static', '-o', join(work, 'xdp_oracle'), 'oracle/xdp_oracle.c'],
    { stdio: 'inherit' },
  );
  const spec = script;
  writeFileSync(join(work, 'spec.txt'), spec);
  const initramfs = gzipSync(
    cpio([
      { name: 'bin', mode: 0o40755 },
      { name: 'dev', mode: 0o40755 },
      { name: 'proc', mode: 0o40755 },
      { name: 'init', mode: 0o100755, data: new TextEncoder().encode(INIT) },
      { name: 'bin/busybox', mode: 0o100755, data: readFileSync('/bin/busybox') },
      { name: 'xdp_oracle', mode: 0o100755, data: readFileSync(join(work, 'xdp_oracle')) },
      { name: 'spec.txt', mode: 0o100644, data: new TextEncoder().encode(spec) },
    ]),
  );
  writeFileSync(join(work, 'initramfs.cpio.gz'), initramfs);
  writeFileSync(results, '');
  const console_ = execFileSync(
    'timeout',
    [
      '--kill-after=10',
      String(seconds),
      'qemu-system-x86_64',
      '-accel',
      'tcg',
      '-nographic',
      '-no-reboot',
      '-m',
      '512',
      '-smp',
      '1',
      '-kernel',
      kernel,
      '-initrd',
      join(work, 'initramfs.cpio.gz'),
      '-append',
      'console=ttyS0 panic=-1 quiet loglevel=3',
      '-serial',
      'mon:stdio',
      '-serial',
      `file:${results}`,
      '-nic',
      'none',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
  );
  writeFileSync(join(work, 'console.log'), console_);
}
