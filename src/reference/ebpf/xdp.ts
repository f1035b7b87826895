/**
 * The XDP context: a frame laid out as Linux's `BPF_PROG_TEST_RUN` lays it out (a 4096-byte frame,
 * 256 bytes of headroom, room for `struct skb_shared_info` at the tail), `struct xdp_md` loads, and the
 * bookkeeping the adjust helpers change.
 *
 * @module
 */
import { EngineFault } from './fault.js';
import type { AddressSpace, Region } from './memory.js';
import type { Pair } from './arith.js';
import type { ContextReader } from './vm.js';

/** `XDP_PACKET_HEADROOM`. */
export const XDP_HEADROOM = 256;
/** The frame size of a test run (one page). */
export const XDP_FRAME_SIZE = 4096;
/** `SKB_DATA_ALIGN(sizeof(struct skb_shared_info))` on x86-64. */
export const XDP_TAILROOM = 320;
/** Largest linear frame a test run accepts: 4096 - 256 - 320. */
export const XDP_MAX_LINEAR = XDP_FRAME_SIZE - XDP_HEADROOM - XDP_TAILROOM;
/** `sizeof(struct xdp_frame)`: headroom the frame metadata keeps from `bpf_xdp_adjust_head`. */
export const XDP_FRAME_STRUCT = 40;
/** `ETH_HLEN`. */
export const ETH_HLEN = 14;
/** `sizeof(struct xdp_md)`. */
export const XDP_MD_SIZE = 24;
/** `MAX_SKB_FRAGS`: fragments a test run may add after the linear part. */
export const XDP_MAX_FRAGS = 17;
/** Size of one fragment page. */
export const XDP_FRAG_SIZE = 4096;
/** Largest frame a test run accepts: the linear part plus every fragment. */
export const XDP_MAX_FRAME = XDP_MAX_LINEAR + XDP_MAX_FRAGS * XDP_FRAG_SIZE;

/** One frame and its `struct xdp_md` view. */
export class XdpBuffer implements ContextReader {
  /** The whole frame, headroom included. */
  readonly frame = new Uint8Array(XDP_FRAME_SIZE);
  /** The packet region (its window follows data_meta and data_end). */
  readonly packet: Region;
  /** The context region `r1` points at. */
  readonly ctx: Region;
  /** Offsets into the frame. */
  data = XDP_HEADROOM;
  /** Offset of data_end. */
  dataEnd = XDP_HEADROOM;
  /** Offset of data_meta. */
  dataMeta = XDP_HEADROOM;
  /** `struct xdp_md` fields that are not pointers. */
  ingressIfindex = 0;
  /** `rx_queue_index`. */
  rxQueueIndex = 0;
  /**
   * The slot the run's per-CPU map values and `bpf_get_smp_processor_id` name: the queue the
   * program runs for on a device, the CPU a test run runs on (0 here) otherwise.
   */
  slot = 0;
  /** Target of the last `bpf_redirect`, if any. */
  redirectTarget: number | undefined;
  /**
   * Bytes beyond the linear part, in page-sized fragments as a test run builds them: the program
   * sees only [data, data_end), the fragments come back in the output, and the tail and byte-copy
   * helpers reach them as Linux's do.
   */
  readonly frags: Uint8Array[] = [];

  constructor(private readonly space: AddressSpace) {
    this.packet = space.alloc('packet', this.frame);
    this.ctx = space.alloc('ctx', new Uint8Array(XDP_MD_SIZE), false);
  }

  /** The frame bytes a run may have written: [dirtyStart, dirtyEnd), zeroed again before the next run. */
  private dirtyStart = 0;
  private dirtyEnd = XDP_FRAME_SIZE;

  /**
   * Places a packet at the standard headroom (the rest of the frame zero) and resets the context.
   * Bytes beyond {@link XDP_MAX_LINEAR} go into fragments of up to 4096 bytes.
   */
  reset(frame: Uint8Array): void {
    const packet = frame.length > XDP_MAX_LINEAR ? frame.subarray(0, XDP_MAX_LINEAR) : frame;
    if (this.frags.length > 0) this.frags.length = 0;
    for (let at = XDP_MAX_LINEAR; at < frame.length; at += XDP_FRAG_SIZE) {
      this.frags.push(frame.slice(at, Math.min(frame.length, at + XDP_FRAG_SIZE)));
    }
    // A program writes only inside [data_meta, data_end) windows, so only what those windows
    // covered needs clearing; the first reset clears the whole frame.
    if (this.dirtyEnd > this.dirtyStart) this.frame.fill(0, this.dirtyStart, this.dirtyEnd);
    this.frame.set(packet, XDP_HEADROOM);
    this.data = XDP_HEADROOM;
    this.dataMeta = XDP_HEADROOM;
    this.dataEnd = XDP_HEADROOM + packet.length;
    this.redirectTarget = undefined;
    this.dirtyStart = this.dataMeta;
    this.dirtyEnd = this.dataEnd;
    this.syncWindow();
  }

  /** Keeps the packet region's window equal to [data_meta, data_end). */
  syncWindow(): void {
    this.packet.start = this.dataMeta;
    this.packet.end = this.dataEnd;
    if (this.dataMeta < this.dirtyStart) this.dirtyStart = this.dataMeta;
    if (this.dataEnd > this.dirtyEnd) this.dirtyEnd = this.dataEnd;
  }

  /** The bytes from data_meta to data_end, then the fragments. */
  output(): Uint8Array {
    const linear = this.frame.subarray(this.dataMeta, this.dataEnd);
    if (this.frags.length === 0) return linear.slice();
    const out = new Uint8Array(linear.length + this.fragsLength());
    out.set(linear, 0);
    let at = linear.length;
    for (const f of this.frags) {
      out.set(f, at);
      at += f.length;
    }
    return out;
  }

  /** Bytes held in fragments. */
  fragsLength(): number {
    return this.frags.reduce((n, f) => n + f.length, 0);
  }

  /** Copies between the packet (data onwards, fragments included) and `buf`; false if out of range. */
  copy(offset: number, buf: Uint8Array, store: boolean): boolean {
    const linear = this.dataEnd - this.data;
    if (offset + buf.length > linear + this.fragsLength()) return false;
    let done = 0;
    let at = offset;
    const move = (target: Uint8Array, start: number, n: number) => {
      if (store) target.set(buf.subarray(done, done + n), start);
      else buf.set(target.subarray(start, start + n), done);
      done += n;
      at += n;
    };
    if (at < linear) move(this.frame, this.data + at, Math.min(buf.length, linear - at));
    let base = linear;
    for (const f of this.frags) {
      if (done === buf.length) break;
      if (at < base + f.length) move(f, at - base, Math.min(buf.length - done, base + f.length - at));
      base += f.length;
    }
    return true;
  }

  /** The packet from data to data_end. */
  packetBytes(): Uint8Array {
    return this.frame.slice(this.data, this.dataEnd);
  }

  /** `struct xdp_md` loads: 4-byte loads of its six fields; pointers come back as packet pointers. */
  load(offset: number, size: number, pc: number, out: Pair): void {
    if (size !== 4 || offset % 4 !== 0 || offset >= XDP_MD_SIZE) {
      throw new EngineFault('bad-context-access', pc, `${size}-byte load at xdp_md+${offset}`);
    }
    const space = this.space;
    const tag = space.hiOf(this.packet);
    switch (offset) {
      case 0:
        out.hi = tag;
        out.lo = space.loOf(this.data);
        return;
      case 4:
        out.hi = tag;
        out.lo = space.loOf(this.dataEnd);
        return;
      case 8:
        out.hi = tag;
        out.lo = space.loOf(this.dataMeta);
        return;
      case 12:
        out.hi = 0;
        out.lo = this.ingressIfindex | 0;
        return;
      case 16:
        out.hi = 0;
        out.lo = this.rxQueueIndex | 0;
        return;
      default:
        out.hi = 0;
        out.lo = 0;
    }
  }

  /** `bpf_xdp_adjust_head`: 0, or -EINVAL (as Linux 6.1 checks it). */
  adjustHead(delta: number): number {
    const metalen = this.data - this.dataMeta;
    const dataStart = XDP_FRAME_STRUCT + metalen;
    const data = this.data + delta;
    if (data < dataStart || data > this.dataEnd - ETH_HLEN) return -22;
    if (metalen > 0) this.frame.copyWithin(this.dataMeta + delta, this.dataMeta, this.data);
    this.dataMeta += delta;
    this.data = data;
    this.syncWindow();
    return 0;
  }

  /** `bpf_xdp_adjust_meta`: 0, -EINVAL or -EACCES. */
  adjustMeta(delta: number): number {
    const meta = this.dataMeta + delta;
    const metalen = this.data - meta;
    if (meta < XDP_FRAME_STRUCT || meta > this.data) return -22;
    if (metalen % 4 !== 0 || metalen > 32) return -13;
    this.dataMeta = meta;
    this.syncWindow();
    return 0;
  }

  /** `bpf_xdp_adjust_tail`: 0 or -EINVAL; growth is zero-filled. */
  adjustTail(delta: number): number {
    if (this.frags.length > 0) return this.adjustFragsTail(delta);
    const hardEnd = XDP_FRAME_SIZE - XDP_TAILROOM;
    const end = this.dataEnd + delta;
    if (end > hardEnd) return -22;
    if (end < this.data + ETH_HLEN) return -22;
    if (delta > 0) this.frame.fill(0, this.dataEnd, end);
    this.dataEnd = end;
    this.syncWindow();
    return 0;
  }

  /** The tail of a fragmented frame: grow the last fragment within its page, or shrink from the end. */
  private adjustFragsTail(delta: number): number {
    const last = this.frags[this.frags.length - 1] as Uint8Array;
    if (delta > 0) {
      if (delta > XDP_FRAG_SIZE - last.length) return -22;
      const grown = new Uint8Array(last.length + delta);
      grown.set(last);
      this.frags[this.frags.length - 1] = grown;
      return 0;
    }
    let shrink = -delta;
    if (shrink > this.dataEnd - this.data + this.fragsLength() - ETH_HLEN) return -22;
    while (shrink > 0 && this.frags.length > 0) {
      const f = this.frags[this.frags.length - 1] as Uint8Array;
      const n = Math.min(shrink, f.length);
      shrink -= n;
      if (n === f.length) this.frags.pop();
      else this.frags[this.frags.length - 1] = f.subarray(0, f.length - n);
    }
    if (this.frags.length === 0 && shrink > 0) {
      this.dataEnd -= shrink;
      this.syncWindow();
    }
    return 0;
  }
}
