/**
 * Runs bpf_conformance test files: parse the sections, assemble (or take the raw words), run with
 * the suite's register contract, and compare r0.
 *
 * @module
 */
import type { BpfInsn } from '../../codec/index.js';
import { assemble } from './asm.js';
import { EngineFault } from './fault.js';
import { AddressSpace } from './memory.js';
import { decodeProgram } from './program.js';
import { Vm } from './vm.js';

/** A parsed conformance test. */
export interface ConformanceTest {
  /** The program. */
  readonly insns: BpfInsn[];
  /** Memory handed to the program (r1 points at it, r2 holds its length). */
  readonly memory: Uint8Array;
  /** Expected r0, or undefined when the test expects an error. */
  readonly result: bigint | undefined;
  /** Expected error text, when the test expects one. */
  readonly error: string | undefined;
}

/** The outcome of one test. */
export interface ConformanceOutcome {
  /** The file. */
  readonly name: string;
  /** Whether r0 (or the error) matched. */
  readonly passed: boolean;
  /** What happened. */
  readonly detail: string;
}

/** A file that is not a bpf_conformance test: no program, no expectation, or values that do not parse. */
export class ConformanceFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceFormatError';
  }
}

/** A number as the suite writes it (decimal or 0x hex), or a ConformanceFormatError. */
function suiteNumber(text: string, what: string): bigint {
  if (!/^(0x[0-9a-fA-F]+|-?[0-9]+)$/.test(text))
    throw new ConformanceFormatError(`${what} '${text.slice(0, 40)}' is not a number`);
  return BigInt(text);
}

/** Splits a test file into its `-- name` sections. */
function sections(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const raw of text.split('\n')) {
    const head = /^--\s*(.*?)\s*$/.exec(raw);
    if (head !== null) {
      current = [];
      out.set(head[1] as string, current);
    } else current?.push(raw);
  }
  return out;
}

/** The slots of a `-- raw` section (one 64-bit little-endian word per line). */
export function rawWords(lines: readonly string[]): BpfInsn[] {
  const out: BpfInsn[] = [];
  for (const line of lines) {
    const t = line.replace(/#.*$/, '').trim();
    if (t === '') continue;
    const w = BigInt.asUintN(64, suiteNumber(t, 'a -- raw word'));
    out.push({
      code: Number(w & 0xffn),
      dst_reg: Number((w >> 8n) & 0xfn),
      src_reg: Number((w >> 12n) & 0xfn),
      off: Number(BigInt.asIntN(16, (w >> 16n) & 0xffffn)),
      imm: Number(BigInt.asIntN(32, w >> 32n)),
    });
  }
  return out;
}

/**
 * Parses a conformance file's text.
 *
 * @throws ConformanceFormatError for text without the sections of a conformance test.
 */
export function parseConformance(text: string): ConformanceTest {
  const s = sections(text);
  const asm = s.get('asm');
  const raw = s.get('raw');
  if (asm === undefined && raw === undefined)
    throw new ConformanceFormatError('no -- asm or -- raw section: not a bpf_conformance test');
  if (!s.has('result') && !s.has('error'))
    throw new ConformanceFormatError('no -- result or -- error section: not a bpf_conformance test');
  const insns = asm !== undefined ? assemble(asm.join('\n')) : rawWords(raw ?? []);
  const mem = (s.get('mem') ?? [])
    .map((line) => line.replace(/#.*$/, ''))
    .join(' ')
    .trim();
  const bytes = mem === '' ? [] : mem.split(/\s+/);
  for (const b of bytes)
    if (!/^[0-9a-fA-F]{2}$/.test(b))
      throw new ConformanceFormatError(`-- mem byte '${b.slice(0, 20)}' is not hex`);
  const memory = Uint8Array.from(bytes, (b) => parseInt(b, 16));
  const resultText = (s.get('result') ?? []).join('').replace(/#.*$/, '').trim();
  const errorText = (s.get('error') ?? []).join('\n').trim();
  return {
    insns,
    memory,
    result: resultText === '' ? undefined : BigInt.asUintN(64, suiteNumber(resultText, '-- result')),
    error: errorText === '' ? undefined : errorText,
  };
}

/** The outcome of running a program under the suite's contract: r0, or the fault. */
export function runConformanceProgram(insns: readonly BpfInsn[], memory: Uint8Array): bigint | EngineFault {
  const space = new AddressSpace();
  const vm = new Vm(space);
  // The suite's helper 5 returns its first argument (uBPF's "unwind" helper, which never fails here).
  vm.helpers[5] = (v) => {
    v.lo[0] = v.lo[1] as number;
    v.hi[0] = v.hi[1] as number;
  };
  if (memory.length > 0) {
    const region = space.alloc('mem', memory);
    vm.hi[1] = space.hiOf(region);
    vm.lo[1] = space.loOf(0);
  }
  vm.setReg(2, BigInt(memory.length));
  try {
    vm.execute(decodeProgram(insns));
    return vm.reg(0);
  } catch (error) {
    if (error instanceof EngineFault) return error;
    throw error;
  }
}

/**
 * What runs a conformance program: r0, or why it did not finish (this engine's {@link EngineFault},
 * or an external engine's refusal).
 */
export type ConformanceRunner = (
  insns: readonly BpfInsn[],
  memory: Uint8Array,
) => bigint | ConformanceFailure;

/** Why a conformance program did not finish. */
export interface ConformanceFailure {
  /** The reason, for the report. */
  readonly message: string;
}

/** Runs one conformance test (on this engine unless another runner is given). */
export function runConformanceTest(
  name: string,
  test: ConformanceTest,
  runner: ConformanceRunner = runConformanceProgram,
): ConformanceOutcome {
  const outcome = runner(test.insns, Uint8Array.from(test.memory));
  if (typeof outcome !== 'bigint') {
    if (test.error !== undefined)
      return { name, passed: true, detail: `failed as expected: ${outcome.message}` };
    return { name, passed: false, detail: outcome.message };
  }
  if (test.result === undefined)
    return { name, passed: false, detail: `returned 0x${outcome.toString(16)}, expected an error` };
  const passed = outcome === test.result;
  return {
    name,
    passed,
    detail: passed
      ? `r0 = 0x${outcome.toString(16)}`
      : `r0 = 0x${outcome.toString(16)}, expected 0x${test.result.toString(16)}`,
  };
}

/**
 * Runs a conformance test from its text. A test that cannot be assembled fails with the reason;
 * text that is not a conformance test at all throws {@link ConformanceFormatError}.
 *
 * @example
 * ```ts
 * const outcome = runConformanceSource('add', '-- asm\nmov %r0, 1\nadd %r0, 2\nexit\n-- result\n0x3\n');
 * console.log(outcome.passed, outcome.detail); // true r0 = 0x3
 * ```
 * @throws ConformanceFormatError for text without the sections of a conformance test.
 */
export function runConformanceSource(
  name: string,
  text: string,
  runner: ConformanceRunner = runConformanceProgram,
): ConformanceOutcome {
  let test: ConformanceTest;
  try {
    test = parseConformance(text);
  } catch (error) {
    if (error instanceof ConformanceFormatError) throw error;
    return {
      name,
      passed: false,
      detail: `cannot load: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  return runConformanceTest(name, test, runner);
}
