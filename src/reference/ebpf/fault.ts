/**
 * Typed run-time faults: a bad access or instruction stops the program with one of these, never with
 * a JavaScript exception or an out-of-bounds read.
 *
 * @module
 */

/** Why a program stopped abnormally. */
export type FaultKind =
  | 'invalid-instruction'
  | 'out-of-bounds'
  | 'bad-pointer'
  | 'read-only'
  | 'bad-context-access'
  | 'unknown-helper'
  | 'helper-argument'
  | 'call-depth'
  | 'budget';

/** A run-time fault at instruction `pc`. */
export class EngineFault extends Error {
  /** The class of fault. */
  readonly kind: FaultKind;
  /** Index of the faulting instruction slot. */
  readonly pc: number;

  constructor(kind: FaultKind, pc: number, detail: string) {
    super(`${kind} at instruction ${pc}: ${detail}`);
    this.name = 'EngineFault';
    this.kind = kind;
    this.pc = pc;
  }
}
