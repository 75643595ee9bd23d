/**
 * Reno-style congestion control in packets (RFC 5681, with RFC 9002's one
 * reduction per round trip in place of NewReno's recovery point):
 *  - slow start: cwnd += packets acknowledged, until ssthresh;
 *  - congestion avoidance: cwnd += acked / cwnd (one packet per round trip);
 *  - loss (fast retransmit): ssthresh = max(cwnd / 2, 2), cwnd = ssthresh, and no
 *    further reduction for losses of packets sent before this moment (recovery);
 *  - retransmission timeout: ssthresh = max(flight / 2, 2), cwnd = 1.
 */
export const INITIAL_CWND = 10; // RFC 6928
export const MIN_SSTHRESH = 2;

export type CongestionPhase = 'slow_start' | 'avoidance' | 'recovery' | 'startup' | 'drain' | 'probe_bw';

/** The congestion controllers the sender can run (--cc). */
export const CONGESTION_CONTROLS = ['reno', 'bbr'] as const;
export type CongestionName = (typeof CONGESTION_CONTROLS)[number];
export const DEFAULT_CONGESTION: CongestionName = 'reno';

/** What one acknowledgement tells about the path (RFC draft "Delivery Rate Estimation"). */
export interface DeliverySample {
  now: number;
  /** A Karn-clean RTT sample, if this ACK gave one (ms). */
  rttMs: number | null;
  /** Packets delivered per ms over the sampled interval, or null when there is no sample. */
  rate: number | null;
  /** The sampled packet was sent while the sender had nothing more to send (the rate says little). */
  appLimited: boolean;
  /** This ACK ends a round trip (its packet was sent after the previous round ended). */
  roundStart: boolean;
  inflight: number;
}

/** What the send window asks of a congestion controller; all counts in packets. */
export interface CongestionControl {
  readonly name: CongestionName;
  readonly cwnd: number;
  /** Reno: the slow-start threshold. BBR: its estimate of the path's bandwidth-delay product. */
  readonly ssthresh: number;
  readonly phase: CongestionPhase;
  /** Packets newly acknowledged; `largestAckedTx` leaves recovery once a post-reduction packet is acked. */
  onAcked(packets: number, largestAckedTx: number, sample: DeliverySample): void;
  /** A packet sent as transmission `lostTx` was declared lost; `currentTx` is the latest transmission number. Returns true if cwnd was cut. */
  onLoss(lostTx: number, currentTx: number): boolean;
  onTimeout(flight: number, currentTx: number): void;
}

export class RenoCongestion implements CongestionControl {
  readonly name = 'reno';
  cwnd = INITIAL_CWND;
  ssthresh: number;
  /** Transmissions numbered at or below this were sent before the last reduction. */
  private recoveryTx = -1;
  private inRecovery = false;

  constructor(
    private readonly maxCwnd: number,
    initialSsthresh = maxCwnd,
  ) {
    this.ssthresh = initialSsthresh;
  }

  get phase(): CongestionPhase {
    if (this.inRecovery) return 'recovery';
    return this.cwnd < this.ssthresh ? 'slow_start' : 'avoidance';
  }

  onAcked(packets: number, largestAckedTx: number): void {
    if (this.inRecovery && largestAckedTx > this.recoveryTx) this.inRecovery = false;
    if (this.inRecovery || packets <= 0) return;
    if (this.cwnd < this.ssthresh) this.cwnd = Math.min(this.cwnd + packets, this.maxCwnd);
    else this.cwnd = Math.min(this.cwnd + packets / this.cwnd, this.maxCwnd);
  }

  onLoss(lostTx: number, currentTx: number): boolean {
    if (lostTx <= this.recoveryTx) return false;
    this.ssthresh = Math.max(Math.floor(this.cwnd / 2), MIN_SSTHRESH);
    this.cwnd = this.ssthresh;
    this.recoveryTx = currentTx;
    this.inRecovery = true;
    return true;
  }

  onTimeout(flight: number, currentTx: number): void {
    this.ssthresh = Math.max(Math.floor(Math.max(flight, this.cwnd) / 2), MIN_SSTHRESH);
    this.cwnd = 1;
    this.recoveryTx = currentTx;
    this.inRecovery = false;
  }
}
