/**
 * A device under test, as the kit sees it: requests of the device-under-test protocol answered
 * asynchronously. {@link referenceUnderTest} is the reference in this process;
 * {@link spawnDevice} starts a command and speaks the protocol's JSON lines over its standard input
 * and output, with every reply bounded by a timeout.
 *
 * @module
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import {
  DEVICE_PROTOCOL,
  DeviceProtocolError,
  replyFromJson,
  requestToJson,
  type DeviceErrorBody,
  type DeviceErrorCode,
  type DeviceOp,
  type DeviceReply,
  type DeviceRequest,
} from './device-protocol.js';
import { ReferenceDevice, type DeviceAnswer } from './reference-device.js';

/** A device the kit drives. */
export interface DeviceUnderTest {
  /** What the device answered to `hello`. */
  readonly hello: DeviceReply<'hello'>;
  /**
   * Sends one request and waits for its reply.
   *
   * @throws DeviceError when the device answered with an error, or DeviceFailure when it did not
   *   answer as the protocol requires (a malformed line, no reply in time, an exit).
   */
  request<O extends DeviceOp>(request: DeviceRequest<O>): Promise<DeviceReply<O>>;
  /** Ends the session (`quit`, then the process, if any, is stopped). */
  close(): Promise<void>;
}

/** The device answered a request with an error reply. */
export class DeviceError extends Error {
  /** The protocol's error code. */
  readonly code: DeviceErrorCode;
  /** The operation refused. */
  readonly op: DeviceOp;

  constructor(op: DeviceOp, body: DeviceErrorBody) {
    super(`${op}: ${body.code}: ${body.message}`);
    this.name = 'DeviceError';
    this.code = body.code;
    this.op = op;
  }
}

/** The device broke the protocol: a malformed or unrelated reply, no reply in time, or an exit. */
export class DeviceFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceFailure';
  }
}

function unwrap<O extends DeviceOp>(op: O, answer: DeviceAnswer<O>): DeviceReply<O> {
  if (answer.error !== undefined) throw new DeviceError(op, answer.error);
  return answer.reply;
}

/**
 * The reference device in this process: the same requests as across a process boundary, without
 * the JSON.
 *
 * @example
 * ```ts
 * const device = referenceUnderTest();
 * console.log(device.hello.extensions); // [ 'introspect' ]
 * ```
 */
export function referenceUnderTest(): DeviceUnderTest {
  const device = new ReferenceDevice();
  const hello = unwrap('hello', device.handle({ op: 'hello', protocol: DEVICE_PROTOCOL }));
  return {
    hello,
    request: <O extends DeviceOp>(request: DeviceRequest<O>) =>
      Promise.resolve().then(() => unwrap(request.op as O, device.handle(request))),
    close: () => Promise.resolve(),
  };
}

/** Options of {@link spawnDevice}. */
export interface SpawnOptions {
  /** The longest wait for one reply, in ms (default 30,000: a verification may take seconds). */
  readonly timeoutMs?: number;
}

/** The last lines a device wrote on standard error, for a failure's message. */
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
 * Starts `command` (through the shell) as a device under test and exchanges `hello`.
 *
 * @throws DeviceFailure when the command does not start, or does not answer `hello` with this
 *   protocol in time.
 */
export async function spawnDevice(command: string, options: SpawnOptions = {}): Promise<DeviceUnderTest> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const child: ChildProcessWithoutNullStreams = spawn(command, { shell: true, stdio: 'pipe' });
  const stderr = new StderrTail();
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.add(chunk));
  let nextId = 1;
  let exited: string | undefined;
  const pending = new Map<
    number,
    { op: DeviceOp; resolve: (json: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();
  const failAll = (message: string) => {
    for (const p of pending.values()) p.reject(new DeviceFailure(message));
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
  child.stdin.on('error', () => undefined); // a device that exits early: reported by 'exit'
  createInterface({ input: child.stdout }).on('line', (line) => {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      failAll(`the device wrote a line that is not JSON: ${line.slice(0, 120)}`);
      child.kill();
      return;
    }
    const id = (json as { id?: unknown } | null)?.id;
    const waiting = typeof id === 'number' ? pending.get(id) : undefined;
    if (waiting === undefined) {
      failAll(`the device answered an id it was not asked: ${line.slice(0, 120)}`);
      child.kill();
      return;
    }
    pending.delete(id as number);
    waiting.resolve(json as Record<string, unknown>);
  });

  const request = <O extends DeviceOp>(req: DeviceRequest<O>): Promise<DeviceReply<O>> => {
    if (exited !== undefined) return Promise.reject(new DeviceFailure(exited));
    const id = nextId++;
    const op = req.op as O;
    return new Promise<DeviceReply<O>>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new DeviceFailure(`no reply to ${op} within ${timeoutMs} ms${stderr.toString()}`));
        child.kill();
      }, timeoutMs);
      pending.set(id, {
        op,
        resolve: (json) => {
          clearTimeout(timer);
          try {
            const error = json.error as DeviceErrorBody | undefined;
            if (error !== undefined) {
              if (typeof error !== 'object' || typeof error.code !== 'string')
                throw new DeviceProtocolError('error: not {code, message}');
              reject(new DeviceError(op, { code: error.code, message: String(error.message) }));
              return;
            }
            resolve(replyFromJson(op, json));
          } catch (e) {
            reject(new DeviceFailure(`the reply to ${op} is malformed: ${(e as Error).message}`));
          }
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      child.stdin.write(`${JSON.stringify({ id, ...requestToJson(req) })}\n`);
    });
  };

  let hello: DeviceReply<'hello'>;
  try {
    hello = await request({ op: 'hello', protocol: DEVICE_PROTOCOL });
  } catch (error) {
    child.kill();
    throw error instanceof DeviceFailure ? error : new DeviceFailure((error as Error).message);
  }
  if (hello.protocol !== DEVICE_PROTOCOL) {
    child.kill();
    throw new DeviceFailure(`the device speaks ${hello.protocol}, not ${DEVICE_PROTOCOL}`);
  }
  return {
    hello,
    request,
    close: async () => {
      if (exited === undefined) {
        const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        await request({ op: 'quit' }).catch(() => undefined);
        const timer = setTimeout(() => child.kill(), 2000);
        await done;
        clearTimeout(timer);
      }
    },
  };
}
