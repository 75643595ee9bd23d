/**
 * What the data receiver tells of its side (--verbose, the traces, the
 * dashboard): a hole opening (a packet beyond a missing one) and its repair,
 * duplicates, a receive window that runs low (the writer is behind) and
 * opens again. Pure: the receive window before and after one packet, events
 * out.
 */
import { seqAdd } from './packet.js';
import type { ReceiveWindow } from './receive-window.js';
import type { TransferEvent } from './events.js';

export class ReceiverReport {
  /** Holes that opened so far. */
  holes = 0;
  /** The window is below a quarter of the capacity (said once, until it reopens). */
  private low = false;
  private holdingBefore = 0;
  private nextBefore = 0;

  constructor(
    private readonly capacity: number,
    private readonly emit: (e: TransferEvent) => void,
  ) {}

  /** Before the packet goes into the window. */
  before(r: ReceiveWindow): void {
    this.holdingBefore = r.holding;
    this.nextBefore = r.next;
  }

  /** After: `first` is the sender's first data sequence number (its ISN + 1). */
  after(r: ReceiveWindow, res: 'new' | 'duplicate' | 'outside', seq: number, index: number, first: number): void {
    if (res === 'duplicate') this.emit({ type: 'duplicate', seq });
    if (res !== 'new') return;
    if (this.holdingBefore === 0 && index > this.nextBefore) {
      this.holes++;
      this.emit({
        type: 'hole',
        expected: seqAdd(first, this.nextBefore),
        got: seq,
        sack: r.sackRanges().map(([a, b]) => [seqAdd(first, a), seqAdd(first, b)]),
      });
    } else if (this.holdingBefore > 0 && r.next > this.nextBefore + 1 && r.holding === 0) {
      this.emit({ type: 'hole_filled', from: seqAdd(first, this.nextBefore), next: seqAdd(first, r.next) });
    }
    const w = r.window();
    if (w < this.capacity / 4 !== this.low) {
      this.low = !this.low;
      this.emit({ type: this.low ? 'window_low' : 'window_reopened', window: w, capacity: this.capacity });
    }
  }
}
