/**
 * The sending half of the data phase, as pure state: which packet to send
 * next, what the peer's ACKs and SACK blocks acknowledge, which packets are
 * lost, when the retransmission timer fires. Packets are numbered by index
 * (0 = first data packet), mapped to sequence numbers by the connection; loss
 * is loss-detection.ts's rule (RFC 9002). */
import type { CongestionControl } from './congestion.js';
import { DeliveryRate, blankStamp, type RateStamp } from './delivery-rate.js';
import { isLost, lossDelay, lostPacket, neighborAfter, overtaken, type SentPacket } from './loss-detection.js';
import { RttEstimator, probeTimeout } from './rtt.js';
import { PacingGate } from './pacer.js';

/** Where the data comes from; it may not have a packet yet (read-ahead is asynchronous). */
export interface DataSource {
  readonly totalPackets: number;
  /** Whether chunk(index) has the data now (asking may start a read). */
  ready(index: number): boolean;
  chunk(index: number): Buffer | null;
  /** Packets below index are acknowledged and need not be kept. */
  release(below: number): void;
}

/** A packet in the window; sentAt and the delivery-rate stamp are set by DeliveryRate.stamp. */
interface Slot extends RateStamp, SentPacket {
  retransmitted: boolean;
}

export interface AckResult {
  newlyAcked: number;
  lost: number[];
  /** The cwnd was cut for these losses (once per round trip). */
  reduced: boolean;
  rttSample: number | null;
}

export class SendWindow {
  /** First index not yet acknowledged cumulatively. */
  una = 0;
  /** Next index never sent. */
  nxt = 0;
  /** Peer's advertised window, in packets beyond una. */
  rwnd: number;
  inflight = 0;
  retransmissions = 0;
  private readonly slots = new Map<number, Slot>();
  private readonly lostQueue: number[] = [];
  private txCounter = 0;
  private largestAckedTx = -1;
  /**
   * Highest index acknowledged (cumulatively or by SACK). Only packets below it
   * can be holes, so loss scans stop there instead of walking the whole window
   * on every ACK: with no loss the scan is empty.
   */
  private highestAcked = -1;
  private rtoArmedAt: number | null = null;
  /** Earliest time for the next zero-window probe. */
  private persistAt = 0;
  /** A tail loss probe is out and not yet answered. */
  private probeOut = false;
  probes = 0;
  private readonly rate = new DeliveryRate();
  private readonly pacing = new PacingGate();

  constructor(
    readonly source: DataSource,
    readonly rtt: RttEstimator,
    readonly cc: CongestionControl,
    initialRwnd: number,
  ) {
    this.rwnd = initialRwnd;
  }

  get total(): number {
    return this.source.totalPackets;
  }
  get done(): boolean {
    return this.una >= this.total;
  }

  /** Next index to put on the wire (lost ones first), or null when the windows or the source say wait. */
  next(now: number): { index: number; retransmit: boolean } | null {
    this.pacing.until = null;
    while (this.lostQueue.length > 0) {
      const i = this.lostQueue[0]!;
      const s = this.slots.get(i);
      if (!s || s.acked || !s.lost) {
        this.lostQueue.shift();
        continue;
      }
      if (this.windowFull() || this.pacing.holds(now, this.cc.pacingRate)) return null;
      return { index: i, retransmit: true };
    }
    if (this.nxt >= this.total) return this.appLimited();
    if (this.windowFull()) return null;
    // Flow control: never beyond what the receiver can hold. With a zero window and nothing in
    // flight one packet goes anyway once per RTO, as TCP's persist probe: its answer carries the
    // window, so a lost window update cannot stall the transfer.
    if (this.nxt - this.una >= this.rwnd) {
      if (this.rwnd > 0 || this.inflight > 0 || now < this.persistAt) return this.appLimited();
      this.persistAt = now + this.rtt.rto;
    }
    if (!this.source.ready(this.nxt)) return this.appLimited();
    if (this.pacing.holds(now, this.cc.pacingRate)) return null;
    return { index: this.nxt, retransmit: false };
  }

  /** The flight fills the windows; when the congestion window is the smaller, the rate samples say so. */
  private windowFull(): boolean {
    if (this.inflight < this.allowed()) return false;
    if (this.cc.cwnd <= this.rwnd) this.rate.cwndLimited();
    return true;
  }

  /** When the pacer lets the next packet go, if the pacer is what holds it back. */
  pacingDeadline(): number | null {
    return this.pacing.until;
  }

  /** Held back by something other than cwnd: the rate samples say so. */
  private appLimited(): null {
    this.rate.appLimited(this.inflight);
    return null;
  }

  /** The congestion window and the receive window, whichever is smaller. */
  allowed(): number {
    return Math.max(1, Math.min(Math.floor(this.cc.cwnd), this.rwnd));
  }

  /** Takes `packets` of the pacer's tokens for a datagram not counted in flight (a size probe). */
  charge(now: number, packets: number): void {
    for (let k = 0; k < packets; k++) this.pacing.sent(now, this.cc.pacingRate);
  }

  markSent(index: number, now: number): void {
    const tx = ++this.txCounter;
    if (this.inflight === 0 && this.rate.isAppLimited) this.cc.onRestartFromIdle?.(now);
    this.pacing.sent(now, this.cc.pacingRate);
    const s = this.slots.get(index);
    if (s) {
      this.rate.stamp(s, now, this.inflight);
      s.tx = tx;
      s.retransmitted = true;
      s.lost = false;
      if (this.lostQueue[0] === index) this.lostQueue.shift();
      this.retransmissions++;
    } else {
      const slot: Slot = { ...blankStamp(), tx, retransmitted: false, acked: false, lost: false };
      this.rate.stamp(slot, now, this.inflight);
      this.slots.set(index, slot);
      if (index >= this.nxt) this.nxt = index + 1;
    }
    this.inflight++;
    if (this.rtoArmedAt === null) this.rtoArmedAt = now;
  }

  /**
   * Applies an acknowledgement: cumulative index `ackIndex` (everything below is
   * received), SACK ranges of indexes [start, end), and the advertised window.
   */
  onAck(ackIndex: number, sack: Array<[number, number]>, window: number, now: number): AckResult {
    if (window === 0 && this.rwnd > 0) this.persistAt = now + this.rtt.rto;
    this.rwnd = window;
    let newly = 0;
    // The newest transmission this ACK acknowledges; it alone gives an RTT sample, and only if it
    // was a first transmission (Karn). An older packet acknowledged late because an earlier ACK was
    // lost would inflate the estimate by however long that took.
    let newest: Slot | null = null;
    let largestTx = this.largestAckedTx;
    const ackOne = (i: number) => {
      const s = this.slots.get(i);
      if (!s || s.acked) return;
      s.acked = true;
      if (!s.retransmitted && !s.lost) s.rttMs = now - s.sentAt;
      if (i > this.highestAcked) this.highestAcked = i;
      newly++;
      this.rate.delivery();
      if (!s.lost) this.inflight--;
      if (s.tx > largestTx) largestTx = s.tx;
      if (!newest || s.tx > newest.tx) newest = s;
    };
    const cum = Math.min(ackIndex, this.nxt);
    const advanced = cum > this.una;
    for (let i = this.una; i < cum; i++) {
      ackOne(i);
      this.slots.delete(i);
    }
    if (advanced) {
      this.una = cum;
      this.source.release(this.una);
    }
    for (const [start, end] of sack) {
      for (let i = Math.max(start, this.una); i < Math.min(end, this.nxt); i++) ackOne(i);
    }
    let rttSample: number | null = null;
    const n = newest as Slot | null;
    if (n !== null && !n.retransmitted && n.tx >= this.largestAckedTx) {
      rttSample = now - n.sentAt;
      this.rtt.sample(rttSample);
      this.rate.rtt(rttSample);
    }
    if (newly > 0) this.probeOut = false;
    this.largestAckedTx = largestTx;
    if (newly > 0 && n !== null)
      this.cc.onAcked(newly, this.largestAckedTx, this.rate.sample(n, now, rttSample, this.inflight, newly));
    const { lost, reduced } = this.checkLossTimer(now);
    // RFC 6298 5.3: restart the timer when new data is acknowledged; stop it when nothing is outstanding.
    if (advanced || newly > 0) this.rtoArmedAt = this.inflight > 0 ? now : null;
    if (this.inflight === 0 && this.lostQueue.length === 0) this.rtoArmedAt = null;
    return { newlyAcked: newly, lost, reduced, rttSample };
  }

  /** The packets below the highest acknowledged one that a later acknowledged transmission overtook. */
  private overtaken(): Generator<[number, Slot]> {
    return overtaken(this.slots, this.una, Math.min(this.nxt, this.highestAcked + 1), this.largestAckedTx);
  }

  /** Time-threshold losses need a clock too: the earliest moment one could be declared. */
  lossDeadline(): number | null {
    const delay = lossDelay(this.rtt);
    let earliest: number | null = null;
    for (const [, s] of this.overtaken())
      if (earliest === null || s.sentAt + delay < earliest) earliest = s.sentAt + delay;
    return earliest;
  }

  /** Declares what is lost now (after an ACK, or from the connection's timer) and tells the congestion control. */
  checkLossTimer(now: number): { lost: number[]; reduced: boolean } {
    const delay = lossDelay(this.rtt);
    const lost: number[] = [];
    let reduced = false;
    let neighbor = { at: -1, rttMs: null as number | null };
    for (const [i, s] of this.overtaken()) {
      if (!isLost(s, this.largestAckedTx, now, delay)) continue;
      s.lost = true;
      this.inflight--;
      lost.push(i);
      this.lostQueue.push(i);
      this.rate.loss();
      if (neighbor.at <= i) neighbor = neighborAfter(this.slots, i, this.highestAcked + 1);
      if (this.cc.onLoss(lostPacket(now, i, s, this.txCounter, this.rate.lostTotal, neighbor.rttMs))) reduced = true;
    }
    if (lost.length) this.lostQueue.sort((a, b) => a - b);
    return { lost, reduced };
  }

  /**
   * Tail loss probe (RFC 8985): when the last packets of a flight are lost, no
   * later packet arrives to reveal it and only the RTO would. After 2·SRTT with
   * no acknowledgement, one probe goes out instead; the SACK it draws turns the
   * tail loss into an ordinary fast retransmit. At most one probe per flight.
   */
  probeDeadline(): number | null {
    if (this.rtoArmedAt === null || this.probeOut || this.inflight === 0) return null;
    const pto = probeTimeout(this.rtt);
    return pto === null ? null : this.rtoArmedAt + pto;
  }

  /** What to send as the probe: new data if the receiver has room, else the newest unacknowledged packet. */
  onProbe(): { index: number; retransmit: boolean } | null {
    this.probeOut = true;
    if (this.nxt < this.total && this.nxt - this.una < Math.max(this.rwnd, 1) && this.source.ready(this.nxt)) {
      this.probes++;
      return { index: this.nxt, retransmit: false };
    }
    for (let i = this.nxt - 1; i >= this.una; i--) {
      const s = this.slots.get(i);
      if (s && !s.acked && !s.lost) {
        this.probes++;
        this.inflight--; // markSent counts it again
        return { index: i, retransmit: true };
      }
    }
    return null;
  }

  rtoDeadline(): number | null {
    return this.rtoArmedAt === null ? null : this.rtoArmedAt + this.rtt.rto;
  }

  /** RFC 6298 5.4-5.6: back off, collapse cwnd, and resend everything not acknowledged. */
  onRtoExpired(now: number): number[] {
    this.rtt.expired();
    this.cc.onTimeout(this.inflight, this.txCounter);
    const resend: number[] = [];
    for (let i = this.una; i < this.nxt; i++) {
      const s = this.slots.get(i);
      if (!s || s.acked || s.lost) continue;
      s.lost = true;
      this.rate.loss();
      resend.push(i);
      this.lostQueue.push(i);
    }
    this.inflight = 0;
    this.lostQueue.sort((a, b) => a - b);
    this.rtoArmedAt = now;
    return resend;
  }
}
