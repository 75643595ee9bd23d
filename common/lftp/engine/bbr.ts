/**
 * LFTP's default congestion controller: BBR version 3 as draft-ietf-ccwg-bbr
 * describes it (the state machine Startup, Drain, ProbeBW's DOWN, CRUISE,
 * REFILL and UP, and ProbeRTT; the long- and short-term model; pacing), in
 * packets, with the clock injected. Differences from the draft, each for a
 * reason docs/LFTP.md gives:
 *  - loss counts as congestion only beyond the path's background of random
 *    loss (loss-background.ts): BBRv3 cuts its in-flight bound when a round's
 *    loss passes 2 % while probing, and on any loss in a round while not; this
 *    does the same with the loss that random loss does not explain, and
 *    probes at once when it first measures some;
 *  - the min RTT the model believes is floored at 1 ms, a round lasts 4 ms at
 *    least (a user-space sender wakes once per event-loop turn);
 *  - no undo of spurious loss recovery (LFTP detects none), and the pacer's
 *    burst is a couple of milliseconds of the rate (pacer.ts).
 * Filters: bbr-filters.ts; the ProbeBW cycle: bbr-probe-bw.ts; ProbeRTT: bbr-probe-rtt.ts.
 */
import {
  INITIAL_CWND,
  type CongestionControl,
  type CongestionPhase,
  type DeliverySample,
  type LostPacket,
  type PathModel,
} from './congestion.js';
import { AckAggregation, FullPipe, MaxBwFilter, MinRttFilter } from './bbr-filters.js';
import { LossBackground } from './loss-background.js';
import { BETA, DEFAULT_CWND_GAIN, LOSS_THRESH, ProbeBwCycle } from './bbr-probe-bw.js';
import { ProbeRtt } from './bbr-probe-rtt.js';
import { LossRound } from './bbr-loss-round.js';

export const STARTUP_PACING_GAIN = 2.77;
const DRAIN_PACING_GAIN = 0.5;
const PACING_MARGIN = 0.01;
const HEADROOM = 0.15;
export const MIN_PIPE_CWND = 4;
const STARTUP_FULL_LOSS_COUNT = 6;
/** The smallest propagation delay the model believes (see above). */
export const MIN_RTT_FLOOR_MS = 1;
/** The shortest round (see updateRound). */
export const MIN_ROUND_MS = 4;
/** A send quantum is at most this many packets (64 KB of 1448-byte payloads, about). */
const MAX_SEND_QUANTUM = 44;

export class BbrCongestion implements CongestionControl {
  readonly name = 'bbr';
  cwnd = INITIAL_CWND;
  /** Packets per ms: 2.77 × the initial window over a 1 ms RTT until there is a measurement. */
  pacingRate = (STARTUP_PACING_GAIN * INITIAL_CWND) / MIN_RTT_FLOOR_MS;
  state: CongestionPhase = 'startup';
  pacingGain = STARTUP_PACING_GAIN;
  cwndGain = DEFAULT_CWND_GAIN;
  // ---- the model
  readonly maxBwFilter = new MaxBwFilter();
  readonly rtt = new MinRttFilter();
  readonly aggregation = new AckAggregation();
  readonly background = new LossBackground();
  bwShortterm = Infinity;
  /** min(max_bw, bw_shortterm), packets per ms. */
  bw = 0;
  inflightLongterm = Infinity;
  inflightShortterm = Infinity;
  readonly lossRound = new LossRound();
  // ---- rounds
  roundCount = 0;
  roundStart = false;
  private nextRoundDelivered = 0;
  private roundStartedAt = -Infinity;
  /** C.delivered as of the latest ACK. */
  delivered = 0;
  // ---- Startup, Drain, ProbeRTT
  readonly fullPipe = new FullPipe();
  private drainStartRound = 0;
  private priorCwnd = 0;
  /** After a retransmission timeout: the window comes back once a packet sent after it is acknowledged. */
  private rtoTx: number | null = null;
  readonly probeBw: ProbeBwCycle;
  readonly probeRtt = new ProbeRtt(this);

  constructor(
    private readonly maxCwnd: number,
    random: () => number = Math.random,
  ) {
    this.probeBw = new ProbeBwCycle(this, random);
  }

  get phase(): CongestionPhase {
    return this.state;
  }

  get minRtt(): number {
    return this.rtt.minRtt;
  }

  /** The bandwidth-delay product in packets (0 until both are measured). */
  get bdp(): number {
    return Number.isFinite(this.minRtt) ? this.bw * Math.max(this.minRtt, MIN_RTT_FLOOR_MS) : 0;
  }

  get ssthresh(): number {
    return Math.round(this.bdp);
  }

  get model(): PathModel {
    return {
      bw: this.bw,
      minRtt: this.minRtt,
      inflightBound: Math.min(this.inflightLongterm, this.inflightShortterm),
      randomLoss: this.background.rate,
      pacingGain: this.pacingGain,
      cwndGain: this.cwndGain,
    };
  }

  get inProbeBw(): boolean {
    return this.state.startsWith('probe_bw');
  }

  /** Startup, REFILL and UP: the flow is pushing to find out how much the path takes. */
  get isProbingBw(): boolean {
    return this.state === 'startup' || this.state === 'probe_bw_refill' || this.state === 'probe_bw_up';
  }

  // ---- per ACK (UpdateOnACK)

  onAcked(packets: number, largestAckedTx: number, s: DeliverySample): void {
    if (packets <= 0) return;
    if (this.rtoTx !== null && largestAckedTx > this.rtoTx) {
      this.rtoTx = null;
      this.restoreCwnd();
    }
    this.delivered = s.totalDelivered;
    this.updateRound(s);
    this.lossRound.onAck(s, this.delivered, this.minRtt);
    this.updateCongestionSignals(s);
    this.aggregation.update(s.now, packets, this.bw, this.roundStart, this.cwnd);
    this.fullPipe.check(this.maxBwFilter.value, this.roundStart, s.appLimited);
    if (this.state === 'startup' && this.fullPipe.reached) this.enterDrain();
    this.checkDrainDone(s);
    this.probeBw.update(s);
    this.rtt.update(s.now, s.rttMs);
    this.probeRtt.check(s);
    this.lossRound.advance(s);
    this.bw = Math.min(this.maxBwFilter.value, this.bwShortterm);
    this.setPacingRate(this.pacingGain);
    this.setCwnd(s);
  }

  /**
   * Packet-timed rounds of at least MIN_ROUND_MS: a loopback round trip (30-300 µs) is far shorter than a rate
   * sample (1 ms) or an event-loop turn, and Startup's "three rounds without growth" passed before a sample
   * could show any (a get left Startup at 6 Mbit/s); 1 ms rounds gave 35-188 MiB/s on a busy machine, 4 ms 128-148.
   */
  private updateRound(s: DeliverySample): void {
    this.roundStart = s.priorDelivered >= this.nextRoundDelivered && s.now - this.roundStartedAt >= MIN_ROUND_MS;
    if (!this.roundStart) return;
    this.roundStartedAt = s.now;
    this.startRound();
    this.roundCount++;
    this.probeBw.roundsSinceProbeUp++;
  }

  startRound(): void {
    this.nextRoundDelivered = this.delivered;
  }

  private updateCongestionSignals(s: DeliverySample): void {
    const rate = s.rate;
    // ProbeRTT's low rates say nothing of the path (the draft marks them app-limited).
    if (rate !== null && rate > 0 && (rate >= this.maxBwFilter.value || (!s.appLimited && this.state !== 'probe_rtt')))
      this.maxBwFilter.update(rate);
    if (!this.lossRound.started) return;
    const { lost, packets, ranges, quietLost, quietPackets } = this.lossRound.end(this.delivered);
    // What is lost while no queue stands is random loss (loss-background.ts).
    const knew = this.background.known;
    this.background.addRound(s.now, quietLost, quietPackets);
    if (!knew && this.background.known && this.background.rate > 0) this.probeBw.backgroundMeasured();
    const { bwLatest, inflightLatest } = this.lossRound;
    // Startup ends on loss: a round over 2 % beyond random, in at least 6 separate runs.
    if (
      this.state === 'startup' &&
      ranges >= STARTUP_FULL_LOSS_COUNT &&
      this.background.exceeds(lost, packets, LOSS_THRESH)
    ) {
      this.fullPipe.reached = true;
      this.inflightLongterm = Math.max(this.bdp, inflightLatest);
    }
    // Once per round, outside probing, loss that random loss does not explain lowers the short-term model.
    if (!this.isProbingBw && lost > 0 && this.background.exceeds(lost, packets, 0)) {
      if (this.bwShortterm === Infinity) this.bwShortterm = this.maxBwFilter.value;
      if (this.inflightShortterm === Infinity) this.inflightShortterm = this.cwnd;
      this.bwShortterm = Math.max(bwLatest, BETA * this.bwShortterm);
      this.inflightShortterm = Math.max(inflightLatest, BETA * this.inflightShortterm);
    }
  }

  private enterDrain(): void {
    this.state = 'drain';
    this.pacingGain = DRAIN_PACING_GAIN;
    this.cwndGain = DEFAULT_CWND_GAIN;
    this.drainStartRound = this.roundCount;
  }

  private checkDrainDone(s: DeliverySample): void {
    if (this.state === 'drain' && (s.inflight <= this.inflight(1) || this.roundCount > this.drainStartRound + 3))
      this.probeBw.enter(s.now);
  }

  enterStartup(): void {
    this.state = 'startup';
    this.pacingGain = STARTUP_PACING_GAIN;
    this.cwndGain = DEFAULT_CWND_GAIN;
  }

  resetShortTermModel(): void {
    this.bwShortterm = Infinity;
    this.inflightShortterm = Infinity;
  }

  resetCongestionSignals(): void {
    this.lossRound.resetSignals();
  }

  onLoss(p: LostPacket): boolean {
    this.lossRound.noteLoss(p.index, this.delivered, p.neighborRttMs);
    return this.probeBw.onLoss(p);
  }

  onTimeout(_flight: number, currentTx: number): void {
    this.saveCwnd();
    this.rtoTx = currentTx;
    this.cwnd = 1;
  }

  onRestartFromIdle(now: number): void {
    this.probeRtt.idleRestart = true;
    this.aggregation.restart(now);
    if (this.inProbeBw) this.setPacingRate(1);
    else if (this.state === 'probe_rtt') this.probeRtt.checkDone(now);
  }

  private setPacingRate(gain: number): void {
    const rate = gain * this.bw * (1 - PACING_MARGIN);
    if (rate > 0 && (this.fullPipe.reached || rate > this.pacingRate)) this.pacingRate = rate;
  }

  /** Packets BBR lets the pacer send as one burst, and three of them in flight for the host's batching. */
  private get offloadBudget(): number {
    return 3 * Math.min(MAX_SEND_QUANTUM, Math.max(2, this.pacingRate));
  }

  bdpMultiple(gain: number, bw = this.bw): number {
    if (!Number.isFinite(this.minRtt)) return INITIAL_CWND;
    return gain * bw * Math.max(this.minRtt, MIN_RTT_FLOOR_MS);
  }

  /** Inflight(gain): what `gain` × BDP needs, with room for batching. */
  inflight(gain: number, bw = this.bw): number {
    let cap = Math.max(this.bdpMultiple(gain, bw), this.offloadBudget, MIN_PIPE_CWND);
    if (this.state === 'probe_bw_up') cap += 2;
    return cap;
  }

  /** The in-flight bound less the headroom left for other flows (CRUISE, ProbeRTT). */
  inflightWithHeadroom(): number {
    if (this.inflightLongterm === Infinity) return Infinity;
    const headroom = Math.max(1, HEADROOM * this.inflightLongterm);
    return Math.max(this.inflightLongterm - headroom, MIN_PIPE_CWND);
  }

  /** How much we want in flight: the BDP, unless congestion cut cwnd. */
  targetInflight(): number {
    return Math.min(this.bdp, this.cwnd);
  }

  private setCwnd(s: DeliverySample): void {
    let cap = this.bdpMultiple(this.cwndGain) + this.aggregation.value(this.bw);
    cap = Math.max(cap, this.offloadBudget, MIN_PIPE_CWND) + (this.state === 'probe_bw_up' ? 2 : 0);
    if (this.fullPipe.reached) this.cwnd = Math.min(this.cwnd + s.newlyAcked, cap);
    else if (this.cwnd < cap || this.delivered < INITIAL_CWND) this.cwnd += s.newlyAcked;
    this.cwnd = Math.max(this.cwnd, MIN_PIPE_CWND);
    if (this.state === 'probe_rtt') this.cwnd = Math.min(this.cwnd, this.probeRtt.cwnd());
    let bound = Infinity;
    if (this.inProbeBw && this.state !== 'probe_bw_cruise') bound = this.inflightLongterm;
    else if (this.state === 'probe_rtt' || this.state === 'probe_bw_cruise') bound = this.inflightWithHeadroom();
    bound = Math.max(Math.min(bound, this.inflightShortterm), MIN_PIPE_CWND);
    this.cwnd = Math.min(this.cwnd, bound, this.maxCwnd);
  }

  saveCwnd(): void {
    const recovering = this.rtoTx !== null || this.state === 'probe_rtt';
    this.priorCwnd = recovering ? Math.max(this.priorCwnd, this.cwnd) : this.cwnd;
  }

  restoreCwnd(): void {
    this.cwnd = Math.max(this.cwnd, this.priorCwnd);
  }
}
