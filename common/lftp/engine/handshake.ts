/**
 * The handshake's job in an LFTP transfer (docs/LFTP.md, "Handshake", "Address validation"): the client's
 * SYN, a RETRY taken once, the queue answers, the SYN-ACK; the server's SYN-ACK within the anti-amplification
 * limit and the ACK that completes it; then the windows of the established transfer. Pure functions of the
 * connection's shared state (connection-core.ts).
 */
import { MIN_PACKETS_TO_PROBE, PathMtu } from './path-mtu.js';
import { Flag, HEADER_BYTES, seqAdd, type Packet } from './packet.js';
import { SendWindow } from './send-window.js';
import { ReceiveWindow } from './receive-window.js';
import {
  decodeQueued,
  decodeRetry,
  decodeSynAck,
  encodeQueued,
  encodeSynAck,
  encodeSynRequest,
  type ResumeAnswer,
} from './payloads.js';
import type { ConnectionCore } from './connection-core.js';

/** Client: send the SYN. */
export function sendSyn(c: ConnectionCore, now: number): void {
  const r = c.opts.request;
  const flags = Flag.SYN | (r.op === 'post' ? Flag.POST : 0);
  c.transition('SYN_SENT', { cause: 'syn_sent', seq: c.opts.isn, op: r.op, name: r.name });
  c.control(
    now,
    { flags, seq: c.opts.isn, ack: 0, payload: encodeSynRequest(r.op, synRequest(c)) },
    'SYN',
    c.opts.handshakeTries,
    'HANDSHAKE_TIMEOUT',
  );
}

/** The client's SYN request: its options', and the largest datagram it takes if it takes packed ones. */
function synRequest(c: ConnectionCore) {
  const d = c.opts.datagram;
  return { ...c.opts.request, ...(d ? { dgram: d.largest } : {}) };
}

/** Server: the request was accepted; answer the SYN (seq = client ISN) with SYN-ACK. */
export function sendSynAck(
  c: ConnectionCore,
  now: number,
  clientIsn: number,
  size: number,
  mss: number,
  synBytes?: number,
  resume?: ResumeAnswer,
): void {
  if (synBytes !== undefined) c.unvalidated = { inBytes: synBytes, outBytes: 0 };
  c.peerIsn = clientIsn;
  c.ackNum = seqAdd(clientIsn, 1);
  c.size = size;
  c.mss = mss;
  c.from = resume?.from ?? 0;
  // Packed datagrams where both take them: the client said so in its SYN, the server says so here.
  const own = c.opts.request.dgram !== undefined ? c.opts.datagram?.largest : undefined;
  if (own !== undefined) c.peerDatagram = c.opts.request.dgram!;
  if (!c.isDataSender) c.requireSink().setExpectedSize(size, mss, c.from);
  c.transition('SYN_RCVD', { cause: 'syn_received', peerSeq: clientIsn, seq: c.opts.isn, ack: c.ackNum });
  c.control(
    now,
    { flags: Flag.SYN | Flag.ACK, seq: c.opts.isn, ack: c.ackNum, payload: encodeSynAck(size, mss, resume, own) },
    'SYN-ACK',
    c.opts.handshakeTries,
    'HANDSHAKE_TIMEOUT',
  );
}

/** Server: tell a client waiting for a transfer slot where it stands. */
export function sendQueued(c: ConnectionCore, position: number, clientIsn: number): void {
  c.peerIsn = clientIsn;
  c.emitPacket({
    flags: Flag.ACK,
    seq: c.opts.isn,
    ack: seqAdd(clientIsn, 1),
    payload: encodeQueued(position),
  });
}

/** Server, SYN_RCVD: a repeated SYN is answered again; the ACK of our SYN-ACK establishes. Says which it was. */
export function onHandshakeServer(c: ConnectionCore, p: Packet, now: number): 'syn' | 'established' | 'ignored' {
  if (p.flags & Flag.SYN) {
    if (c.unvalidated) c.unvalidated.inBytes += HEADER_BYTES + p.payload.length;
    // Counted as a try: the ACK that follows may answer either SYN-ACK, so it gives no RTT sample (Karn).
    if (c.ctl) c.ctl.tries++;
    c.retransmitControl('duplicate_syn', c.ctl?.tries ?? 1);
    return 'syn';
  }
  if (!(p.flags & Flag.ACK) || p.ack !== seqAdd(c.opts.isn, 1)) return 'ignored';
  const rtt = c.ctl?.rttSample(now);
  if (rtt != null) c.rtt.sample(rtt);
  c.ctl = null;
  establish(c, now);
  return 'established';
}

/** Client, SYN_SENT or QUEUED: a RETRY, the SYN-ACK, or the server's queue answer. */
export function onHandshakeClient(c: ConnectionCore, p: Packet, now: number): void {
  if (p.ack !== seqAdd(c.opts.isn, 1)) return;
  if (p.flags === Flag.RETRY) {
    onRetry(c, p, now);
    return;
  }
  if (p.flags & Flag.SYN && p.flags & Flag.ACK) {
    onSynAck(c, p, now);
    return;
  }
  if (p.flags & Flag.ACK && !(p.flags & Flag.SYN)) {
    const position = decodeQueued(p.payload);
    if (position > 0) {
      // Waiting is not failing: poll at a steady pace instead of the SYN backoff.
      c.ctl = c.ctl!.polling(now);
      if (c.state !== 'QUEUED') c.transition('QUEUED', { cause: 'queued', position });
      c.hooks.event({ type: 'queued', position });
    }
  }
}

function onSynAck(c: ConnectionCore, p: Packet, now: number): void {
  const info = decodeSynAck(p.payload, c.mss);
  if (!info) {
    c.fail('PROTOCOL', 'SYN-ACK without a valid size and mss', true);
    return;
  }
  // The handshake gives the first RTT sample, unless the SYN was retransmitted (Karn).
  const rtt = c.state === 'SYN_SENT' ? c.ctl?.rttSample(now) : null;
  if (rtt != null) c.rtt.sample(rtt);
  c.ctl = null;
  c.peerIsn = p.seq;
  c.ackNum = seqAdd(p.seq, 1);
  c.mss = info.mss;
  c.size = c.op === 'post' ? c.opts.request.size! : info.size;
  const badFrom = resumeRefused(c, info.from);
  if (badFrom) {
    c.fail('PROTOCOL', badFrom, true);
    return;
  }
  c.from = info.from;
  c.resumed = info;
  if (info.dgram !== undefined && c.opts.datagram) c.peerDatagram = info.dgram;
  if (!c.isDataSender) c.requireSink().setExpectedSize(c.size, c.mss, c.from);
  c.emitPacket(c.bare(Flag.ACK));
  c.hooks.event({
    type: 'syn_ack',
    peerSeq: p.seq,
    ack: p.ack,
    seq: seqAdd(c.opts.isn, 1),
    ackSent: c.ackNum,
  });
  establish(c, now);
}

/**
 * Why a SYN-ACK's `from` cannot be (docs/LFTP.md, "Resume"), or null: a get continues at what the client holds
 * or starts over; a post continues at no more than the file's size, and only if the client gave its tag.
 */
function resumeRefused(c: ConnectionCore, from: number): string | null {
  if (from === 0) return null;
  const ask = c.opts.request.resume;
  if (c.op === 'get' && from !== ask?.have) return `SYN-ACK resumes at ${from}, but we hold ${ask?.have ?? 0} bytes`;
  if (c.op === 'post' && (ask?.tag === undefined || ask.have === 0 || from > c.size))
    return `SYN-ACK resumes at ${from} of ${c.size} bytes, which we did not offer`;
  return null;
}

/**
 * Client, SYN_SENT: the server validates addresses before it does any costly work (a token's scrypt), and
 * asks for the SYN again with its token. Taken once, and only by a client that said it could (its SYN's
 * `retry`); later ones are dropped. The same handshake goes on: same ISN, same deadline, one try more.
 */
function onRetry(c: ConnectionCore, p: Packet, now: number): void {
  const token = decodeRetry(p.payload);
  const r = c.opts.request;
  if (!token || c.state !== 'SYN_SENT' || c.retried || !r.retry || !c.ctl) return;
  c.retried = true;
  // The RETRY answers the SYN at once (no scrypt on the way): a clean first RTT sample, unless the SYN was resent.
  const rtt = c.ctl.rttSample(now);
  if (rtt != null) c.rtt.sample(rtt);
  const payload = encodeSynRequest(r.op, { ...synRequest(c), retry: token });
  c.ctl = c.ctl.replaced({ ...c.ctl.packet, payload }, now, c.rtt.rto);
  c.hooks.event({ type: 'retry', tokenBytes: token.length });
  c.emitPacket(c.ctl.packet);
}

/** Client, established: a SYN-ACK again means our handshake ACK was lost, and the server waits for it. */
export function resendHandshakeAck(c: ConnectionCore): void {
  c.hooks.event({ type: 'handshake_ack_resent' });
  c.emitPacket({
    flags: Flag.ACK,
    seq: seqAdd(c.opts.isn, 1),
    ack: seqAdd(c.peerIsn, 1),
    payload: Buffer.alloc(0),
  });
}

/** The handshake is done: the sequence numbers of END and FIN, and the window of the side's job. */
function establish(c: ConnectionCore, now: number): void {
  c.lastProgress = now;
  const first = seqAdd(c.opts.isn, 1);
  if (c.isDataSender) {
    c.endSeq = seqAdd(first, Math.ceil((c.size - c.from) / c.mss));
    c.finSeq = seqAdd(c.endSeq, 1);
    if (c.source) startSending(c);
  } else {
    const total = Math.ceil((c.size - c.from) / c.mss);
    c.receiver = new ReceiveWindow(total, c.opts.receiveCapacity, c.requireSink());
    c.endSeq = seqAdd(c.peerIsn, 1 + total);
    c.finSeq = first;
  }
  c.transition('ESTABLISHED', {
    cause: 'established',
    mss: c.mss,
    size: c.size,
    sending: c.isDataSender,
    from: c.from,
  });
  c.hooks.event({ type: 'established', size: c.size, from: c.from });
}

/** The data sender has its source, cut at the negotiated mss: its send window. */
export function startSending(c: ConnectionCore): void {
  const src = c.requireSource();
  const total = Math.ceil((c.size - c.from) / c.mss);
  if (src.totalPackets !== total)
    throw new Error(`LftpConnection: the source has ${src.totalPackets} packets, the transfer ${total}`);
  c.sender = new SendWindow(src, c.rtt, c.cc, c.opts.receiveCapacity);
  // DPLPMTUD where both ends take packed datagrams and this side's datagrams go with the don't-fragment bit.
  const d = c.opts.datagram;
  if (d?.probe && c.peerDatagram !== null && total >= MIN_PACKETS_TO_PROBE)
    c.pmtu = new PathMtu(c.mss, Math.min(d.largest, c.peerDatagram), d.overhead);
  c.notePhase();
}
