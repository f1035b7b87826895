# ctx_probe: reports struct xdp_md's ingress_ifindex and rx_queue_index (as
# ingress_ifindex * 65536 + rx_queue_index) and writes them into the first two bytes.
  ldxw %r2, [%r1+0]
  ldxw %r3, [%r1+4]
  ldxw %r6, [%r1+12]
  ldxw %r7, [%r1+16]
  mov %r4, %r2
  add %r4, 14
  jgt %r4, %r3, out
  stxb [%r2+0], %r6
  stxb [%r2+1], %r7
out:
  mov %r0, %r6
  lsh %r0, 16
  add %r0, %r7
  exit
