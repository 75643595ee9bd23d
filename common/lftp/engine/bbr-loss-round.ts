/**
 * BBR's view of loss one round trip at a time (draft-ietf-ccwg-bbr, "When not
 * Probing for Bandwidth"): the latest round's delivery rate and volume
 * (BBR.bw_latest, BBR.inflight_latest), when a loss round ends, and what it
 * lost: packets, runs of adjacent ones (Startup's exit counts them), and its
 * mean RTT, which says whether a queue stood while it lost them. Part of
 * BbrCongestion (bbr.ts). Pure.
 */
import type { DeliverySample } from './congestion.js';

/** A loss round whose mean RTT is within this of the min RTT saw no standing queue (loss-background.ts). */
export const QUEUE_FREE_RTT_GAIN = 1.25;
export const QUEUE_FREE_RTT_SLACK_MS = 1;
/** The shortest loss round: BBR's shortest round (bbr.ts, MIN_ROUND_MS). */
export const MIN_ROUND_MS = 4;

export interface RoundLoss {
  lost: number;
  /** Packets the round accounted for: delivered and lost. */
  packets: number;
  /** Runs of adjacent lost packets. */
  ranges: number;
  /** The round's mean RTT sample, ms (NaN without one). */
  meanRtt: number;
}

/** A round whose RTT stayed near the path's minimum: no queue stood, so what it lost no full queue dropped. */
export function queueFree(meanRtt: number, minRtt: number): boolean {
  return Number.isFinite(minRtt) && meanRtt <= QUEUE_FREE_RTT_GAIN * minRtt + QUEUE_FREE_RTT_SLACK_MS;
}

export class LossRound {
  bwLatest = 0;
  inflightLatest = 0;
  /** This ACK ended a loss round (BBR.loss_round_start). */
  started = false;
  private roundDelivered = 0;
  private startedAt = -Infinity;
  private lost = 0;
  private ranges = 0;
  private lastLostIndex = -2;
  private deliveredAt = 0;
  private rttSum = 0;
  private rttCount = 0;

  /** UpdateLatestDeliverySignals, near the start of an ACK; `delivered` is C.delivered. */
  onAck(s: DeliverySample, delivered: number): void {
    if (s.rttMs !== null) {
      this.rttSum += s.rttMs;
      this.rttCount++;
    }
    this.started = false;
    this.bwLatest = Math.max(this.bwLatest, s.rate ?? 0);
    this.inflightLatest = Math.max(this.inflightLatest, s.delivered);
    // At least MIN_ROUND_MS long, as BBR's rounds (bbr.ts): a round of a few packets says nothing of a rate.
    if (s.priorDelivered >= this.roundDelivered && s.now - this.startedAt >= MIN_ROUND_MS) {
      this.roundDelivered = delivered;
      this.startedAt = s.now;
      this.started = true;
    }
  }

  /** AdvanceLatestDeliverySignals, near the end of an ACK. */
  advance(s: DeliverySample): void {
    if (!this.started) return;
    this.bwLatest = s.rate ?? 0;
    this.inflightLatest = s.delivered;
  }

  /** The loss round that just ended (`started`): what it lost; the counts start again. */
  end(delivered: number): RoundLoss {
    const r = {
      lost: this.lost,
      packets: delivered - this.deliveredAt + this.lost,
      ranges: this.ranges,
      meanRtt: this.rttCount > 0 ? this.rttSum / this.rttCount : NaN,
    };
    this.lost = this.ranges = this.rttSum = this.rttCount = 0;
    this.deliveredAt = delivered;
    return r;
  }

  /** NoteLoss: the first loss of a round makes the round last until what is sent after it is acknowledged. */
  noteLoss(index: number, delivered: number): void {
    if (this.lost === 0) this.roundDelivered = delivered;
    this.lost++;
    if (index !== this.lastLostIndex + 1) this.ranges++;
    this.lastLostIndex = index;
  }

  /** ResetCongestionSignals. */
  resetSignals(): void {
    this.bwLatest = 0;
    this.inflightLatest = 0;
  }
}
