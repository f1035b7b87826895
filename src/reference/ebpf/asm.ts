/**
 * Assembler and disassembler for the text syntax of the bpf_conformance suite (`mov32 %r0, 1`,
 * `ldxw %r0, [%r1+4]`, `jeq %r1, 3, label`, `lock fetch add [%r1+0], %r2`, `call local f`,
 * `lddw %r0, 0x1122334455667788`), in both directions.
 *
 * @module
 */
import { bpfInsn, type BpfInsn } from '../../codec/index.js';
import { ALU_SYMBOLS, Alu, Atomic, Cls, Jmp, Mode, OPCODE_MASK, Size, Src } from './opcodes.js';

/** An assembly error with the line it concerns (1-based). */
export class AsmError extends Error {
  /** Line number in the source text. */
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'AsmError';
    this.line = line;
  }
}

const ALU_OPS: Record<string, number> = {
  add: Alu.ADD,
  sub: Alu.SUB,
  mul: Alu.MUL,
  div: Alu.DIV,
  or: Alu.OR,
  and: Alu.AND,
  lsh: Alu.LSH,
  rsh: Alu.RSH,
  mod: Alu.MOD,
  xor: Alu.XOR,
  mov: Alu.MOV,
  arsh: Alu.ARSH,
  sdiv: Alu.DIV,
  smod: Alu.MOD,
};
const JMP_OPS: Record<string, number> = {
  jeq: Jmp.JEQ,
  jgt: Jmp.JGT,
  jge: Jmp.JGE,
  jset: Jmp.JSET,
  jne: Jmp.JNE,
  jsgt: Jmp.JSGT,
  jsge: Jmp.JSGE,
  jlt: Jmp.JLT,
  jle: Jmp.JLE,
  jslt: Jmp.JSLT,
  jsle: Jmp.JSLE,
};
const SIZES: Record<string, number> = { b: Size.B, h: Size.H, w: Size.W, dw: Size.DW };
const ATOMIC_OPS: Record<string, number> = {
  add: Atomic.ADD,
  or: Atomic.OR,
  and: Atomic.AND,
  xor: Atomic.XOR,
};
const MOVSX: Record<string, [number, boolean]> = {
  movsx832: [8, false],
  movsx1632: [16, false],
  movsx864: [8, true],
  movsx1664: [16, true],
  movsx3264: [32, true],
};

const insn = (code: number, dst = 0, src = 0, off = 0, imm = 0): BpfInsn => ({
  code,
  dst_reg: dst,
  src_reg: src,
  off,
  imm,
});

interface Pending {
  readonly insn: BpfInsn;
  readonly line: number;
  /** A label the offset (or, for `ja32` and local calls, the immediate) refers to. */
  readonly target?: string;
  readonly targetInImm?: boolean;
}

function parseReg(text: string, line: number): number {
  const m = /^%r(\d+)$/.exec(text.trim());
  const n = m === null ? NaN : Number(m[1]);
  if (!(n >= 0 && n <= 10)) throw new AsmError(line, `expected a register %r0..%r10, got "${text.trim()}"`);
  return n;
}

/** A 32-bit immediate: decimal (signed) or hex (read as u32, so 0xffffffff is -1). */
function parseImm32(text: string, line: number): number {
  const t = text.trim();
  let v: bigint;
  try {
    v = t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t);
  } catch {
    throw new AsmError(line, `expected a number, got "${t}"`);
  }
  if (v < -(2n ** 31n) || v > 2n ** 32n - 1n) throw new AsmError(line, `immediate ${t} does not fit 32 bits`);
  return Number(BigInt.asIntN(32, v));
}

function parseImm64(text: string, line: number): bigint {
  const t = text.trim();
  try {
    const v = t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t);
    if (v < -(2n ** 63n) || v > 2n ** 64n - 1n)
      throw new AsmError(line, `immediate ${t} does not fit 64 bits`);
    return BigInt.asUintN(64, v);
  } catch (error) {
    if (error instanceof AsmError) throw error;
    throw new AsmError(line, `expected a number, got "${t}"`);
  }
}

function parseOffset(text: string, line: number): number {
  const v = parseImm32(text, line);
  if (v < -32768 || v > 32767) throw new AsmError(line, `offset ${text.trim()} does not fit 16 bits`);
  return v;
}

/** `[%rN+off]`, `[%rN-off]` or `[%rN]`. */
function parseMem(text: string, line: number): { reg: number; off: number } {
  const m = /^\[\s*(%r\d+)\s*(?:([+-])\s*([0-9a-fA-Fx]+))?\s*\]$/.exec(text.trim());
  if (m === null) throw new AsmError(line, `expected a memory operand [%rN+off], got "${text.trim()}"`);
  const reg = parseReg(m[1] as string, line);
  const off = m[3] === undefined ? 0 : parseOffset((m[2] === '-' ? '-' : '') + m[3], line);
  return { reg, off };
}

function operands(rest: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of rest) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

function expectCount(ops: string[], n: number, mnemonic: string, line: number): void {
  if (ops.length !== n)
    throw new AsmError(line, `${mnemonic} takes ${n} operand${n === 1 ? '' : 's'}, got ${ops.length}`);
}

function isReg(text: string): boolean {
  return /^%r\d+$/.test(text.trim());
}

/** A jump target: `+N`/`-N` (or a bare number) as an offset, anything else as a label. */
function target(text: string, line: number): { off: number } | { label: string } {
  const t = text.trim();
  if (/^[+-]?(0x[0-9a-fA-F]+|\d+)$/.test(t)) return { off: parseImm32(t.replace(/^\+/, ''), line) };
  if (!/^[A-Za-z_.$][\w.$]*$/.test(t)) throw new AsmError(line, `bad jump target "${t}"`);
  return { label: t };
}

function assembleLine(text: string, line: number, out: Pending[]): void {
  if (text.startsWith('.insn')) {
    const f = operands(text.slice(5));
    expectCount(f, 5, '.insn', line);
    const [code, dst, src, off, imm] = f.map((x) => parseImm32(x, line)) as [
      number,
      number,
      number,
      number,
      number,
    ];
    if (code < 0 || code > 255 || dst < 0 || dst > 15 || src < 0 || src > 15)
      throw new AsmError(line, '.insn field out of range');
    out.push({ insn: insn(code, dst, src, parseOffset(String(off), line), imm), line });
    return;
  }
  const m = /^([a-z0-9]+)(?:\s+(.*))?$/.exec(text);
  if (m === null) throw new AsmError(line, `cannot parse "${text}"`);
  let mnemonic = m[1] as string;
  let rest = m[2] ?? '';
  const push = (i: BpfInsn, extra: Partial<Pending> = {}): void => {
    out.push({ insn: i, line, ...extra });
  };

  if (mnemonic === 'exit') {
    expectCount(operands(rest), 0, mnemonic, line);
    return push(insn(Cls.JMP | Jmp.EXIT));
  }
  if (mnemonic === 'lock') {
    const m2 = /^(fetch\s+)?([a-z0-9]+)\s+(.*)$/.exec(rest);
    if (m2 === null) throw new AsmError(line, 'expected lock [fetch] op [%rN+off], %rM');
    const fetch = m2[1] !== undefined;
    let op = m2[2] as string;
    const wide = !op.endsWith('32');
    if (!wide) op = op.slice(0, -2);
    const ops = operands(m2[3] as string);
    expectCount(ops, 2, `lock ${op}`, line);
    const mem = parseMem(ops[0] as string, line);
    const srcReg = parseReg(ops[1] as string, line);
    let code: number;
    if (op === 'xchg' || op === 'cmpxchg') {
      if (fetch) throw new AsmError(line, `${op} always fetches; write it without "fetch"`);
      code = op === 'xchg' ? Atomic.XCHG : Atomic.CMPXCHG;
    } else {
      const a = ATOMIC_OPS[op];
      if (a === undefined) throw new AsmError(line, `unknown atomic operation ${op}`);
      code = a | (fetch ? Atomic.FETCH : 0);
    }
    return push(insn(Cls.STX | Mode.ATOMIC | (wide ? Size.DW : Size.W), mem.reg, srcReg, mem.off, code));
  }
  if (mnemonic === 'call') {
    const ops = operands(rest);
    if (ops.length === 1 && /^local\s+/.test(ops[0] as string)) {
      const t = target((ops[0] as string).replace(/^local\s+/, ''), line);
      if ('off' in t) return push(insn(Cls.JMP | Jmp.CALL, 0, 1, 0, t.off));
      return push(insn(Cls.JMP | Jmp.CALL, 0, 1, 0, 0), { target: t.label, targetInImm: true });
    }
    expectCount(ops, 1, mnemonic, line);
    if (isReg(ops[0] as string))
      return push(insn(Cls.JMP | Jmp.CALL | Src.X, parseReg(ops[0] as string, line)));
    return push(insn(Cls.JMP | Jmp.CALL, 0, 0, 0, parseImm32(ops[0] as string, line)));
  }
  if (mnemonic === 'lddw') {
    const ops = operands(rest);
    expectCount(ops, 2, mnemonic, line);
    // Extension for offloaded programs: `map[H]` loads the map with handle H (src_reg 1), and
    // `map_value[H]+off` the address of offset `off` in element 0 of array H (src_reg 2).
    const pseudo = /^(map|map_value)\[(\d+)\](?:\s*\+\s*(\d+))?$/.exec((ops[1] as string).trim());
    if (pseudo !== null) {
      const handle = parseImm32(pseudo[2] as string, line);
      const isValue = pseudo[1] === 'map_value';
      if (!isValue && pseudo[3] !== undefined) throw new AsmError(line, 'map[H] takes no offset');
      push(insn(Cls.LD | Mode.IMM | Size.DW, parseReg(ops[0] as string, line), isValue ? 2 : 1, 0, handle));
      return push(insn(0, 0, 0, 0, isValue ? parseImm32(pseudo[3] ?? '0', line) : 0));
    }
    const v = parseImm64(ops[1] as string, line);
    const lo = Number(BigInt.asIntN(32, v & 0xffffffffn));
    const hi = Number(BigInt.asIntN(32, v >> 32n));
    push(insn(Cls.LD | Mode.IMM | Size.DW, parseReg(ops[0] as string, line), 0, 0, lo));
    return push(insn(0, 0, 0, 0, hi));
  }
  if (mnemonic === 'ja' || mnemonic === 'ja32') {
    const ops = operands(rest);
    expectCount(ops, 1, mnemonic, line);
    const t = target(ops[0] as string, line);
    const wide = mnemonic === 'ja32';
    const code = wide ? Cls.JMP32 | Jmp.JA : Cls.JMP | Jmp.JA;
    if ('off' in t)
      return push(wide ? insn(code, 0, 0, 0, t.off) : insn(code, 0, 0, parseOffset(String(t.off), line)));
    return push(insn(code), { target: t.label, targetInImm: wide });
  }
  const jm = /^(j[a-z]+?)(32)?$/.exec(mnemonic);
  if (jm !== null && JMP_OPS[jm[1] as string] !== undefined) {
    const ops = operands(rest);
    expectCount(ops, 3, mnemonic, line);
    const cls = jm[2] === undefined ? Cls.JMP : Cls.JMP32;
    const op = JMP_OPS[jm[1] as string] as number;
    const d = parseReg(ops[0] as string, line);
    const t = target(ops[2] as string, line);
    const base = isReg(ops[1] as string)
      ? insn(cls | op | Src.X, d, parseReg(ops[1] as string, line))
      : insn(cls | op | Src.K, d, 0, 0, parseImm32(ops[1] as string, line));
    if ('off' in t) return push({ ...base, off: parseOffset(String(t.off), line) });
    return push(base, { target: t.label });
  }
  const movsx = MOVSX[mnemonic];
  if (movsx !== undefined) {
    const ops = operands(rest);
    expectCount(ops, 2, mnemonic, line);
    const [bits, wide] = movsx;
    return push(
      insn(
        (wide ? Cls.ALU64 : Cls.ALU) | Alu.MOV | Src.X,
        parseReg(ops[0] as string, line),
        parseReg(ops[1] as string, line),
        bits,
      ),
    );
  }
  const end = /^(le|be|bswap|swap)(16|32|64)$/.exec(mnemonic);
  if (end !== null) {
    const ops = operands(rest);
    expectCount(ops, 1, mnemonic, line);
    const kind = end[1] as string;
    const code =
      kind === 'le'
        ? Cls.ALU | Alu.END | Src.K
        : kind === 'be'
          ? Cls.ALU | Alu.END | Src.X
          : Cls.ALU64 | Alu.END | Src.K;
    return push(insn(code, parseReg(ops[0] as string, line), 0, 0, Number(end[2])));
  }
  const ld = /^ldx(s?)(b|h|w|dw)$/.exec(mnemonic);
  if (ld !== null) {
    const ops = operands(rest);
    expectCount(ops, 2, mnemonic, line);
    const mem = parseMem(ops[1] as string, line);
    const signed = ld[1] === 's';
    if (signed && ld[2] === 'dw') throw new AsmError(line, 'ldxsdw does not exist');
    const mode = signed ? Mode.MEMSX : Mode.MEM;
    return push(
      insn(
        Cls.LDX | mode | (SIZES[ld[2] as string] as number),
        parseReg(ops[0] as string, line),
        mem.reg,
        mem.off,
      ),
    );
  }
  const st = /^st(x?)(b|h|w|dw)$/.exec(mnemonic);
  if (st !== null) {
    const ops = operands(rest);
    expectCount(ops, 2, mnemonic, line);
    const mem = parseMem(ops[0] as string, line);
    const size = SIZES[st[2] as string] as number;
    if (st[1] === 'x')
      return push(insn(Cls.STX | Mode.MEM | size, mem.reg, parseReg(ops[1] as string, line), mem.off));
    return push(insn(Cls.ST | Mode.MEM | size, mem.reg, 0, mem.off, parseImm32(ops[1] as string, line)));
  }
  // ALU: op, op32, neg, neg32
  let wide = true;
  if (mnemonic.endsWith('32')) {
    wide = false;
    mnemonic = mnemonic.slice(0, -2);
  } else if (mnemonic.endsWith('64')) {
    mnemonic = mnemonic.slice(0, -2);
  }
  const cls = wide ? Cls.ALU64 : Cls.ALU;
  if (mnemonic === 'neg') {
    const ops = operands(rest);
    expectCount(ops, 1, 'neg', line);
    return push(insn(cls | Alu.NEG, parseReg(ops[0] as string, line)));
  }
  const op = ALU_OPS[mnemonic];
  if (op === undefined) throw new AsmError(line, `unknown instruction "${m[1] as string}"`);
  rest = rest.trim();
  const ops = operands(rest);
  expectCount(ops, 2, mnemonic, line);
  const d = parseReg(ops[0] as string, line);
  const signedOff = mnemonic === 'sdiv' || mnemonic === 'smod' ? 1 : 0;
  if (isReg(ops[1] as string))
    return push(insn(cls | op | Src.X, d, parseReg(ops[1] as string, line), signedOff));
  return push(insn(cls | op | Src.K, d, 0, signedOff, parseImm32(ops[1] as string, line)));
}

/**
 * Assembles text in the bpf_conformance syntax into instruction slots (`ld_imm64` takes two).
 * Comments start with `#` or `;`.
 *
 * @example
 * ```ts
 * const insns = assemble('mov %r0, 2\nexit'); // XDP_PASS
 * ```
 * @throws AsmError naming the line and what it could not read.
 */
export function assemble(text: string): BpfInsn[] {
  const pending: Pending[] = [];
  const labels = new Map<string, number>();
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    let t = raw.replace(/[#;].*$/, '').trim();
    for (let m = /^([A-Za-z_.$][\w.$]*):\s*/.exec(t); m !== null; m = /^([A-Za-z_.$][\w.$]*):\s*/.exec(t)) {
      const name = m[1] as string;
      if (labels.has(name)) throw new AsmError(line, `label ${name} defined twice`);
      labels.set(name, pending.length);
      t = t.slice(m[0].length);
    }
    if (t !== '') assembleLine(t, line, pending);
  });
  return pending.map((p, pc) => {
    if (p.target === undefined) return p.insn;
    // The suite writes `exit` as a jump target for the program's last instruction.
    const at = labels.get(p.target) ?? (p.target === 'exit' ? pending.length - 1 : undefined);
    if (at === undefined) throw new AsmError(p.line, `undefined label ${p.target}`);
    const rel = at - pc - 1;
    if (p.targetInImm) return { ...p.insn, imm: rel };
    if (rel < -32768 || rel > 32767) throw new AsmError(p.line, `jump to ${p.target} is too far`);
    return { ...p.insn, off: rel };
  });
}

const ALU_NAMES = new Map<number, string>(
  Object.entries(ALU_OPS)
    .filter(([name]) => name !== 'sdiv' && name !== 'smod')
    .map(([name, op]) => [op, name]),
);
const JMP_NAMES = new Map<number, string>(Object.entries(JMP_OPS).map(([name, op]) => [op, name]));
const SIZE_NAMES = new Map<number, string>(Object.entries(SIZES).map(([name, v]) => [v, name]));

function signedText(n: number): string {
  return n < 0 ? `-${-n}` : `+${n}`;
}
function mem(reg: number, off: number): string {
  return off === 0 ? `[%r${reg}]` : `[%r${reg}${signedText(off)}]`;
}
function immText(n: number): string {
  return String(n);
}

/**
 * Disassembles slots into the suite's syntax, one line per instruction (`ld_imm64` is one line for
 * two slots). Jumps are written as `+N`/`-N`. Undefined instructions are written as `.insn` lines
 * carrying the raw fields, so any slot array has a text form.
 *
 * @example
 * ```ts
 * disassemble(assemble('mov %r0, 2\nexit')); // [ 'mov %r0, 2', 'exit' ]
 * ```
 */
export function disassemble(insns: readonly BpfInsn[]): string[] {
  const out: string[] = [];
  for (let pc = 0; pc < insns.length; pc++) {
    const i = insns[pc] as BpfInsn;
    const next = insns[pc + 1];
    const pair =
      i.code === (Cls.LD | Mode.IMM | Size.DW) &&
      i.off === 0 &&
      next !== undefined &&
      next.code === 0 &&
      next.dst_reg === 0 &&
      next.src_reg === 0 &&
      next.off === 0;
    if (pair && i.src_reg === 0) {
      const v = (BigInt(next.imm >>> 0) << 32n) | BigInt(i.imm >>> 0);
      out.push(`lddw %r${i.dst_reg}, 0x${v.toString(16)}`);
      pc++;
      continue;
    }
    if (
      pair &&
      (i.src_reg === 1 || i.src_reg === 2) &&
      i.imm >= 0 &&
      (i.src_reg === 2 ? next.imm >= 0 : next.imm === 0)
    ) {
      out.push(
        i.src_reg === 1
          ? `lddw %r${i.dst_reg}, map[${i.imm}]`
          : `lddw %r${i.dst_reg}, map_value[${i.imm}]+${next.imm}`,
      );
      pc++;
      continue;
    }
    out.push(
      disassembleOne(i) ??
        `.insn 0x${i.code.toString(16).padStart(2, '0')}, ${i.dst_reg}, ${i.src_reg}, ${i.off}, ${i.imm}`,
    );
  }
  return out;
}

function disassembleOne(i: BpfInsn): string | undefined {
  const { code, dst_reg: d, src_reg: s, off, imm } = i;
  if (d > 10 || s > 10) return undefined; // registers r11-r15 have no name; keep the raw form
  const cls = code & OPCODE_MASK.CLASS;
  const x = (code & Src.X) !== 0;
  if (cls === Cls.ALU || cls === Cls.ALU64) {
    const op = code & OPCODE_MASK.OPERATION;
    const sfx = cls === Cls.ALU ? '32' : '';
    if (op === Alu.NEG) return x || s !== 0 || off !== 0 || imm !== 0 ? undefined : `neg${sfx} %r${d}`;
    if (op === Alu.END) {
      if (s !== 0 || off !== 0 || ![16, 32, 64].includes(imm)) return undefined;
      if (cls === Cls.ALU64) return x ? undefined : `bswap${imm} %r${d}`;
      return `${x ? 'be' : 'le'}${imm} %r${d}`;
    }
    if (op === Alu.MOV && x && off !== 0) {
      if (imm !== 0) return undefined;
      const name = Object.entries(MOVSX).find(
        ([, [bits, wide]]) => bits === off && wide === (cls === Cls.ALU64),
      )?.[0];
      return name === undefined ? undefined : `${name} %r${d}, %r${s}`;
    }
    let name = ALU_NAMES.get(op);
    if (name === undefined) return undefined;
    if ((op === Alu.DIV || op === Alu.MOD) && off === 1) name = op === Alu.DIV ? 'sdiv' : 'smod';
    else if (off !== 0) return undefined;
    if (x) return imm === 0 ? `${name}${sfx} %r${d}, %r${s}` : undefined;
    return s === 0 ? `${name}${sfx} %r${d}, ${immText(imm)}` : undefined;
  }
  if (cls === Cls.JMP || cls === Cls.JMP32) {
    const op = code & OPCODE_MASK.OPERATION;
    if (code === (Cls.JMP | Jmp.EXIT))
      return d === 0 && s === 0 && off === 0 && imm === 0 ? 'exit' : undefined;
    if (code === (Cls.JMP | Jmp.CALL)) {
      if (d !== 0 || off !== 0) return undefined;
      if (s === 1) return `call local ${signedText(imm)}`;
      return s === 0 ? `call ${imm}` : undefined;
    }
    if (code === (Cls.JMP | Jmp.CALL | Src.X))
      return s === 0 && off === 0 && imm === 0 ? `call %r${d}` : undefined;
    if (code === (Cls.JMP | Jmp.JA))
      return d === 0 && s === 0 && imm === 0 ? `ja ${signedText(off)}` : undefined;
    if (code === (Cls.JMP32 | Jmp.JA))
      return d === 0 && s === 0 && off === 0 ? `ja32 ${signedText(imm)}` : undefined;
    const name = JMP_NAMES.get(op);
    if (name === undefined) return undefined;
    const sfx = cls === Cls.JMP32 ? '32' : '';
    if (x) return imm === 0 ? `${name}${sfx} %r${d}, %r${s}, ${signedText(off)}` : undefined;
    return s === 0 ? `${name}${sfx} %r${d}, ${immText(imm)}, ${signedText(off)}` : undefined;
  }
  const size = SIZE_NAMES.get(code & OPCODE_MASK.SIZE) as string;
  const mode = code & OPCODE_MASK.MODE;
  if (cls === Cls.LDX && (mode === Mode.MEM || (mode === Mode.MEMSX && size !== 'dw'))) {
    return imm === 0 ? `ldx${mode === Mode.MEMSX ? 's' : ''}${size} %r${d}, ${mem(s, off)}` : undefined;
  }
  if (cls === Cls.ST && mode === Mode.MEM)
    return s === 0 ? `st${size} ${mem(d, off)}, ${immText(imm)}` : undefined;
  if (cls === Cls.STX && mode === Mode.MEM)
    return imm === 0 ? `stx${size} ${mem(d, off)}, %r${s}` : undefined;
  if (cls === Cls.STX && mode === Mode.ATOMIC && (size === 'w' || size === 'dw')) {
    const sfx = size === 'w' ? '32' : '';
    if (imm === Atomic.XCHG) return `lock xchg${sfx} ${mem(d, off)}, %r${s}`;
    if (imm === Atomic.CMPXCHG) return `lock cmpxchg${sfx} ${mem(d, off)}, %r${s}`;
    const name = Object.entries(ATOMIC_OPS).find(([, v]) => v === (imm & ~Atomic.FETCH))?.[0];
    if (name === undefined || (imm & ~0xf1) !== 0) return undefined;
    return `lock ${imm & Atomic.FETCH ? 'fetch ' : ''}${name}${sfx} ${mem(d, off)}, %r${s}`;
  }
  return undefined;
}

const LLVM_JMP: Record<number, string> = {
  [Jmp.JEQ]: '==',
  [Jmp.JGT]: '>',
  [Jmp.JGE]: '>=',
  [Jmp.JSET]: '&',
  [Jmp.JNE]: '!=',
  [Jmp.JSGT]: 's>',
  [Jmp.JSGE]: 's>=',
  [Jmp.JLT]: '<',
  [Jmp.JLE]: '<=',
  [Jmp.JSLT]: 's<',
  [Jmp.JSLE]: 's<=',
};
const LLVM_SIZE: Record<number, string> = { [Size.B]: '8', [Size.H]: '16', [Size.W]: '32', [Size.DW]: '64' };

function llvmMem(reg: number, off: number): string {
  return `r${reg} ${off < 0 ? '-' : '+'} ${Math.abs(off)}`;
}

/** One instruction in LLVM's BPF assembly syntax (as `llvm-objdump -d` prints it), or `<unknown>`. */
function llvmOne(i: BpfInsn, next: BpfInsn | undefined): string {
  const { code, dst_reg: d, src_reg: s, off, imm } = i;
  if (d > 10 || s > 10) return '<unknown>';
  const cls = code & OPCODE_MASK.CLASS;
  const x = (code & Src.X) !== 0;
  if (code === (Cls.LD | Mode.IMM | Size.DW) && next !== undefined) {
    if (s === 1 || s === 2)
      return s === 1 ? `r${d} = map[${imm}] ll` : `r${d} = map_value[${imm}]+${next.imm} ll`;
    const v = BigInt.asIntN(64, (BigInt(next.imm >>> 0) << 32n) | BigInt(imm >>> 0));
    return `r${d} = ${v} ll`;
  }
  if (cls === Cls.ALU || cls === Cls.ALU64) {
    const r = cls === Cls.ALU64 ? 'r' : 'w';
    const op = code & OPCODE_MASK.OPERATION;
    if (op === Alu.NEG) return `${r}${d} = -${r}${d}`;
    if (op === Alu.END)
      return cls === Cls.ALU64 ? `r${d} = bswap${imm} r${d}` : `r${d} = ${x ? 'be' : 'le'}${imm} r${d}`;
    if (op === Alu.MOV) {
      if (x && off !== 0) return `${r}${d} = (s${off})${r}${s}`;
      return x ? `${r}${d} = ${r}${s}` : `${r}${d} = ${imm}`;
    }
    let sym = ALU_SYMBOLS[op];
    if (sym === undefined) return '<unknown>';
    if ((op === Alu.DIV || op === Alu.MOD) && off === 1) sym = `s${sym}`;
    return `${r}${d} ${sym} ${x ? `${r}${s}` : imm}`;
  }
  if (cls === Cls.JMP || cls === Cls.JMP32) {
    const op = code & OPCODE_MASK.OPERATION;
    const jump = (n: number) => (n < 0 ? `${n}` : `+${n}`);
    if (code === (Cls.JMP | Jmp.EXIT)) return 'exit';
    if (code === (Cls.JMP | Jmp.CALL)) return `call ${imm}`;
    if (code === (Cls.JMP | Jmp.CALL | Src.X)) return `callx r${d}`;
    if (code === (Cls.JMP | Jmp.JA)) return `goto ${jump(off)}`;
    if (code === (Cls.JMP32 | Jmp.JA)) return `gotol ${jump(imm)}`;
    const sym = LLVM_JMP[op];
    if (sym === undefined) return '<unknown>';
    const r = cls === Cls.JMP ? 'r' : 'w';
    return `if ${r}${d} ${sym} ${x ? `${r}${s}` : imm} goto ${jump(off)}`;
  }
  const size = LLVM_SIZE[code & OPCODE_MASK.SIZE] as string;
  const mode = code & OPCODE_MASK.MODE;
  if (cls === Cls.LDX && (mode === Mode.MEM || mode === Mode.MEMSX)) {
    return `r${d} = *(${mode === Mode.MEMSX ? 's' : 'u'}${size} *)(${llvmMem(s, off)})`;
  }
  if (cls === Cls.ST && mode === Mode.MEM) return `*(u${size} *)(${llvmMem(d, off)}) = ${imm}`;
  if (cls === Cls.STX && mode === Mode.MEM) return `*(u${size} *)(${llvmMem(d, off)}) = r${s}`;
  if (cls === Cls.STX && mode === Mode.ATOMIC && (size === '32' || size === '64')) {
    const w = size === '64' ? 'r' : 'w';
    if (imm === Atomic.XCHG)
      return size === '64'
        ? `r${s} = xchg_64(${llvmMem(d, off)}, r${s})`
        : `w${s} = xchg32_32(${llvmMem(d, off)}, w${s})`;
    if (imm === Atomic.CMPXCHG) {
      return size === '64'
        ? `r0 = cmpxchg_64(${llvmMem(d, off)}, r0, r${s})`
        : `w0 = cmpxchg32_32(${llvmMem(d, off)}, w0, w${s})`;
    }
    const base = imm & ~Atomic.FETCH;
    const name = Object.entries(ATOMIC_OPS).find(([, v]) => v === base)?.[0];
    if (name === undefined || (imm & ~0xf1) !== 0) return '<unknown>';
    if (imm & Atomic.FETCH)
      return `${w}${s} = atomic_fetch_${name}((u${size} *)(${llvmMem(d, off)}), ${w}${s})`;
    const sym = { add: '+=', or: '|=', and: '&=', xor: '^=' }[name] as string;
    return `lock *(u${size} *)(${llvmMem(d, off)}) ${sym} r${s}`;
  }
  return '<unknown>';
}

/** One line of {@link disassembleLlvm}: the first slot's index, its bytes, and the text. */
export interface LlvmLine {
  /** Index of the first slot. */
  readonly index: number;
  /** The slot bytes (16 for `ld_imm64`). */
  readonly bytes: Uint8Array;
  /** The instruction in LLVM's syntax. */
  readonly text: string;
}

/** Disassembles slots as `llvm-objdump -d` does (one line per instruction, `ld_imm64` spanning two slots). */
export function disassembleLlvm(insns: readonly BpfInsn[]): LlvmLine[] {
  const bytesOf = (i: BpfInsn) => bpfInsn.encode(i);
  const out: LlvmLine[] = [];
  for (let pc = 0; pc < insns.length; pc++) {
    const i = insns[pc] as BpfInsn;
    const wide = i.code === (Cls.LD | Mode.IMM | Size.DW) && pc + 1 < insns.length;
    const next = wide ? insns[pc + 1] : undefined;
    const bytes = wide ? Uint8Array.from([...bytesOf(i), ...bytesOf(next as BpfInsn)]) : bytesOf(i);
    out.push({ index: pc, bytes, text: llvmOne(i, next) });
    if (wide) pc++;
  }
  return out;
}

/** The lines `llvm-objdump -d` prints for a section's instructions (address, bytes, text). */
export function formatLlvm(lines: readonly LlvmLine[]): string[] {
  return lines.map(
    (l) =>
      `${String(l.index).padStart(8)}:\t${Array.from(l.bytes, (b) => b.toString(16).padStart(2, '0')).join(' ')}\t${l.text}`,
  );
}

/**
 * The text `llvm-objdump -d` prints for code sections: the file line, then per section its heading,
 * a label per symbol and one line per instruction, jumps annotated with the symbol they reach.
 */
export function formatObjdump(
  file: string,
  sections: readonly {
    readonly name: string;
    readonly insns: readonly BpfInsn[];
    readonly symbols: readonly { readonly name: string; readonly offset: number }[];
  }[],
): string[] {
  const out = ['', `${file}:\tfile format elf64-bpf`];
  for (const section of sections) {
    out.push('', `Disassembly of section ${section.name}:`);
    const labels = new Map<number, string[]>();
    for (const sym of section.symbols)
      labels.set(sym.offset / 8, [...(labels.get(sym.offset / 8) ?? []), sym.name]);
    const annotate = (slot: number): string => {
      const exact = labels.get(slot);
      if (exact !== undefined) return ` <${exact[0] as string}>`;
      const before = section.symbols.filter((s) => s.offset / 8 <= slot).at(-1);
      return before === undefined ? '' : ` <${before.name}+0x${(slot * 8 - before.offset).toString(16)}>`;
    };
    for (const line of disassembleLlvm(section.insns)) {
      for (const name of labels.get(line.index) ?? [])
        out.push('', `${(line.index * 8).toString(16).padStart(16, '0')} <${name}>:`);
      const insn = section.insns[line.index] as BpfInsn;
      const cls = insn.code & OPCODE_MASK.CLASS;
      const op = insn.code & OPCODE_MASK.OPERATION;
      const isJump = (cls === Cls.JMP || cls === Cls.JMP32) && op !== Jmp.CALL && op !== Jmp.EXIT;
      const distance = cls === Cls.JMP32 && op === Jmp.JA ? insn.imm : insn.off; // gotol jumps by imm
      const text = isJump ? `${line.text}${annotate(line.index + 1 + distance)}` : line.text;
      out.push(formatLlvm([{ ...line, text }])[0] as string);
    }
  }
  return out;
}
