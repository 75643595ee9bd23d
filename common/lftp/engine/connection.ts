/**
 * One LFTP transfer as a pure state machine. Inputs: a decoded packet, a clock
 * tick, or the completion of file I/O. Outputs: packets through hooks.send and
 * events through hooks.event. No sockets, no timers, no files: the edge
 * (endpoint.ts) does those, and the unit tests drive this with a fake clock
 * and a fake link.
 *
 * Sequence numbers (docs/LFTP.md has the diagrams): each side picks a random
 * initial sequence number (ISN). SYN carries ISN; data packet i carries
 * ISN + 1 + i; END carries ISN + 1 + N; FIN carries the next number after
 * that (ISN + 1 for the side that sent no data). An ACK's ack field is the
 * next number expected from the peer.
 */
import { Flag, decodeSack, encodeSack, seqAdd, seqDiff, type Packet } from './packet.js';
import { RttEstimator, type RtoBounds, DEFAULT_RTO } from './rtt.js';
import { RenoCongestion, type CongestionControl, type CongestionName } from './congestion.js';
import { BbrCongestion } from './bbr.js';
import { SendWindow, type DataSource } from './send-window.js';
import { ReceiveWindow, type DataSink } from './receive-window.js';
import { LftpErrorCode, isLftpErrorCode, type LftpErrorCode as Code } from './errors.js';

export type Side = 'client' | 'server';
export type Op = 'get' | 'post';

export type ConnState =
  | 'SYN_SENT'
  | 'QUEUED'
  | 'SYN_RCVD'
  | 'ESTABLISHED'
  | 'END_WAIT' // data sender: END sent, waiting for its ACK
  | 'VERIFYING' // data receiver: END received, checking the file
  | 'FIN_WAIT_1'
  | 'FIN_WAIT_2'
  | 'TIME_WAIT'
  | 'CLOSE_WAIT' // server: data done, waiting for the client's FIN
  | 'LAST_ACK'
  | 'CLOSED'
  | 'FAILED';

export interface TransferRequest {
  op: Op;
  name: string;
  /** post: the size of the file being sent. */
  size?: number;
  /** A one-time ticket or a shared token. */
  auth?: string;
  mss: number;
}

export interface TransferEvent {
  type: 'state' | 'queued' | 'established' | 'retransmit' | 'rto' | 'loss' | 'window' | 'done' | 'error' | 'closed' | 'info';
  text: string;
  state?: ConnState;
  code?: Code;
  position?: number;
  size?: number;
  sha256?: string;
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
  source?: HashedSource;
  sink?: SizedSink;
}

interface ControlRetry {
  packet: Packet;
  sentAt: number;
  /** Give up at this time even if tries remain (handshake: --connect-timeout). */
  giveUpAt: number;
  deadline: number;
  interval: number;
  tries: number;
  maxTries: number;
  what: string;
  giveUp: Code;
}

const QUEUE_POLL_MS = 1000;
/** Control packets (SYN, SYN-ACK, END, FIN) are retried at most this far apart. */
const CONTROL_MAX_INTERVAL_MS = 2000;
/**
 * A side that has sent nothing for this long sends a bare ACK. Liveness is then
 * independent of retransmission backoff: under heavy loss the peer still hears
 * from us every second or so, and a receiver's keepalive also re-advertises its
 * window (so a lost window update cannot stall the sender).
 */
export const KEEPALIVE_MS = 1000;
const KEEPALIVE_STATES: ReadonlySet<ConnState> = new Set(['ESTABLISHED', 'END_WAIT', 'VERIFYING', 'CLOSE_WAIT', 'FIN_WAIT_2']);
const TIME_WAIT_MAX_MS = 2000;

export function endPayload(size: number, sha256: Buffer): Buffer {
  const b = Buffer.alloc(40);
  b.writeBigUInt64BE(BigInt(size), 0);
  sha256.copy(b, 8);
  return b;
}

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
  private ctl: ControlRetry | null = null;
  private lastHeard: number;
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

  /** Bytes moved so far (acknowledged when sending, delivered in order when receiving). */
  progressBytes(): number {
    if (this.sender) return Math.min(this.size, this.sender.una * this.mss);
    if (this.receiver) return Math.min(this.size, this.receiver.next * this.mss);
    return 0;
  }

  // ---- starting ------------------------------------------------------------

  /** Client: send the SYN. */
  open(now: number): void {
    this.clock = now;
    const r = this.opts.request;
    const body: Record<string, unknown> = { name: r.name, mss: r.mss };
    if (r.op === 'post') body['size'] = r.size;
    if (r.auth !== undefined) body['auth'] = r.auth;
    const flags = Flag.SYN | (r.op === 'post' ? Flag.POST : 0);
    this.transition('SYN_SENT', `SYN sent (seq=${this.opts.isn}, ${r.op} ${r.name})`);
    this.control(now, { flags, seq: this.opts.isn, ack: 0, payload: Buffer.from(JSON.stringify(body)) }, 'SYN', this.opts.handshakeTries, 'HANDSHAKE_TIMEOUT');
  }

  /** Server: the request was accepted; answer the SYN (seq = client ISN) with SYN-ACK. */
  accept(now: number, clientIsn: number, size: number, mss: number): void {
    this.clock = now;
    this.peerIsn = clientIsn;
    this.ackNum = seqAdd(clientIsn, 1);
    this.size = size;
    this.mss = mss;
    if (!this.isDataSender) this.opts.sink!.setExpectedSize(size, mss);
    this.transition('SYN_RCVD', `SYN received (seq=${clientIsn}); SYN-ACK sent (seq=${this.opts.isn}, ack=${this.ackNum})`);
    this.control(
      now,
      { flags: Flag.SYN | Flag.ACK, seq: this.opts.isn, ack: this.ackNum, payload: Buffer.from(JSON.stringify({ size, mss })) },
      'SYN-ACK',
      this.opts.handshakeTries,
      'HANDSHAKE_TIMEOUT',
    );
  }

  /** Server: tell a client waiting for a transfer slot where it stands (its SYN polls count as life). */
  queued(position: number, clientIsn: number, now?: number): void {
    if (now !== undefined) this.lastHeard = now;
    this.peerIsn = clientIsn;
    this.emitPacket({ flags: Flag.ACK, seq: this.opts.isn, ack: seqAdd(clientIsn, 1), payload: Buffer.from(JSON.stringify({ queued: position })) });
  }

  // ---- input -----------------------------------------------------------------

  onPacket(p: Packet, now: number): void {
    this.clock = now;
    if (this.finished && this.state !== 'CLOSED') return;
    this.hooks.trace?.('in', p);
    this.lastHeard = now;
    if (p.flags & Flag.ERR) {
      const { code, message } = parseError(p.payload);
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
          this.retransmitControl(now, 'duplicate SYN');
          return;
        }
        if (p.flags & Flag.ACK && p.ack === seqAdd(this.opts.isn, 1)) {
          if (this.ctl && this.ctl.tries === 1) this.rtt.sample(now - this.ctl.sentAt);
          this.ctl = null;
          this.establish(now);
          if (p.flags & (Flag.DAT | Flag.END)) this.inData(p, now);
        }
        break;
      case 'CLOSED':
        // Lingering after close: a client that missed our last ACK of its FIN gets it again.
        if (p.flags & Flag.FIN) this.emitPacket({ flags: Flag.ACK, seq: this.ownNextSeq(), ack: seqAdd(p.seq, 1), payload: Buffer.alloc(0) });
        return;
      default:
        this.inData(p, now);
    }
    this.pump(now);
  }

  private inHandshakeClient(p: Packet, now: number): void {
    if (p.ack !== seqAdd(this.opts.isn, 1)) return;
    if (p.flags & Flag.SYN && p.flags & Flag.ACK) {
      let info: { size?: unknown; mss?: unknown };
      try {
        info = JSON.parse(p.payload.toString('utf8')) as typeof info;
      } catch {
        this.fail('PROTOCOL', 'SYN-ACK payload is not JSON', true);
        return;
      }
      if (typeof info.size !== 'number' || typeof info.mss !== 'number' || info.mss < 1 || info.mss > this.mss) {
        this.fail('PROTOCOL', 'SYN-ACK without a valid size and mss', true);
        return;
      }
      // The handshake gives the first RTT sample, unless the SYN was retransmitted (Karn).
      if (this.ctl && this.ctl.tries === 1 && this.state === 'SYN_SENT') this.rtt.sample(now - this.ctl.sentAt);
      this.ctl = null;
      this.peerIsn = p.seq;
      this.ackNum = seqAdd(p.seq, 1);
      this.mss = info.mss;
      this.size = this.op === 'post' ? this.opts.request.size! : info.size;
      if (!this.isDataSender) this.opts.sink!.setExpectedSize(this.size, this.mss);
      this.emitPacket(this.bare(Flag.ACK));
      this.hooks.event({ type: 'info', text: `SYN-ACK received (seq=${p.seq}, ack=${p.ack}); ACK sent (seq=${seqAdd(this.opts.isn, 1)}, ack=${this.ackNum})` });
      this.establish(now);
      return;
    }
    if (p.flags & Flag.ACK && !(p.flags & Flag.SYN)) {
      let position = 0;
      try {
        position = (JSON.parse(p.payload.toString('utf8')) as { queued?: number }).queued ?? 0;
      } catch {
        return;
      }
      if (position > 0) {
        // Waiting is not failing: poll at a steady pace instead of the SYN backoff.
        this.ctl = { packet: this.ctl!.packet, sentAt: now, giveUpAt: Infinity, deadline: now + QUEUE_POLL_MS, interval: QUEUE_POLL_MS, tries: 0, maxTries: Infinity, what: 'SYN (queued)', giveUp: 'HANDSHAKE_TIMEOUT' };
        if (this.state !== 'QUEUED') this.transition('QUEUED', `server busy: queued at position ${position}`);
        this.hooks.event({ type: 'queued', text: `waiting for a transfer slot: position ${position} in the queue`, position });
      }
    }
  }

  private establish(now: number): void {
    const first = seqAdd(this.opts.isn, 1);
    if (this.isDataSender) {
      const src = this.opts.source!;
      this.sender = new SendWindow(src, this.rtt, this.cc, this.opts.receiveCapacity);
      this.endSeq = seqAdd(first, src.totalPackets);
      this.finSeq = seqAdd(this.endSeq, 1);
    } else {
      const total = Math.ceil(this.size / this.mss);
      this.receiver = new ReceiveWindow(total, this.opts.receiveCapacity, this.opts.sink!);
      this.endSeq = seqAdd(this.peerIsn, 1 + total);
      this.finSeq = first;
    }
    this.transition('ESTABLISHED', `connection established (mss ${this.mss}, ${this.size} bytes to ${this.isDataSender ? 'send' : 'receive'})`);
    this.hooks.event({ type: 'established', text: 'established', size: this.size });
    void now;
  }

  private inData(p: Packet, now: number): void {
    // A SYN-ACK again: our handshake ACK was lost, and the server waits for it.
    if (this.opts.side === 'client' && p.flags & Flag.SYN && p.flags & Flag.ACK) {
      this.hooks.event({ type: 'retransmit', text: 'SYN-ACK again: our ACK was lost; ACK resent' });
      this.emitPacket({ flags: Flag.ACK, seq: seqAdd(this.opts.isn, 1), ack: seqAdd(this.peerIsn, 1), payload: Buffer.alloc(0) });
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
      if (p.seq !== this.endSeq || p.payload.length !== 40) return;
      if (this.state === 'VERIFYING') return; // still checking; the answer goes out when done
      if (this.result || this.state === 'FIN_WAIT_1' || this.state === 'FIN_WAIT_2' || this.state === 'TIME_WAIT' || this.state === 'CLOSE_WAIT') {
        this.emitPacket(this.bare(Flag.ACK)); // our END-ACK was lost
        return;
      }
      if (!r.complete) {
        this.ackPending = true;
        return;
      }
      const size = Number(p.payload.readBigUInt64BE(0));
      if (size !== this.size) {
        this.fail('PROTOCOL', `END says ${size} bytes, the handshake said ${this.size}`, true);
        return;
      }
      this.transition('VERIFYING', 'END received: all data in; checking size and SHA-256');
      this.hooks.finishSink!({ size, sha256: Buffer.from(p.payload.subarray(8, 40)) });
      return;
    }
    const index = seqDiff(p.seq, seqAdd(this.peerIsn, 1));
    if (index < 0) return;
    if (index < r.total && p.payload.length !== this.expectedLength(index)) {
      this.fail('PROTOCOL', `packet ${index} has ${p.payload.length} bytes, expected ${this.expectedLength(index)}`, true);
      return;
    }
    const res = r.onData(index, p.payload);
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
        this.transition('FIN_WAIT_2', 'our FIN acknowledged; waiting for the server FIN');
      } else if (this.state === 'LAST_ACK' && p.ack === seqAdd(this.finSeq, 1)) {
        this.ctl = null;
        this.transition('CLOSED', 'our FIN acknowledged: closed');
        this.hooks.event({ type: 'closed', text: '' });
      }
      return;
    }
    const first = seqAdd(this.opts.isn, 1);
    if (this.state === 'END_WAIT' && p.ack === seqAdd(this.endSeq, 1)) {
      this.ctl = null;
      this.succeed(this.opts.source!.size, this.opts.source!.sha256()!);
      if (this.opts.side === 'client') this.sendFin(now);
      else this.transition('CLOSE_WAIT', 'END acknowledged: the client has the file; waiting for its FIN');
      return;
    }
    if ((this.state === 'FIN_WAIT_1' || this.state === 'LAST_ACK') && p.ack === seqAdd(this.finSeq, 1)) {
      this.ctl = null;
      if (this.state === 'FIN_WAIT_1') this.transition('FIN_WAIT_2', 'our FIN acknowledged; waiting for the server FIN');
      else {
        this.transition('CLOSED', 'our FIN acknowledged: closed');
        this.hooks.event({ type: 'closed', text: '' });
      }
      return;
    }
    if (this.state !== 'ESTABLISHED' && this.state !== 'END_WAIT') return;
    const ackIndex = Math.max(0, seqDiff(p.ack, first));
    const sackSeq = decodeSack(p.payload) ?? [];
    const sack = sackSeq.map(([a, b]) => [seqDiff(a, first), seqDiff(b, first)] as [number, number]);
    const res = s.onAck(ackIndex, sack, p.window, now);
    if (res.lost.length) {
      this.hooks.event({
        type: 'loss',
        text: `loss detected: ${describeRanges(res.lost)}${res.reduced ? `; cwnd → ${this.cc.cwnd.toFixed(1)}, ssthresh ${this.cc.ssthresh}` : ''} (fast retransmit)`,
      });
    }
    if (p.window === 0 && this.lastAdvertised !== 0) this.hooks.event({ type: 'window', text: 'receiver window closed (0): waiting, probing' });
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
      this.transition('LAST_ACK', `FIN received (seq=${p.seq}); ACK sent, our FIN sent (seq=${this.finSeq})`);
      this.control(now, { flags: Flag.FIN | Flag.ACK, seq: this.finSeq, ack: this.ackNum, payload: Buffer.alloc(0) }, 'FIN', this.opts.closeTries, 'PEER_TIMEOUT');
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
      this.transition('TIME_WAIT', `server FIN received (seq=${p.seq}); ACK sent; lingering to re-ACK a lost ACK`);
    }
  }

  private peerFinSeq(): number {
    // The client's FIN follows its END when it sent data, else it is ISN + 1.
    return this.isDataSender ? seqAdd(this.peerIsn, 1) : seqAdd(this.endSeq, 1);
  }

  /** The data receiver's file check finished (I/O completion). */
  sinkFinished(now: number, outcome: { ok: true; size: number; sha256: string } | { ok: false; code: Code; message: string }): void {
    this.clock = now;
    if (this.state !== 'VERIFYING') return;
    if (!outcome.ok) {
      this.fail(outcome.code, outcome.message, true);
      return;
    }
    this.ackNum = seqAdd(this.endSeq, 1);
    this.emitPacket(this.bare(Flag.ACK));
    this.result = { size: outcome.size, sha256: outcome.sha256 };
    this.hooks.event({ type: 'done', text: `file complete and verified (${outcome.size} bytes, sha256 ${outcome.sha256.slice(0, 16)}…)`, size: outcome.size, sha256: outcome.sha256 });
    if (this.opts.side === 'client') this.sendFin(now);
    else this.transition('CLOSE_WAIT', 'file verified and stored; END acknowledged; waiting for the client FIN');
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
      const data = this.opts.source!.chunk(n.index);
      if (data === null) break;
      if (n.retransmit) this.hooks.event({ type: 'retransmit', text: `retransmit seq ${seqAdd(first, n.index)} (packet ${n.index})` });
      s.markSent(n.index, now);
      this.emitPacket({ flags: Flag.DAT | Flag.ACK, seq: seqAdd(first, n.index), ack: this.ackNum, payload: data });
    }
    if (this.state === 'ESTABLISHED' && s.done) {
      const sha = this.opts.source!.sha256();
      if (sha === null) return; // still hashing the tail
      this.transition('END_WAIT', `all ${s.total} data packets acknowledged; END sent (seq=${this.endSeq})`);
      this.control(now, { flags: Flag.END | Flag.ACK, seq: this.endSeq, ack: this.ackNum, payload: endPayload(this.opts.source!.size, sha) }, 'END', this.opts.closeTries, 'PEER_TIMEOUT');
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
    this.transition('FIN_WAIT_1', `FIN sent (seq=${this.finSeq})`);
    this.control(now, { flags: Flag.FIN | Flag.ACK, seq: this.finSeq, ack: this.ackNum, payload: Buffer.alloc(0) }, 'FIN', this.opts.closeTries, 'PEER_TIMEOUT');
  }

  private bare(flags: number): Omit<Packet, 'conn' | 'window'> {
    return { flags, seq: this.ownNextSeq(), ack: this.ackNum, payload: Buffer.alloc(0) };
  }

  private ownNextSeq(): number {
    if (this.state === 'SYN_SENT' || this.state === 'QUEUED' || this.state === 'SYN_RCVD') return seqAdd(this.opts.isn, 1);
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

  private control(now: number, p: Omit<Packet, 'conn' | 'window'>, what: string, maxTries: number, giveUp: Code): void {
    const interval = this.rtt.rto;
    const limit = giveUp === 'HANDSHAKE_TIMEOUT' ? this.opts.handshakeTimeoutMs ?? Infinity : Infinity;
    this.ctl = { packet: { ...p, conn: this.opts.conn, window: 0 }, sentAt: now, giveUpAt: now + limit, deadline: now + interval, interval, tries: 1, maxTries, what, giveUp };
    this.emitPacket(p);
  }

  private retransmitControl(now: number, why: string): void {
    const c = this.ctl;
    if (!c) return;
    const { conn: _c, window: _w, ...p } = c.packet;
    this.hooks.event({ type: 'retransmit', text: `retransmit ${c.what} (${why}, try ${c.tries + 1}${Number.isFinite(c.maxTries) ? `/${c.maxTries}` : ''})` });
    this.emitPacket(p);
    void now;
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
    if (this.sender && (this.state === 'ESTABLISHED' || this.state === 'END_WAIT')) {
      consider(this.sender.rtoDeadline());
      consider(this.sender.probeDeadline());
      consider(this.sender.lossDeadline());
    }
    return d === Infinity ? null : d;
  }

  tick(now: number): void {
    this.clock = now;
    if (this.finished) return;
    if (this.state === 'TIME_WAIT' && now >= this.timeWaitUntil) {
      this.transition('CLOSED', 'closed');
      this.hooks.event({ type: 'closed', text: '' });
      return;
    }
    // The handshake has its own limit (tries with backoff); idleness counts once the peer has answered.
    if (now >= this.lastHeard + this.opts.idleTimeoutMs && this.state !== 'SYN_SENT') {
      // After success an unanswered teardown is not a failure: the file is safe.
      if (this.result) {
        this.transition('CLOSED', `closed without the peer's last word (silent for ${this.opts.idleTimeoutMs}ms)`);
        this.hooks.event({ type: 'closed', text: '' });
      } else this.fail('PEER_TIMEOUT', `no packet from the peer for ${Math.round((now - this.lastHeard) / 1000)}s`, false);
      return;
    }
    const c = this.ctl;
    if (c && now >= c.deadline) {
      if (c.tries >= c.maxTries || now >= c.giveUpAt) {
        if (this.result && c.what === 'FIN') {
          this.transition('CLOSED', 'closed (our FIN was never acknowledged; the transfer had completed)');
          this.hooks.event({ type: 'closed', text: '' });
        } else this.fail(c.giveUp, `${c.what} not answered after ${c.tries} tries`, false);
        return;
      }
      if (Number.isFinite(c.maxTries)) c.interval = Math.min(c.interval * 2, CONTROL_MAX_INTERVAL_MS);
      c.tries++;
      c.deadline = now + c.interval;
      this.retransmitControl(now, Number.isFinite(c.maxTries) ? `timeout, next wait ${c.interval}ms` : 'still queued');
    }
    if (KEEPALIVE_STATES.has(this.state) && now >= this.lastSent + KEEPALIVE_MS) {
      if (this.receiver) {
        this.ackPending = true;
        this.flush(now);
      } else this.emitPacket(this.bare(Flag.ACK));
    }
    const s = this.sender;
    if (s && (this.state === 'ESTABLISHED' || this.state === 'END_WAIT')) {
      const rto = s.rtoDeadline();
      const probe = s.probeDeadline();
      if (probe !== null && now >= probe && (rto === null || now < rto)) {
        const n = s.onProbe();
        if (n) {
          const first = seqAdd(this.opts.isn, 1);
          this.hooks.event({ type: 'retransmit', text: `tail loss probe: ${n.retransmit ? 'resend' : 'send'} seq ${seqAdd(first, n.index)} (no ACK for 2·SRTT)` });
          s.markSent(n.index, now);
          this.emitPacket({ flags: Flag.DAT | Flag.ACK, seq: seqAdd(first, n.index), ack: this.ackNum, payload: this.opts.source!.chunk(n.index)! });
        }
      } else if (rto !== null && now >= rto) {
        const resend = s.onRtoExpired(now);
        this.hooks.event({
          type: 'rto',
          text: `retransmission timeout: ${resend.length} packets to resend; cwnd → 1, ssthresh ${this.cc.ssthresh}, RTO backed off to ${Math.round(this.rtt.rto)}ms`,
        });
      } else {
        const { lost, reduced } = s.checkLossTimer(now);
        if (lost.length) {
          this.hooks.event({ type: 'loss', text: `loss detected by time: ${describeRanges(lost)}${reduced ? `; cwnd → ${this.cc.cwnd.toFixed(1)}` : ''}` });
        }
      }
      this.pump(now);
    }
  }

  // ---- endings ---------------------------------------------------------------

  private succeed(size: number, sha: Buffer): void {
    this.result = { size, sha256: sha.toString('hex') };
    this.hooks.event({ type: 'done', text: `END acknowledged: the peer verified ${size} bytes (sha256 ${sha.toString('hex').slice(0, 16)}…)`, size, sha256: sha.toString('hex') });
  }

  /** Ends the transfer with an error; tells the peer unless the peer told us. */
  fail(code: Code, message: string, tellPeer: boolean): void {
    if (this.finished) return;
    this.failure = { code, message };
    if (tellPeer) this.emitPacket({ flags: Flag.ERR, seq: this.ownNextSeq(), ack: this.ackNum, payload: Buffer.from(JSON.stringify({ code, message })) });
    this.ctl = null;
    this.transition('FAILED', `${code}: ${message}`);
    this.hooks.event({ type: 'error', text: message, code });
  }

  /** Local abort (user interrupt, shutdown). */
  abort(message: string): void {
    this.fail('ABORTED', message, true);
  }

  private transition(to: ConnState, text: string): void {
    this.state = to;
    this.hooks.event({ type: 'state', text, state: to });
  }
}

export function parseError(payload: Buffer): { code: Code; message: string } {
  try {
    const o = JSON.parse(payload.toString('utf8')) as { code?: unknown; message?: unknown };
    const code = isLftpErrorCode(o.code) ? o.code : LftpErrorCode.PROTOCOL;
    return { code, message: typeof o.message === 'string' ? o.message.slice(0, 500) : String(o.code) };
  } catch {
    return { code: 'PROTOCOL', message: 'unreadable error packet' };
  }
}

function describeRanges(indexes: number[]): string {
  const n = indexes.length;
  if (n === 0) return 'none';
  return n === 1 ? `packet ${indexes[0]}` : `${n} packets (${indexes[0]}…${indexes[n - 1]})`;
}
