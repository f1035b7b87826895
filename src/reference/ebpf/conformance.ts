/**
 * Runs bpf_conformance test files: parse the sections, assemble (or take the raw words), run with
 * the suite's register contract, and compare r0.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
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
    const w = BigInt.asUintN(64, BigInt(t));
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

/** Parses a conformance file's text. */
export function parseConformance(text: string): ConformanceTest {
  const s = sections(text);
  const asm = s.get('asm');
  const raw = s.get('raw');
  const insns = asm !== undefined ? assemble(asm.join('\n')) : rawWords(raw ?? []);
  const mem = (s.get('mem') ?? []).join(' ').replace(/#.*$/gm, '').trim();
  const memory = mem === '' ? new Uint8Array(0) : Uint8Array.from(mem.split(/\s+/), (b) => parseInt(b, 16));
  const resultText = (s.get('result') ?? []).join('').replace(/#.*$/, '').trim();
  const errorText = (s.get('error') ?? []).join('\n').trim();
  return {
    insns,
    memory,
    result: resultText === '' ? undefined : BigInt.asUintN(64, BigInt(resultText)),
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

/** Runs one conformance test. */
export function runConformanceTest(name: string, test: ConformanceTest): ConformanceOutcome {
  const outcome = runConformanceProgram(test.insns, Uint8Array.from(test.memory));
  if (outcome instanceof EngineFault) {
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

/** Runs a conformance file. A file that cannot be parsed or assembled fails with the reason. */
export function runConformanceFile(path: string): ConformanceOutcome {
  let test: ConformanceTest;
  try {
    test = parseConformance(readFileSync(path, 'utf8'));
  } catch (error) {
    return {
      name: path,
      passed: false,
      detail: `cannot load: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  return runConformanceTest(path, test);
}
