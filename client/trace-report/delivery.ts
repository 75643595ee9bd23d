/**
 * Which datagrams arrived, from both sides' traces: each datagram one side
 * received is paired with the one the other side sent (same type, seq, ack,
 * window and length), and a datagram sent and never received is known lost.
 * Only with the receiving side's trace: without it, whether a datagram
 * arrived is unknown, not lost. Bounded: a datagram waits for its arrival
 * among at most MAX_WAITING others; past that the oldest waiting is taken to
 * be lost (by then tens of thousands of later datagrams were sent: far more
 * than any window holds in flight).
 */
import type { Datagram } from './transfer-model.js';

export type Side = 'client' | 'server';

export const MAX_WAITING = 65_536;

export function other(side: Side): Side {
  return side === 'client' ? 'server' : 'client';
}

const keyOf = (d: Datagram) => `${d.type}:${d.seq}:${d.ack}:${d.window}:${d.length}`;

export class Delivery {
  /** Sent and not yet received, by key, in the order sent. */
  private readonly waiting = new Map<string, Datagram[]>();
  /** The same, in the order sent, with some already received or given up on (skipped when met). */
  private queue: Datagram[] = [];
  private head = 0;
  private live = 0;
  private givenUp = 0;

  /** traced: the sides whose traces are given. */
  constructor(readonly traced: ReadonlySet<Side>) {}

  /** Whether the side d was sent to has its trace here (else its delivery is unknown). */
  knows(d: Datagram): boolean {
    return this.traced.has(other(d.from));
  }

  /** A datagram one side sent: it waits for its arrival in the other side's trace, if that is given. */
  sent(d: Datagram): void {
    if (!this.knows(d)) return;
    const k = keyOf(d);
    const list = this.waiting.get(k);
    if (list) list.push(d);
    else this.waiting.set(k, [d]);
    this.queue.push(d);
    if (++this.live > MAX_WAITING) this.giveUpOldest();
    if (this.queue.length - this.head > 4 * Math.max(1024, this.live)) {
      this.queue = this.queue.slice(this.head).filter((x) => x.receivedAt === null && this.isWaiting(x));
      this.head = 0;
    }
  }

  /**
   * A datagram one side received at `at`: the sent datagram it was (its receivedAt set), or null when the
   * sender's trace has none such. A retransmission is the same datagram again: the copy that arrived is taken
   * to be the latest one sent before it arrived (a path's delay is far shorter than a retransmission timer),
   * with a millisecond's slack for the two traces' clocks.
   */
  received(d: Datagram, at: number): Datagram | null {
    if (!this.traced.has(d.from)) return null;
    const k = keyOf(d);
    const list = this.waiting.get(k);
    if (!list) return null;
    for (let i = list.length - 1; i >= 0; i--) {
      const c = list[i]!;
      if ((c.sentAt ?? 0) > at + 1) continue;
      c.receivedAt = at;
      list.splice(i, 1);
      if (list.length === 0) this.waiting.delete(k);
      this.live--;
      return c;
    }
    return null;
  }

  /**
   * d arrived, though no trace shows it received: a RETRY answered it (a server answers a SYN without a token
   * with a RETRY, keeping no state, so its trace has neither). Taken to have arrived when the answer did.
   */
  answered(d: Datagram, at: number): void {
    if (d.receivedAt !== null || !this.isWaiting(d)) return;
    const k = keyOf(d);
    const list = this.waiting.get(k)!;
    list.splice(list.indexOf(d), 1);
    if (list.length === 0) this.waiting.delete(k);
    this.live--;
    d.receivedAt = at;
  }

  /** Sent (with the receiving side's trace given) and never received. */
  neverReceived(): number {
    return this.givenUp + this.live;
  }

  private isWaiting(d: Datagram): boolean {
    return this.waiting.get(keyOf(d))?.includes(d) === true;
  }

  private giveUpOldest(): void {
    while (this.head < this.queue.length) {
      const d = this.queue[this.head++]!;
      if (d.receivedAt !== null) continue;
      const k = keyOf(d);
      const list = this.waiting.get(k);
      const i = list?.indexOf(d) ?? -1;
      if (!list || i < 0) continue;
      list.splice(i, 1);
      if (list.length === 0) this.waiting.delete(k);
      this.live--;
      this.givenUp++;
      return;
    }
  }
}
