/**
 * A generator of XDP programs for verifier campaigns: what a corpus of real programs lacks, built
 * from small pieces that each exercise one part of the verifier, and often just miss what it
 * allows: packet reads after bounds checks that may be off by one, scalar chains through every
 * ALU and jump form (64- and 32-bit, div/mod/shift included) used as offsets, spills and fills of
 * every width (pointers and scalars, partly overwritten), several map lookups with null checks on
 * some paths only, helpers that read and write the stack, bpf-to-bpf calls passing stack pointers
 * down and values up, data_meta, bounded loops and joins that pruning must get right.
 *
 * Programs are written as assembly and assembled, so a piece is readable on its own. The same
 * seed gives the same program.
 *
 * @module
 */
import type { BpfInsn } from '../../codec/index.js';
import { assemble, type MapDefinition } from '../../reference/ebpf/index.js';
import { Rng } from '../rng.js';

/** A generated program and the maps its `lddw map[H]` instructions name (handle = index + 1). */
export interface GeneratedProgram {
  /** The instructions. */
  readonly insns: BpfInsn[];
  /** Maps by handle order: an array of 8-byte values, then a hash with 8-byte keys. */
  readonly maps: readonly MapDefinition[];
  /** The assembly the instructions came from. */
  readonly text: string;
}

/** The maps every generated program may use: handle 1 an array, handle 2 a hash. */
export const GENERATED_MAPS: readonly MapDefinition[] = [
  { type: 2, keySize: 4, valueSize: 16, maxEntries: 4 },
  { type: 1, keySize: 8, valueSize: 8, maxEntries: 8 },
];

const ALU = ['add', 'sub', 'mul', 'div', 'mod', 'or', 'and', 'xor', 'lsh', 'rsh', 'arsh'] as const;
const JMP = ['jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle', 'jsgt', 'jsge', 'jslt', 'jsle', 'jset'] as const;
const SIZES = [
  ['b', 1],
  ['h', 2],
  ['w', 4],
  ['dw', 8],
] as const;

/** Builds one program. */
class Builder {
  private readonly lines: string[] = [];
  private readonly functions: string[] = [];
  private label = 0;

  constructor(private readonly rng: Rng) {}

  private fresh(): string {
    return `L${this.label++}`;
  }

  private emit(...lines: string[]): void {
    this.lines.push(...lines);
  }

  /** A small offset, sometimes just outside what a check allowed. */
  private near(n: number): number {
    const r = this.rng;
    return r.chance(0.15) ? n + r.int(3) : r.int(Math.max(1, n));
  }

  /** An immediate biased to edges. */
  private imm(): number {
    const r = this.rng;
    return r.pick([
      0,
      1,
      2,
      3,
      7,
      8,
      15,
      16,
      31,
      32,
      63,
      64,
      255,
      256,
      -1,
      -8,
      0x7fffffff,
      -0x80000000,
      r.int(4096),
    ]);
  }

  /**
   * A scalar in `reg` (%r5 or %r7), then a chain of ALU operations on it. It comes from what a
   * run makes adversarial: packet bytes (after a bounds check), a map value (after a lookup and
   * null check; only when `calls` allows clobbering %r1-%r5), or a context field.
   */
  private scalar(reg: string, calls = true): void {
    const r = this.rng;
    const source = r.int(calls ? 3 : 2);
    if (source === 0) {
      this.emit(r.chance(0.5) ? `ldxw ${reg}, [%r6+16]` : `ldxw ${reg}, [%r6+12]`);
    } else if (source === 1) {
      const out = this.fresh();
      const [suffix, size] = r.pick(SIZES);
      this.emit('ldxw %r0, [%r6+0]', 'ldxw %r1, [%r6+4]', `mov ${reg}, %r0`, `add ${reg}, ${size}`);
      this.emit(`jgt ${reg}, %r1, ${out}`, `ldx${suffix} ${reg}, [%r0+0]`);
      this.tail.push(`${out}:`, 'mov %r0, 2', 'exit');
    } else {
      const out = this.fresh();
      const [suffix, size] = r.pick(SIZES);
      this.emit(`stw [%r10-4], ${r.int(4)}`, 'lddw %r1, map[1]', 'mov %r2, %r10', 'add %r2, -4', 'call 1');
      this.emit(`jeq %r0, 0, ${out}`, `ldx${suffix} ${reg}, [%r0+${r.int(17 - size)}]`);
      this.tail.push(`${out}:`, 'mov %r0, 1', 'exit');
    }
    const ops = r.int(4);
    for (let i = 0; i < ops; i++) {
      const op = r.pick(ALU);
      const w = r.chance(0.3) ? '32' : '';
      let k = this.imm();
      if ((op === 'div' || op === 'mod') && k === 0) k = 3;
      if (op === 'lsh' || op === 'rsh' || op === 'arsh') k = r.int(w === '' ? 64 : 32);
      if (r.chance(0.2) && op !== 'lsh' && op !== 'rsh' && op !== 'arsh') {
        this.emit(`ldxw %r5, [%r6+16]`, `${op}${w} ${reg}, %r5`);
      } else if (r.chance(0.1) && (op === 'rsh' || op === 'lsh' || op === 'arsh')) {
        this.emit(`ldxw %r5, [%r6+16]`, `and %r5, 63`, `${op}${w} ${reg}, %r5`);
      } else this.emit(`${op}${w} ${reg}, ${k}`);
    }
    if (r.chance(0.2)) this.emit(`neg ${reg}`);
    if (r.chance(0.6)) this.bound(reg);
  }

  /** A comparison that bounds `reg` on the fall-through path. */
  private bound(reg: string): void {
    const r = this.rng;
    const out = this.fresh();
    const op = r.pick(JMP);
    const w = r.chance(0.3) ? '32' : '';
    this.emit(`${op}${w} ${reg}, ${this.imm()}, ${out}`);
    this.tail.push(`${out}:`, `mov %r0, ${r.int(4)}`, 'exit');
  }

  /** Code placed after the main body (exits of failed checks). */
  private readonly tail: string[] = [];

  /** A packet read or write after a bounds check that may be off by one. */
  private packet(): void {
    const r = this.rng;
    const len = 1 + r.int(64);
    const out = this.fresh();
    const check = r.pick(['jgt %r4, %r3', 'jge %r4, %r3', 'jlt %r3, %r4', 'jle %r3, %r4']);
    this.emit(
      'ldxw %r2, [%r6+0]',
      'ldxw %r3, [%r6+4]',
      'mov %r4, %r2',
      `add %r4, ${len}`,
      `${check}, ${out}`,
    );
    this.tail.push(`${out}:`, 'mov %r0, 2', 'exit');
    const [suffix, size] = r.pick(SIZES);
    const at = this.near(Math.max(1, len - size + 1));
    if (r.chance(0.3)) {
      // a variable offset, bounded by a mask or by a comparison (signed or unsigned) only
      this.scalar('%r5', false);
      const bound = r.int(3);
      if (bound === 0) this.emit('and %r5, 15');
      else {
        this.emit(`${bound === 1 ? 'jsgt' : 'jgt'} %r5, 15, ${out}`);
        if (r.chance(0.5)) this.emit(`jslt %r5, 0, ${out}`);
      }
      this.emit('add %r2, %r5');
    }
    if (r.chance(0.5)) this.emit(`ldx${suffix} %r7, [%r2+${at}]`);
    else
      this.emit(r.chance(0.5) ? `st${suffix} [%r2+${at}], ${this.imm()}` : `stx${suffix} [%r2+${at}], %r7`);
  }

  /** data_meta against data (possibly modified). */
  private meta(): void {
    const r = this.rng;
    const out = this.fresh();
    const n = 1 + r.int(16);
    this.emit('ldxw %r2, [%r6+8]', 'ldxw %r3, [%r6+0]');
    if (r.chance(0.3)) this.emit(`add %r3, ${r.int(32)}`);
    this.emit('mov %r4, %r2', `add %r4, ${n}`, `jgt %r4, %r3, ${out}`, `ldxb %r7, [%r2+${this.near(n)}]`);
    this.tail.push(`${out}:`, 'mov %r0, 2', 'exit');
  }

  /** Spills and fills on the stack: pointers and scalars, all widths, partial overwrites. */
  private stack(): void {
    const r = this.rng;
    const slot = -8 * (1 + r.int(8));
    const what = r.pick(['%r6', '%r7', '%r10', '%r8', '%r9']);
    this.emit(`stxdw [%r10${slot}], ${what}`);
    if (r.chance(0.4)) {
      const [suffix, size] = r.pick(SIZES);
      const at = slot + r.int(8 / size) * size;
      this.emit(r.chance(0.5) ? `st${suffix} [%r10${at}], ${this.imm()}` : `stx${suffix} [%r10${at}], %r7`);
    }
    const [suffix, size] = r.pick(SIZES);
    const at = slot + r.int(8 / size) * size;
    const into = r.pick(['%r7', '%r8', '%r9']);
    this.emit(`ldx${suffix} ${into}, [%r10${at}]`);
    if (r.chance(0.4)) this.emit(`ldxw %r0, [${into}+0]`, `mov ${into}, 0`);
  }

  /** A map lookup with a null check on some paths, then an access to the value. */
  private lookup(): void {
    const r = this.rng;
    const hash = r.chance(0.4);
    const key = hash ? '%r10-16' : '%r10-4';
    if (hash) this.emit(`stdw [${key}], ${r.int(4)}`);
    else this.emit(`stw [${key}], ${r.chance(0.8) ? r.int(4) : 100}`);
    this.emit(`lddw %r1, map[${hash ? 2 : 1}]`, 'mov %r2, %r10', `add %r2, ${hash ? -16 : -4}`, 'call 1');
    const into = r.pick(['%r8', '%r9']);
    this.emit(`mov ${into}, %r0`);
    const out = this.fresh();
    if (r.chance(0.85)) {
      this.emit(`jeq ${into}, 0, ${out}`);
      this.tail.push(`${out}:`, 'mov %r0, 1', 'exit');
    }
    const limit = hash ? 8 : 16;
    if (r.chance(0.4)) {
      this.scalar('%r5');
      this.emit(`and %r5, ${r.pick([3, 7, 8, 15, 16])}`, `add ${into}, %r5`);
    }
    const [suffix, size] = r.pick(SIZES);
    const at = this.near(Math.max(1, limit - size + 1));
    if (r.chance(0.3)) this.emit(`lock add [${into}+${at - (at % 8)}], %r7`);
    else if (r.chance(0.5)) this.emit(`ldx${suffix} %r7, [${into}+${at}]`);
    else this.emit(`stx${suffix} [${into}+${at}], %r7`);
  }

  /** A helper that reads or writes the stack. */
  private helper(): void {
    const r = this.rng;
    switch (r.int(4)) {
      case 0: {
        // map_update_elem with key and value on the stack
        this.emit('stw [%r10-4], 1', 'lddw %r1, map[1]', 'mov %r2, %r10', 'add %r2, -4');
        this.emit('mov %r3, %r10', `add %r3, ${-8 * (2 + r.int(3))}`, 'mov %r4, 0', 'call 2');
        break;
      }
      case 1: {
        // xdp_load_bytes into the stack, sometimes over a spilled pointer that is then filled
        const n = 1 + r.int(16);
        const slot = -8 * (1 + r.int(4));
        const spill = r.chance(0.4) ? r.pick(['%r6', '%r10']) : undefined;
        if (spill !== undefined) this.emit(`stxdw [%r10${slot}], ${spill}`);
        this.emit('mov %r1, %r6', `mov %r2, ${r.int(8)}`, 'mov %r3, %r10', `add %r3, ${slot}`);
        this.emit(`mov %r4, ${n}`, 'call 189');
        if (spill !== undefined) {
          const use = spill === '%r6' ? 'ldxw %r0, [%r7+0]' : 'ldxb %r0, [%r7-1]';
          this.emit(`ldxdw %r7, [%r10${slot}]`, use, 'mov %r7, 0');
        }
        break;
      }
      case 2: {
        // csum_diff over stack bytes
        this.emit('mov %r1, %r10', `add %r1, ${-8 * (1 + r.int(4))}`, `mov %r2, ${4 * (1 + r.int(2))}`);
        this.emit('mov %r3, 0', 'mov %r4, 0', r.chance(0.2) ? 'mov %r5, %r7' : 'mov %r5, 0', 'call 28');
        this.emit('mov %r7, %r0');
        break;
      }
      default: {
        // strtol with its result on the stack
        this.emit('mov %r1, %r10', 'add %r1, -32', 'mov %r2, 4', 'mov %r3, 0', 'mov %r4, %r10');
        this.emit(`add %r4, ${-8 * (1 + r.int(3))}`, 'call 105');
      }
    }
  }

  /**
   * A bpf-to-bpf call passing a stack pointer down; the callee reads or writes through it. Some
   * calls go to a function called before, from another call site: what follows the second call
   * must be checked too.
   */
  private call(): void {
    const r = this.rng;
    const slot = -8 * (1 + r.int(4));
    if (this.functions.length > 0 && r.chance(0.4)) {
      // the same function from both arms of a branch, from the same state; only the arm a run
      // takes (ingress_ifindex is 1) goes on with more code, which must be checked after its call
      const again = `f${r.int(this.functions.length)}`;
      const setup = [
        `mov %r1, %r10`,
        `add %r1, ${slot}`,
        'mov %r2, %r7',
        `call local ${again}`,
        'mov %r7, %r0',
      ];
      const other = this.fresh();
      const join = this.fresh();
      this.emit('ldxw %r0, [%r6+12]', `jne %r0, 0, ${other}`, ...setup, `ja ${join}`, `${other}:`, ...setup);
      r.pick([() => this.packet(), () => this.lookup(), () => this.refill(), () => this.stack()])();
      this.emit(`${join}:`);
      return;
    }
    const name = `f${this.functions.length}`;
    this.emit(`mov %r1, %r10`, `add %r1, ${slot}`, 'mov %r2, %r7', `call local ${name}`, 'mov %r7, %r0');
    const body: string[] = [`${name}:`];
    if (r.chance(0.3)) body.push(`stxdw [%r10-8], ${r.pick(['%r1', '%r2', '%r10'])}`);
    if (r.chance(0.5)) body.push(`ldx${r.pick(SIZES)[0]} %r0, [%r1+0]`);
    else body.push(`stx${r.pick(SIZES)[0]} [%r1+0], ${r.pick(['%r2', '%r10'])}`, 'mov %r0, 0');
    if (r.chance(0.2)) body.push(`stdw [%r10-${8 * (1 + r.int(64))}], 0`);
    body.push('exit');
    this.functions.push(body.join('\n'));
  }

  /**
   * A fill of a slot an earlier piece may have spilled to, then overwritten (by a store or a
   * helper), used as a pointer: only sound if the verifier still knows what the slot holds.
   */
  private refill(): void {
    const r = this.rng;
    const slot = -8 * (1 + r.int(8));
    const into = r.pick(['%r7', '%r8', '%r9']);
    this.emit(`ldxdw ${into}, [%r10${slot}]`);
    const [suffix] = r.pick(SIZES);
    if (r.chance(0.6)) this.emit(`ldx${suffix} %r0, [${into}+0]`);
    else this.emit(`stx${suffix} [${into}+0], %r7`);
    this.emit(`mov ${into}, 0`);
  }

  /** A bounded loop, or a join of two paths that pruning must tell apart. */
  private loopOrJoin(): void {
    const r = this.rng;
    if (r.chance(0.5)) {
      const head = this.fresh();
      this.emit('mov %r5, 0', `${head}:`, `add %r7, %r5`, 'add %r5, 1', `jlt %r5, ${1 + r.int(6)}, ${head}`);
      return;
    }
    const other = this.fresh();
    const join = this.fresh();
    this.emit('ldxw %r5, [%r6+16]', `jne %r5, 0, ${other}`);
    this.emit(r.chance(0.5) ? 'mov %r7, 0' : 'stdw [%r10-8], 0', `ja ${join}`, `${other}:`);
    this.emit(r.chance(0.5) ? 'mov %r7, %r10' : 'stxdw [%r10-8], %r10', `${join}:`);
    this.emit(r.chance(0.5) ? 'ldxdw %r7, [%r10-8]' : 'mov %r0, %r7');
  }

  build(): GeneratedProgram {
    const r = this.rng;
    this.emit(
      'mov %r6, %r1',
      'mov %r7, 0',
      'mov %r8, 0',
      'mov %r9, 0',
      'stdw [%r10-8], 0',
      'stdw [%r10-16], 0',
    );
    this.emit('stdw [%r10-24], 0', 'stdw [%r10-32], 0');
    const pieces = 1 + r.int(5);
    for (let i = 0; i < pieces; i++) {
      r.pick([
        () => this.packet(),
        () => this.scalar('%r7'),
        () => this.stack(),
        () => this.lookup(),
        () => this.helper(),
        () => this.call(),
        () => this.loopOrJoin(),
        () => this.meta(),
        () => this.refill(),
      ])();
    }
    this.emit(r.chance(0.1) ? 'mov %r0, %r7' : `mov %r0, ${r.int(4)}`, 'exit');
    const text = [...this.lines, ...this.tail, ...this.functions].join('\n');
    return { insns: assemble(text), maps: GENERATED_MAPS, text };
  }
}

/** The program of one seed. */
export function generateProgram(seed: number): GeneratedProgram {
  return new Builder(new Rng(seed)).build();
}
