/**
 * An external eBPF engine as a bpf_conformance plugin, the protocol the suite's own runner speaks:
 * the command is run once per test with the memory as hex in its first argument and the program
 * as hex on standard input; it prints r0 in hex and exits 0, or exits nonzero when the program did
 * not finish. (`xdp-offload bpf-plugin` is this package's engine behind the same protocol.)
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import { toHex } from '../../codec/index.js';
import { slotsToBytes } from '../../reference/ebpf/bytes.js';
import type { ConformanceRunner } from '../../reference/ebpf/conformance.js';

/** Options of {@link pluginRunner}. */
export interface PluginOptions {
  /** The longest a test may take, in ms (default 10,000). */
  readonly timeoutMs?: number;
}

/**
 * The runner that hands each conformance program to `command` (through the shell).
 *
 * @example
 * ```ts
 * const runner = pluginRunner('xdp-offload bpf-plugin');
 * const outcome = runConformanceSource('add', '-- asm\nmov %r0, 1\nexit\n-- result\n0x1\n', runner);
 * ```
 */
export function pluginRunner(command: string, options: PluginOptions = {}): ConformanceRunner {
  return (insns, memory) => {
    const run = spawnSync(`${command} ${memory.length === 0 ? "''" : toHex(memory)}`, {
      shell: true,
      input: toHex(slotsToBytes(insns)),
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 10_000,
    });
    if (run.error !== undefined) return { message: `the plugin did not run: ${run.error.message}` };
    if (run.status !== 0) {
      const reason = run.stderr.trim().split('\n').slice(-1)[0] ?? '';
      return {
        message: `the plugin exited ${String(run.status ?? run.signal)}${reason === '' ? '' : `: ${reason}`}`,
      };
    }
    const text = run.stdout.trim();
    if (!/^(0x)?[0-9a-fA-F]{1,16}$/.test(text))
      return { message: `the plugin printed ${JSON.stringify(text.slice(0, 60))}, not r0 in hex` };
    return BigInt(text.startsWith('0x') ? text : `0x${text}`);
  };
}
