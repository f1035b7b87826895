// A pool of XDP programs for the offload path's properties and scenarios. Each names map[1], an array
// of 256 u64 counters, and map[2], a small hash from u32 to u64; all pass the device's verifier.
import { BpfMapType } from '../../src/codec/index.js';
import type { MapDefinition } from '../../src/reference/ebpf/maps.js';
import { XDP1, XDP2 } from '../../src/reference/ebpf/samples.js';

/** The maps every pool program is bound to, as map[1] and map[2]. */
export const POOL_MAPS: readonly MapDefinition[] = [
  { type: BpfMapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 256 },
  { type: BpfMapType.HASH, keySize: 4, valueSize: 8, maxEntries: 8 },
];

const bounds = (need: number, label: string) => `
  ldxw %r2, [%r1+0]
  ldxw %r3, [%r1+4]
  mov %r4, %r2
  add %r4, ${need}
  jgt %r4, %r3, ${label}
`;

/** The pool, by name. */
export const POOL: Readonly<Record<string, string>> = {
  xdp1: XDP1,
  xdp2: XDP2,
  // Counts each IP protocol in the hash (inserting with NOEXIST on first sight), drops TCP.
  hash_count_drop_tcp: `
  ldxw %r2, [%r1+0]
  ldxw %r3, [%r1+4]
  mov %r6, 0
  mov %r4, %r2
  add %r4, 34
  jgt %r4, %r3, count
  ldxb %r6, [%r2+23]
count:
  stxw [%r10-4], %r6
  mov %r7, 1
  stxdw [%r10-16], %r7
  lddw %r1, map[2]
  mov %r2, %r10
  add %r2, -4
  call 1
  jeq %r0, 0, insert
  mov %r1, 1
  lock add [%r0+0], %r1
  ja verdict
insert:
  lddw %r1, map[2]
  mov %r2, %r10
  add %r2, -4
  mov %r3, %r10
  add %r3, -16
  mov %r4, 1
  call 2
verdict:
  mov %r0, 2
  jne %r6, 6, done
  mov %r0, 1
done:
  exit
`,
  // Flips the low byte of the EtherType and trims 4 bytes from the tail.
  rewrite_trim: `${bounds(14, 'out')}
  ldxb %r5, [%r2+13]
  xor %r5, 0xff
  stxb [%r2+13], %r5
  mov %r2, -4
  call 65
out:
  mov %r0, 2
  exit
`,
  // The verdict is the first byte modulo 6: every action, and 5, an undefined one.
  action_by_byte: `${bounds(14, 'short')}
  ldxb %r0, [%r2+0]
  mod %r0, 6
  exit
short:
  mov %r0, 2
  exit
`,
  // Grows 8 bytes of headroom into the frame, then passes it.
  push_head: `
  mov %r6, %r1
  mov %r2, -8
  call 44
  mov %r0, 2
  exit
`,
  // Deletes the hash key named by the first byte, then passes.
  hash_delete: `${bounds(14, 'out')}
  ldxb %r6, [%r2+0]
  stxw [%r10-4], %r6
  lddw %r1, map[2]
  mov %r2, %r10
  add %r2, -4
  call 3
out:
  mov %r0, 2
  exit
`,
};

/** Pool program names. */
export const POOL_NAMES = Object.keys(POOL);
