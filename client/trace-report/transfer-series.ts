/**
 * What the report's two time charts draw of a transfer, gathered as its
 * events stream by, in bounded memory (time-bins.ts): per side the data
 * packets it sent and sent again, the cumulative ACKs and SACK ranges it
 * received; the data sender's losses, its congestion window, ssthresh,
 * packets in flight and smoothed RTT, and its controller's phases.
 */
import { LineBins, SpreadBins, StateBins, TimeGrid } from './time-bins.js';
import { Quantiles } from './quantiles.js';
import type { Side } from './delivery.js';

/** A metrics_updated event's figures, checked (the RTTs may be null: no sample yet). */
export interface MetricsPoint {
  cwnd: number;
  /** In packets; null before the first loss (ssthresh −1) or when it cannot be said in packets. */
  ssthresh: number | null;
  inFlight: number;
  srtt: number | null;
  latestRtt: number | null;
  /** BBR's pacing rate and bandwidth estimate, bits per second; null where the trace has none (Reno). */
  pacing: number | null;
  bandwidth: number | null;
}

const perSide = <T>(make: () => T): Record<Side, T> => ({ client: make(), server: make() });

export class TransferSeries {
  readonly grid = new TimeGrid();
  /** Data packets each side sent the first time, and again, by relative seq. */
  readonly sent = perSide(() => new SpreadBins(this.grid));
  readonly resent = perSide(() => new SpreadBins(this.grid));
  /** The cumulative ACK each side received, and the span of the SACK ranges on them. */
  readonly acks = perSide(() => new LineBins(this.grid));
  readonly sacks = perSide(() => new SpreadBins(this.grid));
  /** Packets declared lost, by relative seq. */
  readonly losses = new SpreadBins(this.grid);
  readonly cwnd = new LineBins(this.grid);
  readonly ssthresh = new LineBins(this.grid);
  readonly inFlight = new LineBins(this.grid);
  readonly srtt = new LineBins(this.grid);
  readonly phases = new StateBins(this.grid);
  /** BBR's pacing rate and bandwidth estimate (Mbit/s), and the highest of either. */
  readonly pacing = new LineBins(this.grid);
  readonly bandwidth = new LineBins(this.grid);
  maxRate = 0;
  ratePoints = 0;
  /** Every metrics point's smoothed RTT (0 before the first sample): the RTT axis goes to its 99th percentile. */
  readonly srttSpread = new Quantiles();
  /** The highest data seq each side sent, and the highest cwnd or flight. */
  readonly maxSeq: Record<Side, number> = perSide(() => 1);
  maxPackets = 1;
  metricsPoints = 0;

  dataSent(side: Side, at: number, seqRel: number, again: boolean): void {
    (again ? this.resent : this.sent)[side].add(at, seqRel);
    if (seqRel > this.maxSeq[side]) this.maxSeq[side] = seqRel;
  }

  ackReceived(side: Side, at: number, ackRel: number, sack: Array<[number, number]>): void {
    this.acks[side].add(at, ackRel);
    for (const [s, e] of sack) this.sacks[side].add(at, s, e);
  }

  metrics(at: number, p: MetricsPoint): void {
    this.metricsPoints++;
    this.maxPackets = Math.max(this.maxPackets, p.cwnd, p.inFlight);
    this.srttSpread.add(p.srtt ?? 0);
    const line = (bins: LineBins, v: number | null) => {
      // ssthresh's starting "infinity" (capped) is not drawn.
      if (v !== null && Number.isFinite(v) && v <= 1e6) bins.add(at, v);
    };
    line(this.cwnd, p.cwnd);
    line(this.ssthresh, p.ssthresh);
    line(this.inFlight, p.inFlight);
    line(this.srtt, p.srtt);
    if (p.pacing === null || p.bandwidth === null) return;
    this.ratePoints++;
    this.maxRate = Math.max(this.maxRate, p.pacing / 1e6, p.bandwidth / 1e6);
    line(this.pacing, p.pacing / 1e6);
    line(this.bandwidth, p.bandwidth / 1e6);
  }
}
