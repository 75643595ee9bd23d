/**
 * The datagrams the ladder draws, chosen as the trace streams by, in bounded
 * memory: the control datagrams (SYN, SYN-ACK, END, FIN, errors), the ACKs
 * of the handshake, the first few after the data starts and those from the
 * teardown on; the data and the other ACKs in between are counted into one
 * row (the time-sequence graph shows them). At most HEAD_ROWS rows from the
 * start and TAIL_ROWS from the end are kept (a trace of a million SYNs would
 * otherwise be a million rows); what falls between is one more counted row.
 * The same for the states the two sides went through.
 */
import type { Datagram, StateChange } from './transfer-model.js';

export const HEAD_ROWS = 48;
export const TAIL_ROWS = 48;
/** ACKs kept next to the handshake and the teardown. */
export const EDGE_ACKS = 3;

/** Datagrams left out of the ladder, by kind. */
export interface Skipped {
  data: number;
  acks: number;
  other: number;
}

export type LadderEntry = { kind: 'packet'; d: Datagram } | { kind: 'gap'; skipped: Skipped; why: 'graph' | 'bound' };

/** The first `head` items and the last `tail`, with a count of the ones between. */
export class HeadTail<T> {
  readonly head: T[] = [];
  readonly tail: T[] = [];
  dropped = 0;

  constructor(
    private readonly headMax: number,
    private readonly tailMax: number,
    private readonly onDrop: (item: T) => void = () => undefined,
  ) {}

  push(item: T): void {
    if (this.head.length < this.headMax) {
      this.head.push(item);
      return;
    }
    this.tail.push(item);
    if (this.tail.length > this.tailMax) {
      this.dropped++;
      this.onDrop(this.tail.shift()!);
    }
  }
}

const none = (): Skipped => ({ data: 0, acks: 0, other: 0 });

export class LadderSample {
  private index = 0;
  private firstData = -1;
  private ended = false;
  private pending = none();
  private readonly bounded = none();
  private readonly rows = new HeadTail<LadderEntry>(HEAD_ROWS, TAIL_ROWS, (e) => {
    if (e.kind === 'gap') add(this.bounded, e.skipped);
    else if (e.d.type === 'data') this.bounded.data++;
    else if (e.d.type === 'ack') this.bounded.acks++;
    else this.bounded.other++;
  });

  /** The next datagram, in the order of the transfer (sent, or received when its sending is not traced). */
  add(d: Datagram): void {
    const i = this.index++;
    if (d.type === 'data' && this.firstData < 0) this.firstData = i;
    if (d.type === 'end' || d.type === 'fin' || d.type === 'error') this.ended = true;
    const keep =
      d.type !== 'data' && (d.type !== 'ack' || this.firstData < 0 || i < this.firstData + EDGE_ACKS || this.ended);
    if (!keep) {
      if (d.type === 'data') this.pending.data++;
      else this.pending.acks++;
      return;
    }
    this.flush();
    this.rows.push({ kind: 'packet', d });
  }

  /**
   * The rows, in order: kept datagrams, counted gaps, and where rows were left out for the bound, a count. Between
   * two gaps, datagrams in the order they were sent (or received, when their sending is not traced): one whose
   * pairing waited a millisecond for the other trace came in a little late.
   */
  entries(): LadderEntry[] {
    this.flush();
    const between: LadderEntry[] = this.rows.dropped ? [{ kind: 'gap', skipped: this.bounded, why: 'bound' }] : [];
    const all = [...this.rows.head, ...between, ...this.rows.tail];
    const at = (e: LadderEntry) => (e.kind === 'packet' ? (e.d.sentAt ?? e.d.receivedAt ?? 0) : 0);
    for (let i = 0; i < all.length; ) {
      let j = i;
      while (j < all.length && all[j]!.kind === 'packet') j++;
      all.splice(i, j - i, ...all.slice(i, j).sort((a, b) => at(a) - at(b)));
      i = j + 1;
    }
    return all;
  }

  private flush(): void {
    if (this.pending.data + this.pending.acks === 0) return;
    this.rows.push({ kind: 'gap', skipped: this.pending, why: 'graph' });
    this.pending = none();
  }
}

function add(into: Skipped, s: Skipped): void {
  into.data += s.data;
  into.acks += s.acks;
  into.other += s.other;
}

/** The states both sides went through: the first HEAD_ROWS and the last TAIL_ROWS (a count of the others). */
export function stateLog(): HeadTail<StateChange> {
  return new HeadTail<StateChange>(HEAD_ROWS, TAIL_ROWS);
}
