/**
 * One LFTP transfer as a pure state machine. Inputs: a decoded packet, a clock
 * tick, or the completion of file I/O. Outputs: packets through hooks.send and
 * events (data, events.ts) through hooks.event. No sockets, no timers, no
 * files: the edge (node/driver.ts) does those, and the unit tests drive this
 * with a fake clock and a fake link.
 *
 * Sequence numbers (docs/LFTP.md has the diagrams): each side picks a random
 * initial sequence number (ISN). SYN carries ISN; data packet i carries
 * ISN + 1 + i; END carries ISN + 1 + N; FIN carries the next number after
 * that (ISN + 1 for the side that sent no data). An ACK's ack field is the
 * next number expected from the peer.
 */
import { Flag, HEADER_BYTES, decodeSack, encodeSack, seqAdd, seqDiff, type Packet } from './packet.js';
import { RttEstimator, type RtoBounds, DEFAULT_RTO } from './rtt.js';
import { RenoCongestion, type CongestionControl, type CongestionName } from './congestion.js';
import { BbrCongestion } from './bbr.js';
import { SendWindow, type DataSource } from './send-window.js';
import { ReceiveWindow, type DataSink } from './receive-window.js';
import type { LftpErrorCode as Code } from './errors.js';
import type { ConnState, ControlPacket, Op, Side, StateCause, TransferEvent } from './events.js';
import { ControlRetry } from './control-retry.js';
import { ReceiverReport } from './receiver-report.js';
import {
  decodeEnd,
  decodeError,
  decodeQueued,
  decodeSynAck,
  encodeEnd,
  encodeError,
  encodeQueued,
  encodeSynAck,
  encodeSynRequest,
  decodeRetry,
} from './payloads.js';

export type { ConnState, Op, Side, TransferEvent } from './events.js';

export interface TransferRequest {
  op: Op;
  name: string;
  /** post: the size of the file being sent. */
  size?: number;
  /** A one-time ticket or a shared token. */
  auth?: string;
  mss: number;
  /** Client: empty to say it answers a server's RETRY (address validation, docs/LFTP.md); then the RETRY's token. */
  retry?: Buffer;
}

export interface SinkFinish {
  size: number;
  sha256: Buffer;
}

export interface ConnectionHooks {
  send(p: Packet): void;
  event(e: TransferEvent): void;
  /** The data receiver has everything; check size and SHA-256 and answer with sinkFinished(). */
  finishSink?(expected: SinkFinish): void;
  /** Called for every packet sent or received (for --trace). */
  trace?(dir: 'in' | 'out', p: Packet): void;
}

/** The sender's data: a DataSource that also yields the whole file's SHA-256 once read. */
export interface HashedSource extends DataSource {
  readonly size: number;
  sha256(): Buffer | null;
}

/** The receiver's data: a DataSink with the size announced by the peer. */
export interface SizedSink extends DataSink {
  setExpectedSize(size: number, mss: number): void;
}

export interface ConnectionOptions {
  side: Side;
  conn: number;
  isn: number;
  request: TransferRequest;
  /** Packets this side can hold when receiving (what it advertises). */
  receiveCapacity: number;
  /** Upper bound of the congestion window, in packets. */
  maxWindow: number;
  /** The congestion controller this side runs when it sends data (default reno). */
  congestion?: CongestionName;
  idleTimeoutMs: number;
  /** SYN / SYN-ACK tries before giving up. */
  handshakeTries: number;
  /** END and FIN tries before giving up. */
  closeTries: number;
  /** Client: give up the handshake after this long, whatever the tries. */
  handshakeTimeoutMs?: number;
  rto?: RtoBounds;
}

/**
 * A side that has sent nothing for this long sends a bare ACK. Liveness is then
 * independent of retransmission backoff: under heavy loss the peer still hears
 * from us every second or so, and a receiver's keepalive also re-advertises its
 * window (so a lost window update cannot stall the sender).
 */
export const KEEPALIVE_MS = 1000;
/**
 * A transfer whose data has not moved for this many idle timeouts ends, even
 * while packets flow. Not one: with the RTO capped at 10 s, heavy loss (the
 * 50% test) leaves 30 s without progress now and then, and still completes.
 */
export const NO_PROGRESS_FACTOR = 2;
/** Before the client's address is validated, the server sends at most this many times the bytes it received (RFC 9000 §8.1). */
export const AMPLIFICATION_LIMIT = 3;
const KEEPALIVE_STATES: ReadonlySet<ConnState> = new Set([
  'ESTABLISHED',
  'END_WAIT',
  'VERIFYING',
  'CLOSE_WAIT',
  'FIN_WAIT_2',
]);
const TIME_WAIT_MAX_MS = 2000;

export class LftpConnection {
  state: ConnState;
  readonly rtt: RttEstimator;
  readonly cc: CongestionControl;
  sender: SendWindow | null = null;
  receiver: ReceiveWindow | null = null;
  size = -1;
  mss: number;
  peerIsn = 0;
  private ackNum = 0;
  /** Data packets declared lost (when this side sends the data). */
  private declaredLost = 0;
  private readonly report: ReceiverReport;
  /** ACKs ignored because our state cannot explain them (for tests and traces). */
  unexplainedAcks = 0;
  private ctl: ControlRetry | null = null;
  /** Client: a RETRY was taken (one per transfer, as QUIC takes one Retry per connection attempt). */
  private retried = false;
  /**
   * Server, before the handshake completes: bytes received from the client's
   * address and bytes sent to it. Until the client proves it gets our packets
   * (its ACK of the SYN-ACK), at most AMPLIFICATION_LIMIT times what it sent
   * goes back (RFC 9000 §8.1): a forged source address gets little traffic.
   * null: no limit (a client, or a caller that did not say what it received).
   */
  private unvalidated: { inBytes: number; outBytes: number } | null = null;
  private lastHeard: number;
  /**
   * When data last moved (the sender's window advanced, the receiver got a new
   * packet). Keepalives keep lastHeard fresh; a transfer wedged by a peer that
   * answers but never moves (or by forged ACKs) ends after the idle timeout all the same.
   */
  private lastProgress = 0;
  private ackPending = false;
  private timeWaitUntil = 0;
  private finSeq = 0;
  private endSeq = 0;
  private lastAdvertised = 0;
  private lastSent = 0;
  /** The latest time seen by any input; packets are stamped with it. */
  private clock = 0;
  private startedAt: number;
  private result: { size: number; sha256: string } | null = null;
  private source: HashedSource | null = null;
  private sink: SizedSink | null = null;
  failure: { code: Code; message: string } | null = null;

  constructor(
    readonly opts: ConnectionOptions,
    private readonly hooks: ConnectionHooks,
    now: number,
  ) {
    this.rtt = new RttEstimator(opts.rto ?? DEFAULT_RTO);
    this.cc = opts.congestion === 'bbr' ? new BbrCongestion(opts.maxWindow) : new RenoCongestion(opts.maxWindow);
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
    if (this.sender) return Math.min(this.size, this.sender.nxt * this.mss);
    if (this.receiver) return Math.min(this.size, (this.receiver.next + this.receiver.holding) * this.mss);
    return 0;
  }

  /** Bytes moved so far (acknowledged when sending, delivered in order when receiving). */
  progressBytes(): number {
    if (this.sender) return Math.min(this.size, this.sender.una * this.mss);
    if (this.receiver) return Math.min(this.size, this.receiver.next * this.mss);
    return 0;
  }

  // ---- starting ------------------------------------------------------------

  /**
   * The data to send (the side that sends file data), cut at the negotiated mss: the server's before it
   * accepts, the client's once established (the SYN-ACK may lower the mss). Sending starts when both are there.
   */
  attachSource(source: HashedSource): void {
    this.source = source;
    if (this.state === 'ESTABLISHED' && this.isDataSender && !this.sender) this.startSending();
  }

  /** Where received data goes (the side that receives file data), before the handshake completes. */
  attachSink(sink: SizedSink): void {
    this.sink = sink;
  }

  private requireSource(): HashedSource {
    if (!this.source) throw new Error('LftpConnection: no source attached on the data sender');
    return this.source;
  }

  private requireSink(): SizedSink {
    if (!this.sink) throw new Error('LftpConnection: no sink attached on the data receiver');
    return this.sink;
  }

  /** Client: send the SYN. */
  open(now: number): void {
    this.clock = now;
    const r = this.opts.request;
    const flags = Flag.SYN | (r.op === 'post' ? Flag.POST : 0);
    this.transition('SYN_SENT', { cause: 'syn_sent', seq: this.opts.isn, op: r.op, name: r.name });
    this.control(
      now,
      { flags, seq: this.opts.isn, ack: 0, payload: encodeSynRequest(r.op, r) },
      'SYN',
      this.opts.handshakeTries,
      'HANDSHAKE_TIMEOUT',
    );
  }

  /** Server: the request was accepted; answer the SYN (seq = client ISN) with SYN-ACK. */
  accept(now: number, clientIsn: number, size: number, mss: number, synBytes?: number): void {
    this.clock = now;
    if (synBytes !== undefined) this.unvalidated = { inBytes: synBytes, outBytes: 0 };
    this.peerIsn = clientIsn;
    this.ackNum = seqAdd(clientIsn, 1);
    this.size = size;
    this.mss = mss;
    if (!this.isDataSender) this.requireSink().setExpectedSize(size, mss);
    this.transition('SYN_RCVD', { cause: 'syn_received', peerSeq: clientIsn, seq: this.opts.isn, ack: this.ackNum });
    this.control(
      now,
      { flags: Flag.SYN | Flag.ACK, seq: this.opts.isn, ack: this.ackNum, payload: encodeSynAck(size, mss) },
      'SYN-ACK',
      this.opts.handshakeTries,
      'HANDSHAKE_TIMEOUT',
    );
  }

  /** Server: tell a client waiting for a transfer slot where it stands (its SYN polls count as life). */
  queued(position: number, clientIsn: number, now?: number): void {
    if (now !== undefined) this.lastHeard = now;
    this.peerIsn = clientIsn;
    this.emitPacket({
      flags: Flag.ACK,
      seq: this.opts.isn,
      ack: seqAdd(clientIsn, 1),
      payload: encodeQueued(position),
    });
  }

  // ---- input -----------------------------------------------------------------

  onPacket(p: Packet, now: number): void {
    this.clock = now;
    if (this.finished && this.state !== 'CLOSED') return;
    this.hooks.trace?.('in', p);
    this.lastHeard = now;
    if (p.flags & Flag.ERR) {
      const { code, message } = decodeError(p.payload);
      this.fail(code, message, false);
      return;
    }
    switch (this.state) {
      case 'SYN_SENT':
      case 'QUEUED':
        this.inHandshakeClient(p, now);
        break;
      case 'SYN_RCVD':
        if (p.flags & Flag.SYN) {
          if (this.unvalidated) this.unvalidated.inBytes += HEADER_BYTES + p.payload.length;
          this.retransmitControl('duplicate_syn', (this.ctl?.tries ?? 0) + 1);
          return;
        }
        if (p.flags & Flag.ACK && p.ack === seqAdd(this.opts.isn, 1)) {
          const rtt = this.ctl?.rttSample(now);
          if (rtt != null) this.rtt.sample(rtt);
          this.ctl = null;
          this.establish(now);
          if (p.flags & (Flag.DAT | Flag.END)) this.inData(p, now);
        }
        break;
      case 'CLOSED':
        // Lingering after close: a client that missed our last ACK of its FIN gets it again.
        if (p.flags & Flag.FIN)
          this.emitPacket({ flags: Flag.ACK, seq: this.ownNextSeq(), ack: seqAdd(p.seq, 1), payload: Buffer.alloc(0) });
        return;
      default:
        this.inData(p, now);
    }
    this.pump(now);
  }

  private inHandshakeClient(p: Packet, now: number): void {
    if (p.ack !== seqAdd(this.opts.isn, 1)) return;
    if (p.flags === Flag.RETRY) {
      this.onRetry(p, now);
      return;
    }
    if (p.flags & Flag.SYN && p.flags & Flag.ACK) {
      const info = decodeSynAck(p.payload, this.mss);
      if (!info) {
        this.fail('PROTOCOL', 'SYN-ACK without a valid size and mss', true);
        return;
      }
      // The handshake gives the first RTT sample, unless the SYN was retransmitted (Karn).
      const rtt = this.state === 'SYN_SENT' ? this.ctl?.rttSample(now) : null;
      if (rtt != null) this.rtt.sample(rtt);
      this.ctl = null;
      this.peerIsn = p.seq;
      this.ackNum = seqAdd(p.seq, 1);
      this.mss = info.mss;
      this.size = this.op === 'post' ? this.opts.request.size! : info.size;
      if (!this.isDataSender) this.requireSink().setExpectedSize(this.size, this.mss);
      this.emitPacket(this.bare(Flag.ACK));
      this.hooks.event({
        type: 'syn_ack',
        peerSeq: p.seq,
        ack: p.ack,
        seq: seqAdd(this.opts.isn, 1),
        ackSent: this.ackNum,
      });
      this.establish(now);
      return;
    }
    if (p.flags & Flag.ACK && !(p.flags & Flag.SYN)) {
      const position = decodeQueued(p.payload);
      if (position > 0) {
        // Waiting is not failing: poll at a steady pace instead of the SYN backoff.
        this.ctl = this.ctl!.polling(now);
        if (this.state !== 'QUEUED') this.transition('QUEUED', { cause: 'queued', position });
        this.hooks.event({ type: 'queued', position });
      }
    }
  }

  /**
   * Client, SYN_SENT: the server validates addresses before it does any costly work (a token's scrypt), and
   * asks for the SYN again with its token. Taken once, and only by a client that said it could (its SYN's
   * `retry`); later ones are dropped. The same handshake goes on: same ISN, same deadline, one try more.
   */
  private onRetry(p: Packet, now: number): void {
    const token = decodeRetry(p.payload);
    const r = this.opts.request;
    if (!token || this.state !== 'SYN_SENT' || this.retried || !r.retry || !this.ctl) return;
    this.retried = true;
    // The RETRY answers the SYN at once (no scrypt on the way): a clean first RTT sample, unless the SYN was resent.
    const rtt = this.ctl.rttSample(now);
    if (rtt != null) this.rtt.sample(rtt);
    const payload = encodeSynRequest(r.op, { ...r, retry: token });
    this.ctl = this.ctl.replaced({ ...this.ctl.packet, payload }, now, this.rtt.rto);
    this.hooks.event({ type: 'retry', tokenBytes: token.length });
    this.emitPacket(this.ctl.packet);
  }

  private establish(now: number): void {
    this.lastProgress = now;
    const first = seqAdd(this.opts.isn, 1);
    if (this.isDataSender) {
      this.endSeq = seqAdd(first, Math.ceil(this.size / this.mss));
      this.finSeq = seqAdd(this.endSeq, 1);
      if (this.source) this.startSending();
    } else {
      const total = Math.ceil(this.size / this.mss);
      this.receiver = new ReceiveWindow(total, this.opts.receiveCapacity, this.requireSink());
      this.endSeq = seqAdd(this.peerIsn, 1 + total);
      this.finSeq = first;
    }
    this.transition('ESTABLISHED', {
      cause: 'established',
      mss: this.mss,
      size: this.size,
      sending: this.isDataSender,
    });
    this.hooks.event({ type: 'established', size: this.size });
    void now;
  }

  private startSending(): void {
    const src = this.requireSource();
    const total = Math.ceil(this.size / this.mss);
    if (src.totalPackets !== total)
      throw new Error(`LftpConnection: the source has ${src.totalPackets} packets, the transfer ${total}`);
    this.sender = new SendWindow(src, this.rtt, this.cc, this.opts.receiveCapacity);
  }

  private inData(p: Packet, now: number): void {
    // A SYN-ACK again: our handshake ACK was lost, and the server waits for it.
    if (this.opts.side === 'client' && p.flags & Flag.SYN && p.flags & Flag.ACK) {
      this.hooks.event({ type: 'handshake_ack_resent' });
      this.emitPacket({
        flags: Flag.ACK,
        seq: seqAdd(this.opts.isn, 1),
        ack: seqAdd(this.peerIsn, 1),
        payload: Buffer.alloc(0),
      });
      return;
    }
    // Any side may see the peer's FIN once data is done.
    if (p.flags & Flag.FIN) {
      this.onPeerFin(p, now);
      return;
    }
    if (this.receiver && p.flags & (Flag.DAT | Flag.END)) {
      this.onReceiverPacket(p, now);
      return;
    }
    if (p.flags & Flag.ACK) this.onAckPacket(p, now);
  }

  private onReceiverPacket(p: Packet, now: number): void {
    const r = this.receiver!;
    if (p.flags & Flag.END) {
      const end = decodeEnd(p.payload);
      if (p.seq !== this.endSeq || !end) return;
      if (this.state === 'VERIFYING') return; // still checking; the answer goes out when done
      if (
        this.result ||
        this.state === 'FIN_WAIT_1' ||
        this.state === 'FIN_WAIT_2' ||
        this.state === 'TIME_WAIT' ||
        this.state === 'CLOSE_WAIT'
      ) {
        this.emitPacket(this.bare(Flag.ACK)); // our END-ACK was lost
        return;
      }
      if (!r.complete) {
        this.ackPending = true;
        return;
      }
      if (end.size !== this.size) {
        this.fail('PROTOCOL', `END says ${end.size} bytes, the handshake said ${this.size}`, true);
        return;
      }
      this.transition('VERIFYING', { cause: 'end_received' });
      this.hooks.finishSink!(end);
      return;
    }
    const index = seqDiff(p.seq, seqAdd(this.peerIsn, 1));
    if (index < 0) return;
    if (index < r.total && p.payload.length !== this.expectedLength(index)) {
      this.fail(
        'PROTOCOL',
        `packet ${index} has ${p.payload.length} bytes, expected ${this.expectedLength(index)}`,
        true,
      );
      return;
    }
    this.report.before(r);
    const res = r.onData(index, p.payload);
    if (res === 'new') this.lastProgress = now;
    this.report.after(r, res, p.seq, index, seqAdd(this.peerIsn, 1));
    this.ackNum = seqAdd(this.peerIsn, 1 + r.next);
    this.ackPending = true;
    // Duplicates and out-of-window packets mean our ACKs are not getting through or the sender is lost: answer now.
    if (res !== 'new') this.flush(now);
  }

  private expectedLength(index: number): number {
    const total = this.receiver!.total;
    return index === total - 1 ? this.size - index * this.mss : this.mss;
  }

  private onAckPacket(p: Packet, now: number): void {
    const s = this.sender;
    if (!s) {
      // The client that received data: the server ACKs our FIN.
      if (this.state === 'FIN_WAIT_1' && p.ack === seqAdd(this.finSeq, 1)) {
        this.ctl = null;
        this.transition('FIN_WAIT_2', { cause: 'fin_acked' });
      } else if (this.state === 'LAST_ACK' && p.ack === seqAdd(this.finSeq, 1)) {
        this.close({ cause: 'fin_acked' });
      }
      return;
    }
    const first = seqAdd(this.opts.isn, 1);
    if (this.state === 'END_WAIT' && p.ack === seqAdd(this.endSeq, 1)) {
      this.ctl = null;
      const src = this.requireSource();
      this.succeed(src.size, src.sha256()!);
      if (this.opts.side === 'client') this.sendFin(now);
      else this.transition('CLOSE_WAIT', { cause: 'end_acked' });
      return;
    }
    if ((this.state === 'FIN_WAIT_1' || this.state === 'LAST_ACK') && p.ack === seqAdd(this.finSeq, 1)) {
      this.ctl = null;
      if (this.state === 'FIN_WAIT_1') this.transition('FIN_WAIT_2', { cause: 'fin_acked' });
      else this.close({ cause: 'fin_acked' });
      return;
    }
    if (this.state !== 'ESTABLISHED' && this.state !== 'END_WAIT') return;
    const ackIndex = seqDiff(p.ack, first);
    const sackSeq = decodeSack(p.payload) ?? [];
    const sack = sackSeq.map(([a, b]) => [seqDiff(a, first), seqDiff(b, first)] as [number, number]);
    // An ACK the sender's state cannot explain is ignored whole, window and all (RFC 5961 §5.2, RFC 793):
    // one for data never sent (a forged ack=0 once acknowledged everything in flight and wedged the
    // transfer), SACK blocks outside what was sent, or one older than what is already acknowledged
    // (reordered: its window is stale too).
    if (ackIndex > s.nxt || ackIndex < s.una || sack.some(([a, b]) => a < s.una || b > s.nxt || a >= b)) {
      this.unexplainedAcks++;
      return;
    }
    const res = s.onAck(ackIndex, sack, p.window, now);
    if (res.newlyAcked > 0) this.lastProgress = now;
    if (res.lost.length) this.lossEvent('ack', res.lost, res.reduced);
    if (p.window === 0 && this.lastAdvertised !== 0) this.hooks.event({ type: 'window_closed' });
    this.lastAdvertised = p.window;
  }

  private onPeerFin(p: Packet, now: number): void {
    if (this.opts.side === 'server') {
      if (this.state === 'ESTABLISHED' || this.state === 'END_WAIT') return; // FIN before the data is done: ignore
      const expected = this.peerFinSeq();
      if (p.seq !== expected) return;
      this.ackNum = seqAdd(p.seq, 1);
      this.emitPacket(this.bare(Flag.ACK));
      if (this.state === 'LAST_ACK') return; // a retransmitted FIN: re-ACKed above
      this.transition('LAST_ACK', { cause: 'peer_fin', peerSeq: p.seq, seq: this.finSeq });
      this.control(
        now,
        { flags: Flag.FIN | Flag.ACK, seq: this.finSeq, ack: this.ackNum, payload: Buffer.alloc(0) },
        'FIN',
        this.opts.closeTries,
        'PEER_TIMEOUT',
      );
      return;
    }
    // Client: the server's FIN.
    if (this.state !== 'FIN_WAIT_1' && this.state !== 'FIN_WAIT_2' && this.state !== 'TIME_WAIT') return;
    this.ackNum = seqAdd(p.seq, 1);
    this.emitPacket(this.bare(Flag.ACK));
    if (this.state !== 'TIME_WAIT') {
      this.ctl = null;
      // Long enough for the server's FIN retransmission (one RTO) to arrive and be re-ACKed.
      this.timeWaitUntil = now + Math.min(TIME_WAIT_MAX_MS, 2 * this.rtt.rto);
      this.transition('TIME_WAIT', { cause: 'peer_fin', peerSeq: p.seq });
    }
  }

  private peerFinSeq(): number {
    // The client's FIN follows its END when it sent data, else it is ISN + 1.
    return this.isDataSender ? seqAdd(this.peerIsn, 1) : seqAdd(this.endSeq, 1);
  }

  /** The data receiver's file check finished (I/O completion). */
  sinkFinished(
    now: number,
    outcome: { ok: true; size: number; sha256: string } | { ok: false; code: Code; message: string },
  ): void {
    this.clock = now;
    if (this.state !== 'VERIFYING') return;
    if (!outcome.ok) {
      this.fail(outcome.code, outcome.message, true);
      return;
    }
    this.ackNum = seqAdd(this.endSeq, 1);
    this.emitPacket(this.bare(Flag.ACK));
    this.result = { size: outcome.size, sha256: outcome.sha256 };
    this.hooks.event({ type: 'done', size: outcome.size, sha256: outcome.sha256, verifiedBy: 'us' });
    if (this.opts.side === 'client') this.sendFin(now);
    else this.transition('CLOSE_WAIT', { cause: 'verified' });
  }

  /** New data became readable (I/O completion): send what the windows allow. */
  dataReady(now: number): void {
    this.clock = now;
    this.pump(now);
  }

  /** The writer caught up: if the window had nearly closed, tell the sender it is open again. */
  windowOpened(now: number): void {
    this.clock = now;
    if (!this.receiver || this.finished) return;
    const w = this.receiver.window();
    if (this.lastAdvertised < this.opts.receiveCapacity / 4 && w >= this.opts.receiveCapacity / 4) {
      this.ackPending = true;
      this.flush(now);
    }
  }

  // ---- output ----------------------------------------------------------------

  /** Sends what the windows allow: retransmissions first, then new data, then END when all is acknowledged. */
  private pump(now: number): void {
    const s = this.sender;
    if (!s || (this.state !== 'ESTABLISHED' && this.state !== 'END_WAIT')) return;
    const first = seqAdd(this.opts.isn, 1);
    for (let n = s.next(now); n !== null; n = s.next(now)) {
      const data = this.requireSource().chunk(n.index);
      if (data === null) break;
      if (n.retransmit) this.hooks.event({ type: 'retransmit_data', seq: seqAdd(first, n.index), index: n.index });
      s.markSent(n.index, now);
      this.emitPacket({ flags: Flag.DAT | Flag.ACK, seq: seqAdd(first, n.index), ack: this.ackNum, payload: data });
    }
    if (this.state === 'ESTABLISHED' && s.done) {
      const src = this.requireSource();
      const sha = src.sha256();
      if (sha === null) return; // still hashing the tail
      this.transition('END_WAIT', { cause: 'end_sent', packets: s.total, seq: this.endSeq });
      this.control(
        now,
        { flags: Flag.END | Flag.ACK, seq: this.endSeq, ack: this.ackNum, payload: encodeEnd(src.size, sha) },
        'END',
        this.opts.closeTries,
        'PEER_TIMEOUT',
      );
    }
  }

  /** Sends the pending cumulative ACK (with SACK ranges). The edge calls this once per batch of datagrams. */
  flush(now: number): void {
    this.clock = Math.max(this.clock, now);
    if (!this.ackPending || !this.receiver || this.finished) return;
    this.ackPending = false;
    const first = seqAdd(this.peerIsn, 1);
    const ranges = this.receiver.sackRanges().map(([a, b]) => [seqAdd(first, a), seqAdd(first, b)] as [number, number]);
    this.emitPacket({ flags: Flag.ACK, seq: this.finSeq, ack: this.ackNum, payload: encodeSack(ranges) });
  }

  private sendFin(now: number): void {
    this.transition('FIN_WAIT_1', { cause: 'fin_sent', seq: this.finSeq });
    this.control(
      now,
      { flags: Flag.FIN | Flag.ACK, seq: this.finSeq, ack: this.ackNum, payload: Buffer.alloc(0) },
      'FIN',
      this.opts.closeTries,
      'PEER_TIMEOUT',
    );
  }

  private bare(flags: number): Omit<Packet, 'conn' | 'window'> {
    return { flags, seq: this.ownNextSeq(), ack: this.ackNum, payload: Buffer.alloc(0) };
  }

  private ownNextSeq(): number {
    if (this.state === 'SYN_SENT' || this.state === 'QUEUED' || this.state === 'SYN_RCVD')
      return seqAdd(this.opts.isn, 1);
    return this.finSeq !== 0 ? this.finSeq : seqAdd(this.opts.isn, 1);
  }

  private emitPacket(p: Omit<Packet, 'conn' | 'window'>): void {
    const window = this.receiver ? this.receiver.window() : this.opts.receiveCapacity;
    const full: Packet = { ...p, conn: this.opts.conn, window };
    this.lastSent = this.clock;
    if (this.receiver) this.lastAdvertised = window;
    this.hooks.trace?.('out', full);
    this.hooks.send(full);
  }

  private control(
    now: number,
    p: Omit<Packet, 'conn' | 'window'>,
    what: ControlPacket,
    maxTries: number,
    giveUp: Code,
  ): void {
    const limit = giveUp === 'HANDSHAKE_TIMEOUT' ? (this.opts.handshakeTimeoutMs ?? Infinity) : Infinity;
    this.ctl = ControlRetry.sent(p, what, giveUp, maxTries, now, this.rtt.rto, limit);
    if (this.withinAmplificationLimit(p)) this.emitPacket(p);
  }

  /** Counts p against the unvalidated budget; false when it would pass it (then it is not sent). */
  private withinAmplificationLimit(p: Omit<Packet, 'conn' | 'window'>): boolean {
    const u = this.unvalidated;
    if (!u || this.state !== 'SYN_RCVD') return true;
    const bytes = HEADER_BYTES + p.payload.length;
    if (u.outBytes + bytes > AMPLIFICATION_LIMIT * u.inBytes) return false;
    u.outBytes += bytes;
    return true;
  }

  /** Sends the pending control packet again; `try` counts the sends so far, this one included. */
  private retransmitControl(why: 'timeout' | 'duplicate_syn' | 'queued', sendsSoFar: number): void {
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

  // ---- time ------------------------------------------------------------------

  /** The next moment tick() has something to do, or null. */
  nextDeadline(): number | null {
    if (this.finished) return null;
    // Called after every datagram: a running minimum, no array.
    let d = this.state === 'SYN_SENT' ? Infinity : this.lastHeard + this.opts.idleTimeoutMs;
    const consider = (t: number | null) => {
      if (t !== null && t < d) d = t;
    };
    if (this.ctl) consider(this.ctl.deadline);
    if (this.state === 'TIME_WAIT') consider(this.timeWaitUntil);
    if (KEEPALIVE_STATES.has(this.state)) consider(this.lastSent + KEEPALIVE_MS);
    if (this.state === 'ESTABLISHED') consider(this.lastProgress + NO_PROGRESS_FACTOR * this.opts.idleTimeoutMs);
    if (this.sender && (this.state === 'ESTABLISHED' || this.state === 'END_WAIT')) {
      consider(this.sender.rtoDeadline());
      consider(this.sender.probeDeadline());
      consider(this.sender.lossDeadline());
    }
    return d === Infinity ? null : d;
  }

  /** Runs whatever is due: each kind of timer in its own step, in this order; a step that ends the connection ends the tick. */
  tick(now: number): void {
    this.clock = now;
    if (this.finished) return;
    if (this.tickTimeWait(now) || this.tickIdle(now) || this.tickControl(now)) return;
    this.tickKeepalive(now);
    this.tickSender(now);
  }

  /** TIME_WAIT over: closed. */
  private tickTimeWait(now: number): boolean {
    if (this.state !== 'TIME_WAIT' || now < this.timeWaitUntil) return false;
    this.close({ cause: 'time_wait_over' });
    return true;
  }

  /** The peer silent for the idle timeout. The handshake has its own limit (tries with backoff); idleness counts once the peer has answered. */
  private tickIdle(now: number): boolean {
    if (this.state === 'ESTABLISHED' && now >= this.lastProgress + NO_PROGRESS_FACTOR * this.opts.idleTimeoutMs) {
      const s = Math.round((now - this.lastProgress) / 1000);
      this.fail('PEER_TIMEOUT', `no progress for ${s}s: the peer answers, but no data has moved`, true);
      return true;
    }
    if (now < this.lastHeard + this.opts.idleTimeoutMs || this.state === 'SYN_SENT') return false;
    // After success an unanswered teardown is not a failure: the file is safe.
    if (this.result) this.close({ cause: 'peer_silent', silentMs: this.opts.idleTimeoutMs });
    else this.fail('PEER_TIMEOUT', `no packet from the peer for ${Math.round((now - this.lastHeard) / 1000)}s`, false);
    return true;
  }

  /** The pending control packet (SYN, SYN-ACK, END, FIN): sent again with backoff, or given up. */
  private tickControl(now: number): boolean {
    const c = this.ctl;
    const verdict = c ? c.poll(now) : 'wait';
    if (!c || verdict === 'wait') return false;
    if (verdict === 'give-up') {
      if (this.result && c.what === 'FIN') this.close({ cause: 'fin_unanswered' });
      else this.fail(c.giveUp, `${c.what} not answered after ${c.tries} tries`, false);
      return true;
    }
    this.retransmitControl(c.isPolling ? 'queued' : 'timeout', c.tries);
    return false;
  }

  /** Nothing sent for a while: a bare ACK (a receiver's also re-advertises its window). */
  private tickKeepalive(now: number): void {
    if (!KEEPALIVE_STATES.has(this.state) || now < this.lastSent + KEEPALIVE_MS) return;
    if (this.receiver) {
      this.ackPending = true;
      this.flush(now);
    } else this.emitPacket(this.bare(Flag.ACK));
  }

  /** The data sender's timers: tail loss probe, retransmission timeout, time-threshold loss; then send what is allowed. */
  private tickSender(now: number): void {
    const s = this.sender;
    if (!s || (this.state !== 'ESTABLISHED' && this.state !== 'END_WAIT')) return;
    const rto = s.rtoDeadline();
    const probe = s.probeDeadline();
    if (probe !== null && now >= probe && (rto === null || now < rto)) {
      const n = s.onProbe();
      if (n) {
        const seq = seqAdd(this.opts.isn, 1 + n.index);
        this.hooks.event({ type: 'tail_probe', seq, index: n.index, resend: n.retransmit });
        s.markSent(n.index, now);
        this.emitPacket({
          flags: Flag.DAT | Flag.ACK,
          seq,
          ack: this.ackNum,
          payload: this.requireSource().chunk(n.index)!,
        });
      }
    } else if (rto !== null && now >= rto) {
      const resend = s.onRtoExpired(now);
      this.hooks.event({
        type: 'rto',
        resend: resend.length,
        ssthresh: this.cc.ssthresh,
        rtoMs: Math.round(this.rtt.rto),
      });
    } else {
      const { lost, reduced } = s.checkLossTimer(now);
      if (lost.length) this.lossEvent('time', lost, reduced);
    }
    this.pump(now);
  }

  private lossEvent(by: 'ack' | 'time', lost: number[], reduced: boolean): void {
    this.declaredLost += lost.length;
    this.hooks.event({
      type: 'loss',
      by,
      count: lost.length,
      first: lost[0]!,
      last: lost[lost.length - 1]!,
      lost,
      reduced,
      cwnd: this.cc.cwnd,
      ssthresh: this.cc.ssthresh,
    });
  }

  // ---- endings ---------------------------------------------------------------

  private succeed(size: number, sha: Buffer): void {
    this.result = { size, sha256: sha.toString('hex') };
    this.hooks.event({ type: 'done', size, sha256: this.result.sha256, verifiedBy: 'peer' });
  }

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

  private close(cause: StateCause): void {
    this.ctl = null;
    this.transition('CLOSED', cause);
    this.hooks.event({ type: 'closed' });
  }

  private transition(to: ConnState, cause: StateCause): void {
    this.state = to;
    this.hooks.event({ type: 'state', state: to, ...cause });
  }
}
