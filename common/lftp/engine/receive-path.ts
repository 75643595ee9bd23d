/**
 * The data receiver's job in an LFTP transfer (docs/LFTP.md, "Receiver"): take data packets into the
 * receive window, answer with cumulative ACKs and SACK blocks (coalesced: flush() once per batch of
 * datagrams, at once for a duplicate), and tell the sender when the writer has reopened the window.
 * Pure functions of the connection's shared state (connection-core.ts).
 */
import { Flag, HEADER_BYTES, encodeSack, seqAdd, seqDiff, type Packet } from './packet.js';
import type { ConnectionCore } from './connection-core.js';

/**
 * A data datagram (not END) for the receive window: one packet, or (where this side said it takes them) a
 * packed datagram of consecutive packets back to back, each taken as if it had come alone.
 */
export function onDataPacket(c: ConnectionCore, p: Packet, now: number): void {
  const r = c.receiver!;
  const index = seqDiff(p.seq, seqAdd(c.peerIsn, 1));
  if (index < 0) return;
  const pieces = split(c, index, p.payload);
  if (typeof pieces === 'string') {
    c.fail('PROTOCOL', pieces, true);
    return;
  }
  if (HEADER_BYTES + p.payload.length > c.largestReceived) c.largestReceived = HEADER_BYTES + p.payload.length;
  const first = seqAdd(c.peerIsn, 1);
  let answerNow = false;
  pieces.forEach((piece, k) => {
    c.report.before(r);
    const res = r.onData(index + k, piece);
    if (res === 'new') c.lastProgress = now;
    // A probe repeats packets already here: one line for its duplicates, not one each.
    if (res === 'new' || !answerNow) c.report.after(r, res, seqAdd(p.seq, k), index + k, first);
    if (res !== 'new') answerNow = true;
  });
  // Never behind what we acknowledged: once END is verified our ACKs carry END + 1, and a late copy of a data
  // packet taking that back would leave a sender whose END-ACK was lost hearing only ACKs of its data.
  const next = seqAdd(c.peerIsn, 1 + r.next);
  if (seqDiff(next, c.ackNum) > 0) c.ackNum = next;
  c.ackPending = true;
  // Duplicates and out-of-window packets mean our ACKs are not getting through or the sender is lost (or it
  // probes the path): answer now.
  if (answerNow) flush(c, now);
}

/** A datagram's payload as the packets it carries, or why it breaks the rules (docs/LFTP.md, "Datagram size"). */
function split(c: ConnectionCore, index: number, payload: Buffer): Buffer[] | string {
  const total = c.receiver!.total;
  if (index >= total) return [payload];
  const expected = expectedLength(c, index);
  if (payload.length === expected) return [payload];
  if (!c.opts.datagram || payload.length <= c.mss)
    return `packet ${index} has ${payload.length} bytes, expected ${expected}`;
  const count = Math.ceil(payload.length / c.mss);
  const last = index + count - 1;
  if (last >= total || payload.length !== (count - 1) * c.mss + expectedLength(c, last))
    return `a packed datagram at packet ${index} has ${payload.length} bytes: not whole packets of this transfer`;
  const pieces: Buffer[] = [];
  for (let k = 0; k < count; k++) pieces.push(payload.subarray(k * c.mss, Math.min((k + 1) * c.mss, payload.length)));
  return pieces;
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
  // Where both ends take packed datagrams, the largest one received answers the sender's probes.
  const largest = c.peerDatagram !== null ? c.largestReceived : undefined;
  c.emitPacket({ flags: Flag.ACK, seq: c.finSeq, ack: c.ackNum, payload: encodeSack(ranges, largest) });
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
