// Wraps instruction slots in a minimal BPF relocatable ELF (one program section), so that tools
// such as llvm-objdump can read any instruction sequence.
export function bpfObject(code: Uint8Array, section = 'xdp'): Uint8Array {
  const shstr = new TextEncoder().encode(`\0${section}\0.shstrtab\0`);
  const codeOff = 64;
  const shstrOff = codeOff + code.length;
  const shOff = (shstrOff + shstr.length + 7) & ~7;
  const out = new Uint8Array(shOff + 3 * 64);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  v.setUint16(16, 1, true); // ET_REL
  v.setUint16(18, 247, true); // EM_BPF
  v.setUint32(20, 1, true);
  v.setBigUint64(40, BigInt(shOff), true);
  v.setUint16(52, 64, true);
  v.setUint16(58, 64, true);
  v.setUint16(60, 3, true);
  v.setUint16(62, 2, true);
  out.set(code, codeOff);
  out.set(shstr, shstrOff);
  const header = (
    i: number,
    name: number,
    type: number,
    flags: bigint,
    off: number,
    size: number,
    align: number,
  ) => {
    const at = shOff + i * 64;
    v.setUint32(at, name, true);
    v.setUint32(at + 4, type, true);
    v.setBigUint64(at + 8, flags, true);
    v.setBigUint64(at + 24, BigInt(off), true);
    v.setBigUint64(at + 32, BigInt(size), true);
    v.setBigUint64(at + 48, BigInt(align), true);
  };
  header(1, 1, 1, 6n, codeOff, code.length, 8); // PROGBITS, ALLOC|EXECINSTR
  header(2, 2 + section.length, 3, 0n, shstrOff, shstr.length, 1); // STRTAB
  return out;
}
