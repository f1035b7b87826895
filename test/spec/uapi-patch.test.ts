// The patch-shaped rendering of the header additions: made against this machine's installed uAPI
// headers, the two patches apply with `patch -p1` to a tree laid out as Linux's, and the patched
// headers compile with gcc and give every size the codecs give (the structures then live in
// Linux's own headers, not in the package's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_LAYOUTS, TUN_XDP_OFFLOAD_SIZE } from '../../src/codec/index.js';
import { ifTunPatch, virtioNetPatch } from '../../scripts/uapi-patch.js';

test('the uAPI patches apply to virtio_net.h and if_tun.h and the patched headers compile to the codec sizes', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xdp-uapi-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tree = join(dir, 'include/uapi/linux');
  mkdirSync(tree, { recursive: true });
  for (const name of ['virtio_net.h', 'if_tun.h']) cpSync(join('/usr/include/linux', name), join(tree, name));
  const patches = {
    'virtio_net.h.patch': virtioNetPatch(readFileSync(join(tree, 'virtio_net.h'), 'utf8')),
    'if_tun.h.patch': ifTunPatch(readFileSync(join(tree, 'if_tun.h'), 'utf8')),
  };
  for (const [name, text] of Object.entries(patches)) {
    assert.match(text, /^--- a\/include\/uapi\/linux\/.*\n\+\+\+ b\/include\/uapi\/linux\//);
    assert.doesNotMatch(text, /^-(?!-- a\/)/m, `${name} only adds lines`);
    writeFileSync(join(dir, name), text);
    execFileSync('patch', ['-p1', '--forward', '--input', name], { cwd: dir, stdio: 'pipe' });
  }
  const virtio = readFileSync(join(tree, 'virtio_net.h'), 'utf8');
  assert.equal(virtio.match(/#define VIRTIO_NET_F_XDP_OFFLOAD 71/g)?.length, 1);
  // The patched tree's headers, first on the include path, replace the installed ones.
  const checks = ALL_LAYOUTS.filter(
    (l) => l.external === undefined && l.fixedSize !== undefined && l.cName !== 'tun_xdp_offload',
  ).map((l) => `_Static_assert(sizeof(struct ${l.cStruct}) == ${l.fixedSize as number}, "${l.cStruct}");`);
  assert.ok(checks.length >= 6);
  const source = [
    '#include <sys/ioctl.h> /* _IOWR, as for every tun ioctl */',
    '#include <linux/virtio_net.h>',
    '#include <linux/if_tun.h>',
    ...checks,
    `_Static_assert(sizeof(struct tun_xdp_offload) == ${TUN_XDP_OFFLOAD_SIZE}, "tun_xdp_offload");`,
    '_Static_assert(VIRTIO_NET_CTRL_XDP_OFFLOAD == 10 && IFF_XDP_OFFLOAD == 0x00010000, "constants");',
    'unsigned long ioctl_number(void) { return TUNXDPOFFLOAD; }',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'check.c'), source);
  execFileSync(
    'gcc',
    ['-std=c11', '-Wall', '-Werror', '-c', '-I', join(dir, 'include/uapi'), 'check.c', '-o', 'check.o'],
    {
      cwd: dir,
      stdio: 'pipe',
    },
  );
});
