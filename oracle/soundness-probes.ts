// Attack probes for the verifier: each is built so that, if a verifier accepted it wrongly, the
// program would fault in the engine or write a host pointer where the guest can read it. Every probe
// is named after the Linux 6.1 rule that refuses it (or after the behaviour Linux allows), and the
// kernel's verdicts for them are recorded with the rest of the verifier corpus.
import type { MapDefinition } from '../src/reference/ebpf/index.js';

const ARRAY8: MapDefinition = { type: 2, keySize: 4, valueSize: 8, maxEntries: 4 };
const HASH8: MapDefinition = { type: 1, keySize: 8, valueSize: 8, maxEntries: 4 };

/** r0 = lookup(map 1, &key) with the key stored at fp-4 first. */
const lookup = (key: number) =>
  `stw [%r10-4], ${key}\nlddw %r1, map[1]\nmov %r2, %r10\nadd %r2, -4\ncall 1\n`;

/**
 * Probes Linux 6.1 accepts although they are unsafe; the reference refuses them, and the vectors say
 * why.
 */
export const UNSAFE_IN_6_1: Readonly<Record<string, string>> = {
  check_ids_maybe_null:
    "Linux 6.1's regsafe() returns early for registers that are equal bit for bit without recording their ids, so a second maybe-null pointer is pruned as if its null check had been done; fixed in Linux 6.3 (regsafe() must not skip check_ids()), and 6.18 refuses the program",
};

/** [name, about, text, maps]. */
export const SOUNDNESS_PROBES: [string, string, string, MapDefinition[]][] = [
  [
    'states_equal_callsite',
    'pruning compares frames by call site: the code after a second call of the same function is checked',
    `mov %r6, %r1
ldxw %r7, [%r1+16]
mov %r0, 0
mov %r1, 0
jne %r7, 0, second
call local f
mov %r0, 2
exit
second:
mov %r1, 0
call local f
mov %r2, 0
ldxb %r0, [%r2+0]
exit
f:
mov %r0, 0
exit`,
    [],
  ],
  [
    'pkt_meta_needs_init_pkt',
    'a data_meta range is learned only from a comparison with the unmodified data pointer',
    `ldxw %r2, [%r1+8]
ldxw %r3, [%r1+0]
mov %r4, %r3
add %r4, 200
mov %r5, %r2
add %r5, 250
jgt %r5, %r4, out
ldxb %r0, [%r2+249]
exit
out:
mov %r0, 2
exit`,
    [],
  ],
  [
    'pkt_meta_init_pkt_ok',
    'data_meta + 4 compared with data gives four bytes of metadata',
    `ldxw %r2, [%r1+8]
ldxw %r3, [%r1+0]
mov %r5, %r2
add %r5, 4
jgt %r5, %r3, out
ldxw %r0, [%r2+0]
exit
out:
mov %r0, 2
exit`,
    [],
  ],
  [
    'stack_ptr_frameno',
    "a callee reading through its caller's frame pointer reads the caller's slot, not its own spill",
    `stdw [%r10-8], 0
mov %r2, %r1
mov %r1, %r10
add %r1, -8
call local f
mov %r0, 2
exit
f:
stxdw [%r10-8], %r2
ldxdw %r3, [%r1+0]
ldxw %r0, [%r3+0]
exit`,
    [],
  ],
  [
    'stack_ptr_frameno_read_ok',
    "a callee may read its caller's stack through a pointer passed to it",
    `stdw [%r10-8], 7
mov %r1, %r10
add %r1, -8
call local f
exit
f:
ldxdw %r0, [%r1+0]
exit`,
    [],
  ],
  [
    'cannot_spill_stack_ptr_into_caller',
    'cannot spill pointers to stack into stack frame of the caller',
    `stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
call local f
mov %r0, 2
exit
f:
stxdw [%r1+0], %r10
mov %r0, 0
exit`,
    [],
  ],
  [
    'strtol_res_var_off',
    "strtol's result pointer with a variable stack offset",
    `mov %r6, %r1
stdw [%r10-16], 0
ldxw %r5, [%r6+16]
and %r5, 16
mov %r4, %r10
add %r4, %r5
add %r4, -8
mov %r1, %r10
add %r1, -16
mov %r2, 4
mov %r3, 0
call 105
mov %r0, 2
exit`,
    [],
  ],
  [
    'helper_raw_write_scrubs_spill',
    'xdp_load_bytes writing over a spilled pointer: the slot no longer holds a pointer',
    `mov %r6, %r1
stxdw [%r10-8], %r1
mov %r1, %r6
mov %r2, 0
mov %r3, %r10
add %r3, -8
mov %r4, 8
call 189
ldxdw %r7, [%r10-8]
ldxw %r0, [%r7+0]
exit`,
    [],
  ],
  [
    'check_ids_maybe_null',
    'pruning maps the ids of maybe-null map values: a second lookup needs its own null check',
    `mov %r9, %r1
${lookup(0)}mov %r6, %r0
ldxw %r8, [%r9+16]
jne %r8, 0, other
mov %r7, %r6
ja join
other:
${lookup(100)}mov %r7, %r0
join:
jeq %r6, 0, out
ldxdw %r0, [%r7+0]
exit
out:
mov %r0, 2
exit`,
    [ARRAY8],
  ],
  [
    'is_branch_taken_ptr32',
    'a 32-bit comparison of a valid pointer with zero is decided as never equal, as Linux decides it',
    `jeq32 %r1, 0, bad
mov %r0, 2
exit
bad:
mov %r2, 0
ldxb %r0, [%r2+0]
exit`,
    [],
  ],
  [
    'bounds_div_umax_sign',
    'after a 64-bit division the signed bounds stay unknown when umax >= 2^63',
    `mov %r6, %r1
ldxw %r2, [%r6+0]
ldxw %r3, [%r6+4]
lddw %r5, 0x8000000000000010
ldxw %r4, [%r6+16]
or %r4, 1
div %r5, %r4
jsgt %r5, 16, out
jslt %r5, 0, neg
mov %r0, 2
exit
neg:
add %r2, %r5
mov %r0, 2
exit
out:
mov %r0, 2
exit`,
    [],
  ],
  [
    'bounds_rsh_reg_umax_sign',
    'a right shift by a register keeps the signed bounds unknown when umax >= 2^63',
    `ldxw %r4, [%r1+16]
lddw %r5, -2
rsh %r5, %r4
jsgt %r5, 0, out
mov %r2, %r10
add %r2, %r5
stdw [%r2+0], 0
out:
mov %r0, 2
exit`,
    [],
  ],
  [
    'helper_reads_spilled_ptr',
    'invalid indirect read from stack: map_update_elem reads a spilled pointer as its value',
    `stxdw [%r10-16], %r10
stw [%r10-4], 0
lddw %r1, map[1]
mov %r2, %r10
add %r2, -4
mov %r3, %r10
add %r3, -16
mov %r4, 0
call 2
mov %r0, 2
exit`,
    [ARRAY8],
  ],
  [
    'helper_reads_spilled_ptr_key',
    'invalid indirect read from stack: map_update_elem reads a spilled pointer as its hash key',
    `stxdw [%r10-8], %r1
stdw [%r10-16], 0
lddw %r1, map[1]
mov %r2, %r10
add %r2, -8
mov %r3, %r10
add %r3, -16
mov %r4, 0
call 2
mov %r0, 2
exit`,
    [HASH8],
  ],
  [
    'atomic_fetch_spilled_ptr',
    'leaking pointer from stack: an atomic fetch-add on a spilled pointer',
    `stxdw [%r10-8], %r1
mov %r2, 0
lock fetch add [%r10-8], %r2
stw [%r10-12], 0
${'lddw %r1, map[1]\nmov %r6, %r2\nmov %r2, %r10\nadd %r2, -12\ncall 1\njeq %r0, 0, out\nstxdw [%r0+0], %r6\n'}out:
mov %r0, 2
exit`,
    [ARRAY8],
  ],
  [
    'atomic_add_spilled_ptr',
    'leaking pointer from stack: an atomic add on a spilled pointer',
    `stxdw [%r10-8], %r1
mov %r2, 1
lock add [%r10-8], %r2
mov %r0, 2
exit`,
    [],
  ],
  [
    'cmpxchg_r0_ptr',
    'R0 leaks addr into mem: cmpxchg with a pointer in r0',
    `stdw [%r10-8], 0
mov %r0, %r10
mov %r2, 0
lock cmpxchg [%r10-8], %r2
mov %r0, 2
exit`,
    [],
  ],
  [
    'stacksafe_misc_vs_spill',
    'pruning: an explored path with plain data in a slot does not cover one with a spilled pointer there',
    `mov %r6, %r1
ldxw %r7, [%r1+16]
jne %r7, 0, ptr
stdw [%r10-8], 5
ja join
ptr:
stxdw [%r10-8], %r10
join:
ldxb %r8, [%r10-8]
stw [%r10-12], 0
lddw %r1, map[1]
mov %r2, %r10
add %r2, -12
call 1
jeq %r0, 0, out
stxdw [%r0+0], %r8
out:
mov %r0, 2
exit`,
    [ARRAY8],
  ],
  [
    'corrupt_spilled_ptr',
    'attempt to corrupt spilled pointer on stack: a 1-byte store over a spilled pointer',
    `stxdw [%r10-8], %r10
stb [%r10-8], 0
ldxdw %r6, [%r10-8]
stw [%r10-12], 0
lddw %r1, map[1]
mov %r2, %r10
add %r2, -12
call 1
jeq %r0, 0, out
stxdw [%r0+0], %r6
out:
mov %r0, 2
exit`,
    [ARRAY8],
  ],
  [
    'corrupt_spilled_scalar',
    'attempt to corrupt spilled pointer on stack: a narrow store into a slot holding a spilled scalar',
    `ldxw %r6, [%r1+16]
stxdw [%r10-8], %r6
stb [%r10-1], 0
mov %r0, 2
exit`,
    [],
  ],
  [
    'anything_arg_ptr',
    'R4 leaks addr into helper function: a pointer as csum_diff seed',
    `mov %r1, 0
mov %r2, 0
mov %r3, 0
mov %r4, 0
mov %r5, %r10
call 28
mov %r0, 2
exit`,
    [],
  ],
  [
    'combined_stack_depth',
    'combined stack size of the call chain over 512 bytes',
    `stdw [%r10-512], 0
call local f
mov %r0, 2
exit
f:
stdw [%r10-512], 0
mov %r0, 0
exit`,
    [],
  ],
  [
    'combined_stack_depth_ok',
    'two frames of 256 bytes each',
    `stdw [%r10-256], 0
call local f
mov %r0, 2
exit
f:
stdw [%r10-256], 0
mov %r0, 0
exit`,
    [],
  ],
  [
    'max_stack_depth_dead_call',
    'check_max_stack_depth walks calls in dead code too',
    `stdw [%r10-480], 0
mov %r1, 0
jeq %r1, 1, dead
ja skip
dead:
call local f
skip:
mov %r0, 2
exit
f:
stdw [%r10-64], 0
mov %r0, 0
exit`,
    [],
  ],
  [
    'subprog_exit_r0_unset',
    'a subprogram may exit without setting r0; only a read of it in the caller fails',
    `call local f
mov %r0, 2
exit
f:
exit`,
    [],
  ],
  [
    'subprog_exit_r0_read',
    'r0 from a subprogram that never set it',
    `call local f
exit
f:
exit`,
    [],
  ],
  [
    'return_stack_ptr',
    'cannot return stack pointer to the caller',
    `call local f
mov %r0, 2
exit
f:
mov %r0, %r10
exit`,
    [],
  ],
  [
    'loop_callsite',
    'the same loop-free function called twice from one loop body is not an infinite loop',
    `mov %r6, 0
l:
mov %r1, %r6
call local f
mov %r1, %r6
call local f
add %r6, 1
jlt %r6, 3, l
mov %r0, 2
exit
f:
mov %r0, %r1
exit`,
    [],
  ],
  [
    'call_depth_9',
    'the call stack of 9 frames is too deep',
    `call local f1
mov %r0, 2
exit
f1:
call local f2
exit
f2:
call local f3
exit
f3:
call local f4
exit
f4:
call local f5
exit
f5:
call local f6
exit
f6:
call local f7
exit
f7:
call local f8
exit
f8:
mov %r0, 0
exit`,
    [],
  ],
  [
    'fp_sub_const',
    'subtraction from stack pointer prohibited, even by a constant',
    `mov %r2, %r10
sub %r2, 8
stdw [%r2+0], 0
mov %r0, 2
exit`,
    [],
  ],
  [
    'fp_add_huge_const',
    'math between fp pointer and 536870912 is not allowed',
    `mov %r2, %r10
add %r2, 536870912
mov %r0, 2
exit`,
    [],
  ],
  [
    'fp_var_off_unpriv',
    'variable stack access prohibited for !root, at the arithmetic',
    `ldxw %r5, [%r1+16]
and %r5, 8
mov %r2, %r10
add %r2, -16
add %r2, %r5
stdw [%r2+0], 0
mov %r0, 2
exit`,
    [],
  ],
  [
    'fp_add_zero_unpriv',
    'stack pointer arithmetic goes out of range, prohibited for !root: fp + 0',
    `mov %r2, %r10
add %r2, 0
mov %r0, 2
exit`,
    [],
  ],
  [
    'mixed_signed_bounds_unpriv',
    'unknown scalar with mixed signed bounds, pointer arithmetic with it prohibited for !root',
    `ldxw %r6, [%r1+16]
and %r6, 7
add %r6, -4
stdw [%r10-8], 0
lddw %r1, map[1]
mov %r2, %r10
add %r2, -8
call 1
jeq %r0, 0, out
add %r0, %r6
out:
mov %r0, 2
exit`,
    [ARRAY8],
  ],
  [
    'bounded_loop_10',
    'a bounded loop of ten iterations is verified',
    `mov %r0, 0
mov %r1, 0
l:
add %r0, 1
add %r1, 1
jlt %r1, 10, l
exit`,
    [],
  ],
  [
    'bounded_loop_packet',
    'a bounded loop reading the packet at a checked offset',
    `ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 16
jgt %r4, %r3, out
mov %r0, 0
mov %r5, 0
l:
mov %r6, %r2
add %r6, %r5
ldxb %r7, [%r6+0]
add %r0, %r7
add %r5, 1
jlt %r5, 16, l
and %r0, 3
exit
out:
mov %r0, 2
exit`,
    [],
  ],
  [
    'infinite_loop_counter_unknown',
    'a loop whose exit never becomes possible',
    `mov %r1, 0
l:
add %r1, 0
jlt %r1, 10, l
mov %r0, 2
exit`,
    [],
  ],
  [
    'alu32_bounds',
    'a 32-bit AND bounds the subregister; the bound survives a 32-bit compare',
    `ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 32
jgt %r4, %r3, out
ldxw %r5, [%r1+16]
and32 %r5, 31
jgt32 %r5, 15, out
add %r2, %r5
ldxb %r0, [%r2+0]
and %r0, 1
exit
out:
mov %r0, 2
exit`,
    [],
  ],
  [
    'alu32_jmp32_refine',
    'a 32-bit compare of an unknown value bounds the subregister',
    `ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 32
jgt %r4, %r3, out
ldxw %r5, [%r1+16]
jgt32 %r5, 15, out
add %r2, %r5
ldxb %r0, [%r2+0]
and %r0, 1
exit
out:
mov %r0, 2
exit`,
    [],
  ],
  [
    'helper_read_scrubs_spill',
    'check_stack_range_initialized: after a helper reads a spilled scalar, its slot is plain data, so a narrow store into it is allowed',
    `mov %r1, 2
stxdw [%r10-8], %r1
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
mov %r4, 0
mov %r5, 0
call 28
stw [%r10-8], 1
mov %r0, 0
exit`,
    [],
  ],
  [
    'helper_read_forgets_spilled_scalar',
    'check_stack_range_initialized: a spilled constant a helper read fills as an unknown scalar (the dead branch is checked)',
    `mov %r1, 2
stxdw [%r10-8], %r1
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
mov %r4, 0
mov %r5, 0
call 28
ldxdw %r3, [%r10-8]
jeq %r3, 2, ok
ldxdw %r0, [%r10+8]
ok:
mov %r0, 0
exit`,
    [],
  ],
  [
    'helper_read_forgets_spilled_ptr',
    'check_stack_range_initialized: with CAP_PERFMON a helper may read a spilled pointer, which is a scalar afterwards',
    `stxdw [%r10-8], %r10
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
mov %r4, 0
mov %r5, 0
call 28
ldxdw %r3, [%r10-8]
ldxdw %r0, [%r3-8]
mov %r0, 0
exit`,
    [],
  ],
  [
    'helper_read_zero_becomes_misc',
    'check_stack_range_initialized: zeroes a helper read are unknown bytes afterwards',
    `stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
mov %r4, 0
mov %r5, 0
call 28
ldxdw %r3, [%r10-8]
jeq %r3, 0, ok
ldxdw %r0, [%r10+8]
ok:
mov %r0, 0
exit`,
    [],
  ],
  [
    'helper_read_scrubs_whole_slot',
    'check_stack_range_initialized: a narrow spill a helper read makes its whole slot unknown bytes, zeroes included',
    `mov %r1, 2
stxw [%r10-8], %r1
stw [%r10-4], 0
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
mov %r4, 0
mov %r5, 0
call 28
ldxw %r3, [%r10-4]
jeq %r3, 0, ok
ldxdw %r0, [%r10+8]
ok:
mov %r0, 0
exit`,
    [],
  ],
  [
    'corrupt_spilled_imm_in_caller',
    'attempt to corrupt spilled pointer on stack: a callee storing 4 bytes into its caller\u2019s slot that holds a stored constant',
    `stdw [%r10-8], 2
mov %r1, %r10
add %r1, -8
mov %r2, 5
call local f
mov %r0, 0
exit
f:
stxw [%r1+0], %r2
mov %r0, 0
exit`,
    [],
  ],
  [
    'bounded_loop_1000',
    'a loop of 1,000 iterations: accepted at 3 instructions an iteration with CAP_PERFMON; without it the speculative paths of every iteration reach the 1M-instruction limit (E2BIG)',
    `mov %r0, 0
mov %r1, 0
l: add %r1, 1
jlt %r1, 1000, l
mov %r0, 0
exit`,
    [],
  ],
  [
    'bounded_loop_100000_jmp_seq',
    'a loop of 100,000 iterations: accepted with CAP_PERFMON; without it 8,193 speculative paths wait at once (EFAULT, "The sequence of 8193 jumps is too complex")',
    `mov %r0, 0
mov %r1, 0
l: add %r1, 1
add %r0, 3
jlt %r1, 100000, l
mov %r0, 0
exit`,
    [],
  ],
  [
    'loop_to_insn_limit',
    'a loop of 2,000,000 iterations: the 1M-instruction limit (E2BIG) with CAP_PERFMON, 8,193 pending paths (EFAULT) without',
    `mov %r0, 0
mov %r1, 0
l: add %r1, 1
add %r0, 3
jlt %r1, 2000000, l
mov %r0, 0
exit`,
    [],
  ],
];
