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
 * min RTT is floored at 1 ms (MIN_RTT_FLOOR_MS). Linux's ACK-aggregation
 * allowance was tried for the loopback case and dropped: the floor alone gave
 * Reno's speed there, and the allowance cost speed under random loss.
 *  - startup: the window grows by what is acknowledged (as slow start) up to
 *    2.89 × BDP, until the bandwidth estimate stops growing by 25 % for 3 rounds;
 *  - drain: 1 × BDP until the flight fits it;
 *  - probe_bw: 2 × BDP, scaled by the cycle 1.25, 0.75, 1 × 6, one phase per min RTT.
 * Losses cut nothing; a retransmission timeout drops the window to 4 packets,
 * from which the model brings it back within a round trip or two.
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

  onAcked(packets: number, _largestAckedTx: number, s: DeliverySample): void {
    if (s.rttMs !== null && (s.rttMs <= this.minRtt || s.now - this.minRttAt > MIN_RTT_WINDOW_MS)) {
      this.minRtt = Math.max(s.rttMs, 0.01);
      this.minRttAt = s.now;
    }
    if (s.roundStart) this.round++;
    if (s.rate !== null && s.rate > 0 && (!s.appLimited || s.rate >= this.btlBw)) this.bwSamples.push({ round: this.round, rate: s.rate });
    while (this.bwSamples.length > 0 && this.bwSamples[0]!.round <= this.round - BW_WINDOW_ROUNDS) this.bwSamples.shift();
    this.btlBw = this.bwSamples.reduce((m, x) => Math.max(m, x.rate), 0);

    if (this.mode === 'startup' && s.roundStart && !s.appLimited) {
      if (this.btlBw >= this.fullBw * FULL_BW_GROWTH) {
        this.fullBw = this.btlBw;
        this.fullBwRounds = 0;
      } else if (++this.fullBwRounds >= FULL_BW_ROUNDS) {
        this.mode = 'drain';
      }
    }
    if (this.mode === 'drain' && s.inflight <= this.bdp) {
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
    const gain = this.mode === 'startup' ? STARTUP_GAIN : this.mode === 'drain' ? 1 : CWND_GAIN * CYCLE[this.cycleIndex]!;
    const target = Math.max(MIN_CWND, gain * bdp);
    // Grow towards the target by what was acknowledged (no bursts); shrink to it at once.
    this.cwnd = Math.min(this.maxCwnd, this.cwnd < target ? Math.min(this.cwnd + packets, target) : target);
  }

  onLoss(): boolean {
    return false;
  }

  onTimeout(): void {
    this.cwnd = MIN_CWND;
  }
}
