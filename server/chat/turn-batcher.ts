/**
 * Frames written to a client during one event-loop turn leave together at the
 * end of the turn: one system call per client per turn instead of one per
 * frame. Fan-out writes the same few frames to thousands of sockets, so this
 * is where the worker's time goes (docs/ARCHITECTURE.md, "write batching").
 *
 * Frames are held in a plain array per connection rather than in the socket
 * (cork): a corked Writable keeps a request object per write, which under a
 * join storm (every join announced to everyone: n frames to each of n
 * sockets in one turn) cost more memory than the frames themselves.
 */

export interface Flushable {
  /** Sends what was queued this turn. */
  flush(): void;
}

export class TurnBatcher {
  private readonly due = new Set<Flushable>();
  private scheduled = false;

  /** Flushes `f` at the end of this turn (once, however often it is added). */
  add(f: Flushable): void {
    this.due.add(f);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flushAll());
  }

  private flushAll(): void {
    this.scheduled = false;
    // Taken out first: a flush can cause writes (a failed socket announces its end), which belong to the next round.
    const due = [...this.due];
    this.due.clear();
    for (const f of due) f.flush();
  }
}
