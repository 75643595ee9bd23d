/**
 * Whether an RTT sample saw a standing queue, for telling random loss from a
 * full queue's (loss-background.ts). A drop-tail queue drops only when full,
 * so a packet it dropped is revealed by an ACK whose RTT is near the highest
 * the path has lately shown; random loss is revealed at any RTT. A sample
 * counts as quiet when it is near the min RTT (QUEUE_FREE_RTT_GAIN and
 * QUEUE_FREE_RTT_SLACK_MS) and in the lower half of the recent RTT range. The
 * second test is for a flow that started behind another's standing queue:
 * its min RTT includes that queue, the first test alone then passes the
 * full queue's samples (1.25 × 8.4 ms + 1 ms against a full queue at 11.7 ms
 * in the fake network), and the flow took a competitor's drops for random
 * loss and kept 14 % of the link. Pure.
 */
export const QUEUE_FREE_RTT_GAIN = 1.25;
export const QUEUE_FREE_RTT_SLACK_MS = 1;
/** The recent RTT range is the highest sample of the last one to two of these. */
export const RANGE_BUCKET_MS = 1000;

export class QueueGauge {
  private maxNow = -Infinity;
  private maxBefore = -Infinity;
  private bucketAt = -Infinity;

  /** One RTT sample taken at `now`: it widens the recent range. */
  note(now: number, rttMs: number): void {
    if (now - this.bucketAt >= RANGE_BUCKET_MS) {
      this.maxBefore = now - this.bucketAt >= 2 * RANGE_BUCKET_MS ? -Infinity : this.maxNow;
      this.maxNow = -Infinity;
      this.bucketAt = now;
    }
    if (rttMs > this.maxNow) this.maxNow = rttMs;
  }

  /** Whether an RTT met no standing queue, judged against the path's min RTT and the recent range. */
  quiet(rttMs: number, minRtt: number): boolean {
    if (!Number.isFinite(minRtt)) return false;
    const recentMax = Math.max(this.maxNow, this.maxBefore);
    const headroom = Math.min((QUEUE_FREE_RTT_GAIN - 1) * minRtt + QUEUE_FREE_RTT_SLACK_MS, (recentMax - minRtt) / 2);
    return rttMs - minRtt <= headroom;
  }
}
