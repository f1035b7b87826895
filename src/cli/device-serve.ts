// `xdp-offload device-serve`: the reference device behind the device-under-test protocol, on
// standard input and output, so that the kit drives it through a real process boundary.
import { createInterface } from 'node:readline';
import { ReferenceDevice } from '../harness/kit/reference-device.js';
import { serveLine } from '../harness/kit/serve-lines.js';
import { EXIT, parse, type Output, type Subcommand } from './io.js';

export const deviceServe: Subcommand = {
  name: 'device-serve',
  summary: 'serve the reference device over the device-under-test protocol (JSON lines on stdio)',
  help: `usage: xdp-offload device-serve

Reads requests of the device-under-test protocol (virtio-xdp-offload/device/1),
one JSON object per line on standard input, and answers each with one line on
standard output, until 'quit' or the end of input. The protocol is described in
docs/testing.md; its schema is vectors/schema/device-protocol.schema.json.
Point the kit at it with: xdp-offload replay --device 'xdp-offload device-serve'

exit: 0 at quit or end of input`,
  run(args: string[], out: Output): Promise<number> {
    parse(args, {});
    const device = new ReferenceDevice();
    const lines = createInterface({ input: process.stdin });
    return new Promise((resolve) => {
      lines.on('line', (line) => {
        const { reply, quit } = serveLine(device, line);
        out.stdout(reply);
        if (quit) lines.close();
      });
      lines.on('close', () => resolve(EXIT.ok));
    });
  },
};
