/**
 * When to try again after a lost connection: 0.5 s, doubling to 30 s, with
 * ±20 % jitter so that a roomful of clients does not come back in step
 * after a server restart. The terminal client and the browser page both
 * wait by it.
 */
export const FIRST_RETRY_MS = 500;
export const MAX_RETRY_MS = 30_000;

export class Backoff {
  private attempts = 0;

  constructor(private readonly random: () => number = Math.random) {}

  /** The wait before the next try; each call doubles the next one, up to MAX_RETRY_MS. */
  next(): number {
    const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(this.attempts++, 16));
    return Math.round(base * (0.8 + 0.4 * this.random()));
  }

  /** Connected again: the next loss starts from the first wait. */
  reset(): void {
    this.attempts = 0;
  }
}
