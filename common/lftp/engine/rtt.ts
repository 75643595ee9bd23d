/**
 * Retransmission timeout per RFC 6298: SRTT and RTTVAR with gains 1/8 and 1/4,
 * RTO = SRTT + max(G, 4·RTTVAR), clamped to [minRto, maxRto], doubled on each
 * expiry (backoff) and reset by the next valid sample. Karn's rule (no samples
 * from retransmitted packets) is the caller's: it only feeds clean samples.
 */
export interface RtoBounds {
  initialMs: number;
  minMs: number;
  maxMs: number;
  /** Clock granularity G. */
  granularityMs: number;
}

/**
 * RFC 6298 asks for a maximum of at least 60 s. LFTP caps at 10 s: it runs on
 * LANs and loopback, and a peer silent for its idle timeout (30 s) is given up
 * anyway, so a longer backoff could only turn a recoverable stall into a failure.
 */
export const DEFAULT_RTO: RtoBounds = { initialMs: 1000, minMs: 200, maxMs: 10_000, granularityMs: 1 };

export class RttEstimator {
  srtt: number | null = null;
  rttvar = 0;
  latest = 0;
  minRtt = Infinity;
  private backoff = 1;

  constructor(private readonly bounds: RtoBounds = DEFAULT_RTO) {}

  sample(rttMs: number): void {
    if (!(rttMs >= 0)) return;
    this.latest = rttMs;
    if (rttMs < this.minRtt) this.minRtt = rttMs;
    if (this.srtt === null) {
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rttMs);
      this.srtt = 0.875 * this.srtt + 0.125 * rttMs;
    }
    this.backoff = 1;
  }

  /** The timeout in force, including backoff. */
  get rto(): number {
    const base =
      this.srtt === null ? this.bounds.initialMs : this.srtt + Math.max(this.bounds.granularityMs, 4 * this.rttvar);
    return Math.min(this.bounds.maxMs, Math.max(this.bounds.minMs, base) * this.backoff);
  }

  /** RFC 6298 5.5: double the RTO after it expires. */
  expired(): void {
    if (this.rto < this.bounds.maxMs) this.backoff *= 2;
  }

  get backoffFactor(): number {
    return this.backoff;
  }
}

/** The tail loss probe's floor (RFC 8985 leaves it to the host: a timer tick and an event-loop turn). */
export const PROBE_MIN_MS = 10;

/**
 * The tail loss probe timeout (RFC 8985: 2·SRTT): how long the last packet of a flight waits for its answer
 * before it is probed, when that is shorter than the RTO. Null without an RTT sample, or when it is not.
 */
export function probeTimeout(rtt: RttEstimator): number | null {
  if (rtt.srtt === null) return null;
  const pto = Math.max(2 * rtt.srtt, PROBE_MIN_MS);
  return pto < rtt.rto ? pto : null;
}
