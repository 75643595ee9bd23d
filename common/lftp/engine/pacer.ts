/**
 * Pacing for the data sender: a token bucket in packets (after quic-go's
 * internal/congestion/pacer.go). Tokens come at the controller's pacing rate;
 * a packet takes one; the bucket holds at most a burst of BURST_MS of the
 * rate (at least MIN_BURST packets). The burst is a few milliseconds, not
 * BBR's "one quantum" of a kernel pacer: a user-space sender wakes at most once
 * per timer tick (a millisecond or more on a busy event loop), and must put a
 * tick's worth on the wire each time it wakes or it could not reach its rate.
 * Pure: the time comes in as an argument.
 */

/** The bucket holds this many milliseconds of the rate. */
export const BURST_MS = 2;
/** ... and never fewer packets than this (a rate that is not yet measured must not trickle). */
export const MIN_BURST = 10;
/** Rounding: a bucket this close to a whole token has one. */
const EPSILON = 1e-9;

export class Pacer {
  private tokens = MIN_BURST;
  private lastAt = -Infinity;

  private maxBurst(rate: number): number {
    return Math.max(MIN_BURST, rate * BURST_MS);
  }

  /** Tokens in the bucket at `now`, at `rate` packets per ms. */
  budget(now: number, rate: number): number {
    if (this.lastAt === -Infinity) return this.maxBurst(rate);
    return Math.min(this.maxBurst(rate), this.tokens + rate * Math.max(0, now - this.lastAt));
  }

  /** Whether a packet may go at `now`. */
  allows(now: number, rate: number): boolean {
    return this.budget(now, rate) >= 1 - EPSILON;
  }

  /** One packet went at `now`. */
  sent(now: number, rate: number): void {
    this.tokens = Math.max(0, this.budget(now, rate) - 1);
    this.lastAt = now;
  }

  /** When the bucket next holds a whole token (now, if it does). */
  nextSendTime(now: number, rate: number): number {
    const have = this.budget(now, rate);
    if (have >= 1 - EPSILON || rate <= 0) return now;
    return now + (1 - have) / rate;
  }
}

/** The send window's use of the pacer: whether it holds the next packet back, and until when. */
export class PacingGate {
  private readonly pacer = new Pacer();
  /** When the pacer next lets a packet go, if it held the last one back (else null). */
  until: number | null = null;

  /** True when the pacer holds a packet back at `now` (rate null: no pacing). */
  holds(now: number, rate: number | null): boolean {
    if (rate === null || this.pacer.allows(now, rate)) return false;
    this.until = this.pacer.nextSendTime(now, rate);
    return true;
  }

  sent(now: number, rate: number | null): void {
    if (rate !== null) this.pacer.sent(now, rate);
  }
}
