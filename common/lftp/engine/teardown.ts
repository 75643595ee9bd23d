/**
 * The end of an LFTP transfer (docs/LFTP.md, "End of data and teardown"): END and its ACK once the file is
 * verified (success is decided there), then the four-way FIN exchange and TIME_WAIT. Pure functions of the
 * connection's shared state (connection-core.ts).
 */
import { Flag, seqAdd, type Packet } from './packet.js';
import type { LftpErrorCode as Code } from './errors.js';
import { decodeEnd, encodeEnd } from './payloads.js';
import { TIME_WAIT_MAX_MS } from './connection-options.js';
import { probeTimeout } from './rtt.js';
import type { ConnectionCore } from './connection-core.js';

/**
 * The data sender, every data packet acknowledged: END with the size and the SHA-256 (once hashed). END is the
 * flight's tail: if it is lost nothing else reveals it, so it is sent again after the tail loss probe's time
 * (2·SRTT), not the RTO (at least 200 ms), as the data's tail is (send-window.ts). At 5 % loss one END in twenty
 * was lost, and its RTO was a fifth of a 24 MiB get through the relay. The receiver ignores an END it is checking.
 */
export function sendEnd(c: ConnectionCore, now: number): void {
  const src = c.requireSource();
  const sha = src.sha256();
  if (sha === null) return; // still hashing the tail
  c.transition('END_WAIT', { cause: 'end_sent', packets: c.sender!.total, seq: c.endSeq });
  c.control(
    now,
    { flags: Flag.END | Flag.ACK, seq: c.endSeq, ack: c.ackNum, payload: encodeEnd(src.size, sha) },
    'END',
    c.opts.closeTries,
    'PEER_TIMEOUT',
    probeTimeout(c.rtt) ?? undefined,
  );
}

/** The data receiver gets END: verify once everything is in (the edge answers with verified()), or ACK it again. */
export function onEnd(c: ConnectionCore, p: Packet): void {
  const end = decodeEnd(p.payload);
  if (p.seq !== c.endSeq || !end) return;
  if (c.state === 'VERIFYING') return; // still checking; the answer goes out when done
  if (
    c.result ||
    c.state === 'FIN_WAIT_1' ||
    c.state === 'FIN_WAIT_2' ||
    c.state === 'TIME_WAIT' ||
    c.state === 'CLOSE_WAIT'
  ) {
    c.emitPacket(c.bare(Flag.ACK)); // our END-ACK was lost
    return;
  }
  if (!c.receiver!.complete) {
    c.ackPending = true;
    return;
  }
  if (end.size !== c.size) {
    c.fail('PROTOCOL', `END says ${end.size} bytes, the handshake said ${c.size}`, true);
    return;
  }
  c.transition('VERIFYING', { cause: 'end_received' });
  c.hooks.finishSink!(end);
}

/** The data receiver's file check finished: ACK END (success) or fail. */
export function verified(
  c: ConnectionCore,
  now: number,
  outcome: { ok: true; size: number; sha256: string } | { ok: false; code: Code; message: string },
): void {
  if (c.state !== 'VERIFYING') return;
  if (!outcome.ok) {
    c.fail(outcome.code, outcome.message, true);
    return;
  }
  c.ackNum = seqAdd(c.endSeq, 1);
  c.emitPacket(c.bare(Flag.ACK));
  c.result = { size: outcome.size, sha256: outcome.sha256 };
  c.hooks.event({ type: 'done', size: outcome.size, sha256: outcome.sha256, verifiedBy: 'us' });
  if (c.opts.side === 'client') sendFin(c, now);
  else c.transition('CLOSE_WAIT', { cause: 'verified' });
}

/** An ACK of our END or our FIN. True when it was one (nothing else to do with it). */
export function onTeardownAck(c: ConnectionCore, p: Packet, now: number): boolean {
  const finAcked = p.ack === seqAdd(c.finSeq, 1);
  if (!c.sender) {
    // The side that received data (or a client whose source is not open yet): the peer ACKs our FIN.
    if (c.state === 'FIN_WAIT_1' && finAcked) {
      c.ctl = null;
      c.transition('FIN_WAIT_2', { cause: 'fin_acked' });
    } else if (c.state === 'LAST_ACK' && finAcked) {
      c.close({ cause: 'fin_acked' });
    }
    return true;
  }
  if (c.state === 'END_WAIT' && p.ack === seqAdd(c.endSeq, 1)) {
    c.ctl = null;
    const src = c.requireSource();
    c.result = { size: src.size, sha256: src.sha256()!.toString('hex') };
    c.hooks.event({ type: 'done', size: src.size, sha256: c.result.sha256, verifiedBy: 'peer' });
    if (c.opts.side === 'client') sendFin(c, now);
    else c.transition('CLOSE_WAIT', { cause: 'end_acked' });
    return true;
  }
  if ((c.state === 'FIN_WAIT_1' || c.state === 'LAST_ACK') && finAcked) {
    c.ctl = null;
    if (c.state === 'FIN_WAIT_1') c.transition('FIN_WAIT_2', { cause: 'fin_acked' });
    else c.close({ cause: 'fin_acked' });
    return true;
  }
  return false;
}

/** The peer's FIN: the server answers with its own (LAST_ACK); the client ACKs it and waits in TIME_WAIT. */
export function onPeerFin(c: ConnectionCore, p: Packet, now: number): void {
  if (c.opts.side === 'server') {
    // A get's client sends FIN only once it has verified the file and ACKed END, and its FIN carries that ACK: when
    // every plain ACK of END was lost, the FIN is the END-ACK (as a TCP FIN's ACK field counts), not ignored.
    if (c.state === 'END_WAIT' && p.flags & Flag.ACK) onTeardownAck(c, p, now);
    if (c.state === 'ESTABLISHED' || c.state === 'END_WAIT') return; // FIN before the data is done: ignore
    if (p.seq !== peerFinSeq(c)) return;
    c.ackNum = seqAdd(p.seq, 1);
    c.emitPacket(c.bare(Flag.ACK));
    if (c.state === 'LAST_ACK') return; // a retransmitted FIN: re-ACKed above
    c.transition('LAST_ACK', { cause: 'peer_fin', peerSeq: p.seq, seq: c.finSeq });
    finUntilAcked(c, now);
    return;
  }
  // Client: the server's FIN.
  if (c.state !== 'FIN_WAIT_1' && c.state !== 'FIN_WAIT_2' && c.state !== 'TIME_WAIT') return;
  c.ackNum = seqAdd(p.seq, 1);
  c.emitPacket(c.bare(Flag.ACK));
  if (c.state !== 'TIME_WAIT') {
    c.ctl = null;
    // Long enough for the server's FIN retransmission (one RTO) to arrive and be re-ACKed.
    c.timeWaitUntil = now + Math.min(TIME_WAIT_MAX_MS, 2 * c.rtt.rto);
    c.transition('TIME_WAIT', { cause: 'peer_fin', peerSeq: p.seq });
  }
}

function peerFinSeq(c: ConnectionCore): number {
  // The client's FIN follows its END when it sent data, else it is ISN + 1.
  return c.isDataSender ? seqAdd(c.peerIsn, 1) : seqAdd(c.endSeq, 1);
}

/** Closed already: a client that missed our last ACK of its FIN gets it again. */
export function onFinAfterClose(c: ConnectionCore, p: Packet): void {
  if (p.flags & Flag.FIN)
    c.emitPacket({ flags: Flag.ACK, seq: c.ownNextSeq(), ack: seqAdd(p.seq, 1), payload: Buffer.alloc(0) });
}

function sendFin(c: ConnectionCore, now: number): void {
  c.transition('FIN_WAIT_1', { cause: 'fin_sent', seq: c.finSeq });
  finUntilAcked(c, now);
}

/** Our FIN, resent until the peer ACKs it (closeTries, then PEER_TIMEOUT): either side's close. */
function finUntilAcked(c: ConnectionCore, now: number): void {
  c.control(
    now,
    { flags: Flag.FIN | Flag.ACK, seq: c.finSeq, ack: c.ackNum, payload: Buffer.alloc(0) },
    'FIN',
    c.opts.closeTries,
    'PEER_TIMEOUT',
  );
}

/** TIME_WAIT over: closed. True when it closed. */
export function tickTimeWait(c: ConnectionCore, now: number): boolean {
  if (c.state !== 'TIME_WAIT' || now < c.timeWaitUntil) return false;
  c.close({ cause: 'time_wait_over' });
  return true;
}
