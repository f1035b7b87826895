// Shared plumbing of the subcommands: exit codes, usage errors, argument parsing and output.
import { parseArgs } from 'node:util';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { CodecError } from '../codec/index.js';

/** Exit codes every subcommand uses. */
export const EXIT = { ok: 0, failed: 1, usage: 2, internal: 70 } as const;

/** Bad usage or bad input: the CLI prints the message on one line and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A subcommand. */
export interface Subcommand {
  readonly name: string;
  readonly summary: string;
  readonly help: string;
  /** Runs the subcommand: its exit code, or a promise of it for one that waits on another process. */
  run(args: string[], out: Output): number | Promise<number>;
}

/** Where a subcommand writes. */
export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether standard error is a terminal (progress is shown there unasked). */
  readonly interactive?: boolean;
}

/**
 * Progress for a run that may take more than a second, after bpftool's and tshark's habit: lines
 * on standard error, at most one a second, when it is a terminal or `--progress` asks for them;
 * nothing otherwise (so a pipe or a log gets only the result). Undefined when progress is off.
 */
export function progressReporter(out: Output, parsed: Parsed): ((line: string) => void) | undefined {
  if (parsed.values.progress !== true && out.interactive !== true) return undefined;
  let last = Date.now();
  return (line) => {
    const now = Date.now();
    if (now - last < 1000) return;
    last = now;
    out.stderr(line);
  };
}

/** Parsed options: strings for string options, booleans for flags. */
export interface Parsed {
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: string[];
}

/**
 * Parses options strictly; unknown options and missing values are usage errors. A
 * string option followed by a negative number (`--repeat -5`) takes it as its value, so the
 * option's own check, not the parser, says what is wrong with it.
 */
export function parse(
  args: string[],
  options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>,
): Parsed {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const next = args[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  try {
    const { values, positionals } = parseArgs({
      args: joined,
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values, positionals };
  } catch (error) {
    throw new UsageError(error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error));
  }
}

/** A string option's value, or undefined. */
export function stringOption(parsed: Parsed, name: string): string | undefined {
  const v = parsed.values[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * An integer option: its value within [min, max], `fallback` when absent; anything else is a usage
 * error naming the option and the range.
 */
export function integerOption(
  parsed: Parsed,
  name: string,
  range: { readonly min: number; readonly max: number },
  fallback: number,
): number {
  const text = stringOption(parsed, name);
  if (text === undefined) return fallback;
  const value = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max)
    throw new UsageError(`--${name} must be an integer from ${range.min} to ${range.max}, got '${text}'`);
  return value;
}

/** Most bytes the CLI reads from any one input (a file, `@file` or standard input). */
export const INPUT_LIMIT = 16 << 20;

/**
 * The bytes of a file (or, for `-`, standard input), read only when it is a regular file, a pipe or
 * a terminal of at most `limit` bytes: a missing file, a directory or a larger input is a usage
 * error naming `what` and the path, before anything is parsed.
 */
export function readInputFile(path: string, what: string, limit = INPUT_LIMIT): Uint8Array {
  const name = path === '-' ? 'standard input' : path;
  let fd: number;
  if (path === '-') fd = 0;
  else {
    let info;
    try {
      info = statSync(path);
    } catch {
      throw new UsageError(`${what}: no such file: ${path}`);
    }
    if (info.isDirectory()) throw new UsageError(`${what}: ${path} is a directory, not a file`);
    if (info.isFile() && info.size > limit)
      throw new UsageError(`${what}: ${path} is ${info.size} bytes, more than the ${limit} this reads`);
    try {
      fd = openSync(path, 'r');
    } catch (error) {
      throw new UsageError(
        `${what}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
  }
  try {
    // Read in chunks up to one byte past the limit, so a pipe or device cannot make us hold more.
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const chunk = new Uint8Array(Math.min(1 << 20, limit + 1 - total));
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') continue;
        if (code === 'EOF') break;
        throw new UsageError(`${what}: cannot read ${name}: ${code ?? 'error'}`);
      }
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > limit) throw new UsageError(`${what}: ${name} is more than the ${limit} bytes this reads`);
    }
    return Buffer.concat(chunks);
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}

/** An argument given inline, or `@path` to read it from a file, or `-` for standard input. */
export function readArgument(text: string, what = 'argument', limit = INPUT_LIMIT): string {
  if (text.length > limit) throw new UsageError(`${what}: more than the ${limit} characters this reads`);
  if (text === '-' || text.startsWith('@'))
    return Buffer.from(readInputFile(text === '-' ? '-' : text.slice(1), what, limit)).toString('utf8');
  return text;
}

/** One line for an error a subcommand reports with exit code 2. */
export function oneLine(error: unknown): string {
  // A CodecError's message already reads "kind: field at byte N: detail".
  if (error instanceof CodecError) return `error: ${error.message}`;
  if (error instanceof Error) return `error: ${error.message.split('\n')[0] ?? ''}`;
  return `error: ${String(error)}`;
}

/** What `--json` prints for a refusal: the message, and for a CodecError its kind, field and offset. */
export function errorJson(error: unknown): {
  error: { message: string; type: string; kind?: string; field?: string; offset?: number };
} {
  const message = oneLine(error).replace(/^error: /, '');
  const type = error instanceof Error ? error.name : 'Error';
  if (error instanceof CodecError)
    return { error: { message, type, kind: error.kind, field: error.field, offset: error.offset } };
  const offset = (error as { offset?: unknown } | null)?.offset;
  return { error: { message, type, ...(typeof offset === 'number' ? { offset } : {}) } };
}

/** JSON text with bigints as decimal strings. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}
