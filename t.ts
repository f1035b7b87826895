import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { assemble, slotsToBytes } from './src/reference/ebpf/index.js';
import { bpfObject } from './test/support/elf-writer.js';
const text = `
add %r1, %r2
add32 %r1, %r2
add %r1, -4
add32 %r1, -4
sub %r1, 5
mul %r1, %r2
div %r1, %r2
mod32 %r1, 3
or %r1, 0x7fffffff
and %r1, %r2
lsh %r1, 3
rsh32 %r1, %r2
arsh %r1, 2
arsh32 %r1, 2
xor %r1, %r2
mov %r1, %r2
mov32 %r1, %r2
mov %r1, -1
mov32 %r1, -1
neg %r1
neg32 %r1
be16 %r1
le32 %r1
be64 %r1
ldxw %r2, [%r1+4]
ldxdw %r2, [%r10-8]
ldxb %r2, [%r1]
ldxh %r2, [%r1+2]
stxw [%r10-4], %r1
stxdw [%r10-8], %r1
stxb [%r10-1], %r1
stxh [%r10-2], %r1
stw [%r10-4], 7
stdw [%r10-8], -1
sth [%r10-2], 5
stb [%r10-1], 5
lock add [%r0+0], %r1
lock add32 [%r0+0], %r1
lock fetch add [%r0+0], %r1
lock fetch or32 [%r0+8], %r1
lock xchg [%r0+0], %r1
lock cmpxchg [%r0+0], %r1
lock and [%r0+0], %r1
lock xor [%r0+0], %r1
jeq %r1, 5, +1
jgt %r1, %r2, -1
jsge %r1, -3, +2
jset %r1, 8, +0
jlt32 %r1, %r2, +1
jsle32 %r1, 4, +1
jne %r1, %r2, +1
ja +1
call 1
call local +1
lddw %r1, 0x1122334455667788
lddw %r1, 0xffffffffffffffff
lddw %r1, 5
exit
`;
const code = slotsToBytes(assemble(text));
writeFileSync('/tmp/t.o', bpfObject(code));
console.log(execFileSync('llvm-objdump', ['-d', '/tmp/t.o'], { encoding: 'utf8' }));
