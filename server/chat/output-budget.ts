/**
 * A worker's output budget: the bytes all its connections have waiting to be
 * sent (in their queues and in their sockets), against a limit. Frames are
 * shared between queues, so this counts each queue's view of them: memory is
 * at most this, usually far less. Past the limit the worker drops the
 * connections with the most waiting (the slowest readers) until it is under
 * again; a client that reads keeps an empty queue and is never the one.
 */
export class OutputBudget {
  private used = 0;
  private pending = false;

  /**
   * @param limit bytes this worker's connections may have waiting in all
   * @param overspent called once per turn while over the limit, to drop the slowest readers
   */
  constructor(
    readonly limit: number,
    private readonly overspent: () => void,
  ) {}

  get bytes(): number {
    return this.used;
  }

  get over(): boolean {
    return this.used > this.limit;
  }

  /** Adds (or, negative, gives back) bytes. */
  charge(bytes: number): void {
    this.used += bytes;
    if (this.used > this.limit && !this.pending) {
      this.pending = true;
      // Not from inside a write: the drop would end a connection in the middle of someone's fan-out.
      setImmediate(() => {
        this.pending = false;
        if (this.over) this.overspent();
      });
    }
  }
}
