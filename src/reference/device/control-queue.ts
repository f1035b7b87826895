/**
 * The device's loop over its control virtqueue ([dev-wire-in-order]): elements are taken in the
 * order the driver made them available and completed one at a time. A device may verify a
 * PROG_LOAD in the background, off its main loop (so that a VMM does not stall its guest under
 * its main lock); the loop then takes no other element until that PROG_LOAD completes, so every
 * answer is the one the elements served one after another would get.
 *
 * @module
 */
import { VIRTIO_NET_CTRL_XDP_OFFLOAD, XdpCommand } from '../../codec/index.js';
import type { ControlElement } from '../virtqueue/element.js';
import type { Served } from './frontend.js';

/** What serves one element (the device's `serve`). */
export interface ElementServer {
  /** Serves one element to completion. */
  serve(element: ControlElement): Served;
}

/** An element the loop completed, in the order of the used ring. */
export interface UsedElement {
  /** The element. */
  readonly element: ControlElement;
  /** Its used length. */
  readonly used: number;
}

/** Whether an element's readable part starts with this class's PROG_LOAD header. */
function isProgLoad(element: ControlElement): boolean {
  const head = element.readablePrefix(2);
  return head[0] === VIRTIO_NET_CTRL_XDP_OFFLOAD && head[1] === XdpCommand.PROG_LOAD;
}

/** A control virtqueue and the device's loop over it. */
export class ControlQueue {
  /** Elements completed, in used-ring order. */
  readonly usedRing: UsedElement[] = [];
  /** Elements made available and not yet taken. */
  protected readonly available: ControlElement[] = [];
  /** A PROG_LOAD taken and being verified in the background. */
  protected inFlight: ControlElement | undefined;

  /**
   * @param device - what serves each element
   * @param background - whether PROG_LOAD is verified off the loop (completes a turn later)
   */
  constructor(
    protected readonly device: ElementServer,
    protected readonly background = false,
  ) {}

  /** The driver makes an element available. */
  makeAvailable(element: ControlElement): void {
    this.available.push(element);
  }

  /**
   * One turn of the loop: completes the verification in flight, if any; otherwise takes the next
   * element and serves it (in background mode a PROG_LOAD only starts). False when idle.
   */
  turn(): boolean {
    if (this.inFlight !== undefined) {
      this.complete(this.inFlight);
      this.inFlight = undefined;
      return true;
    }
    const next = this.available.shift();
    if (next === undefined) return false;
    if (this.background && isProgLoad(next)) this.inFlight = next;
    else this.complete(next);
    return true;
  }

  /** Turns until idle. */
  drain(): void {
    while (this.turn());
  }

  /** Serves an element and puts it on the used ring. */
  protected complete(element: ControlElement): void {
    this.usedRing.push({ element, used: this.device.serve(element).used });
  }
}
