/**
 * The windowed estimates BBR's path model is made of (draft-ietf-ccwg-bbr,
 * "Updating Network Path Model Parameters"): the bandwidth max filter over two
 * ProbeBW cycles, the min RTT with ProbeRTT's schedule, and the ACK
 * aggregation estimate. Pure: time and samples come in as arguments.
 */

/** BBR.max_bw: the largest delivery rate of this ProbeBW cycle and the one before (packets per ms). */
export class MaxBwFilter {
  /** [previous cycle, current cycle]. */
  private readonly hi = [0, 0];

  get value(): number {
    return Math.max(this.hi[0]!, this.hi[1]!);
  }

  update(rate: number): void {
    if (rate > this.hi[1]!) this.hi[1] = rate;
  }

  /** A ProbeBW cycle ended (one round after probing up): the older cycle is forgotten. */
  advance(): void {
    if (this.hi[1] === 0) return; // no samples this cycle: keep the old one
    this.hi[0] = this.hi[1]!;
    this.hi[1] = 0;
  }
}

export const MIN_RTT_FILTER_LEN_MS = 10_000;
export const PROBE_RTT_INTERVAL_MS = 5_000;

/** BBR.min_rtt and when ProbeRTT is due (UpdateMinRTT). */
export class MinRttFilter {
  minRtt = Infinity;
  private stamp: number | null = null;
  private probeRttMinDelay = Infinity;
  private probeRttMinStamp = 0;
  /** No RTT sample as low as the one kept for PROBE_RTT_INTERVAL_MS: ProbeRTT is due. */
  probeRttExpired = false;

  update(now: number, rttMs: number | null): void {
    if (this.stamp === null) this.stamp = this.probeRttMinStamp = now;
    this.probeRttExpired = now > this.probeRttMinStamp + PROBE_RTT_INTERVAL_MS;
    if (rttMs !== null && rttMs >= 0 && (rttMs < this.probeRttMinDelay || this.probeRttExpired)) {
      this.probeRttMinDelay = rttMs;
      this.probeRttMinStamp = now;
    }
    const minRttExpired = now > this.stamp + MIN_RTT_FILTER_LEN_MS;
    if (this.probeRttMinDelay < this.minRtt || minRttExpired) {
      this.minRtt = this.probeRttMinDelay;
      this.stamp = this.probeRttMinStamp;
    }
  }

  /** ProbeRTT ended: the next is due PROBE_RTT_INTERVAL_MS from now. */
  probeRttDone(now: number): void {
    this.probeRttMinStamp = now;
  }
}

/** The aggregation estimate is the larger of two maxima, each over this many rounds (Linux: bbr_extra_acked_win_rtts). */
export const EXTRA_ACKED_WINDOW_ROUNDS = 5;
/** ... at most this much of the estimated bandwidth (Linux: bbr_extra_acked_max_us). */
export const EXTRA_ACKED_MAX_MS = 100;

/**
 * BBR.extra_acked (UpdateACKAggregation): where ACKs come in clumps (a
 * user-space relay forwarding in batches, a busy event loop), the packets
 * acknowledged beyond what the bandwidth estimate predicts since the ACK rate
 * last fell to it. The window allows this much more in flight, or the flight
 * would run dry between clumps and every rate sample would come in under the
 * estimate (measured through the fault relay before this existed: a 32 MiB get
 * at 0.8-8.8 MiB/s against Reno's 40).
 */
export class AckAggregation {
  private epochAcked = 0;
  private epochAt: number | null = null;
  /** Two alternating windows of the largest excess seen (packets). */
  private readonly extra = [0, 0];
  private index = 0;
  private rounds = 0;

  /** The estimate, capped at EXTRA_ACKED_MAX_MS of `bw`. */
  value(bw: number): number {
    return Math.min(Math.max(this.extra[0]!, this.extra[1]!), bw * EXTRA_ACKED_MAX_MS);
  }

  update(now: number, acked: number, bw: number, roundStart: boolean, cwnd: number): void {
    if (roundStart && ++this.rounds >= EXTRA_ACKED_WINDOW_ROUNDS) {
      this.rounds = 0;
      this.index ^= 1;
      this.extra[this.index] = 0;
    }
    if (this.epochAt === null) this.epochAt = now;
    let expected = bw * (now - this.epochAt);
    // A new epoch when ACKs came no faster than the estimate says they should.
    if (this.epochAcked <= expected) {
      this.epochAcked = 0;
      this.epochAt = now;
      expected = 0;
    }
    this.epochAcked += acked;
    const extra = Math.min(this.epochAcked - expected, cwnd);
    if (extra > this.extra[this.index]!) this.extra[this.index] = extra;
  }

  /** Restarting from idle: the silence was the sender's, not an aggregation. */
  restart(now: number): void {
    this.epochAcked = 0;
    this.epochAt = now;
  }
}

const FULL_BW_GROWTH = 1.25;
const FULL_BW_COUNT = 3;

/**
 * Whether the pipe is full (CheckFullBWReached): three rounds, not app-limited, in which the bandwidth
 * estimate grew by less than 25 %. Startup ends there; ProbeBW's UP restarts it to find its plateau.
 */
export class FullPipe {
  /** The baseline the estimate must beat by 25 % (BBR.full_bw). */
  bw = 0;
  private count = 0;
  /** Full since the last reset (BBR.full_bw_now). */
  now = false;
  /** Ever full (BBR.full_bw_reached). */
  reached = false;

  check(bw: number, roundStart: boolean, appLimited: boolean): void {
    if (this.now || !roundStart || appLimited) return;
    if (bw >= this.bw * FULL_BW_GROWTH) {
      this.reset(bw);
      return;
    }
    this.now = ++this.count >= FULL_BW_COUNT;
    if (this.now) this.reached = true;
  }

  /** ResetFullBW, with `bw` as the new baseline. */
  reset(bw = 0): void {
    this.bw = bw;
    this.count = 0;
    this.now = false;
  }
}
