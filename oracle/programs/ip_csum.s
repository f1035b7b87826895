# ip_csum: verifies the IPv4 header checksum with bpf_csum_diff over the 20-byte header; a valid
# header passes, a bad one is dropped, anything else passes.
  ldxw %r2, [%r1+0]
  ldxw %r3, [%r1+4]
  mov %r4, %r2
  add %r4, 34
  jgt %r4, %r3, pass
  ldxh %r5, [%r2+12]
  jne %r5, 0x0008, pass
  mov %r3, %r2
  add %r3, 14
  mov %r1, 0
  mov %r2, 0
  mov %r4, 20
  mov %r5, 0
  call 28
  mov %r1, %r0
  and %r1, 0xffff
  rsh32 %r0, 16
  add %r0, %r1
  mov %r1, %r0
  and %r1, 0xffff
  rsh %r0, 16
  add %r0, %r1
  jne %r0, 0xffff, drop
pass:
  mov %r0, 2
  exit
drop:
  mov %r0, 1
  exit
