/**
 * The receiving half of the data phase: keeps out-of-order packets (at most
 * `capacity`, which is what it advertises), hands data to the sink strictly in
 * order, and describes what it holds as a cumulative index plus SACK ranges.
 */

/** Where received data goes. The backlog counts packets handed over but not yet written. */
export interface DataSink {
  push(index: number, data: Buffer): void;
  readonly backlogPackets: number;
}

export const MAX_SACK_BLOCKS = 16;

export class ReceiveWindow {
  /** Next index expected in order. */
  next = 0;
  private readonly held = new Map<number, Buffer>();
  private lastArrived = -1;
  duplicates = 0;
  received = 0;

  constructor(
    readonly total: number,
    readonly capacity: number,
    private readonly sink: DataSink,
  ) {}

  get complete(): boolean {
    return this.next >= this.total;
  }

  /** Packets the sender may have in flight beyond `next`. */
  window(): number {
    return Math.max(0, this.capacity - this.held.size - this.sink.backlogPackets);
  }

  /** Returns what the packet was: new data, a duplicate, or beyond what we can hold. */
  onData(index: number, data: Buffer): 'new' | 'duplicate' | 'outside' {
    if (index < this.next || this.held.has(index)) {
      this.duplicates++;
      return 'duplicate';
    }
    // Memory is bounded by the capacity: data the writer has not taken yet counts against it.
    if (index >= this.total || index >= this.next + this.capacity - this.sink.backlogPackets) return 'outside';
    this.received++;
    this.lastArrived = index;
    if (index === this.next) {
      this.sink.push(index, data);
      this.next++;
      for (let d = this.held.get(this.next); d !== undefined; d = this.held.get(this.next)) {
        this.held.delete(this.next);
        this.sink.push(this.next, d);
        this.next++;
      }
    } else {
      this.held.set(index, data);
    }
    return 'new';
  }

  /** Packets held beyond a hole (0: everything so far arrived in order). */
  get holding(): number {
    return this.held.size;
  }

  /** SACK ranges [start, end) of held packets, the one holding the latest arrival first (RFC 2018). */
  sackRanges(): Array<[number, number]> {
    if (this.held.size === 0) return [];
    const keys = [...this.held.keys()].sort((a, b) => a - b);
    const ranges: Array<[number, number]> = [];
    let start = keys[0]!;
    let prev = start;
    for (let k = 1; k < keys.length; k++) {
      const v = keys[k]!;
      if (v !== prev + 1) {
        ranges.push([start, prev + 1]);
        start = v;
      }
      prev = v;
    }
    ranges.push([start, prev + 1]);
    // The latest arrival's range first, then the others from the highest down: the ranges next to the newest
    // are repeated in ACK after ACK, so one lost ACK does not hide them (RFC 2018 §4). Low ranges were reported
    // when they were the newest; with more holes than blocks, reporting the lowest instead left the recent
    // ones below the newest unreported after a lost ACK, and the sender resent them all (overtaken, "lost").
    const latest = ranges.findIndex(([s, e]) => this.lastArrived >= s && this.lastArrived < e);
    const first = latest >= 0 ? ranges.splice(latest, 1) : [];
    return [...first, ...ranges.reverse()].slice(0, MAX_SACK_BLOCKS);
  }
}
