/**
 * One LFTP transfer as a pure state machine. Inputs: a decoded packet, a clock
 * tick, or the completion of file I/O. Outputs: packets through hooks.send and
 * events (data, events.ts) through hooks.event. No sockets, no timers, no
 * files: the edge (node/driver.ts) does those, and the unit tests drive this
 * with a fake clock and a fake link.
 *
 * This module takes the inputs and hands each to its job: the handshake
 * (handshake.ts), the data path (send-path.ts, receive-path.ts) and the
 * teardown (teardown.ts), all working on the state of connection-core.ts;
 * the timers that belong to no one job (idleness, keepalive, the control
 * packet's retransmission) are here.
 *
 * Sequence numbers (docs/LFTP.md has the diagrams): each side picks a random
 * initial sequence number (ISN). SYN carries ISN; data packet i carries
 * ISN + 1 + i; END carries ISN + 1 + N; FIN carries the next number after
 * that (ISN + 1 for the side that sent no data). An ACK's ack field is the
 * next number expected from the peer.
 */
import { Flag, type Packet } from './packet.js';
import type { LftpErrorCode as Code } from './errors.js';
import { decodeError, type ResumeAnswer } from './payloads.js';
import { ConnectionCore } from './connection-core.js';
import {
  KEEPALIVE_MS,
  KEEPALIVE_STATES,
  NO_PROGRESS_FACTOR,
  type HashedSource,
  type SizedSink,
} from './connection-options.js';
import {
  onHandshakeClient,
  onHandshakeServer,
  resendHandshakeAck,
  sendQueued,
  sendSyn,
  sendSynAck,
  startSending,
} from './handshake.js';
import { onDataAck, pump, tickSender } from './send-path.js';
import { flush as flushAcks, onDataPacket, windowOpened as reopenWindow } from './receive-path.js';
import { onEnd, onFinAfterClose, onPeerFin, onTeardownAck, tickTimeWait, verified } from './teardown.js';

export type { ConnState, Op, Side, TransferEvent } from './events.js';
export {
  AMPLIFICATION_LIMIT,
  KEEPALIVE_MS,
  NO_PROGRESS_FACTOR,
  type ConnectionHooks,
  type ConnectionOptions,
  type HashedSource,
  type SinkFinish,
  type SizedSink,
  type TransferRequest,
} from './connection-options.js';

export class LftpConnection extends ConnectionCore {
  // ---- starting ------------------------------------------------------------

  /**
   * The data to send (the side that sends file data), cut at the negotiated mss: the server's before it
   * accepts, the client's once established (the SYN-ACK may lower the mss). Sending starts when both are there.
   */
  attachSource(source: HashedSource): void {
    this.source = source;
    if (this.state === 'ESTABLISHED' && this.isDataSender && !this.sender) startSending(this);
  }

  /** Where received data goes (the side that receives file data), before the handshake completes. */
  attachSink(sink: SizedSink): void {
    this.sink = sink;
  }

  /** Client: send the SYN. */
  open(now: number): void {
    this.clock = now;
    sendSyn(this, now);
  }

  /** Server: the request was accepted; answer the SYN (seq = client ISN) with SYN-ACK. */
  accept(now: number, clientIsn: number, size: number, mss: number, synBytes?: number, resume?: ResumeAnswer): void {
    this.clock = now;
    sendSynAck(this, now, clientIsn, size, mss, synBytes, resume);
  }

  /** Server: tell a client waiting for a transfer slot where it stands (its SYN polls count as life). */
  queued(position: number, clientIsn: number, now?: number): void {
    if (now !== undefined) this.lastHeard = now;
    sendQueued(this, position, clientIsn);
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
        onHandshakeClient(this, p, now);
        break;
      case 'SYN_RCVD': {
        const outcome = onHandshakeServer(this, p, now);
        if (outcome === 'syn') return;
        if (outcome === 'established' && p.flags & (Flag.DAT | Flag.END)) this.inData(p, now);
        break;
      }
      case 'CLOSED':
        // Lingering after close: a client that missed our last ACK of its FIN gets it again.
        onFinAfterClose(this, p);
        return;
      default:
        this.inData(p, now);
    }
    pump(this, now);
  }

  /** A packet once established, to the job it belongs to. */
  private inData(p: Packet, now: number): void {
    // A SYN-ACK again: our handshake ACK was lost, and the server waits for it.
    if (this.opts.side === 'client' && p.flags & Flag.SYN && p.flags & Flag.ACK) {
      resendHandshakeAck(this);
      return;
    }
    // Any side may see the peer's FIN once data is done.
    if (p.flags & Flag.FIN) {
      onPeerFin(this, p, now);
      return;
    }
    if (this.receiver && p.flags & (Flag.DAT | Flag.END)) {
      if (p.flags & Flag.END) onEnd(this, p);
      else onDataPacket(this, p, now);
      return;
    }
    if (p.flags & Flag.ACK && !onTeardownAck(this, p, now)) onDataAck(this, p, now);
  }

  /** The data receiver's file check finished (I/O completion). */
  sinkFinished(
    now: number,
    outcome: { ok: true; size: number; sha256: string } | { ok: false; code: Code; message: string },
  ): void {
    this.clock = now;
    verified(this, now, outcome);
  }

  /** New data became readable (I/O completion): send what the windows allow. */
  dataReady(now: number): void {
    this.clock = now;
    pump(this, now);
  }

  /** The writer caught up: if the window had nearly closed, tell the sender it is open again. */
  windowOpened(now: number): void {
    this.clock = now;
    reopenWindow(this, now);
  }

  /** Sends the pending cumulative ACK (with SACK ranges). The edge calls this once per batch of datagrams. */
  flush(now: number): void {
    flushAcks(this, now);
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
    if (KEEPALIVE_STATES.has(this.state)) consider(this.lastSent + this.keepaliveMs);
    if (this.state === 'ESTABLISHED') consider(this.lastProgress + NO_PROGRESS_FACTOR * this.opts.idleTimeoutMs);
    if (this.sender && (this.state === 'ESTABLISHED' || this.state === 'END_WAIT')) {
      consider(this.sender.rtoDeadline());
      consider(this.sender.probeDeadline());
      consider(this.sender.lossDeadline());
      consider(this.sender.pacingDeadline());
      consider(this.pmtu?.deadline() ?? null);
    }
    return d === Infinity ? null : d;
  }

  /** Runs whatever is due: each kind of timer in its own step, in this order; a step that ends the connection ends the tick. */
  tick(now: number): void {
    this.clock = now;
    if (this.finished) return;
    if (tickTimeWait(this, now) || this.tickIdle(now) || this.tickControl(now)) return;
    this.tickKeepalive(now);
    tickSender(this, now);
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
  /**
   * A data receiver that has had no data yet sends its keepalive after one RTO, not KEEPALIVE_MS: its ACK of
   * the SYN-ACK may have been lost, and the server waits for it (its own SYN-ACK timer is 1 s, with no RTT yet).
   */
  private get keepaliveMs(): number {
    const waiting = this.receiver !== null && this.receiver.next === 0 && this.receiver.holding === 0;
    return waiting && this.state === 'ESTABLISHED' ? Math.min(KEEPALIVE_MS, this.rtt.rto) : KEEPALIVE_MS;
  }

  private tickKeepalive(now: number): void {
    if (!KEEPALIVE_STATES.has(this.state) || now < this.lastSent + this.keepaliveMs) return;
    if (this.receiver) {
      this.ackPending = true;
      this.flush(now);
    } else this.emitPacket(this.bare(Flag.ACK));
  }
}
