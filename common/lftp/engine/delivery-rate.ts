/**
 * Delivery-rate estimation for the data sender (IETF draft "Delivery Rate
 * Estimation", as Linux and quic-go do it): each packet is stamped with the
 * delivery state when it is sent, and the ACK of the newest packet gives a
 * rate sample: packets delivered since, over the longer of the send and ACK
 * intervals. BBR reads these samples; Reno ignores them. Pure.
 */
import type { DeliverySample } from './congestion.js';

/** What a packet carries from the moment it was sent (section 3 of the draft). */
export interface RateStamp {
  sentAt: number;
  delivered: number;
  deliveredTime: number;
  firstSentTime: number;
  appLimited: boolean;
}

export class DeliveryRate {
  /** Packets acknowledged so far, and when the last one was. */
  private delivered = 0;
  private deliveredTime = 0;
  private firstSentTime = 0;
  /** A round trip ends when a packet sent after the previous end is acknowledged. */
  private nextRoundDelivered = 0;
  /** Packets sent while the sender was held back by the data or the receiver, not by cwnd, give app-limited samples until this many are delivered. */
  private appLimitedUntil = 0;
  private minRttSeen = Infinity;

  /** Held back by something other than cwnd: what is in flight now says little about the path's capacity. */
  appLimited(inflight: number): void {
    this.appLimitedUntil = Math.max(this.delivered + inflight, 1);
  }

  /** Stamps a packet being sent (in place: this runs once per datagram). inflight: packets out before it. */
  stamp(p: RateStamp, now: number, inflight: number): void {
    if (inflight === 0) this.firstSentTime = this.deliveredTime = now;
    p.sentAt = now;
    p.delivered = this.delivered;
    p.deliveredTime = this.deliveredTime;
    p.firstSentTime = this.firstSentTime;
    p.appLimited = this.appLimitedUntil > this.delivered;
  }

  /** One more packet acknowledged. */
  delivery(): void {
    this.delivered++;
  }

  rtt(ms: number): void {
    if (ms < this.minRttSeen) this.minRttSeen = ms;
  }

  /** The sample that the ACK of p (the newest packet it acknowledges) gives; shorter than the minimum RTT: no rate. */
  sample(p: RateStamp, now: number, rttMs: number | null, inflight: number): DeliverySample {
    this.deliveredTime = now;
    const interval = Math.max(p.sentAt - p.firstSentTime, now - p.deliveredTime);
    this.firstSentTime = p.sentAt;
    const roundStart = p.delivered >= this.nextRoundDelivered;
    if (roundStart) this.nextRoundDelivered = this.delivered;
    const rate = interval > 0 && interval >= this.minRttSeen ? (this.delivered - p.delivered) / interval : null;
    return { now, rttMs, rate, appLimited: p.appLimited, roundStart, inflight };
  }
}
