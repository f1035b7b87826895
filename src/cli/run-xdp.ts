// `xdp-offload run`: one XDP run of a program on a packet, as BPF_PROG_TEST_RUN would report it.
import { XdpAction, nameOf, parseHex, toHex } from '../codec/index.js';
import { XdpEngine, TestRunError, MapCreateError, type BpfMap } from '../reference/ebpf/index.js';
import {
  PROGRAM_PICK_HELP,
  PROGRAM_SOURCE_OPTIONS,
  listPrograms,
  loadProgram,
  mapDefinition,
  mapSizesOf,
  programSelector,
} from './program-input.js';
import { mapContents } from '../vectors/index.js';
import {
  EXIT,
  UsageError,
  integerOption,
  jsonText,
  parse,
  readArgument,
  stringOption,
  type Output,
  type Subcommand,
} from './io.js';

/** Most runs one invocation makes (BPF_PROG_TEST_RUN's repeat is a u32; this keeps a run finite). */
const MAX_REPEAT = 10_000_000;

export const runXdp: Subcommand = {
  name: 'run',
  summary: 'run an XDP program on a packet and print verdict, output packet and maps',
  help: `usage: xdp-offload run (--prog <sample|file> | --insns-hex <hex>) [--prog-name N | --section S]
                        --packet <hex> [--map <def>]... [--repeat N] [--json]
       xdp-offload run --prog <file.o> --list [--json]

Runs an XDP program once on a packet, as BPF_PROG_TEST_RUN does (frames of 14
to 3520 bytes, 256 bytes of headroom). The program is a sample (xdp1, xdp2), a
file of assembler text (bpf_conformance syntax, with 'lddw %rN, map[H]' for map
handle H), of instruction hex, a BPF ELF object (clang -O2 -g -target bpf;
--prog-name or --section picks the program; its maps come from the 'maps' and BTF '.maps'
sections, its global data from .rodata/.data/.bss), or --insns-hex. Maps get
handles 1, 2, ... in the order given: --map array:VALUE_SIZE:ENTRIES or hash:KEY:VALUE:ENTRIES
(samples create their own).

${PROGRAM_PICK_HELP}
  --packet <hex>   the frame ('@file' reads a file)
  --repeat N       run N times, 1 to 10000000 (maps keep their state), report the last run
  --json           print {action, retval, output, fault, steps, maps}

exit: 0 ran (whatever the verdict), 2 bad usage or input refused (EINVAL)`,
  run(args: string[], out: Output): number {
    const parsed = parse(args, {
      ...PROGRAM_SOURCE_OPTIONS,
      packet: { type: 'string' },
      map: { type: 'string', multiple: true },
      repeat: { type: 'string' },
      json: { type: 'boolean' },
    });
    const listed = listPrograms(parsed, stringOption(parsed, 'prog'), out, parsed.values.json === true);
    if (listed !== undefined) return listed;
    const packetText = stringOption(parsed, 'packet');
    if (packetText === undefined) throw new UsageError('--packet is required');
    const packet = parseHex(readArgument(packetText, '--packet').trim());
    if (packet === undefined) throw new UsageError('--packet is not an even number of hex digits');
    const { insns, maps, mapData } = loadProgram(
      stringOption(parsed, 'prog'),
      stringOption(parsed, 'insns-hex'),
      programSelector(parsed),
      mapSizesOf(parsed),
    );
    const repeat = integerOption(parsed, 'repeat', { min: 1, max: MAX_REPEAT }, 1);
    const engine = new XdpEngine();
    const given = parsed.values.map;
    const defs = [...maps, ...(Array.isArray(given) ? (given as string[]) : [])];
    try {
      for (const def of defs) engine.createMap(typeof def === 'string' ? mapDefinition(def) : def);
      // Global data sections start with their initial contents, as a loader writes them.
      mapData?.forEach((data, i) => {
        if (data !== undefined) engine.map(i + 1)?.update(new Uint8Array(4), data, 0);
      });
    } catch (error) {
      if (error instanceof MapCreateError)
        throw new UsageError(`map refused (errno ${error.errno}): ${error.message}`);
      throw error;
    }
    const program = engine.load(insns);
    let result;
    try {
      for (let i = 0; i < repeat; i++) result = engine.run(program, packet);
    } catch (error) {
      if (error instanceof TestRunError)
        throw new UsageError(`test run refused (errno ${error.errno}): ${error.message}`);
      throw error;
    }
    if (result === undefined) throw new UsageError('nothing ran');
    const mapDump = engine.mapHandles().map((handle) => ({
      handle,
      entries: mapContents(engine.map(handle) as BpfMap).map(([key, value]) => ({ key, value })),
    }));
    const action = String(nameOf(XdpAction, result.action) ?? result.action);
    const doc = {
      action: `XDP_${action}`,
      retval: result.retval,
      output: toHex(result.output),
      fault: result.fault?.message ?? null,
      steps: result.steps,
      maps: mapDump,
    };
    if (parsed.values.json) out.stdout(jsonText(doc));
    else {
      out.stdout(
        `verdict: ${doc.action} (retval ${doc.retval})${doc.fault === null ? '' : `, fault: ${doc.fault}`}`,
      );
      out.stdout(`output:  ${doc.output} (${result.output.length} bytes)`);
      out.stdout(`steps:   ${doc.steps}`);
      for (const m of mapDump) {
        out.stdout(
          `map ${m.handle}: ${m.entries.length === 0 ? 'all zero / empty' : m.entries.map((e) => `${e.key}=${e.value}`).join(' ')}`,
        );
      }
    }
    return EXIT.ok;
  },
};
