/**
 * --qlog DIR: one transfer, as one side saw it, in qlog's shape
 * (draft-ietf-quic-qlog-main-schema, JSON Text Sequences, RFC 7464): a
 * record separator (0x1E) before every JSON record, a header record naming
 * the vantage point, then one event per record with its time in ms since the
 * header's reference time. Event names are qlog's where they fit
 * (transport:packet_sent / packet_received, recovery:packet_lost,
 * recovery:metrics_updated, recovery:congestion_state_updated,
 * transport:connection_state_updated); LFTP's own fields (flags, SACK blocks,
 * window, sequence numbers relative to each side's ISN beside the absolute
 * ones) are documented in docs/LFTP.md, "Traces". The file is written as the
 * transfer runs; `chat-client trace report` draws it.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { Flag, decodeSack, flagNames, seqDiff, type Packet } from '../engine/packet.js';
import type { LftpConnection, TransferEvent } from '../engine/connection.js';

export const QLOG_VERSION = '0.4';
const RS = '\x1e';

type Metrics = {
  congestion_window: number;
  ssthresh: number;
  bytes_in_flight: number;
  smoothed_rtt: number | null;
  rtt_variance: number | null;
  latest_rtt: number | null;
  /** qlog's pacing_rate, bits per second (BBR only). */
  pacing_rate?: number;
};

export class QlogWriter {
  private readonly out: WriteStream;
  private readonly t0 = performance.now();
  private last: Metrics | null = null;
  private phase: string | null = null;
  private state: string | null = null;
  readonly path: string;

  constructor(dir: string, side: 'client' | 'server', conn: number, title: string) {
    mkdirSync(dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    this.path = join(dir, `${stamp}-${side}-${conn.toString(16).padStart(8, '0')}.sqlog`);
    this.out = createWriteStream(this.path, { flags: 'wx' });
    this.record({
      qlog_version: QLOG_VERSION,
      qlog_format: 'JSON-SEQ',
      title,
      trace: {
        vantage_point: { type: side, name: `lftp ${side}` },
        common_fields: {
          protocol_types: ['LFTP'],
          group_id: conn.toString(16).padStart(8, '0'),
          time_format: 'relative',
          // The wall-clock moment of t0 itself, to the microsecond: Date.now() read later (after the file was
          // opened) put a client's and a server's trace milliseconds apart on the one machine.
          reference_time: performance.timeOrigin + this.t0,
        },
      },
    });
  }

  /** A datagram sent or received, as the connection sees it (after it was opened, before it is sealed). */
  packet(dir: 'in' | 'out', p: Packet, c: LftpConnection): void {
    const [seqBase, ackBase] = relativeBases(dir, p, c);
    const header: Record<string, unknown> = {
      packet_type: packetType(p),
      packet_number: p.seq,
      flags: flagNames(p.flags),
      seq: p.seq,
      ack: p.ack,
      seq_rel: seqDiff(p.seq, seqBase),
      ack_rel: p.ack === 0 && !(p.flags & Flag.ACK) ? 0 : seqDiff(p.ack, ackBase),
      window: p.window,
      conn: p.conn,
    };
    const data: Record<string, unknown> = {
      header,
      raw: { length: 24 + p.payload.length, payload_length: p.payload.length },
    };
    if (p.flags === Flag.ACK && p.payload.length > 0 && p.payload.length % 8 === 0) {
      const blocks = decodeSack(p.payload) ?? [];
      data['frames'] = [
        { frame_type: 'ack', acked_ranges: blocks.map(([a, b]) => [seqDiff(a, seqBase), seqDiff(b, seqBase)]) },
      ];
    }
    this.event(dir === 'out' ? 'transport:packet_sent' : 'transport:packet_received', data);
    this.metrics(c);
  }

  /** What the connection said happened (loss, timers, states). */
  transferEvent(e: TransferEvent, c: LftpConnection): void {
    switch (e.type) {
      case 'loss':
        // Data packet i is the sender's ISN + 1 + i: relative 1 + i.
        for (const i of e.lost)
          this.event('recovery:packet_lost', {
            header: { packet_type: 'data', packet_number: (c.opts.isn + 1 + i) >>> 0, seq_rel: 1 + i },
            trigger: e.by === 'ack' ? 'reordering_threshold' : 'time_threshold',
          });
        break;
      case 'rto':
        this.event('recovery:loss_timer_updated', {
          timer_type: 'rto',
          event_type: 'expired',
          resend: e.resend,
          rto_ms: e.rtoMs,
        });
        break;
      case 'tail_probe':
        this.event('recovery:loss_timer_updated', {
          timer_type: 'pto',
          event_type: 'expired',
          seq_rel: seqDiff(e.seq, c.opts.isn),
        });
        break;
      case 'retransmit_data':
        this.event('lftp:packet_retransmitted', { seq: e.seq, seq_rel: seqDiff(e.seq, c.opts.isn) });
        break;
      case 'retransmit_control':
        this.event('lftp:control_retransmitted', { packet: e.packet, why: e.why, try: e.try, max_tries: e.maxTries });
        break;
      case 'state': {
        const { type: _t, state, ...cause } = e;
        void _t;
        this.event('transport:connection_state_updated', { old: this.state, new: state, ...cause });
        this.state = state;
        break;
      }
      case 'done':
        this.event('lftp:transfer_done', {
          size: e.size,
          sha256: e.sha256,
          verified_by: e.verifiedBy,
          elapsed_ms: c.elapsedMs,
        });
        break;
      case 'error':
        this.event('lftp:transfer_failed', { code: e.code, message: e.message });
        break;
      case 'pmtu':
        this.pmtu(e);
        break;
      default:
        break;
    }
    this.metrics(c);
  }

  /**
   * The path MTU search: a probe sent, answered or given up (lftp:mtu_probe_sent, _acked, _lost), and the size
   * in use (qlog's transport:mtu_updated, `new` as version 1, `done` once the search is over).
   */
  private pmtu(e: Extract<TransferEvent, { type: 'pmtu' }>): void {
    const { size, packets } = e;
    if (e.what === 'probe') this.event('lftp:mtu_probe_sent', { size, packets, try: e.try });
    else if (e.what === 'confirmed') this.event('lftp:mtu_probe_acked', { size, packets });
    else if (e.what === 'too_big') this.event('lftp:mtu_probe_lost', { size, packets, tries: e.tries });
    else
      this.event('transport:mtu_updated', {
        new: size,
        packets,
        done: e.what === 'done',
        black_hole: e.what === 'black_hole',
      });
  }

  private closing: Promise<void> | null = null;

  /** Ends the file (once; later calls wait for the same end). */
  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => this.out.end(() => resolve()));
    return this.closing;
  }

  /** metrics_updated when any figure moved, and congestion_state_updated when the controller's phase did (the data sender only). */
  private metrics(c: LftpConnection): void {
    if (!c.sender) return;
    const mss = c.mss;
    const m: Metrics = {
      congestion_window: Math.round(c.cc.cwnd * mss),
      ssthresh: Number.isFinite(c.cc.ssthresh) ? Math.round(c.cc.ssthresh * mss) : -1,
      bytes_in_flight: c.sender.inflight * mss,
      smoothed_rtt: round(c.rtt.srtt),
      rtt_variance: round(c.rtt.rttvar),
      latest_rtt: round(c.rtt.latest),
    };
    const rate = c.cc.pacingRate;
    if (rate !== null) m.pacing_rate = Math.round(rate * mss * 8000);
    const l = this.last;
    if (
      !l ||
      l.congestion_window !== m.congestion_window ||
      l.ssthresh !== m.ssthresh ||
      l.bytes_in_flight !== m.bytes_in_flight ||
      l.smoothed_rtt !== m.smoothed_rtt ||
      l.latest_rtt !== m.latest_rtt ||
      l.pacing_rate !== m.pacing_rate
    ) {
      this.event('recovery:metrics_updated', {
        ...m,
        packets_in_flight: c.sender.inflight,
        cwnd_packets: Math.round(c.cc.cwnd * 100) / 100,
        ...modelFields(c),
      });
      this.last = m;
    }
    if (c.cc.phase !== this.phase) {
      this.event('recovery:congestion_state_updated', { old: this.phase, new: c.cc.phase, controller: c.cc.name });
      this.phase = c.cc.phase;
    }
  }

  private event(name: string, data: Record<string, unknown>): void {
    this.record({ time: Math.round((performance.now() - this.t0) * 1000) / 1000, name, data });
  }

  private record(r: unknown): void {
    this.out.write(`${RS}${JSON.stringify(r)}\n`);
  }
}

/**
 * What a datagram's seq and ack are relative to: the sending side's ISN and the receiving side's. Until the
 * SYN-ACK is read the client does not know the server's ISN: the SYN-ACK's own seq is it. (--trace and --qlog.)
 */
export function relativeBases(dir: 'in' | 'out', p: Packet, c: LftpConnection): [seq: number, ack: number] {
  const own = c.opts.isn;
  const peer = dir === 'in' && p.flags & Flag.SYN ? p.seq : c.peerIsn;
  return dir === 'out' ? [own, peer] : [peer, own];
}

/** BBR's path model as qlog metrics: min_rtt (qlog's), and LFTP's bandwidth (bits/s), in-flight bound and random loss. */
function modelFields(c: LftpConnection): Record<string, number | null> {
  const m = c.cc.model;
  if (!m) return {};
  return {
    min_rtt: Number.isFinite(m.minRtt) ? round(m.minRtt) : null,
    bandwidth: Math.round(m.bw * c.mss * 8000),
    inflight_bound: Number.isFinite(m.inflightBound) ? Math.round(m.inflightBound * 100) / 100 : null,
    random_loss: Math.round(m.randomLoss * 10_000) / 10_000,
    pacing_gain: m.pacingGain,
    cwnd_gain: m.cwndGain,
  };
}

function round(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms * 1000) / 1000;
}

function packetType(p: Packet): string {
  if (p.flags === Flag.RETRY) return 'retry';
  if (p.flags & Flag.ERR) return 'error';
  if (p.flags & Flag.SYN) return p.flags & Flag.ACK ? 'syn_ack' : 'syn';
  if (p.flags & Flag.FIN) return 'fin';
  if (p.flags & Flag.END) return 'end';
  if (p.flags & Flag.DAT) return 'data';
  return 'ack';
}
