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

/** Reno's phases, then BBR's (bbr.ts: ProbeBW's four, and ProbeRTT). */
export type CongestionPhase =
  | 'slow_start'
  | 'avoidance'
  | 'recovery'
  | 'startup'
  | 'drain'
  | 'probe_bw_down'
  | 'probe_bw_cruise'
  | 'probe_bw_refill'
  | 'probe_bw_up'
  | 'probe_rtt';

/** The congestion controllers the sender can run (--cc). */
export const CONGESTION_CONTROLS = ['bbr', 'reno'] as const;
export type CongestionName = (typeof CONGESTION_CONTROLS)[number];
export const DEFAULT_CONGESTION: CongestionName = 'bbr';

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
  /** Packets this ACK newly acknowledged. */
  newlyAcked: number;
  /** Packets delivered so far (C.delivered), and when the sampled packet was sent (P.delivered). */
  totalDelivered: number;
  priorDelivered: number;
  /** Packets delivered over the sampled interval (RS.delivered). */
  delivered: number;
  /** Packets in flight when the sampled packet was sent (RS.tx_in_flight). */
  txInFlight: number;
  /** Packets declared lost since the sampled packet was sent (RS.lost). */
  lost: number;
  /** The congestion window held the sender back since the last round began. */
  cwndLimited: boolean;
}

/** A data packet declared lost, with what its send stamp says (BBR's HandleLostPacket). */
export interface LostPacket {
  now: number;
  /** Its transmission number, and the newest so far. */
  tx: number;
  currentTx: number;
  /** Its index in the transfer (runs of adjacent indexes are one loss range). */
  index: number;
  /** Packets in flight when it was sent, and packets declared lost since (this one included). */
  txInFlight: number;
  lostSinceSent: number;
  appLimited: boolean;
  /**
   * The RTT of the next packet sent after it that arrived (a first transmission), ms, or null: the queue it met
   * is the queue this one met (bbr-loss-round.ts).
   */
  neighborRttMs: number | null;
}

/** What a model-based controller knows of the path, for traces and the dashboard (BBR; Reno has none). */
export interface PathModel {
  /** The bandwidth estimate (BBR.bw), packets per ms. */
  bw: number;
  /** BBR.min_rtt, ms (Infinity until measured). */
  minRtt: number;
  /** The in-flight bound from loss: min(inflight_longterm, inflight_shortterm), packets (Infinity: none). */
  inflightBound: number;
  /** The path's background of random loss, as measured (0..1). */
  randomLoss: number;
  pacingGain: number;
  cwndGain: number;
}

/** What the send window asks of a congestion controller; all counts in packets. */
export interface CongestionControl {
  readonly name: CongestionName;
  readonly cwnd: number;
  /** Reno: the slow-start threshold. BBR: its estimate of the path's bandwidth-delay product. */
  readonly ssthresh: number;
  readonly phase: CongestionPhase;
  /** Packets per ms the sender paces at; null: no pacing (Reno sends what the window allows at once). */
  readonly pacingRate: number | null;
  /** BBR's path model; null for Reno. */
  readonly model: PathModel | null;
  /** Packets newly acknowledged; `largestAckedTx` leaves recovery once a post-reduction packet is acked. */
  onAcked(packets: number, largestAckedTx: number, sample: DeliverySample): void;
  /** A data packet was declared lost. Returns true if cwnd (or BBR's in-flight bound) was cut. */
  onLoss(lost: LostPacket): boolean;
  onTimeout(flight: number, currentTx: number): void;
  /** A data packet is about to go with nothing in flight and nothing held back by the window (BBR's restart from idle). */
  onRestartFromIdle?(now: number): void;
}

export class RenoCongestion implements CongestionControl {
  readonly name = 'reno';
  readonly pacingRate = null;
  readonly model = null;
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

  onLoss({ tx: lostTx, currentTx }: LostPacket): boolean {
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
