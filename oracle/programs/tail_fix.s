# tail_fix: frames of 64 bytes or more lose their last 4 bytes (a trailing FCS) with
# bpf_xdp_adjust_tail; shorter frames are padded with 4 zero bytes; then XDP_PASS.
  ldxw %r2, [%r1+0]
  ldxw %r3, [%r1+4]
  mov %r6, %r1
  mov %r4, %r2
  add %r4, 64
  mov %r2, 4
  jgt %r4, %r3, grow
  mov %r2, -4
grow:
  mov %r1, %r6
  call 65
  jne %r0, 0, abort
  mov %r0, 2
  exit
abort:
  mov %r0, 0
  exit
