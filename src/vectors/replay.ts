/**
 * Replays every vector file under a directory, dispatching on each file's `format`.
 *
 * @module
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CODEC_VECTORS_FORMAT, replayCodecFile, type VectorOutcome } from './codec-vectors.js';
import { XDP_RUNS_FORMAT, replayXdpRunFile, replayXdpRunFileOn } from './xdp-vectors.js';
import { VERIFIER_FORMAT, replayVerifierFile, replayVerifierFileOn } from './verifier-vectors.js';
import { SCENARIO_FORMAT, replayScenarioFile, replayScenarioFileOn } from './scenario-vectors.js';
import type { DeviceUnderTest } from '../harness/kit/device-under-test.js';
import type { EngineUnderTest } from '../harness/kit/engine-protocol.js';
import type { VerifierUnderTest } from '../harness/kit/verifier-protocol.js';
import { PROGRAM_CONFORMANCE_FORMAT, replayProgramConformanceFile } from './program-vectors.js';
import type { PacketSink } from '../harness/pcapng.js';

/** The outcomes of one vector file. */
export interface FileOutcome {
  /** Path of the file, relative to the directory replayed. */
  readonly file: string;
  /** The file's format tag. */
  readonly format: string;
  /** One outcome per vector (or one failed outcome for an unusable file). */
  readonly outcomes: readonly VectorOutcome[];
}

/** A whole replay. */
export interface ReplaySummary {
  /** Per-file outcomes. */
  readonly files: readonly FileOutcome[];
  /** Vectors that replayed as stated. */
  readonly passed: number;
  /** Vectors that did not (and unusable files). */
  readonly failed: number;
}

const REPLAYERS: Record<string, (document: unknown, sink?: PacketSink) => VectorOutcome[]> = {
  [CODEC_VECTORS_FORMAT]: replayCodecFile,
  [XDP_RUNS_FORMAT]: replayXdpRunFile,
  [VERIFIER_FORMAT]: replayVerifierFile,
  [SCENARIO_FORMAT]: replayScenarioFile,
  [PROGRAM_CONFORMANCE_FORMAT]: replayProgramConformanceFile,
};

/** Largest vector file replay reads (the largest shipped one holds 7 MB). */
export const VECTOR_FILE_LIMIT = 64 << 20;

/** The vector files (JSON, outside `schema/` folders) under a path, sorted. */
export function vectorFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const out: string[] = [];
  for (const name of readdirSync(path).sort()) {
    const child = join(path, name);
    if (statSync(child).isDirectory()) {
      if (name !== 'schema') out.push(...vectorFiles(child));
    } else if (name.endsWith('.json')) out.push(child);
  }
  return out;
}

/**
 * Replays one file. An unreadable file or an unknown format is one failed outcome. Frames the
 * replay processes (XDP runs, scenario packets) go to `sink` when one is given.
 *
 * @example
 * ```ts
 * const file = replayFile('vectors/xdp/xdp1.json');
 * console.log(file.format, file.outcomes.filter((o) => !o.passed).length); // ...xdp-runs/1 0
 * ```
 */
export function replayFile(path: string, root = path, sink?: PacketSink): FileOutcome {
  const file = relative(root, path) || path;
  const read = readVectorDocument(path, file);
  return 'refused' in read ? read.refused : replayDocument(read.document, file, sink);
}

/** A vector file's parsed document, or the failed outcome of a file that cannot be read. */
function readVectorDocument(path: string, file: string): { document: unknown } | { refused: FileOutcome } {
  const refuse = (detail: string) => ({
    refused: { file, format: '?', outcomes: [{ name: 'read', passed: false, detail }] },
  });
  try {
    const info = statSync(path);
    if (!info.isFile()) return refuse('not a regular file');
    const size = info.size;
    if (size > VECTOR_FILE_LIMIT)
      return refuse(`${size} bytes: more than the ${VECTOR_FILE_LIMIT} a vector file may hold`);
    return { document: JSON.parse(readFileSync(path, 'utf8')) };
  } catch (error) {
    return refuse(
      error instanceof Error ? `${error.name}: ${error.message.split('\n')[0] ?? ''}` : String(error),
    );
  }
}

/**
 * Replays one parsed vector document, dispatching on its `format`, under the name `file` (a path,
 * or `standard input`). An unknown format is one failed outcome.
 */
export function replayDocument(document: unknown, file: string, sink?: PacketSink): FileOutcome {
  const format = (document as { format?: unknown } | null)?.format;
  const replay = typeof format === 'string' ? REPLAYERS[format] : undefined;
  if (replay === undefined) {
    return {
      file,
      format: String(format),
      outcomes: [{ name: 'format', passed: false, detail: `unknown format ${String(format)}` }],
    };
  }
  return { file, format: format as string, outcomes: replay(document, sink) };
}

/**
 * Replays every vector file under the given paths (frames to `sink`, if given), telling `onFile`
 * after each file how many of how many are done.
 *
 * @example
 * ```ts
 * const summary = replayPaths(['vectors/codec', 'vectors/scenarios']);
 * console.log(`${summary.passed} passed, ${summary.failed} failed`);
 * ```
 */
export function replayPaths(
  paths: readonly string[],
  sink?: PacketSink,
  onFile?: (done: number, total: number, outcome: FileOutcome) => void,
): ReplaySummary {
  const jobs = replayJobs(paths);
  const files: FileOutcome[] = [];
  for (const { path, root } of jobs) {
    files.push(replayFile(path, root, sink));
    onFile?.(files.length, jobs.length, files[files.length - 1] as FileOutcome);
  }
  return summarize(files);
}

/** Every vector file under the paths, with the root its name is relative to. */
function replayJobs(paths: readonly string[]): { path: string; root: string }[] {
  return paths.flatMap((root) => {
    const isDir = statSync(root).isDirectory();
    return vectorFiles(root).map((path) => ({ path, root: isDir ? root : path }));
  });
}

/** The implementations under test a replay drives: each replays the vector formats that are its own. */
export interface ReplayTargets {
  /** Replays the scenario files. */
  readonly device?: DeviceUnderTest;
  /** Replays the XDP run files. */
  readonly engine?: EngineUnderTest;
  /** Replays the verifier vector files. */
  readonly verifier?: VerifierUnderTest;
}

/** The replayer of a format on the targets, or undefined when no target replays it. */
function targetReplayer(format: unknown, targets: ReplayTargets) {
  const { device, engine, verifier } = targets;
  if (format === SCENARIO_FORMAT && device !== undefined)
    return (document: unknown) => replayScenarioFileOn(document, device);
  if (format === XDP_RUNS_FORMAT && engine !== undefined)
    return (document: unknown) => replayXdpRunFileOn(document, engine);
  if (format === VERIFIER_FORMAT && verifier !== undefined)
    return (document: unknown) => replayVerifierFileOn(document, verifier);
  return undefined;
}

/**
 * Replays the vector files under the given paths on implementations under test: scenario files on
 * the device, XDP run files on the engine, verifier files on the verifier (files no target
 * replays are left out). A scenario's outcome lists every step that differs.
 *
 * @throws ProtocolFailure when an implementation breaks its protocol.
 */
export async function replayPathsOn(
  paths: readonly string[],
  targets: ReplayTargets,
  onFile?: (done: number, total: number, outcome: FileOutcome) => void,
): Promise<ReplaySummary> {
  const files: FileOutcome[] = [];
  const jobs = replayJobs(paths);
  for (const [i, { path, root }] of jobs.entries()) {
    const file = relative(root, path) || path;
    const read = readVectorDocument(path, file);
    const format = 'refused' in read ? undefined : (read.document as { format?: unknown } | null)?.format;
    const replay = 'refused' in read ? undefined : targetReplayer(format, targets);
    const outcome =
      'refused' in read
        ? read.refused
        : replay === undefined
          ? undefined
          : { file, format: String(format), outcomes: await replay(read.document) };
    if (outcome === undefined) continue;
    files.push(outcome);
    onFile?.(i + 1, jobs.length, outcome);
  }
  return summarize(files);
}

/** The totals of some replayed files. */
export function summarize(files: readonly FileOutcome[]): ReplaySummary {
  let passed = 0;
  let failed = 0;
  for (const f of files)
    for (const o of f.outcomes)
      if (o.passed) passed++;
      else failed++;
  return { files, passed, failed };
}
