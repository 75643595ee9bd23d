import { createWriteStream, type WriteStream } from 'node:fs';
import { Flag, decodeSack, flagNames, seqDiff, type Packet } from '../engine/packet.js';
import type { LftpConnection } from '../engine/connection.js';
import { relativeBases } from './qlog.js';

/**
 * --trace: every datagram sent and received as one JSON line, its sequence numbers absolute and relative to
 * each side's ISN, an ACK's SACK ranges (relative), retransmissions marked; the congestion figures on the
 * data sender's lines only (the receiver runs none).
 */
export class TraceWriter {
  private readonly out: WriteStream;
  private readonly t0 = performance.now();

  constructor(path: string) {
    this.out = createWriteStream(path, { flags: 'a' });
  }

  packet(dir: 'in' | 'out', p: Packet, conn: LftpConnection, retransmission = false): void {
    const srtt = conn.rtt.srtt;
    const [seqBase, ackBase] = relativeBases(dir, p, conn);
    const sending = conn.isDataSender;
    const sack =
      p.flags === Flag.ACK && p.payload.length > 0
        ? (decodeSack(p.payload) ?? []).map(([a, b]) => [seqDiff(a, seqBase) >>> 0, seqDiff(b, seqBase) >>> 0])
        : undefined;
    this.out.write(
      JSON.stringify({
        t: Math.round((performance.now() - this.t0) * 1000) / 1000,
        dir,
        conn: p.conn,
        flags: flagNames(p.flags),
        seq: p.seq,
        ack: p.ack,
        seq_rel: seqDiff(p.seq, seqBase) >>> 0,
        ack_rel: p.flags & Flag.ACK ? seqDiff(p.ack, ackBase) >>> 0 : null,
        win: p.window,
        len: p.payload.length,
        ...(sack && sack.length > 0 ? { sack } : {}),
        ...(retransmission ? { retx: true } : {}),
        cwnd: sending ? Math.round(conn.cc.cwnd * 100) / 100 : null,
        ssthresh: sending ? conn.cc.ssthresh : null,
        phase: sending ? conn.cc.phase : null,
        pacing: sending && conn.cc.pacingRate !== null ? Math.round(conn.cc.pacingRate * conn.mss * 8000) : null,
        srtt: srtt === null ? null : Math.round(srtt * 1000) / 1000,
        rto: Math.round(conn.rtt.rto),
        state: conn.state,
      }) + '\n',
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(() => resolve()));
  }
}
