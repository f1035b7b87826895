/**
 * Counting XDP runs by their action, as every hook that runs a program does: the tap's offload
 * hook for QUERY ([dev-query-counters]), and the guest driver for its driver-mode program. An
 * engine-level fact (what an action means), so neither party imports the other for it.
 *
 * @module
 */
import { XdpAction } from '../../codec/index.js';

/** Per-action counters of the offloaded program (QUERY, section X.8.2, and the tap companion's TUNXDPOFFLOAD QUERY). Wrap at 2^64. */
export interface ActionCounters {
  /** Runs. */
  packets: bigint;
  /** XDP_ABORTED and faults. */
  aborted: bigint;
  /** XDP_DROP and undefined actions. */
  drop: bigint;
  /** XDP_PASS. */
  pass: bigint;
  /** XDP_TX. */
  tx: bigint;
  /** XDP_REDIRECT. */
  redirect: bigint;
}

/** Fresh zero counters. */
export function zeroCounters(): ActionCounters {
  return { packets: 0n, aborted: 0n, drop: 0n, pass: 0n, tx: 0n, redirect: 0n };
}

/** The counter an action is counted in ([dev-query-counters]): undefined actions count as drops. */
export function counterOf(action: number): Exclude<keyof ActionCounters, 'packets'> {
  switch (action) {
    case XdpAction.ABORTED:
      return 'aborted';
    case XdpAction.PASS:
      return 'pass';
    case XdpAction.TX:
      return 'tx';
    case XdpAction.REDIRECT:
      return 'redirect';
    default:
      return 'drop';
  }
}

/** Counts one run in `packets` and in the counter of its action ([dev-query-counters]). */
export function countAction(
  counters: ActionCounters,
  action: number,
): Exclude<keyof ActionCounters, 'packets'> {
  const fate = counterOf(action);
  counters.packets = BigInt.asUintN(64, counters.packets + 1n);
  counters[fate] = BigInt.asUintN(64, counters[fate] + 1n);
  return fate;
}
