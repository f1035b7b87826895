/**
 * Program conformance vectors: the normative corpus of section X.8.6. Each program is sent to a
 * device exactly as a driver would send it (its maps created with MAP_CREATE, handles 1, 2, ... in
 * order; then PROG_LOAD), under the device's default capabilities, and the device's status must
 * be the vector's: OK for a program every device must accept, the given status for a program every
 * device must refuse. Between the two, a device may refuse; no vector says so.
 *
 * @module
 */
import {
  LogLevel,
  ProgLoadFlag,
  WRITABLE_HEADER_SIZE,
  XdpStatus,
  encodeRequest,
  xdpProgLoad,
  mapCreateOf,
  nameOf,
  parseHex,
  type ControlRequest,
  type XdpStatusName,
} from '../codec/index.js';
import { Topology } from '../reference/topology.js';
import { ControlElement, writableRoomFor } from '../reference/virtqueue/element.js';
import type { VectorOutcome } from './codec-vectors.js';
import { schemaErrors } from './schema.js';
import { definitionOfVectorMap, type VectorMapDefinition } from './xdp-vectors.js';

/** The format tag of program conformance files. */
export const PROGRAM_CONFORMANCE_FORMAT = 'virtio-xdp-offload/program-conformance/1';

/** One program of the corpus. */
export interface ProgramConformanceVector {
  /** Its name (as in the verifier corpus it was drawn from). */
  readonly name: string;
  /** What it does, and why a device must accept or refuse it. */
  readonly about: string;
  /** Instruction slots, hex. */
  readonly insns: string;
  /** Its maps, created in order as handles 1, 2, ... */
  readonly maps: readonly VectorMapDefinition[];
  /** The status every conforming device answers the PROG_LOAD with. */
  readonly status: XdpStatusName;
  /** Informative: Linux 6.1's errno for the same program loaded unprivileged (0 when it loads). */
  readonly linux_errno: number;
}

/** A program conformance file: one half of the corpus. */
export interface ProgramConformanceFile {
  /** {@link PROGRAM_CONFORMANCE_FORMAT}. */
  readonly format: string;
  /** `accept`: every device must load each program; `refuse`: every device must refuse each. */
  readonly part: 'accept' | 'refuse';
  /** What the file holds. */
  readonly description: string;
  /** The programs. */
  readonly programs: readonly ProgramConformanceVector[];
}

/** What a device answered a program's load. */
export interface LoadStatus {
  /** The status of the last command sent. */
  readonly status: number;
  /** That command: a MAP_CREATE the device refused, or the PROG_LOAD. */
  readonly stage: 'MAP_CREATE' | 'PROG_LOAD';
}

/** Sends one request to a device as a conforming driver frames it; the status it answers. */
function statusOf(t: Topology, request: ControlRequest): number {
  const element = ControlElement.forControlRequest(request);
  return element.readResult(request, t.device.serve(element).used).status;
}

/**
 * The status the reference device answers a program's PROG_LOAD with, after creating its maps;
 * a map the device refuses is reported as that MAP_CREATE's status.
 */
export function loadStatus(program: Pick<ProgramConformanceVector, 'insns' | 'maps'>): LoadStatus {
  const t = new Topology();
  t.device.setFeatures(t.device.offeredFeatures());
  for (const m of program.maps) {
    const status = statusOf(t, { command: 'MAP_CREATE', data: mapCreateOf(definitionOfVectorMap(m)) });
    if (status !== XdpStatus.OK) return { status, stage: 'MAP_CREATE' };
  }
  // The instructions go to the device as the corpus has them, byte for byte: a malformed program
  // (which a strict encoder would refuse to write) must reach the device's own checks.
  const insns = parseHex(program.insns) ?? new Uint8Array(0);
  // The codec writes the request's fixed part (encoded around one slot, which is then cut off).
  const exit = { code: 0x95, dst_reg: 0, src_reg: 0, off: 0, imm: 0 };
  const header = encodeRequest({
    command: 'PROG_LOAD',
    data: {
      insn_cnt: 1,
      log_size: 0,
      log_level: LogLevel.NONE,
      prog_flags: ProgLoadFlag.GPL_COMPATIBLE,
      insns: [exit],
    },
  }).subarray(0, 2 + xdpProgLoad.headerSize);
  const readable = new Uint8Array(header.length + insns.length);
  readable.set(header, 0);
  readable.set(insns, header.length);
  // insn_cnt counts the slots that follow (the header's 2 bytes come first)
  new DataView(readable.buffer).setUint32(
    2 + (xdpProgLoad.offsets.insn_cnt as number),
    insns.length / 8,
    true,
  );
  const element = ControlElement.forRequest(readable, writableRoomFor(readable));
  const answer = element.readAnswer(t.device.serve(element).used);
  const status =
    answer.length >= WRITABLE_HEADER_SIZE ? (answer[1] as number) | ((answer[2] as number) << 8) : -1;
  return { status, stage: 'PROG_LOAD' };
}

/** Schema-checks and replays a program conformance file through the reference device. */
export function replayProgramConformanceFile(document: unknown): VectorOutcome[] {
  const errors = schemaErrors('program-conformance.schema.json', document);
  if (errors.length > 0) return [{ name: 'schema', passed: false, detail: errors.join('; ') }];
  const file = document as ProgramConformanceFile;
  return file.programs.map((p) => {
    const { status, stage } = loadStatus(p);
    const got = String(nameOf(XdpStatus, status) ?? status);
    const wrongPart = (file.part === 'accept') !== (p.status === 'OK');
    const passed = !wrongPart && stage === 'PROG_LOAD' && got === p.status;
    const detail = wrongPart
      ? `status ${p.status} in the ${file.part} part`
      : passed
        ? ''
        : `${stage} answered ${got}, the corpus says ${p.status}`;
    return { name: p.name, passed, detail };
  });
}
