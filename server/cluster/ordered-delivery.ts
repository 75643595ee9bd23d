/**
 * Each conversation's messages in id order on every node, whichever nodes
 * stored them. A node stores a turn (its ids made in Redis, one step) and
 * only then posts it on the bus, so two nodes' turns in one room can reach
 * the bus in the other order than their ids: node A stores id 5, node B id
 * 6, and B's post is read first. Every batch, this node's own and the other
 * nodes' alike, passes here: a batch whose ids are not the next ones of
 * their conversations waits, with everything after it (one order for the
 * node, as the thread bus had), until the missing ones arrive, at most
 * `gapWaitMs`. A gap that outlasts it (the node that stored the messages
 * died before it posted them: they are in the history, and their sender was
 * never told they were stored) is passed over, and counted.
 * Where each conversation stood when the node started is given (`known`, the
 * next id of each); one made since starts at 1. A batch of ids below where a
 * conversation stands (stored before the node started, posted after) goes as
 * it comes. Pure: the clock and the timer are injected.
 */
import type { BusBatch } from './bus-ops.js';

export interface DeliveryClock {
  now(): number;
  /** Calls fn after ms; the returned function cancels. */
  after(ms: number, fn: () => void): () => void;
}

/** The real clock and timers. */
export const TIMERS: DeliveryClock = {
  now: Date.now,
  after: (ms, fn) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

export class OrderedDelivery {
  private readonly next: Map<string, number>;
  private readonly queue: BusBatch[] = [];
  private waitingSince: number | null = null;
  private cancelWait: (() => void) | null = null;
  readonly counts = { delivered: 0, held: 0, gapsPassed: 0 };

  constructor(
    private readonly deliver: (batch: BusBatch) => void,
    private readonly clock: DeliveryClock,
    private readonly gapWaitMs: number,
    known: ReadonlyMap<string, number> = new Map(),
  ) {
    this.next = new Map(known);
  }

  /** The highest id of the conversation passed here so far (0: none), or known when the node started. */
  passed(conv: string): number {
    return (this.next.get(conv) ?? 1) - 1;
  }

  push(batch: BusBatch): void {
    this.queue.push(batch);
    this.drain();
  }

  /** Batches waiting for a gap to fill. */
  get waiting(): number {
    return this.queue.length;
  }

  private drain(): void {
    for (;;) {
      const head = this.queue[0];
      if (!head) return this.stopWaiting();
      if (this.inOrder(head)) {
        this.stopWaiting();
        this.take(this.queue.shift()!);
        continue;
      }
      // A later batch may hold the missing ids: it goes first when it is in order itself.
      const filler = this.fillerIndex();
      if (filler > 0) {
        this.take(this.queue.splice(filler, 1)[0]!);
        continue;
      }
      if (this.waitingSince === null) {
        this.counts.held++;
        this.waitingSince = this.clock.now();
        this.cancelWait = this.clock.after(this.gapWaitMs, () => this.passGap());
      }
      return;
    }
  }

  /** The first waiting batch in order whose node has none before it in the queue (one node's batches keep their order); -1. */
  private fillerIndex(): number {
    const before = new Set<string>();
    for (let i = 0; i < this.queue.length; i++) {
      const b = this.queue[i]!;
      if (i > 0 && !before.has(b.node) && this.inOrder(b)) return i;
      before.add(b.node);
    }
    return -1;
  }

  private inOrder(b: BusBatch): boolean {
    const seen = new Map<string, number>();
    for (const [conv, id] of b.ids) {
      const want = seen.get(conv) ?? this.next.get(conv) ?? 1;
      if (id > want) return false;
      seen.set(conv, id + 1);
    }
    return true;
  }

  private take(b: BusBatch): void {
    for (const [conv, id] of b.ids) this.next.set(conv, Math.max(this.next.get(conv) ?? 1, id + 1));
    this.counts.delivered++;
    this.deliver(b);
  }

  /** The gap outlasted the wait: the head goes as it is, its conversations going on from its ids. */
  private passGap(): void {
    this.cancelWait = null;
    this.waitingSince = null;
    const head = this.queue.shift();
    if (!head) return;
    this.counts.gapsPassed++;
    this.take(head);
    this.drain();
  }

  private stopWaiting(): void {
    this.cancelWait?.();
    this.cancelWait = null;
    this.waitingSince = null;
  }
}
