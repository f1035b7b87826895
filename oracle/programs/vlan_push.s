# vlan_push: grows the head by 4 bytes with bpf_xdp_adjust_head, moves the MAC addresses forward,
# inserts an 802.1Q tag (VLAN 42) and transmits the frame back.
  mov %r6, %r1
  mov %r2, -4
  call 44
  jne %r0, 0, pass
  ldxw %r2, [%r6+0]
  ldxw %r3, [%r6+4]
  mov %r4, %r2
  add %r4, 18
  jgt %r4, %r3, abort
  ldxw %r5, [%r2+4]
  stxw [%r2+0], %r5
  ldxh %r5, [%r2+8]
  stxh [%r2+4], %r5
  ldxw %r5, [%r2+10]
  stxw [%r2+6], %r5
  ldxh %r5, [%r2+14]
  stxh [%r2+10], %r5
  sth [%r2+12], 0x0081        # TPID 0x8100
  sth [%r2+14], 0x2a00        # TCI: VLAN 42
  mov %r0, 3
  exit
abort:
  mov %r0, 0
  exit
pass:
  mov %r0, 2
  exit
