/**
 * BBR's ProbeBW cycle (draft-ietf-ccwg-bbr, "ProbeBW" and "Updating the Model
 * Upon Packet Loss"): DOWN (pace at 0.9 × bw until the queue is gone and there
 * is headroom under the in-flight bound), CRUISE (1.0, within 85 % of the
 * bound), REFILL (1.0 for a round, the short-term model forgotten), UP (1.25,
 * the bound raised 1, 2, 4, ... packets a round while loss stays low) and back
 * to DOWN when the bandwidth stops growing or a round's loss passes 2 % (then
 * the in-flight bound is cut to what was in flight when it did). Probing comes
 * every 2-3 s, or sooner at a small BDP (Reno's time scale, at most 63 rounds).
 * Part of BbrCongestion (bbr.ts), whose state it reads and sets.
 */
import type { DeliverySample, LostPacket } from './congestion.js';
import type { BbrCongestion } from './bbr.js';

/** A round's loss rate beyond which the flight that caused it was too much (BBR.LossThresh). */
export const LOSS_THRESH = 0.02;
/** The most a loss response cuts at once (BBR.Beta, CUBIC's 0.7). */
export const BETA = 0.7;
export const DEFAULT_CWND_GAIN = 2;

type AckPhase = 'init' | 'refilling' | 'probe_starting' | 'probe_feedback' | 'probe_stopping';

const DOWN_PACING_GAIN = 0.9;
const UP_PACING_GAIN = 1.25;
const UP_CWND_GAIN = 2.25;
const RENO_ROUNDS_MAX = 63;

export class ProbeBwCycle {
  ackPhase: AckPhase = 'init';
  /** The ACKs coming in are for data sent while probing (REFILL, UP): their loss says whether the probe went too high. */
  isBwProbeSample = false;
  roundsSinceProbeUp = 0;
  prevProbeTooHigh = false;
  private prevProbePrecautionary = false;
  private bwProbeUpAcked = 0;
  private probeUpAckedPerInc = Infinity;
  private bwProbeUpRounds = 0;
  /** ms to wait from the cycle's start before probing (2-3 s, random). */
  private bwProbeWait = 0;
  private cycleStamp = 0;

  constructor(
    private readonly b: BbrCongestion,
    private readonly random: () => number,
  ) {}

  /** From Drain. */
  enter(now: number): void {
    this.b.cwndGain = DEFAULT_CWND_GAIN;
    this.startDown(now);
  }

  /** From ProbeRTT: the flight is below the BDP already, so straight on to CRUISE. */
  enterAfterProbeRtt(now: number): void {
    this.startDown(now);
    this.startCruise();
  }

  /** ProbeRTT began: the samples coming in are no longer a probe's. */
  stopping(): void {
    this.ackPhase = 'probe_stopping';
  }

  private set(state: 'down' | 'cruise' | 'refill' | 'up', pacingGain: number, cwndGain: number): void {
    this.b.state = `probe_bw_${state}`;
    this.b.pacingGain = pacingGain;
    this.b.cwndGain = cwndGain;
  }

  private startDown(now: number): void {
    this.b.resetCongestionSignals();
    this.probeUpAckedPerInc = Infinity;
    this.roundsSinceProbeUp = this.random() < 0.5 ? 0 : 1;
    this.bwProbeWait = 2000 + this.random() * 1000;
    this.cycleStamp = now;
    this.ackPhase = 'probe_stopping';
    this.b.startRound();
    this.set('down', DOWN_PACING_GAIN, DEFAULT_CWND_GAIN);
  }

  private startCruise(): void {
    this.set('cruise', 1, DEFAULT_CWND_GAIN);
  }

  private startRefill(): void {
    this.b.resetShortTermModel();
    this.bwProbeUpRounds = 0;
    this.bwProbeUpAcked = 0;
    this.prevProbePrecautionary = false;
    this.ackPhase = 'refilling';
    this.b.startRound();
    this.set('refill', 1, DEFAULT_CWND_GAIN);
  }

  private startUp(): void {
    this.ackPhase = 'probe_starting';
    this.b.startRound();
    this.b.fullPipe.reset(this.b.maxBwFilter.value);
    this.set('up', UP_PACING_GAIN, UP_CWND_GAIN);
    this.raiseInflightLongtermSlope();
  }

  /**
   * A background of random loss is measured for the first time (loss-background.ts): before it, BBRv3's own
   * rules took that loss for congestion, cut the short-term bounds round after round and ended the last probe
   * early. Probe now, as if that probe had not been too high, rather than at the next probe time: the bounds
   * grow back only while probing, and a 24 MiB get at 5 % loss waited a fifth of its length at half the link.
   */
  backgroundMeasured(): void {
    this.prevProbeTooHigh = false;
    if (this.b.state === 'probe_bw_down' || this.b.state === 'probe_bw_cruise') this.startRefill();
  }

  /** UpdateProbeBWCyclePhase, on every ACK of new data. */
  update(s: DeliverySample): void {
    const b = this.b;
    if (!b.fullPipe.reached || this.adaptLongTermModel(s) || !b.inProbeBw) return;
    switch (b.state) {
      case 'probe_bw_down':
        if (!this.isTimeToProbeBw(s.now) && this.isTimeToCruise(s.inflight)) this.startCruise();
        break;
      case 'probe_bw_cruise':
        this.isTimeToProbeBw(s.now);
        break;
      case 'probe_bw_refill':
        if (b.roundStart) {
          this.isBwProbeSample = true;
          this.startUp();
        }
        break;
      case 'probe_bw_up':
        if (this.isTimeToGoDown(s)) {
          this.prevProbeTooHigh = false;
          this.startDown(s.now);
        }
        break;
    }
  }

  private isTimeToProbeBw(now: number): boolean {
    if (now - this.cycleStamp <= this.bwProbeWait && !this.isRenoCoexistenceProbeTime()) return false;
    this.startRefill();
    return true;
  }

  /**
   * Reno's time scale: a Reno flow grows its window by a packet a round, so it needs about as many rounds as
   * its window to come back from a halving. The draft counts min(BDP, cwnd); LFTP counts cwnd, which holds
   * the queue too: at LFTP's short paths the queue, not the BDP, is most of a competing Reno's window.
   */
  private isRenoCoexistenceProbeTime(): boolean {
    return this.roundsSinceProbeUp >= Math.min(this.b.cwnd, RENO_ROUNDS_MAX);
  }

  private isTimeToCruise(inflight: number): boolean {
    return inflight <= this.b.inflightWithHeadroom() && inflight <= this.b.inflight(1, this.b.maxBwFilter.value);
  }

  private isTimeToGoDown(s: DeliverySample): boolean {
    const b = this.b;
    if (this.prevProbeTooHigh && s.inflight >= b.inflightLongterm) {
      this.prevProbePrecautionary = true;
      return true;
    }
    if (s.cwndLimited && b.cwnd >= b.inflightLongterm) {
      // Held by the bound, the flow cannot find out whether more bandwidth is there: keep probing.
      b.fullPipe.reset(b.maxBwFilter.value);
      return false;
    }
    return b.fullPipe.now;
  }

  private raiseInflightLongtermSlope(): void {
    const growthThisRound = 2 ** this.bwProbeUpRounds;
    this.bwProbeUpRounds = Math.min(this.bwProbeUpRounds + 1, 30);
    this.probeUpAckedPerInc = Math.max(this.b.cwnd / growthThisRound, 1);
  }

  private probeInflightLongtermUpward(s: DeliverySample): void {
    const b = this.b;
    if (!s.cwndLimited || b.cwnd < b.inflightLongterm) return;
    this.bwProbeUpAcked += s.newlyAcked;
    if (this.bwProbeUpAcked >= this.probeUpAckedPerInc) {
      const delta = Math.floor(this.bwProbeUpAcked / this.probeUpAckedPerInc);
      this.bwProbeUpAcked -= delta * this.probeUpAckedPerInc;
      b.inflightLongterm += delta;
    }
    if (b.roundStart) this.raiseInflightLongtermSlope();
  }

  /** Tracks which ACKs answer a probe, and raises the in-flight bound while loss stays low. True: a state changed. */
  private adaptLongTermModel(s: DeliverySample): boolean {
    const b = this.b;
    if (this.ackPhase === 'probe_starting' && b.roundStart) this.ackPhase = 'probe_feedback';
    if (this.ackPhase === 'probe_stopping' && b.roundStart) {
      this.isBwProbeSample = false;
      this.ackPhase = 'init';
      if (b.inProbeBw && !s.appLimited) b.maxBwFilter.advance();
      if (b.inProbeBw && this.prevProbePrecautionary && !this.prevProbeTooHigh) {
        this.startRefill();
        return true;
      }
    }
    if (b.background.exceeds(s.lost, s.txInFlight, LOSS_THRESH) || b.inflightLongterm === Infinity) return false;
    if (s.txInFlight > b.inflightLongterm) b.inflightLongterm = s.txInFlight;
    if (b.state === 'probe_bw_up') this.probeInflightLongtermUpward(s);
    return false;
  }

  /** HandleLostPacket: while probing, a loss rate past LOSS_THRESH (beyond random) cuts the in-flight bound. */
  onLoss(p: LostPacket): boolean {
    const b = this.b;
    if (!this.isBwProbeSample || !b.background.exceeds(p.lostSinceSent, p.txInFlight, LOSS_THRESH)) return false;
    this.prevProbeTooHigh = true;
    this.isBwProbeSample = false; // once per probe
    if (!p.appLimited) b.inflightLongterm = Math.max(this.inflightAtLoss(p), b.targetInflight() * BETA);
    if (b.state === 'probe_bw_up') this.startDown(p.now);
    return true;
  }

  /** InflightAtLoss: the flight at which the loss rate crossed the threshold (beyond random). */
  private inflightAtLoss(p: LostPacket): number {
    const thresh = LOSS_THRESH + this.b.background.rate;
    const inflightPrev = p.txInFlight - 1;
    const lostPrev = p.lostSinceSent - 1;
    const lostPrefix = (thresh * inflightPrev - lostPrev) / (1 - thresh);
    return inflightPrev + lostPrefix;
  }
}
