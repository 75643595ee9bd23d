/**
 * BBR's view of loss one round trip at a time (draft-ietf-ccwg-bbr, "When not
 * Probing for Bandwidth"): the latest round's delivery rate and volume
 * (BBR.bw_latest, BBR.inflight_latest), when a loss round ends, and what it
 * lost: packets, runs of adjacent ones (Startup's exit counts them), and how
 * many of its packets, delivered and lost, met no queue (queue-gauge.ts): the
 * background of random loss is measured from those. Part of BbrCongestion
 * (bbr.ts). Pure.
 */
import type { DeliverySample } from './congestion.js';
import { QueueGauge } from './queue-gauge.js';

/** The shortest loss round: BBR's shortest round (bbr.ts, MIN_ROUND_MS). */
export const MIN_ROUND_MS = 4;

export interface RoundLoss {
  lost: number;
  /** Packets the round accounted for: delivered and lost. */
  packets: number;
  /** Runs of adjacent lost packets. */
  ranges: number;
  /** Of those, the ones an ACK without a queue accounted for: delivered, and lost (see noteLoss). */
  quietPackets: number;
  quietLost: number;
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
  private quietDelivered = 0;
  private quietLost = 0;
  /** The latest RTT sample found no queue. */
  private quiet = false;
  private minRtt = Infinity;
  private readonly gauge = new QueueGauge();

  /** UpdateLatestDeliverySignals, near the start of an ACK; `delivered` is C.delivered. */
  onAck(s: DeliverySample, delivered: number, minRtt: number): void {
    this.minRtt = minRtt;
    if (s.rttMs !== null) {
      this.gauge.note(s.now, s.rttMs);
      this.quiet = this.gauge.quiet(s.rttMs, minRtt);
    }
    if (this.quiet) this.quietDelivered += s.newlyAcked;
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
      quietPackets: this.quietDelivered + this.quietLost,
      quietLost: this.quietLost,
    };
    this.lost = this.ranges = this.quietDelivered = this.quietLost = 0;
    this.deliveredAt = delivered;
    return r;
  }

  /**
   * NoteLoss: the first loss of a round makes the round last until what is sent after it is acknowledged. The
   * loss was random when the packet sent next met no queue (`neighborRtt`; without it, the latest sample says):
   * a drop-tail queue drops only when full, and the packet after a drop waits behind all of it. The latest
   * sample alone misjudged a flow that started behind another's queue: a drop found late by the time threshold
   * comes with the sample of a packet sent after the queue had drained.
   */
  noteLoss(index: number, delivered: number, neighborRtt: number | null = null): void {
    if (this.lost === 0) this.roundDelivered = delivered;
    this.lost++;
    if (neighborRtt === null ? this.quiet : this.gauge.quiet(neighborRtt, this.minRtt)) this.quietLost++;
    if (index !== this.lastLostIndex + 1) this.ranges++;
    this.lastLostIndex = index;
  }

  /** ResetCongestionSignals. */
  resetSignals(): void {
    this.bwLatest = 0;
    this.inflightLatest = 0;
  }
}
