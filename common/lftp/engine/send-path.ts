/**
 * The data sender's job in an LFTP transfer (docs/LFTP.md, "Data, windows, flow and congestion control"):
 * send what the windows allow, take ACKs (ignoring those our state cannot explain), and run the tail loss
 * probe, the retransmission timeout and the time-threshold loss timer. Pure functions of the connection's
 * shared state (connection-core.ts).
 */
import { Flag, decodeAck, seqAdd, seqDiff, type Packet } from './packet.js';
import type { PathMtu } from './path-mtu.js';
import type { ConnectionCore } from './connection-core.js';
import { sendEnd } from './teardown.js';

/**
 * Sends what the windows allow: retransmissions first, then new data, then END when all is acknowledged.
 * Consecutive packets go packed, as many a datagram as the path MTU search has confirmed (one until then).
 */
export function pump(c: ConnectionCore, now: number): void {
  const s = c.sender;
  if (!s || (c.state !== 'ESTABLISHED' && c.state !== 'END_WAIT')) return;
  const per = c.pmtu?.packets ?? 1;
  let run: number[] = [];
  for (let n = s.next(now); n !== null; n = s.next(now)) {
    if (c.requireSource().chunk(n.index) === null) break;
    if (run.length > 0 && (n.index !== run[run.length - 1]! + 1 || run.length >= per)) run = sendRun(c, run);
    if (n.retransmit) c.hooks.event({ type: 'retransmit_data', seq: seqAdd(c.opts.isn, 1 + n.index), index: n.index });
    s.markSent(n.index, now);
    run.push(n.index);
  }
  sendRun(c, run);
  if (c.pmtu) sendProbe(c, c.pmtu, now);
  if (c.state === 'ESTABLISHED' && s.done) sendEnd(c, now);
}

/** Consecutive packets in one datagram (back to back); returns a new, empty run. */
function sendRun(c: ConnectionCore, run: number[]): number[] {
  if (run.length === 0) return run;
  const src = c.requireSource();
  const payload = run.length === 1 ? src.chunk(run[0]!)! : joined(run.map((i) => src.chunk(i)!));
  c.emitPacket({ flags: Flag.DAT | Flag.ACK, seq: seqAdd(c.opts.isn, 1 + run[0]!), ack: c.ackNum, payload });
  return [];
}

/** Packets back to back: a view of them where they lie so in memory (one read-ahead block), else a copy. */
function joined(chunks: Buffer[]): Buffer {
  const first = chunks[0]!;
  let end = first.byteOffset + first.length;
  for (let k = 1; k < chunks.length; k++) {
    const b = chunks[k]!;
    if (b.buffer !== first.buffer || b.byteOffset !== end) return Buffer.concat(chunks);
    end += b.length;
  }
  return Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset);
}

/**
 * A size probe, if one is due (path-mtu.ts): a packed datagram of the size probed, repeating the newest
 * packets in flight (never the last, shorter one), so that losing it loses nothing. It is not counted in
 * flight; it takes its packets' worth of the pacer.
 */
function sendProbe(c: ConnectionCore, pmtu: PathMtu, now: number): void {
  const s = c.sender!;
  const want = pmtu.due();
  if (!want) return;
  const end = Math.min(s.nxt, s.total - 1);
  const start = end - want.packets;
  if (start < s.una) return; // not that many in flight yet
  const src = c.requireSource();
  const chunks: Buffer[] = [];
  for (let i = start; i < end; i++) {
    const b = src.chunk(i);
    if (!b) return;
    chunks.push(b);
  }
  s.charge(now, want.packets);
  c.emitPacket({
    flags: Flag.DAT | Flag.ACK,
    seq: seqAdd(c.opts.isn, 1 + start),
    ack: c.ackNum,
    payload: joined(chunks),
    probe: true,
  });
  c.hooks.event({ type: 'pmtu', ...pmtu.sent(now, want, c.rtt.srtt) });
}

/** A data ACK (cumulative, SACK blocks, window) while data is in flight. */
export function onDataAck(c: ConnectionCore, p: Packet, now: number): void {
  const s = c.sender;
  if (!s || (c.state !== 'ESTABLISHED' && c.state !== 'END_WAIT')) return;
  const first = seqAdd(c.opts.isn, 1);
  const ackIndex = seqDiff(p.ack, first);
  const decoded = decodeAck(p.payload);
  const sackSeq = decoded?.sack ?? [];
  const sack = sackSeq.map(([a, b]) => [seqDiff(a, first), seqDiff(b, first)] as [number, number]);
  // An ACK the sender's state cannot explain is ignored whole, window and all (RFC 5961 §5.2, RFC 793):
  // one for data never sent (a forged ack=0 once acknowledged everything in flight and wedged the
  // transfer), SACK blocks outside what was sent, or one older than what is already acknowledged
  // (reordered: its window is stale too).
  if (ackIndex > s.nxt || ackIndex < s.una || sack.some(([a, b]) => a < s.una || b > s.nxt || a >= b)) {
    c.unexplainedAcks++;
    return;
  }
  const res = s.onAck(ackIndex, sack, p.window, now);
  c.notePhase();
  // The receiver's largest datagram so far: it answers a size probe.
  if (c.pmtu && decoded?.largest != null)
    for (const change of c.pmtu.onLargestReceived(decoded.largest)) c.hooks.event({ type: 'pmtu', ...change });
  if (res.newlyAcked > 0) c.lastProgress = now;
  if (res.lost.length) lossEvent(c, 'ack', res.lost, res.reduced);
  if (p.window === 0 && c.lastAdvertised !== 0) c.hooks.event({ type: 'window_closed' });
  c.lastAdvertised = p.window;
}

/** The data sender's timers: tail loss probe, retransmission timeout, time-threshold loss; then send what is allowed. */
export function tickSender(c: ConnectionCore, now: number): void {
  const s = c.sender;
  if (!s || (c.state !== 'ESTABLISHED' && c.state !== 'END_WAIT')) return;
  const rto = s.rtoDeadline();
  const probe = s.probeDeadline();
  if (probe !== null && now >= probe && (rto === null || now < rto)) {
    const n = s.onProbe();
    if (n) {
      const seq = seqAdd(c.opts.isn, 1 + n.index);
      c.hooks.event({ type: 'tail_probe', seq, index: n.index, resend: n.retransmit });
      s.markSent(n.index, now);
      c.emitPacket({
        flags: Flag.DAT | Flag.ACK,
        seq,
        ack: c.ackNum,
        payload: c.requireSource().chunk(n.index)!,
      });
    }
  } else if (rto !== null && now >= rto) {
    const resend = s.onRtoExpired(now);
    // Packed datagrams lost whole until a timeout: the path may have shrunk (a black hole): one packet again.
    const hole = c.pmtu?.onTimeout();
    if (hole) c.hooks.event({ type: 'pmtu', ...hole });
    c.hooks.event({
      type: 'rto',
      resend: resend.length,
      ssthresh: c.cc.ssthresh,
      rtoMs: Math.round(c.rtt.rto),
    });
  } else {
    const { lost, reduced } = s.checkLossTimer(now);
    if (lost.length) lossEvent(c, 'time', lost, reduced);
  }
  for (const change of c.pmtu?.onTimer(now) ?? []) c.hooks.event({ type: 'pmtu', ...change });
  c.notePhase();
  pump(c, now);
}

function lossEvent(c: ConnectionCore, by: 'ack' | 'time', lost: number[], reduced: boolean): void {
  c.declaredLost += lost.length;
  c.hooks.event({
    type: 'loss',
    by,
    count: lost.length,
    first: lost[0]!,
    last: lost[lost.length - 1]!,
    lost,
    reduced,
    cwnd: c.cc.cwnd,
    ssthresh: c.cc.ssthresh,
  });
}
