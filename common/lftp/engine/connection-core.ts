/**
 * The state one LFTP transfer shares between its jobs (handshake.ts, send-path.ts, receive-path.ts,
 * teardown.ts; connection.ts puts them together as LftpConnection), and the few things every job does:
 * send a packet, send a control packet that is retransmitted until answered, change state, end.
 * Pure: no sockets, no timers, no files.
 */
import { Flag, HEADER_BYTES, seqAdd, type Packet } from './packet.js';
import { RttEstimator, DEFAULT_RTO } from './rtt.js';
import { RenoCongestion, type CongestionControl, type CongestionPhase } from './congestion.js';
import { BbrCongestion } from './bbr.js';
import type { SendWindow } from './send-window.js';
import type { ReceiveWindow } from './receive-window.js';
import type { LftpErrorCode as Code } from './errors.js';
import type { ConnState, ControlPacket, Op, StateCause } from './events.js';
import { ControlRetry } from './control-retry.js';
import type { PathMtu } from './path-mtu.js';
import { ReceiverReport } from './receiver-report.js';
import { encodeError, type ResumeAnswer } from './payloads.js';
import {
  AMPLIFICATION_LIMIT,
  type ConnectionHooks,
  type ConnectionOptions,
  type HashedSource,
  type SizedSink,
} from './connection-options.js';

/** A packet as a job writes it: the connection id and the window are filled in when it goes out. */
export type OutPacket = Omit<Packet, 'conn' | 'window'>;

export class ConnectionCore {
  state: ConnState;
  readonly rtt: RttEstimator;
  readonly cc: CongestionControl;
  sender: SendWindow | null = null;
  receiver: ReceiveWindow | null = null;
  size = -1;
  /** The byte where this transfer's data starts: 0, or the offset a resumed one continues from. */
  from = 0;
  /** Client: the SYN-ACK's resume answer (where data starts, the source's identity), once it came. */
  resumed: ResumeAnswer | null = null;
  mss: number;
  peerIsn = 0;
  /** @internal The next sequence number expected from the peer (what our ACKs carry). */
  ackNum = 0;
  /** @internal Data packets declared lost (when this side sends the data). */
  declaredLost = 0;
  /** @internal */
  readonly report: ReceiverReport;
  /** ACKs ignored because our state cannot explain them (for tests and traces). */
  unexplainedAcks = 0;
  /** @internal The control packet (SYN, SYN-ACK, END, FIN) waiting for its answer. */
  ctl: ControlRetry | null = null;
  /** @internal Client: a RETRY was taken (one per transfer, as QUIC takes one Retry per connection attempt). */
  retried = false;
  /**
   * @internal
   * Server, before the handshake completes: bytes received from the client's
   * address and bytes sent to it. Until the client proves it gets our packets
   * (its ACK of the SYN-ACK), at most AMPLIFICATION_LIMIT times what it sent
   * goes back (RFC 9000 §8.1): a forged source address gets little traffic.
   * null: no limit (a client, or a caller that did not say what it received).
   */
  unvalidated: { inBytes: number; outBytes: number } | null = null;
  /** @internal */
  lastHeard: number;
  /**
   * @internal
   * When data last moved (the sender's window advanced, the receiver got a new
   * packet). Keepalives keep lastHeard fresh; a transfer wedged by a peer that
   * answers but never moves (or by forged ACKs) ends after the idle timeout all the same.
   */
  lastProgress = 0;
  /** @internal */
  ackPending = false;
  /** @internal */
  timeWaitUntil = 0;
  /** @internal */
  finSeq = 0;
  /** @internal */
  endSeq = 0;
  /** @internal */
  lastAdvertised = 0;
  /** @internal */
  lastSent = 0;
  /** The largest datagram the peer takes, when both ends take packed data datagrams (null: one packet each). */
  peerDatagram: number | null = null;
  /** @internal The data sender's path MTU search (DPLPMTUD), when it probes. */
  pmtu: PathMtu | null = null;
  /** @internal The data receiver: the largest data datagram received (as version 1), reported in its ACKs. */
  largestReceived = 0;
  /** @internal The congestion phase last told (a cc_phase event when it changes). */
  ccPhase: CongestionPhase | null = null;
  /** @internal The latest time seen by any input; packets are stamped with it. */
  clock = 0;
  private readonly startedAt: number;
  /** @internal */
  result: { size: number; sha256: string } | null = null;
  /** @internal */
  source: HashedSource | null = null;
  /** @internal */
  sink: SizedSink | null = null;
  failure: { code: Code; message: string } | null = null;

  constructor(
    readonly opts: ConnectionOptions,
    /** @internal */
    readonly hooks: ConnectionHooks,
    now: number,
  ) {
    this.rtt = new RttEstimator(opts.rto ?? DEFAULT_RTO);
    this.cc =
      opts.congestion === 'reno' ? new RenoCongestion(opts.maxWindow) : new BbrCongestion(opts.maxWindow, opts.random);
    this.mss = opts.request.mss;
    this.lastHeard = now;
    this.startedAt = now;
    this.state = opts.side === 'client' ? 'SYN_SENT' : 'SYN_RCVD';
    this.report = new ReceiverReport(opts.receiveCapacity, (e) => hooks.event(e));
  }

  get op(): Op {
    return this.opts.request.op;
  }
  /** True on the side that sends file data. */
  get isDataSender(): boolean {
    return (this.op === 'get') === (this.opts.side === 'server');
  }
  get finished(): boolean {
    return this.state === 'CLOSED' || this.state === 'FAILED';
  }
  get succeeded(): boolean {
    return this.result !== null;
  }
  get outcome(): { size: number; sha256: string } | null {
    return this.result;
  }
  get elapsedMs(): number {
    return this.lastHeard - this.startedAt;
  }

  /** Losses so far: data packets declared lost (sending), holes that opened (receiving). */
  get lossCount(): number {
    return this.declaredLost + this.report.holes;
  }

  /** The farthest byte sent (when sending) or held (when receiving, beyond any hole). */
  farthestBytes(): number {
    if (this.sender) return Math.min(this.size, this.from + this.sender.nxt * this.mss);
    if (this.receiver) return Math.min(this.size, this.from + (this.receiver.next + this.receiver.holding) * this.mss);
    return 0;
  }

  /** Bytes moved so far (acknowledged when sending, delivered in order when receiving). */
  progressBytes(): number {
    if (this.sender) return Math.min(this.size, this.from + this.sender.una * this.mss);
    if (this.receiver) return Math.min(this.size, this.from + this.receiver.next * this.mss);
    return 0;
  }

  /** @internal */
  requireSource(): HashedSource {
    if (!this.source) throw new Error('LftpConnection: no source attached on the data sender');
    return this.source;
  }

  /** @internal */
  requireSink(): SizedSink {
    if (!this.sink) throw new Error('LftpConnection: no sink attached on the data receiver');
    return this.sink;
  }

  // ---- output ----------------------------------------------------------------

  /** @internal A packet with no payload, at our next sequence number, carrying our ack. */
  bare(flags: number): OutPacket {
    return { flags, seq: this.ownNextSeq(), ack: this.ackNum, payload: Buffer.alloc(0) };
  }

  /** @internal */
  ownNextSeq(): number {
    if (this.state === 'SYN_SENT' || this.state === 'QUEUED' || this.state === 'SYN_RCVD')
      return seqAdd(this.opts.isn, 1);
    return this.finSeq !== 0 ? this.finSeq : seqAdd(this.opts.isn, 1);
  }

  /** @internal Sends p now, with the connection id and our receive window. */
  emitPacket(p: OutPacket): void {
    const window = this.receiver ? this.receiver.window() : this.opts.receiveCapacity;
    const full: Packet = { ...p, conn: this.opts.conn, window };
    this.lastSent = this.clock;
    if (this.receiver) this.lastAdvertised = window;
    this.hooks.trace?.('out', full);
    this.hooks.send(full);
  }

  /**
   * @internal Sends a control packet, and keeps it to send again until answered (or given up with giveUp),
   * the first time after `firstWaitMs` (the RTO unless told).
   */
  control(now: number, p: OutPacket, what: ControlPacket, maxTries: number, giveUp: Code, firstWaitMs?: number): void {
    const limit = giveUp === 'HANDSHAKE_TIMEOUT' ? (this.opts.handshakeTimeoutMs ?? Infinity) : Infinity;
    this.ctl = ControlRetry.sent(p, what, giveUp, maxTries, now, firstWaitMs ?? this.rtt.rto, limit);
    if (this.withinAmplificationLimit(p)) this.emitPacket(p);
  }

  /** @internal Counts p against the unvalidated budget; false when it would pass it (then it is not sent). */
  withinAmplificationLimit(p: OutPacket): boolean {
    const u = this.unvalidated;
    if (!u || this.state !== 'SYN_RCVD') return true;
    const bytes = HEADER_BYTES + p.payload.length;
    if (u.outBytes + bytes > AMPLIFICATION_LIMIT * u.inBytes) return false;
    u.outBytes += bytes;
    return true;
  }

  /** @internal Sends the pending control packet again; `sendsSoFar` counts the sends so far, this one included. */
  retransmitControl(why: 'timeout' | 'duplicate_syn' | 'queued', sendsSoFar: number): void {
    const c = this.ctl;
    if (!c) return;
    if (!this.withinAmplificationLimit(c.packet)) return;
    this.hooks.event({
      type: 'retransmit_control',
      packet: c.what,
      why,
      try: sendsSoFar,
      maxTries: c.maxTries,
      ...(why === 'timeout' ? { nextWaitMs: c.interval } : {}),
    });
    this.emitPacket(c.packet);
  }

  /** @internal Tells the edge when the data sender's controller changed phase (--verbose, the logs). */
  notePhase(): void {
    const cc = this.cc;
    if (cc.phase === this.ccPhase) return;
    const m = cc.model;
    const bytesPerSec = (packetsPerMs: number) => Math.round(packetsPerMs * this.mss * 1000);
    this.hooks.event({
      type: 'cc_phase',
      controller: cc.name,
      from: this.ccPhase,
      to: cc.phase,
      cwnd: cc.cwnd,
      pacingRate: cc.pacingRate === null ? null : bytesPerSec(cc.pacingRate),
      pacingGain: m ? m.pacingGain : null,
      bandwidth: m ? bytesPerSec(m.bw) : null,
      minRttMs: m && Number.isFinite(m.minRtt) ? m.minRtt : null,
      inflightBound: m && Number.isFinite(m.inflightBound) ? m.inflightBound : null,
      randomLoss: m ? m.randomLoss : null,
    });
    this.ccPhase = cc.phase;
  }

  // ---- endings ---------------------------------------------------------------

  /** Ends the transfer with an error; tells the peer unless the peer told us. */
  fail(code: Code, message: string, tellPeer: boolean): void {
    if (this.finished) return;
    this.failure = { code, message };
    if (tellPeer)
      this.emitPacket({
        flags: Flag.ERR,
        seq: this.ownNextSeq(),
        ack: this.ackNum,
        payload: encodeError(code, message),
      });
    this.ctl = null;
    this.transition('FAILED', { cause: 'failed', code, message });
    this.hooks.event({ type: 'error', code, message });
  }

  /** Local abort (user interrupt, shutdown). */
  abort(message: string): void {
    this.fail('ABORTED', message, true);
  }

  /** @internal */
  close(cause: StateCause): void {
    this.ctl = null;
    this.transition('CLOSED', cause);
    this.hooks.event({ type: 'closed' });
  }

  /** @internal */
  transition(to: ConnState, cause: StateCause): void {
    this.state = to;
    this.hooks.event({ type: 'state', state: to, ...cause });
  }
}
