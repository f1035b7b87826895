# l4_filter: walks up to two VLAN tags, IPv4 (with options) or IPv6, then UDP or TCP; records the
# last destination port in array handle 1 (key 0) and counts verdicts in array handle 2; drops
# DNS (destination port 53), aborts on a truncated transport header, passes the rest.
  ldxw %r2, [%r1+0]
  ldxw %r3, [%r1+4]
  mov %r4, %r2
  add %r4, 14
  jgt %r4, %r3, pass
  ldxh %r5, [%r2+12]
  mov %r6, 14                  # offset of the L3 header
  jne %r5, 0x0081, l3
  mov %r4, %r2
  add %r4, 18
  jgt %r4, %r3, pass
  ldxh %r5, [%r2+16]
  mov %r6, 18
  jne %r5, 0x0081, l3
  mov %r4, %r2
  add %r4, 22
  jgt %r4, %r3, pass
  ldxh %r5, [%r2+20]
  mov %r6, 22
l3:
  add %r2, %r6                 # r2 = L3 header
  jeq %r5, 0x0008, ipv4
  jeq %r5, 0xdd86, ipv6
  ja pass
ipv4:
  mov %r4, %r2
  add %r4, 20
  jgt %r4, %r3, pass
  ldxb %r7, [%r2+9]            # protocol
  ldxb %r8, [%r2+0]
  and %r8, 15
  lsh %r8, 2                   # header length
  jlt %r8, 20, pass
  add %r2, %r8
  ja l4
ipv6:
  mov %r4, %r2
  add %r4, 40
  jgt %r4, %r3, pass
  ldxb %r7, [%r2+6]            # next header
  add %r2, 40
l4:
  jeq %r7, 17, ports
  jeq %r7, 6, ports
  ja pass
ports:
  mov %r4, %r2
  add %r4, 4
  jgt %r4, %r3, abort
  ldxh %r8, [%r2+2]            # destination port, network order
  be16 %r8
  stxw [%r10-8], %r8
  stw [%r10-4], 0
  lddw %r1, map[1]
  mov %r2, %r10
  add %r2, -4
  mov %r3, %r10
  add %r3, -8
  mov %r4, 0
  call 2
  mov %r9, 2
  jne %r8, 53, count
  mov %r9, 1
  ja count
abort:
  mov %r9, 0
  ja count
pass:
  mov %r9, 2
count:
  stxw [%r10-12], %r9
  lddw %r1, map[2]
  mov %r2, %r10
  add %r2, -12
  call 1
  jeq %r0, 0, out
  mov %r1, 1
  lock add [%r0+0], %r1
out:
  mov %r0, %r9
  exit
