/**
 * The framing the kit's three protocols share (device, engine, verifier): a child process started
 * through the shell, one JSON request per line on its standard input, one JSON reply per line on
 * its standard output, in order, each repeating its request's `id`; an error reply is
 * `{"id", "error": {"code", "message"}}`. The first request is `hello` naming the protocol, and a
 * device that answers with another protocol is refused. Every wait is bounded by a timeout, and a
 * child that breaks the framing (a line that is not JSON, an id it was not asked, an exit) fails
 * every pending request at once with {@link ProtocolFailure}.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A JSON object of a line. */
export type JsonLine = Record<string, unknown>;

/** The child broke the protocol: a malformed or unrelated line, no reply in time, or an exit. */
export class ProtocolFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolFailure';
  }
}

/** The child answered a request with an error reply. */
export class ErrorReply extends Error {
  /** The protocol's error code. */
  readonly code: string;
  /** The operation refused. */
  readonly op: string;
  /** The reply's own message (without the operation and code). */
  readonly detail: string;

  constructor(op: string, code: string, detail: string) {
    super(`${op}: ${code}: ${detail}`);
    this.name = 'ErrorReply';
    this.code = code;
    this.op = op;
    this.detail = detail;
  }
}

/** A running child that speaks a line protocol. */
export interface LineClient {
  /** Its reply to `hello`. */
  readonly hello: JsonLine;
  /**
   * Sends one request (`op` and its fields) and waits for the reply's fields.
   *
   * @throws ErrorReply for an error reply; ProtocolFailure when the child broke the protocol.
   */
  call(request: JsonLine & { readonly op: string }): Promise<JsonLine>;
  /** Sends `quit` and waits for the child to exit (stopping it after 2 s). */
  close(): Promise<void>;
}

/** Options of {@link spawnLines}. */
export interface LineOptions {
  /** The longest wait for one reply, in ms (default 30,000). */
  readonly timeoutMs?: number;
  /** The longest reply line, in characters (default 64 Mi: a 16 MiB writable part in hex, twice). */
  readonly maxLineLength?: number;
}

/** The last lines a child wrote on standard error, for a failure's message. */
class StderrTail {
  private lines: string[] = [];

  add(chunk: string): void {
    this.lines.push(...chunk.split('\n').filter((l) => l.length > 0));
    if (this.lines.length > 8) this.lines = this.lines.slice(-8);
  }

  toString(): string {
    return this.lines.length === 0 ? '' : ` (its stderr: ${this.lines.join(' | ')})`;
  }
}

/**
 * Starts `command` through the shell and exchanges `hello` for `protocol`.
 *
 * @throws ProtocolFailure when the command does not start, or does not answer `hello` with this
 *   protocol in time.
 */
export async function spawnLines(
  command: string,
  protocol: string,
  options: LineOptions = {},
): Promise<LineClient> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const child = spawn(command, { shell: true, stdio: 'pipe' });
  const stderr = new StderrTail();
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.add(chunk));
  let nextId = 1;
  let exited: string | undefined;
  const pending = new Map<number, { resolve: (json: JsonLine) => void; reject: (e: Error) => void }>();
  const failAll = (message: string) => {
    for (const p of pending.values()) p.reject(new ProtocolFailure(message));
    pending.clear();
  };
  child.on('error', (error) => {
    exited = `could not run '${command}': ${error.message}`;
    failAll(exited);
  });
  child.on('exit', (code, signal) => {
    exited = `'${command}' exited (${signal ?? `status ${String(code)}`})${stderr.toString()}`;
    failAll(exited);
  });
  child.stdin.on('error', () => undefined); // a child that exits early: reported by 'exit'
  // A child that writes without end must not exhaust the kit: a line past the bound ends the run.
  const maxLine = options.maxLineLength ?? 64 << 20;
  let partial = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    const newline = chunk.lastIndexOf(10);
    partial = newline < 0 ? partial + chunk.length : chunk.length - newline - 1;
    if (partial > maxLine) {
      failAll(`the child wrote a line longer than ${maxLine} characters`);
      child.kill();
    }
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      failAll(`the child wrote a line that is not JSON: ${line.slice(0, 120)}`);
      child.kill();
      return;
    }
    const id = (json as { id?: unknown } | null)?.id;
    const waiting = typeof id === 'number' ? pending.get(id) : undefined;
    if (waiting === undefined) {
      failAll(`the child answered an id it was not asked: ${line.slice(0, 120)}`);
      child.kill();
      return;
    }
    pending.delete(id as number);
    waiting.resolve(json as JsonLine);
  });

  const call = (request: JsonLine & { readonly op: string }): Promise<JsonLine> => {
    if (exited !== undefined) return Promise.reject(new ProtocolFailure(exited));
    const id = nextId++;
    return new Promise<JsonLine>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new ProtocolFailure(`no reply to ${request.op} within ${timeoutMs} ms${stderr.toString()}`));
        child.kill();
      }, timeoutMs);
      pending.set(id, {
        resolve: (json) => {
          clearTimeout(timer);
          const error = json.error as { code?: unknown; message?: unknown } | undefined;
          if (error === undefined) resolve(json);
          else if (typeof error === 'object' && error !== null && typeof error.code === 'string')
            reject(new ErrorReply(request.op, error.code, String(error.message)));
          else
            reject(
              new ProtocolFailure(`the reply to ${request.op} is malformed: error: not {code, message}`),
            );
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      child.stdin.write(`${JSON.stringify({ id, ...request })}\n`);
    });
  };

  let hello: JsonLine;
  try {
    hello = await call({ op: 'hello', protocol });
  } catch (error) {
    child.kill();
    throw error instanceof ProtocolFailure ? error : new ProtocolFailure((error as Error).message);
  }
  if (hello.protocol !== protocol) {
    child.kill();
    throw new ProtocolFailure(
      typeof hello.protocol === 'string'
        ? `the child speaks ${hello.protocol}, not ${protocol}`
        : 'the reply to hello is malformed: protocol: not a string',
    );
  }
  return {
    hello,
    call,
    close: async () => {
      if (exited !== undefined) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await call({ op: 'quit' }).catch(() => undefined);
      const timer = setTimeout(() => child.kill(), 2000);
      await done;
      clearTimeout(timer);
    },
  };
}

/**
 * One request within an exchange: yields it and returns its reply as the type the request
 * expects (`yield*` it from the exchange).
 */
export function* exchangeRequest<Q, R extends A, A>(request: Q): Generator<Q, R, A> {
  return (yield request) as R;
}

/**
 * Runs an exchange (a generator that yields requests and receives their replies) against a
 * synchronous handler: how a vector replay written once runs on the reference in process.
 */
export function runExchange<Q, R, T>(exchange: Generator<Q, T, R>, handle: (request: Q) => R): T {
  for (let next = exchange.next(); ;) {
    if (next.done === true) return next.value;
    next = exchange.next(handle(next.value));
  }
}

/** The same against an asynchronous handler (a child process). */
export async function runExchangeAsync<Q, R, T>(
  exchange: Generator<Q, T, R>,
  handle: (request: Q) => Promise<R>,
): Promise<T> {
  for (let next = exchange.next(); ;) {
    if (next.done === true) return next.value;
    next = exchange.next(await handle(next.value));
  }
}
