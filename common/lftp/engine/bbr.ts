/**
 * A model-based congestion controller after BBR (Cardwell et al., "BBR:
 * Congestion-Based Congestion Control", ACM Queue 2016; draft-cardwell-iccrg-bbr):
 * instead of reading every loss as congestion, it measures the path (the
 * bottleneck bandwidth as the windowed maximum of delivery-rate samples, the
 * propagation delay as the windowed minimum RTT) and keeps about two
 * bandwidth-delay products in flight. Random loss lowers the delivery rate only
 * by the share it drops, so it does not collapse the window as Reno's halving does.
 *
 * Simplified for LFTP: the window does the work of pacing (there is no pacer),
 * so the probing gains cycle the window rather than the sending rate; no
 * PROBE_RTT phase (min RTT is re-measured when its 10 s window expires); the
 * min RTT is floored at 1 ms (MIN_RTT_FLOOR_MS).
 *  - startup: the window grows by what is acknowledged (as slow start) up to
 *    2.89 × BDP, and does not shrink, until the bandwidth estimate stops
 *    growing by 25 % for 3 rounds;
 *  - drain: 1 × BDP until the flight fits it (or MIN_CWND);
 *  - probe_bw: 2 × BDP, scaled by the cycle 1.25, 0.75, 1 × 6, one phase per
 *    min RTT, plus the aggregation allowance below (not in drain, whose job is
 *    to empty the queue: with it, the flight would never fit one BDP).
 * Losses cut nothing; a retransmission timeout drops the window to 4 packets,
 * from which the model brings it back within a round trip or two.
 *
 * ACK aggregation (after Linux's bbr_update_ack_aggregation): where ACKs come in
 * clumps (a user-space relay that forwards in batches, a busy event loop), the
 * RTT varies far above its minimum, 2 × BDP is less than what the pipe holds
 * between clumps, the delivery-rate samples come in under the estimate, and
 * the max filter ratchets the estimate down round after round. Measured
 * through the fault relay (1 ms each way): a 32 MiB get fell to 0.8-8.8 MiB/s
 * against Reno's 40. So the window also allows the largest excess of
 * acknowledged packets over what the bandwidth estimate predicted since the
 * start of the current ACK epoch, kept over the last 5 to 10 rounds, at most
 * 100 ms of the estimated bandwidth.
 */
import { INITIAL_CWND, type CongestionControl, type CongestionPhase, type DeliverySample } from './congestion.js';

const STARTUP_GAIN = 2 / Math.LN2; // 2.885: doubles the sending rate each round
const CWND_GAIN = 2;
const CYCLE = [1.25, 0.75, 1, 1, 1, 1, 1, 1];
const BW_WINDOW_ROUNDS = 10;
const MIN_RTT_WINDOW_MS = 10_000;
const FULL_BW_GROWTH = 1.25;
const FULL_BW_ROUNDS = 3;
const MIN_CWND = 4;
/** The aggregation allowance is the larger of two maxima, each over this many rounds (Linux: bbr_extra_acked_win_rtts). */
const EXTRA_ACKED_WINDOW_ROUNDS = 5;
/** The allowance is at most this much of the estimated bandwidth (Linux: bbr_extra_acked_max_us). */
const EXTRA_ACKED_MAX_MS = 100;
/**
 * The smallest propagation delay the model believes. A user-space sender
 * reacts to ACKs once per event-loop turn, about a millisecond, however short
 * the path: on loopback a lucky 30 µs RTT sample would otherwise make the BDP a
 * couple of packets and starve the pipe between turns.
 */
const MIN_RTT_FLOOR_MS = 1;

export class BbrCongestion implements CongestionControl {
  readonly name = 'bbr';
  cwnd = INITIAL_CWND;
  mode: 'startup' | 'drain' | 'probe_bw' = 'startup';
  /** Bottleneck bandwidth estimate, packets per ms. */
  btlBw = 0;
  minRtt = Infinity;
  private minRttAt = 0;
  private round = 0;
  private readonly bwSamples: Array<{ round: number; rate: number }> = [];
  private fullBw = 0;
  private fullBwRounds = 0;
  private cycleIndex = 0;
  private cycleStartedAt = 0;
  /** Packets acknowledged since ackEpochAt, when the ACK rate last fell to the estimate. */
  private ackEpochAcked = 0;
  private ackEpochAt = 0;
  /** Two alternating windows of the largest excess seen (packets); the allowance is their max. */
  private readonly extraAcked = [0, 0];
  private extraAckedIndex = 0;
  private extraAckedRounds = 0;

  constructor(private readonly maxCwnd: number) {}

  get phase(): CongestionPhase {
    return this.mode;
  }

  /** The bandwidth-delay product in packets (0 until both are measured). */
  get bdp(): number {
    return Number.isFinite(this.minRtt) ? this.btlBw * Math.max(this.minRtt, MIN_RTT_FLOOR_MS) : 0;
  }

  get ssthresh(): number {
    return Math.round(this.bdp);
  }

  /** Packets the window allows beyond gain × BDP for ACKs that arrive in clumps. */
  get aggregationAllowance(): number {
    return Math.min(Math.max(this.extraAcked[0]!, this.extraAcked[1]!), this.btlBw * EXTRA_ACKED_MAX_MS);
  }

  private updateAckAggregation(packets: number, s: DeliverySample): void {
    if (s.roundStart && ++this.extraAckedRounds >= EXTRA_ACKED_WINDOW_ROUNDS) {
      this.extraAckedRounds = 0;
      this.extraAckedIndex ^= 1;
      this.extraAcked[this.extraAckedIndex] = 0;
    }
    let expected = this.btlBw * (s.now - this.ackEpochAt);
    // A new epoch when ACKs came no faster than the estimate says they should.
    if (this.ackEpochAcked <= expected) {
      this.ackEpochAcked = 0;
      this.ackEpochAt = s.now;
      expected = 0;
    }
    this.ackEpochAcked += packets;
    const extra = Math.min(this.ackEpochAcked - expected, this.cwnd);
    if (extra > this.extraAcked[this.extraAckedIndex]!) this.extraAcked[this.extraAckedIndex] = extra;
  }

  onAcked(packets: number, _largestAckedTx: number, s: DeliverySample): void {
    if (s.rttMs !== null && (s.rttMs <= this.minRtt || s.now - this.minRttAt > MIN_RTT_WINDOW_MS)) {
      this.minRtt = Math.max(s.rttMs, 0.01);
      this.minRttAt = s.now;
    }
    if (s.roundStart) this.round++;
    if (s.rate !== null && s.rate > 0 && (!s.appLimited || s.rate >= this.btlBw))
      this.bwSamples.push({ round: this.round, rate: s.rate });
    while (this.bwSamples.length > 0 && this.bwSamples[0]!.round <= this.round - BW_WINDOW_ROUNDS)
      this.bwSamples.shift();
    this.btlBw = this.bwSamples.reduce((m, x) => Math.max(m, x.rate), 0);
    if (packets > 0) this.updateAckAggregation(packets, s);

    if (this.mode === 'startup' && s.roundStart && !s.appLimited) {
      if (this.btlBw >= this.fullBw * FULL_BW_GROWTH) {
        this.fullBw = this.btlBw;
        this.fullBwRounds = 0;
      } else if (++this.fullBwRounds >= FULL_BW_ROUNDS) {
        this.mode = 'drain';
      }
    }
    // The window never goes below MIN_CWND, so neither can the flight drain wait for.
    if (this.mode === 'drain' && s.inflight <= Math.max(this.bdp, MIN_CWND)) {
      this.mode = 'probe_bw';
      this.cycleIndex = 0;
      this.cycleStartedAt = s.now;
    }
    if (this.mode === 'probe_bw' && Number.isFinite(this.minRtt) && s.now - this.cycleStartedAt >= this.minRtt) {
      this.cycleIndex = (this.cycleIndex + 1) % CYCLE.length;
      this.cycleStartedAt = s.now;
    }

    const bdp = this.bdp;
    if (bdp <= 0 || packets <= 0) {
      this.cwnd = Math.min(this.cwnd + Math.max(packets, 0), this.maxCwnd);
      return;
    }
    const gain =
      this.mode === 'startup' ? STARTUP_GAIN : this.mode === 'drain' ? 1 : CWND_GAIN * CYCLE[this.cycleIndex]!;
    const target = Math.max(MIN_CWND, gain * bdp + (this.mode === 'probe_bw' ? this.aggregationAllowance : 0));
    // Grow towards the target by what was acknowledged (no bursts). Shrink to it at once, except
    // in startup (as Linux): an early BDP from a lucky RTT sample must not choke the ramp-up.
    if (this.cwnd < target) this.cwnd = Math.min(this.maxCwnd, this.cwnd + packets, target);
    else if (this.mode !== 'startup') this.cwnd = Math.min(this.maxCwnd, target);
  }

  onLoss(): boolean {
    return false;
  }

  onTimeout(): void {
    this.cwnd = MIN_CWND;
  }
}
