/**
 * The host kernel's table of loaded BPF programs, as a VMM sees it: a program loaded with `bpf()`
 * is an open file descriptor and has a kernel-wide id. Only the host sees either; the device never
 * passes them to the guest ([dev-map-handle], section X.12).
 *
 * @module
 */
import type { DecodedProgram } from '../ebpf/program.js';

/** Program types the model distinguishes: XDP, and anything else (to test the tap's EINVAL). */
export type HostProgramType = 'xdp' | 'socket_filter';

/** A loaded program. */
export interface HostProgram {
  /** Kernel-wide id (what TUNXDPOFFLOAD QUERY reports as `prog_id`). */
  readonly id: number;
  /** Its program type. */
  readonly type: HostProgramType;
  /** The program, ready to run in the host engine. */
  readonly program: DecodedProgram;
  /** Instruction slots, as loaded. */
  readonly insnCnt: number;
}

/** Open program file descriptors of one host process, and the ids behind them. */
export class HostPrograms {
  private readonly byFd = new Map<number, HostProgram>();
  // fds 0-2 are stdio; ids are never reused, as in Linux's idr.
  private nextFd: number;
  private nextId: number;

  /** `offset` shifts every fd and id (a differential run uses it to prove none reaches the guest). */
  constructor(offset = 0) {
    this.nextFd = 3 + offset;
    this.nextId = 1 + offset;
  }

  /** Loads a program and returns its file descriptor. */
  load(type: HostProgramType, program: DecodedProgram, insnCnt: number): number {
    const fd = this.nextFd++;
    this.byFd.set(fd, { id: this.nextId++, type, program, insnCnt });
    return fd;
  }

  /** The program an fd refers to, if it is an open program fd. */
  get(fd: number): HostProgram | undefined {
    return this.byFd.get(fd);
  }

  /** Closes an fd (the program lives on while something holds it, as in Linux). */
  close(fd: number): boolean {
    return this.byFd.delete(fd);
  }

  /** Number of open program fds. */
  get open(): number {
    return this.byFd.size;
  }
}
