# flow_limit: per-source-address packet counter in a hash map (handle 1, 8 flows); a source
# that sent more than 3 packets is dropped; a new source that finds the map full is aborted.
  ldxw %r2, [%r1+0]
  ldxw %r3, [%r1+4]
  mov %r4, %r2
  add %r4, 34
  jgt %r4, %r3, pass
  ldxh %r5, [%r2+12]
  jne %r5, 0x0008, pass
  ldxw %r6, [%r2+26]          # IPv4 source address
  stxw [%r10-4], %r6
  lddw %r1, map[1]
  mov %r2, %r10
  add %r2, -4
  call 1
  jeq %r0, 0, new
  ldxdw %r1, [%r0+0]
  add %r1, 1
  stxdw [%r0+0], %r1
  jgt %r1, 3, drop
  ja pass
new:
  stdw [%r10-16], 1
  lddw %r1, map[1]
  mov %r2, %r10
  add %r2, -4
  mov %r3, %r10
  add %r3, -16
  mov %r4, 1                  # BPF_NOEXIST
  call 2
  jsge32 %r0, 0, pass
  mov %r0, 0                  # map full: XDP_ABORTED
  exit
drop:
  mov %r0, 1
  exit
pass:
  mov %r0, 2
  exit
