/**
 * A device under test, as the kit sees it: requests of the device-under-test protocol answered
 * asynchronously. {@link referenceUnderTest} is the reference in this process;
 * {@link spawnDevice} starts a command and speaks the protocol's JSON lines over its standard input
 * and output ({@link spawnLines}), every reply parsed strictly and bounded by a timeout.
 *
 * @module
 */
import {
  DEVICE_PROTOCOL,
  DeviceProtocolError,
  replyFromJson,
  requestToJson,
  type DeviceOp,
  type DeviceReply,
  type DeviceRequest,
} from './device-protocol.js';
import { ReferenceDevice } from './reference-device.js';
import { ProtocolFailure, spawnLines, type LineOptions } from './line-protocol.js';

/** A device the kit drives. */
export interface DeviceUnderTest {
  /** What the device answered to `hello`. */
  readonly hello: DeviceReply<'hello'>;
  /**
   * Sends one request and waits for its reply.
   *
   * @throws ErrorReply when the device answered with an error, or ProtocolFailure when it did not
   *   answer as the protocol requires (a malformed line, no reply in time, an exit).
   */
  request<O extends DeviceOp>(request: DeviceRequest<O>): Promise<DeviceReply<O>>;
  /** Ends the session (`quit`, then the process, if any, is stopped). */
  close(): Promise<void>;
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
  const hello = device.reply({ op: 'hello', protocol: DEVICE_PROTOCOL });
  return {
    hello,
    request: <O extends DeviceOp>(request: DeviceRequest<O>) =>
      Promise.resolve().then(() => device.reply(request)),
    close: () => Promise.resolve(),
  };
}

/**
 * Starts `command` (through the shell) as a device under test and exchanges `hello`.
 *
 * @throws ProtocolFailure when the command does not start, or does not answer `hello` with this
 *   protocol in time.
 */
export async function spawnDevice(command: string, options: LineOptions = {}): Promise<DeviceUnderTest> {
  const client = await spawnLines(command, DEVICE_PROTOCOL, options);
  const parsed = <O extends DeviceOp>(op: O, json: Record<string, unknown>): DeviceReply<O> => {
    try {
      return replyFromJson(op, json);
    } catch (error) {
      if (!(error instanceof DeviceProtocolError)) throw error;
      throw new ProtocolFailure(`the reply to ${op} is malformed: ${error.message}`);
    }
  };
  let hello: DeviceReply<'hello'>;
  try {
    hello = parsed('hello', client.hello);
  } catch (error) {
    await client.close();
    throw error;
  }
  return {
    hello,
    request: async <O extends DeviceOp>(request: DeviceRequest<O>) => {
      const json = requestToJson(request) as Record<string, unknown> & { op: string };
      return parsed(request.op as O, await client.call(json));
    },
    close: () => client.close(),
  };
}
