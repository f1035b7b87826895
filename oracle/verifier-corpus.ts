// The verifier corpus: hand-written probes, each rule with accepted and rejected variants, the
// corpus programs themselves, and systematic mutations of the accepted ones. The kernel's verdicts
// (accept or reject, errno, last log lines) become vectors/verifier/corpus.json.
import type { BpfInsn } from '../src/codec/index.js';
import { assemble, type MapDefinition } from '../src/reference/ebpf/index.js';
import { corpus } from './corpus.js';
import { Rng } from './packets.js';
import { SOUNDNESS_PROBES } from './soundness-probes.js';

export interface VerifierProgram {
  readonly name: string;
  /** probe (hand-written for one rule), program (a corpus program) or mutation (of one). */
  readonly origin: 'probe' | 'program' | 'mutation';
  /** What the program checks, for probes and mutations. */
  readonly about: string;
  readonly insns: BpfInsn[];
  readonly maps: readonly MapDefinition[];
}

const ARRAY8: MapDefinition = { type: 2, keySize: 4, valueSize: 8, maxEntries: 4 };
const HASH8: MapDefinition = { type: 1, keySize: 4, valueSize: 8, maxEntries: 4 };

/** Packet pointers in r2 (data) and r3 (data_end). */
const PKT = 'ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\n';
/** A lookup of key 0 in map 1; r0 is the value pointer or null. */
const LOOKUP = 'stw [%r10-4], 0\nlddw %r1, map[1]\nmov %r2, %r10\nadd %r2, -4\ncall 1\n';

/** [name, about, text, maps] for every hand-written probe. */
const PROBES: [string, string, string, MapDefinition[]][] = [
  // packet bounds
  ['pkt_no_check', 'packet read without a data_end check', `${PKT}ldxb %r0, [%r2+0]\nexit`, []],
  [
    'pkt_off_by_one',
    'reads byte 14 after checking 14 bytes',
    `${PKT}mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, out\nldxb %r0, [%r2+14]\nexit\nout: mov %r0, 2\nexit`,
    [],
  ],
  [
    'pkt_in_bounds',
    'reads byte 13 after checking 14 bytes',
    `${PKT}mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, out\nldxb %r0, [%r2+13]\nexit\nout: mov %r0, 2\nexit`,
    [],
  ],
  [
    'pkt_check_jlt',
    'the bounds check written as end < data+14',
    `${PKT}mov %r4, %r2\nadd %r4, 14\njlt %r3, %r4, out\nldxb %r0, [%r2+13]\nexit\nout: mov %r0, 2\nexit`,
    [],
  ],
  [
    'pkt_check_jge_wrong',
    'the bounds check taken the wrong way round',
    `${PKT}mov %r4, %r2\nadd %r4, 14\njle %r4, %r3, out\nldxb %r0, [%r2+13]\nexit\nout: mov %r0, 2\nexit`,
    [],
  ],
  [
    'pkt_write_in_bounds',
    'writes inside the checked range',
    `${PKT}mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, out\nstb [%r2+0], 1\nout: mov %r0, 2\nexit`,
    [],
  ],
  [
    'pkt_write_past',
    'writes a word that crosses the checked range',
    `${PKT}mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, out\nstw [%r2+12], 1\nout: mov %r0, 2\nexit`,
    [],
  ],
  [
    'pkt_var_offset_checked',
    'a packet pointer plus a bounded variable, then checked',
    `${PKT}ldxw %r5, [%r1+16]\nand %r5, 15\nadd %r2, %r5\nmov %r4, %r2\nadd %r4, 4\njgt %r4, %r3, out\nldxw %r0, [%r2+0]\nexit\nout: mov %r0, 2\nexit`,
    [],
  ],
  [
    'pkt_var_offset_unbounded',
    'a packet pointer plus an unbounded variable',
    `${PKT}ldxw %r5, [%r1+16]\nadd %r2, %r5\nmov %r4, %r2\nadd %r4, 4\njgt %r4, %r3, out\nldxw %r0, [%r2+0]\nexit\nout: mov %r0, 2\nexit`,
    [],
  ],
  ['pkt_end_arith', 'arithmetic on data_end', `${PKT}add %r3, -4\nmov %r0, 2\nexit`, []],
  [
    'pkt_minus_pkt',
    'data_end - data (a pointer difference, needs pointer-leak privileges)',
    `${PKT}sub %r3, %r2\nmov %r0, %r3\nexit`,
    [],
  ],
  [
    'pkt_after_adjust_head',
    'uses a packet pointer taken before bpf_xdp_adjust_head',
    `ldxw %r6, [%r1+0]\nldxw %r7, [%r1+4]\nmov %r8, %r6\nadd %r8, 14\njgt %r8, %r7, out\nmov %r2, 0\ncall 44\nldxb %r0, [%r6+0]\nexit\nout: mov %r0, 2\nexit`,
    [],
  ],
  [
    'pkt_reload_after_adjust_head',
    'reloads data after bpf_xdp_adjust_head',
    `mov %r6, %r1\nmov %r2, -4\ncall 44\n${PKT.replace(/%r1/g, '%r6')}mov %r4, %r2\nadd %r4, 1\njgt %r4, %r3, out\nldxb %r0, [%r2+0]\nexit\nout: mov %r0, 2\nexit`,
    [],
  ],
  // alignment (checked only with BPF_F_STRICT_ALIGNMENT; packet data starts 2 bytes past an aligned address)
  [
    'align_pkt_u32_at_2',
    'a 4-byte packet load at offset 2 (aligned given NET_IP_ALIGN)',
    `${PKT}mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, out\nldxw %r0, [%r2+2]\nexit\nout: mov %r0, 2\nexit`,
    [],
  ],
  [
    'align_pkt_u32_at_0',
    'a 4-byte packet load at offset 0',
    `${PKT}mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, out\nldxw %r0, [%r2+0]\nexit\nout: mov %r0, 2\nexit`,
    [],
  ],
  [
    'align_pkt_u16_at_13',
    'a 2-byte packet load at offset 12',
    `${PKT}mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, out\nldxh %r0, [%r2+12]\nexit\nout: mov %r0, 2\nexit`,
    [],
  ],
  [
    'align_pkt_u16_at_1',
    'a 2-byte packet load at offset 1',
    `${PKT}mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, out\nldxh %r0, [%r2+1]\nexit\nout: mov %r0, 2\nexit`,
    [],
  ],
  [
    'align_pkt_u64_at_6',
    'an 8-byte packet load at offset 6',
    `${PKT}mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, out\nldxdw %r0, [%r2+6]\nexit\nout: mov %r0, 2\nexit`,
    [],
  ],
  [
    'align_map_u32_at_2',
    'a 4-byte map value load at offset 2',
    `${LOOKUP}jeq %r0, 0, out\nldxw %r0, [%r0+2]\nexit\nout: mov %r0, 2\nexit`,
    [ARRAY8],
  ],
  [
    'align_map_u32_at_4',
    'a 4-byte map value load at offset 4',
    `${LOOKUP}jeq %r0, 0, out\nldxw %r0, [%r0+4]\nexit\nout: mov %r0, 2\nexit`,
    [ARRAY8],
  ],
  // r0 and registers
  ['r0_uninit', 'exit without setting r0', 'exit', []],
  ['r0_set', 'the smallest valid program', 'mov %r0, 2\nexit', []],
  ['reg_uninit', 'reads r5 before writing it', 'mov %r0, %r5\nexit', []],
  ['r10_write', 'writes the frame pointer', 'mov %r10, 0\nmov %r0, 2\nexit', []],
  ['r0_scalar_after_call', 'uses r1 after a helper call clobbered it', 'call 5\nmov %r0, %r1\nexit', []],
  // context
  ['ctx_write', 'stores into struct xdp_md', 'stw [%r1+0], 0\nmov %r0, 2\nexit', []],
  ['ctx_read_half', 'a 2-byte context load', 'ldxh %r0, [%r1+0]\nexit', []],
  ['ctx_read_past', 'a context load past struct xdp_md', 'ldxw %r0, [%r1+24]\nexit', []],
  ['ctx_read_queue', 'reads rx_queue_index', 'ldxw %r0, [%r1+16]\nexit', []],
  ['ctx_read_ifindex', 'reads ingress_ifindex', 'ldxw %r0, [%r1+12]\nexit', []],
  ['ctx_read_egress', 'reads egress_ifindex outside a devmap program', 'ldxw %r0, [%r1+20]\nexit', []],
  ['ctx_read_meta', 'reads data_meta', 'ldxw %r0, [%r1+8]\nmov %r0, 2\nexit', []],
  ['ctx_read_unaligned', 'a misaligned context load', 'ldxw %r0, [%r1+2]\nexit', []],
  // stack
  ['stack_read_uninit', 'reads a stack slot never written', 'ldxdw %r0, [%r10-8]\nexit', []],
  ['stack_write_read', 'writes then reads a stack slot', 'stdw [%r10-8], 2\nldxdw %r0, [%r10-8]\nexit', []],
  ['stack_below', 'an access below the 512-byte stack', 'stdw [%r10-520], 2\nmov %r0, 2\nexit', []],
  ['stack_above', 'an access at the frame pointer', 'stdw [%r10+0], 2\nmov %r0, 2\nexit', []],
  ['stack_misaligned', 'a misaligned stack store', 'stxdw [%r10-4], %r1\nmov %r0, 2\nexit', []],
  [
    'stack_spill_fill',
    'spills a context pointer and fills it back',
    'stxdw [%r10-8], %r1\nldxdw %r2, [%r10-8]\nldxw %r0, [%r2+16]\nexit',
    [],
  ],
  [
    'stack_partial_read',
    'reads 8 bytes of which 4 were written',
    'stw [%r10-8], 1\nldxdw %r0, [%r10-8]\nexit',
    [],
  ],
  // maps
  [
    'map_no_null_check',
    'uses a lookup result without a null check',
    `${LOOKUP}ldxdw %r0, [%r0+0]\nexit`,
    [ARRAY8],
  ],
  [
    'map_null_checked',
    'checks the lookup result first',
    `${LOOKUP}jeq %r0, 0, out\nldxdw %r0, [%r0+0]\nexit\nout: mov %r0, 2\nexit`,
    [ARRAY8],
  ],
  [
    'map_value_past',
    'reads past the 8-byte value',
    `${LOOKUP}jeq %r0, 0, out\nldxdw %r0, [%r0+4]\nexit\nout: mov %r0, 2\nexit`,
    [ARRAY8],
  ],
  [
    'map_value_write',
    'writes the value',
    `${LOOKUP}jeq %r0, 0, out\nstdw [%r0+0], 7\nout: mov %r0, 2\nexit`,
    [ARRAY8],
  ],
  [
    'map_hash_no_null_check',
    'a hash lookup used without a null check',
    `${LOOKUP}ldxdw %r0, [%r0+0]\nexit`,
    [HASH8],
  ],
  [
    'map_key_uninit',
    'passes an uninitialised stack key',
    'lddw %r1, map[1]\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r0, 2\nexit',
    [ARRAY8],
  ],
  [
    'map_not_a_map',
    'passes a scalar as the map',
    'stw [%r10-4], 0\nmov %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r0, 2\nexit',
    [ARRAY8],
  ],
  [
    'map_update_ok',
    'updates with stack key and value',
    'stw [%r10-4], 0\nstdw [%r10-16], 1\nlddw %r1, map[1]\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 2\nmov %r0, 2\nexit',
    [HASH8],
  ],
  [
    'map_leak_pointer',
    'stores a packet pointer into a map value',
    `${LOOKUP}jeq %r0, 0, out\nldxw %r2, [%r6+0]\nout: mov %r0, 2\nexit`.replace(
      'ldxw %r2, [%r6+0]',
      'mov %r3, %r10\nstxdw [%r0+0], %r3',
    ),
    [ARRAY8],
  ],
  ['map_unknown_handle', 'names a map that does not exist', 'lddw %r1, map[9]\nmov %r0, 2\nexit', [ARRAY8]],
  [
    'map_value_addr',
    'a direct address of an array value',
    'lddw %r1, map_value[1]+0\nldxdw %r0, [%r1+0]\nexit',
    [ARRAY8],
  ],
  // helpers
  ['helper_unknown', 'calls helper 9999', 'call 9999\nmov %r0, 2\nexit', []],
  [
    'helper_csum_update',
    'calls csum_update, which XDP does not have',
    'mov %r1, 0\nmov %r2, 0\ncall 40\nmov %r0, 2\nexit',
    [],
  ],
  ['helper_strtol_bad_args', 'calls strtol with the context as the buffer', 'call 105\nmov %r0, 2\nexit', []],
  [
    'helper_strtol',
    'calls strtol on a stack buffer',
    'stdw [%r10-8], 0x31\nstdw [%r10-16], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\nmov %r4, %r10\nadd %r4, -16\ncall 105\nmov %r0, 2\nexit',
    [],
  ],
  [
    'helper_strtoul',
    'calls strtoul on a stack buffer',
    'stdw [%r10-8], 0x31\nstdw [%r10-16], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\nmov %r4, %r10\nadd %r4, -16\ncall 106\nmov %r0, 2\nexit',
    [],
  ],
  [
    'helper_trace_printk',
    'calls trace_printk without perfmon privileges',
    'mov %r1, %r10\nadd %r1, -8\nstdw [%r10-8], 0\nmov %r2, 8\ncall 6\nmov %r0, 2\nexit',
    [],
  ],
  ['helper_ktime', 'calls ktime_get_ns', 'call 5\nmov %r0, 2\nexit', []],
  ['helper_prandom', 'calls get_prandom_u32', 'call 7\nmov %r0, 2\nexit', []],
  ['helper_redirect', 'calls redirect', 'mov %r1, 1\nmov %r2, 0\ncall 23\nexit', []],
  [
    'helper_adjust_head_ctx',
    'bpf_xdp_adjust_head with the context',
    'mov %r2, 0\ncall 44\nmov %r0, 2\nexit',
    [],
  ],
  [
    'helper_adjust_head_not_ctx',
    'bpf_xdp_adjust_head with a scalar',
    'mov %r1, 0\nmov %r2, 0\ncall 44\nmov %r0, 2\nexit',
    [],
  ],
  [
    'helper_csum_diff_stack',
    'csum_diff over 8 stack bytes',
    'stdw [%r10-8], 0\nmov %r1, 0\nmov %r2, 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 8\nmov %r5, 0\ncall 28\nmov %r0, 2\nexit',
    [],
  ],
  [
    'helper_load_bytes',
    'xdp_load_bytes into the stack',
    'mov %r2, 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 8\ncall 189\nmov %r0, 2\nexit',
    [],
  ],
  [
    'helper_load_bytes_too_big',
    'xdp_load_bytes larger than the stack buffer',
    'mov %r2, 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 16\ncall 189\nmov %r0, 2\nexit',
    [],
  ],
  // structure and control flow
  ['no_exit', 'the last instruction is not an exit or a jump', 'mov %r0, 2', []],
  ['jump_out', 'a jump past the end', 'mov %r0, 2\nja +5\nexit', []],
  ['unreachable', 'an instruction no path reaches', 'mov %r0, 2\nexit\nmov %r0, 1\nexit', []],
  ['infinite_loop', 'a jump to itself', 'mov %r0, 2\nl: ja l', []],
  [
    'loop_bounded',
    'a loop of 10 iterations',
    'mov %r0, 0\nmov %r1, 0\nl: add %r0, 2\nadd %r1, 1\njlt %r1, 10, l\nmov %r0, 2\nexit',
    [],
  ],
  [
    'loop_unbounded',
    'a loop whose bound the verifier cannot see',
    'ldxw %r1, [%r1+16]\nmov %r0, 2\nl: add %r1, -1\njne %r1, 0, l\nexit',
    [],
  ],
  ['lddw_half', 'an ld_imm64 without its second slot', '.insn 0x18, 0, 0, 0, 1\nexit', []],
  ['opcode_undefined', 'an undefined opcode', '.insn 0xff, 0, 0, 0, 0\nmov %r0, 2\nexit', []],
  ['reserved_field', 'a mov with a nonzero offset', '.insn 0xb7, 0, 0, 1, 2\nexit', []],
  ['subprog_call', 'a bpf-to-bpf call', 'call local f\nexit\nf: mov %r0, 2\nexit', []],
  [
    'div_by_zero_reg',
    'division by a register that may be zero',
    'ldxw %r1, [%r1+16]\nmov %r0, 100\ndiv %r0, %r1\nexit',
    [],
  ],
  [
    'atomic_on_stack',
    'an atomic add on a stack slot',
    'stdw [%r10-8], 0\nmov %r1, 1\nlock add [%r10-8], %r1\nmov %r0, 2\nexit',
    [],
  ],
  [
    'atomic_on_packet',
    'an atomic add on packet memory',
    `${PKT}mov %r4, %r2\nadd %r4, 8\njgt %r4, %r3, out\nmov %r5, 1\nlock add [%r2+0], %r5\nout: mov %r0, 2\nexit`,
    [],
  ],
  ['return_pointer', 'returns a pointer', 'mov %r0, %r10\nexit', []],
  ['return_large', 'returns an undefined action value', 'mov %r0, 7\nexit', []],
];

/** Mutations of one accepted program: each changes one thing the verifier cares about. */
function mutations(
  name: string,
  insns: readonly BpfInsn[],
  rng: Rng,
  count: number,
): [string, string, BpfInsn[]][] {
  const out: [string, string, BpfInsn[]][] = [];
  const isLdImm64Second = (i: number) => i > 0 && insns[i - 1]?.code === 0x18;
  const ops: [string, (at: number) => BpfInsn[] | undefined][] = [
    [
      'delete',
      (at) =>
        isLdImm64Second(at) || insns[at]?.code === 0x18 ? undefined : insns.filter((_, i) => i !== at),
    ],
    [
      'offset+1',
      (at) => {
        const i = insns[at] as BpfInsn;
        const cls = i.code & 7;
        return cls === 1 || cls === 2 || cls === 3
          ? insns.map((x, j) => (j === at ? { ...x, off: x.off + 1 } : x))
          : undefined;
      },
    ],
    [
      'offset+8',
      (at) => {
        const i = insns[at] as BpfInsn;
        const cls = i.code & 7;
        return cls === 1 || cls === 2 || cls === 3
          ? insns.map((x, j) => (j === at ? { ...x, off: x.off + 8 } : x))
          : undefined;
      },
    ],
    [
      'imm+1',
      (at) => {
        const i = insns[at] as BpfInsn;
        const cls = i.code & 7;
        const cond =
          (cls === 4 || cls === 7 || cls === 5) &&
          (i.code & 8) === 0 &&
          i.code !== 0x85 &&
          i.code !== 0x95 &&
          i.code !== 0x05;
        return cond ? insns.map((x, j) => (j === at ? { ...x, imm: x.imm + 1 } : x)) : undefined;
      },
    ],
    [
      'flip-jump',
      (at) => {
        const i = insns[at] as BpfInsn;
        const flips: Record<number, number> = {
          0x20: 0x30,
          0x30: 0x20,
          0xa0: 0xb0,
          0xb0: 0xa0,
          0x10: 0x50,
          0x50: 0x10,
        };
        const to = flips[i.code & 0xf0];
        return (i.code & 7) === 5 && to !== undefined
          ? insns.map((x, j) => (j === at ? { ...x, code: (x.code & 0x0f) | to } : x))
          : undefined;
      },
    ],
    [
      'nop',
      (at) =>
        isLdImm64Second(at) || insns[at]?.code === 0x18
          ? undefined
          : insns.map((x, j) => (j === at ? { code: 0x05, dst_reg: 0, src_reg: 0, off: 0, imm: 0 } : x)),
    ],
    [
      'reg',
      (at) => {
        const i = insns[at] as BpfInsn;
        if (isLdImm64Second(at)) return undefined;
        const r = rng.int(10);
        return insns.map((x, j) =>
          j === at
            ? rng.int(2) === 0
              ? { ...x, dst_reg: r }
              : { ...x, src_reg: (i.code & 7) === 0 ? x.src_reg : r }
            : x,
        );
      },
    ],
    [
      'size',
      (at) => {
        const i = insns[at] as BpfInsn;
        const cls = i.code & 7;
        return cls === 1 || cls === 3
          ? insns.map((x, j) => (j === at ? { ...x, code: (x.code & ~0x18) | 0x18 } : x))
          : undefined;
      },
    ],
  ];
  for (let tries = 0; out.length < count && tries < count * 20; tries++) {
    const [op, apply] = rng.pick(ops);
    const at = rng.int(insns.length);
    const m = apply(at);
    if (m === undefined) continue;
    const key = `${name}~${op}@${at}`;
    if (out.some(([n]) => n === key)) continue;
    out.push([key, `${op} at instruction ${at}`, m]);
  }
  return out;
}

export function verifierCorpus(): VerifierProgram[] {
  const out: VerifierProgram[] = [...PROBES, ...SOUNDNESS_PROBES].map(([name, about, text, maps]) => ({
    name,
    origin: 'probe',
    about,
    insns: assemble(text),
    maps,
  }));
  const rng = new Rng(4242);
  for (const p of corpus()) {
    out.push({ name: p.name, origin: 'program', about: 'a corpus program', insns: p.insns, maps: p.maps });
    for (const [name, about, insns] of mutations(p.name, p.insns, rng, 24)) {
      out.push({ name, origin: 'mutation', about, insns, maps: p.maps });
    }
  }
  return out;
}
