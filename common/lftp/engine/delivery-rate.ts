/**
 * Delivery-rate estimation for the data sender (IETF draft "Delivery Rate
 * Estimation", as Linux and quic-go do it, and section 4.1 of
 * draft-ietf-ccwg-bbr): each packet is stamped with the delivery state when it
 * is sent, and the ACK of the newest packet gives a rate sample: packets
 * delivered since, over the longer of the send and ACK intervals, with what
 * was in flight when it was sent and what was lost since. BBR reads these
 * samples; Reno ignores them. Pure.
 */
import type { DeliverySample } from './congestion.js';

/** What a packet carries from the moment it was sent (section 3 of the draft). */
export interface RateStamp {
  sentAt: number;
  delivered: number;
  deliveredTime: number;
  firstSentTime: number;
  appLimited: boolean;
  /** Packets in flight when it was sent, itself included (P.tx_in_flight). */
  txInFlight: number;
  /** Packets declared lost before it was sent (P.lost). */
  lostBefore: number;
}

/**
 * No rate from an interval shorter than this (nor than the min RTT, as the draft says). A user-space
 * sender and receiver see time in event-loop turns: a clump of ACKs read in one turn, for packets sent in one
 * burst, made intervals of a fraction of a millisecond and rates of several times the link's (measured:
 * 135 Mbit/s through a 40 Mbit/s link), which the max filter then held for two ProbeBW cycles.
 */
export const MIN_INTERVAL_MS = 1;

/**
 * ACK marks kept at least this far apart, MARKS of them: a sample whose own interval is under MIN_INTERVAL_MS
 * is measured from the newest mark at least that old instead. On a path whose round trip is shorter than
 * MIN_INTERVAL_MS (loopback: 0.03-0.3 ms), a packet's own interval is about one round trip, so without marks no
 * sample ever had a rate: the estimate stayed at zero and Startup never grew past its initial pacing (measured
 * on the fake network, 0.1 ms each way: 0 rate samples in 5,581 ACKs), or stayed at the one sample a stall let
 * through (a 10 MiB get took 1.7 s on loopback).
 */
const MARK_SPACING_MS = MIN_INTERVAL_MS / 4;
const MARKS = 8;

interface AckMark {
  at: number;
  delivered: number;
  /** When the newest packet acknowledged by then was sent. */
  sentAt: number;
}

/** A stamp to fill in (DeliveryRate.stamp does). */
export function blankStamp(): RateStamp {
  return {
    sentAt: 0,
    delivered: 0,
    deliveredTime: 0,
    firstSentTime: 0,
    appLimited: false,
    txInFlight: 0,
    lostBefore: 0,
  };
}

export class DeliveryRate {
  /** Packets acknowledged so far, and when the last one was. */
  private delivered = 0;
  private deliveredTime = 0;
  private firstSentTime = 0;
  /** Packets declared lost so far (C.lost). */
  lostTotal = 0;
  /** A round trip ends when a packet sent after the previous end is acknowledged. */
  private nextRoundDelivered = 0;
  /** Packets sent while the sender was held back by the data or the receiver, not by cwnd, give app-limited samples until this many are delivered. */
  private appLimitedUntil = 0;
  private minRttSeen = Infinity;
  private readonly marks: AckMark[] = Array.from({ length: MARKS }, () => ({ at: -Infinity, delivered: 0, sentAt: 0 }));
  /** The newest mark's index. */
  private markAt = 0;
  /** The congestion window held the sender back in this round, and in the one before. */
  private cwndLimitedNow = false;
  private cwndLimitedBefore = false;

  /** Held back by something other than cwnd: what is in flight now says little about the path's capacity. */
  appLimited(inflight: number): void {
    this.appLimitedUntil = Math.max(this.delivered + inflight, 1);
  }

  /** Whether the sender is application-limited now (what it sends gives app-limited samples). */
  get isAppLimited(): boolean {
    return this.appLimitedUntil > this.delivered;
  }

  /** Held back by the congestion window. */
  cwndLimited(): void {
    this.cwndLimitedNow = true;
  }

  /** Stamps a packet being sent (in place: this runs once per datagram). inflight: packets out before it. */
  stamp(p: RateStamp, now: number, inflight: number): void {
    if (inflight === 0) this.firstSentTime = this.deliveredTime = now;
    p.sentAt = now;
    p.delivered = this.delivered;
    p.deliveredTime = this.deliveredTime;
    p.firstSentTime = this.firstSentTime;
    p.appLimited = this.appLimitedUntil > this.delivered;
    p.txInFlight = inflight + 1;
    p.lostBefore = this.lostTotal;
  }

  /** One more packet acknowledged. */
  delivery(): void {
    this.delivered++;
  }

  /** One more packet declared lost. */
  loss(): void {
    this.lostTotal++;
  }

  rtt(ms: number): void {
    if (ms < this.minRttSeen) this.minRttSeen = ms;
  }

  /** The sample that the ACK of p (the newest packet it acknowledges) gives; shorter than the minimum RTT: no rate. */
  sample(p: RateStamp, now: number, rttMs: number | null, inflight: number, newlyAcked: number): DeliverySample {
    this.deliveredTime = now;
    const interval = Math.max(p.sentAt - p.firstSentTime, now - p.deliveredTime);
    this.firstSentTime = p.sentAt;
    const roundStart = p.delivered >= this.nextRoundDelivered;
    if (roundStart) {
      this.nextRoundDelivered = this.delivered;
      this.cwndLimitedBefore = this.cwndLimitedNow;
      this.cwndLimitedNow = false;
    }
    let delivered = this.delivered - p.delivered;
    let span = interval;
    if (span < MIN_INTERVAL_MS && this.minRttSeen < MIN_INTERVAL_MS) {
      const m = this.markBefore(now - MIN_INTERVAL_MS);
      if (m !== null) {
        // What was delivered since the mark was sent after the packet the mark had last seen acknowledged.
        span = Math.max(now - m.at, p.sentAt - m.sentAt);
        delivered = this.delivered - m.delivered;
      }
    }
    this.mark(now, p.sentAt);
    const rate = span > 0 && span >= Math.max(this.minRttSeen, MIN_INTERVAL_MS) ? delivered / span : null;
    return {
      now,
      rttMs,
      rate,
      appLimited: p.appLimited,
      roundStart,
      inflight,
      newlyAcked,
      totalDelivered: this.delivered,
      priorDelivered: p.delivered,
      delivered,
      txInFlight: p.txInFlight,
      lost: this.lostTotal - p.lostBefore,
      cwndLimited: this.cwndLimitedNow || this.cwndLimitedBefore,
    };
  }

  /** Keeps an ACK mark, in place, if the newest is MARK_SPACING_MS old. */
  private mark(now: number, sentAt: number): void {
    if (now - this.marks[this.markAt]!.at < MARK_SPACING_MS) return;
    this.markAt = (this.markAt + 1) % MARKS;
    const m = this.marks[this.markAt]!;
    m.at = now;
    m.delivered = this.delivered;
    m.sentAt = sentAt;
  }

  /** The newest mark made at or before `t`, if the marks reach back that far. */
  private markBefore(t: number): AckMark | null {
    for (let k = 0; k < MARKS; k++) {
      const m = this.marks[(this.markAt - k + MARKS) % MARKS]!;
      if (m.at <= t) return Number.isFinite(m.at) ? m : null;
    }
    return null;
  }
}
