// Shared plumbing of the subcommands: exit codes, usage errors, argument parsing and output.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { CodecError } from '../codec/index.js';

/** Exit codes every subcommand uses. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Bad usage or bad input: the CLI prints the message on one line and exits 2. */
export class UsageError extends Error {}

/** A subcommand. */
export interface Subcommand {
  readonly name: string;
  readonly summary: string;
  readonly help: string;
  run(args: string[], out: Output): number;
}

/** Where a subcommand writes. */
export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Parsed options: strings for string options, booleans for flags. */
export interface Parsed {
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: string[];
}

/** Parses options strictly (plus `--help`); unknown options and missing values are usage errors. */
export function parse(
  args: string[],
  options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>,
): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    return { values, positionals };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.split('\n')[0] : String(error));
  }
}

/** A string option's value, or undefined. */
export function stringOption(parsed: Parsed, name: string): string | undefined {
  const v = parsed.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** An argument given inline, or `@path` to read it from a file, or `-` for standard input. */
export function readArgument(text: string): string {
  if (text === '-') return readFileSync(0, 'utf8');
  if (text.startsWith('@')) {
    try {
      return readFileSync(text.slice(1), 'utf8');
    } catch (error) {
      throw new UsageError(
        `cannot read ${text.slice(1)}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return text;
}

/** One line for an error a subcommand reports with exit code 2. */
export function oneLine(error: unknown): string {
  // A CodecError's message already reads "kind: field at byte N: detail".
  if (error instanceof CodecError) return `error: ${error.message}`;
  if (error instanceof Error) return `error: ${error.message.split('\n')[0] ?? ''}`;
  return `error: ${String(error)}`;
}

/** JSON text with bigints as decimal strings. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}
