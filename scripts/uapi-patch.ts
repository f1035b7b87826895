// The header additions as patches to Linux's uAPI headers, the shape a kernel submission takes:
// include/uapi/linux/virtio_net.h gains the feature bit beside the others and the class's
// constants and structures before its closing #endif; include/uapi/linux/if_tun.h gains
// IFF_XDP_OFFLOAD beside the other flags, TUNXDPOFFLOAD after the last ioctl and the argument
// structure. The added lines come from the generated headers (spec/include/); the context lines
// come from the headers the patches are made against (by default this machine's installed uAPI
// headers), so no kernel text is kept in the repository.
//
//   tsx scripts/uapi-patch.ts [--include DIR] [--out DIR]   (defaults /usr/include, .tmp/uapi)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderCHeader, renderTunHeader } from '../src/codec/render.js';

/** Lines inserted before line `before` (0-based) of the original. */
interface Insertion {
  readonly before: number;
  readonly lines: readonly string[];
}

const CONTEXT = 3;

/**
 * A unified diff of `original` with `insertions` (pure additions, sorted, apart from each
 * other by more than twice the context), for `path` in the tree (a/ and b/ prefixes, for -p1).
 */
export function unifiedDiff(path: string, original: string, insertions: readonly Insertion[]): string {
  const lines = original.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out = [`--- a/${path}`, `+++ b/${path}`];
  let added = 0;
  for (const { before, lines: more } of insertions) {
    const from = Math.max(0, before - CONTEXT);
    const to = Math.min(lines.length, before + CONTEXT);
    const old = to - from;
    out.push(`@@ -${from + 1},${old} +${from + 1 + added},${old + more.length} @@`);
    for (let i = from; i < before; i++) out.push(` ${lines[i] as string}`);
    for (const line of more) out.push(`+${line}`);
    for (let i = before; i < to; i++) out.push(` ${lines[i] as string}`);
    added += more.length;
  }
  return `${out.join('\n')}\n`;
}

/** The index of the last line that passes `test`, or -1. */
function findLast(lines: readonly string[], test: (line: string) => boolean): number {
  for (let i = lines.length - 1; i >= 0; i--) if (test(lines[i] as string)) return i;
  return -1;
}

/** The lines of a generated header between its includes and its closing guard. */
function body(header: string, drop: (line: string) => boolean): string[] {
  const lines = header.split('\n');
  const start = findLast(lines, (l) => l.startsWith('#include')) + 1;
  const end = findLast(lines, (l) => l.startsWith('#endif'));
  // Dropped lines leave no run of blank lines behind.
  const kept = lines
    .slice(start, end)
    .filter((l) => !drop(l))
    .filter((l, i, all) => l !== '' || all[i - 1] !== '');
  while (kept[0] === '') kept.shift();
  while (kept[kept.length - 1] === '') kept.pop();
  return kept;
}

function lastIndex(lines: readonly string[], test: (line: string) => boolean, what: string): number {
  const at = findLast(lines, test);
  if (at < 0) throw new Error(`no ${what} in the header`);
  return at;
}

/** The patch to include/uapi/linux/virtio_net.h. */
export function virtioNetPatch(original: string): string {
  const lines = original.split('\n');
  const feature = '#define VIRTIO_NET_F_XDP_OFFLOAD 71';
  // The feature bits end where the legacy-only block starts.
  const legacy = lines.findIndex((l) => l.startsWith('#ifndef VIRTIO_NET_NO_LEGACY'));
  if (legacy < 0) throw new Error('no VIRTIO_NET_NO_LEGACY block in the header');
  const added = body(renderCHeader(), (l) => l.startsWith(feature) || /^\/\* Feature bit/.test(l));
  const close = lastIndex(lines, (l) => l.startsWith('#endif'), 'closing #endif');
  return unifiedDiff('include/uapi/linux/virtio_net.h', original, [
    { before: legacy, lines: [`${feature}\t/* Device runs offloaded XDP programs */`, ''] },
    {
      before: close,
      lines: [
        '/*',
        ' * XDP offload (VIRTIO_NET_F_XDP_OFFLOAD): class VIRTIO_NET_CTRL_XDP_OFFLOAD',
        ' */',
        ...added,
        '',
      ],
    },
  ]);
}

/** The patch to include/uapi/linux/if_tun.h. */
export function ifTunPatch(original: string): string {
  const lines = original.split('\n');
  const generated = renderTunHeader();
  const take = (name: string) => {
    const line = generated.split('\n').find((l) => l.startsWith(`#define ${name} `));
    if (line === undefined) throw new Error(`no ${name} in the tap header`);
    return line;
  };
  const ioctl = lastIndex(lines, (l) => /^#define TUN\w+\s+_IO/.test(l), 'tun ioctl');
  const flag = lastIndex(lines, (l) => /^#define IFF_\w+/.test(l), 'IFF_ flag');
  const close = lastIndex(lines, (l) => l.startsWith('#endif'), 'closing #endif');
  const rest = body(
    generated,
    (l) =>
      l.startsWith('#define TUNXDPOFFLOAD ') ||
      l.startsWith('#define IFF_XDP_OFFLOAD') ||
      /^\/\* (TUNGETFEATURES bit|TUNXDPOFFLOAD: attach)/.test(l),
  );
  return unifiedDiff('include/uapi/linux/if_tun.h', original, [
    { before: ioctl + 1, lines: [take('TUNXDPOFFLOAD')] },
    { before: flag + 1, lines: [`${take('IFF_XDP_OFFLOAD')}\t/* TUNGETFEATURES: TUNXDPOFFLOAD works */`] },
    {
      before: close,
      lines: [...rest.map((l) => l.replace('; the codec encodes a little-endian host', '')), ''],
    },
  ]);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string, fallback: string) => {
    const at = process.argv.indexOf(name);
    return at < 0 ? fallback : (process.argv[at + 1] ?? fallback);
  };
  const include = arg('--include', '/usr/include');
  const out = arg('--out', '.tmp/uapi');
  mkdirSync(out, { recursive: true });
  const read = (name: string) => readFileSync(join(include, 'linux', name), 'utf8');
  writeFileSync(join(out, 'virtio_net.h.patch'), virtioNetPatch(read('virtio_net.h')));
  writeFileSync(join(out, 'if_tun.h.patch'), ifTunPatch(read('if_tun.h')));
  console.log(`wrote ${join(out, 'virtio_net.h.patch')} and ${join(out, 'if_tun.h.patch')}`);
}
