/**
 * The data receiver's job in an LFTP transfer (docs/LFTP.md, "Receiver"): take data packets into the
 * receive window, answer with cumulative ACKs and SACK blocks (coalesced: flush() once per batch of
 * datagrams, at once for a duplicate), and tell the sender when the writer has reopened the window.
 * Pure functions of the connection's shared state (connection-core.ts).
 */
import { Flag, encodeSack, seqAdd, seqDiff, type Packet } from './packet.js';
import type { ConnectionCore } from './connection-core.js';

/** A data packet (not END) for the receive window. */
export function onDataPacket(c: ConnectionCore, p: Packet, now: number): void {
  const r = c.receiver!;
  const index = seqDiff(p.seq, seqAdd(c.peerIsn, 1));
  if (index < 0) return;
  if (index < r.total && p.payload.length !== expectedLength(c, index)) {
    c.fail('PROTOCOL', `packet ${index} has ${p.payload.length} bytes, expected ${expectedLength(c, index)}`, true);
    return;
  }
  c.report.before(r);
  const res = r.onData(index, p.payload);
  if (res === 'new') c.lastProgress = now;
  c.report.after(r, res, p.seq, index, seqAdd(c.peerIsn, 1));
  c.ackNum = seqAdd(c.peerIsn, 1 + r.next);
  c.ackPending = true;
  // Duplicates and out-of-window packets mean our ACKs are not getting through or the sender is lost: answer now.
  if (res !== 'new') flush(c, now);
}

function expectedLength(c: ConnectionCore, index: number): number {
  const total = c.receiver!.total;
  return index === total - 1 ? c.size - c.from - index * c.mss : c.mss;
}

/** Sends the pending cumulative ACK (with SACK ranges). The edge calls this once per batch of datagrams. */
export function flush(c: ConnectionCore, now: number): void {
  c.clock = Math.max(c.clock, now);
  if (!c.ackPending || !c.receiver || c.finished) return;
  c.ackPending = false;
  const first = seqAdd(c.peerIsn, 1);
  const ranges = c.receiver.sackRanges().map(([a, b]) => [seqAdd(first, a), seqAdd(first, b)] as [number, number]);
  c.emitPacket({ flags: Flag.ACK, seq: c.finSeq, ack: c.ackNum, payload: encodeSack(ranges) });
}

/** The writer caught up: if the window had nearly closed, tell the sender it is open again. */
export function windowOpened(c: ConnectionCore, now: number): void {
  if (!c.receiver || c.finished) return;
  const w = c.receiver.window();
  if (c.lastAdvertised < c.opts.receiveCapacity / 4 && w >= c.opts.receiveCapacity / 4) {
    c.ackPending = true;
    flush(c, now);
  }
}
