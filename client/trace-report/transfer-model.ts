/**
 * One LFTP transfer as the report draws it, from one side's qlog trace or
 * both (qlog-file.ts): the datagrams each side sent and received, matched
 * across the two when both are given (then a datagram sent and never
 * received is known lost), the states each side went through, and the data
 * sender's view of the transfer: its data packets, the ACKs and SACK ranges
 * it got, its losses, and its congestion figures over time. Times are ms
 * from the transfer's first event, on one clock (the traces' reference times
 * are wall-clock, so two machines' traces are as aligned as their clocks).
 */
import type { QlogEvent, QlogTrace } from './qlog-file.js';

export interface Datagram {
  /** The side that sent it. */
  from: 'client' | 'server';
  type: string;
  flags: string;
  seq: number;
  ack: number;
  seqRel: number;
  ackRel: number;
  window: number;
  length: number;
  /** SACK blocks (relative), on ACKs. */
  sack: Array<[number, number]>;
  sentAt: number | null;
  receivedAt: number | null;
  /** The same packet (type and seq) was sent before. */
  retransmission: boolean;
}

export interface StateChange {
  side: 'client' | 'server';
  at: number;
  state: string;
}

export interface MetricsPoint {
  at: number;
  cwnd: number;
  ssthresh: number | null;
  inFlight: number;
  srtt: number | null;
  latestRtt: number | null;
}

export interface TransferModel {
  title: string;
  sides: Array<'client' | 'server'>;
  datagrams: Datagram[];
  states: StateChange[];
  /** The side that sent the file's data, if a trace shows it. */
  dataSender: 'client' | 'server' | null;
  /** The data sender's losses: relative seq and when. */
  losses: Array<{ at: number; seqRel: number }>;
  rtoFires: number[];
  metrics: MetricsPoint[];
  phases: Array<{ at: number; phase: string }>;
  /** File size and how long it took, when a trace says it finished. */
  done: { size: number; elapsedMs: number; sha256: string } | null;
  failed: { code: string; message: string } | null;
  endAt: number;
}

type Header = {
  packet_type: string;
  flags: string;
  seq: number;
  ack: number;
  seq_rel: number;
  ack_rel: number;
  window: number;
};

export function buildModel(traces: QlogTrace[]): TransferModel {
  const start = Math.min(...traces.map((t) => t.referenceTime + (t.events[0]?.time ?? 0)));
  const at = (t: QlogTrace, e: QlogEvent) => t.referenceTime + e.time - start;
  const sent: Datagram[] = [];
  const received = new Map<'client' | 'server', Array<{ at: number; d: Datagram }>>();
  const m: TransferModel = {
    title: traces.map((t) => t.title).join(' · '),
    sides: traces.map((t) => t.side),
    datagrams: sent,
    states: [],
    dataSender: null,
    losses: [],
    rtoFires: [],
    metrics: [],
    phases: [],
    done: null,
    failed: null,
    endAt: 0,
  };
  for (const t of traces) {
    const seen = new Set<string>();
    const heard: Array<{ at: number; d: Datagram }> = [];
    received.set(t.side, heard);
    for (const e of t.events) {
      const now = at(t, e);
      m.endAt = Math.max(m.endAt, now);
      const h = (e.data['header'] ?? {}) as Header;
      if (e.name === 'transport:packet_sent' || e.name === 'transport:packet_received') {
        const out = e.name === 'transport:packet_sent';
        const frames = (e.data['frames'] as Array<{ acked_ranges?: Array<[number, number]> }> | undefined) ?? [];
        const key = `${h.packet_type}:${h.seq}`;
        const d: Datagram = {
          ...{
            from: out ? t.side : other(t.side),
            type: h.packet_type,
            flags: h.flags,
            seq: h.seq,
            ack: h.ack,
            seqRel: h.seq_rel,
            ackRel: h.ack_rel,
            window: h.window,
          },
          ...{
            length: Number((e.data['raw'] as { length?: number } | undefined)?.length ?? 0),
            sack: frames[0]?.acked_ranges ?? [],
            sentAt: out ? now : null,
            receivedAt: out ? null : now,
          },
          retransmission: out && h.packet_type !== 'ack' && seen.has(key),
        };
        if (out) {
          seen.add(key);
          sent.push(d);
          if (h.packet_type === 'data') m.dataSender = t.side;
        } else heard.push({ at: now, d });
      } else if (e.name === 'transport:connection_state_updated')
        m.states.push({ side: t.side, at: now, state: String(e.data['new']) });
      else if (e.name === 'recovery:packet_lost') m.losses.push({ at: now, seqRel: Number(h.seq_rel) });
      else if (e.name === 'recovery:loss_timer_updated' && e.data['timer_type'] === 'rto') m.rtoFires.push(now);
      else if (e.name === 'recovery:metrics_updated') m.metrics.push(metricsPoint(now, e.data));
      else if (e.name === 'recovery:congestion_state_updated') m.phases.push({ at: now, phase: String(e.data['new']) });
      else if (e.name === 'lftp:transfer_done')
        m.done = {
          size: Number(e.data['size']),
          elapsedMs: Number(e.data['elapsed_ms']),
          sha256: String(e.data['sha256']),
        };
      else if (e.name === 'lftp:transfer_failed')
        m.failed = { code: String(e.data['code']), message: String(e.data['message']) };
    }
  }
  match(m, received);
  sent.sort((a, b) => (a.sentAt ?? a.receivedAt ?? 0) - (b.sentAt ?? b.receivedAt ?? 0));
  return m;
}

/**
 * Pairs each side's received datagrams with the other side's sent ones (same type, seq and ack, in order).
 * With one trace, what it received is added as datagrams whose send time is unknown.
 */
function match(m: TransferModel, received: Map<'client' | 'server', Array<{ at: number; d: Datagram }>>): void {
  for (const [side, heard] of received) {
    const byKey = new Map<string, Datagram[]>();
    if (m.sides.includes(other(side))) {
      for (const d of m.datagrams) {
        if (d.from !== other(side)) continue;
        const list = byKey.get(keyOf(d));
        if (list) list.push(d);
        else byKey.set(keyOf(d), [d]);
      }
    }
    for (const { at, d } of heard) {
      // A retransmission is the same datagram again: the copy that arrived is taken to be the latest one sent
      // before it arrived (a path's delay is far shorter than a retransmission timer).
      const candidates = byKey.get(keyOf(d));
      let found: Datagram | undefined;
      for (const c of candidates ?? [])
        if (c.receivedAt === null && (c.sentAt ?? 0) <= at + 1 && (!found || (c.sentAt ?? 0) > (found.sentAt ?? 0)))
          found = c;
      if (found) found.receivedAt = at;
      else m.datagrams.push(d);
    }
  }
}

const keyOf = (d: Datagram) => `${d.type}:${d.seq}:${d.ack}:${d.window}:${d.length}`;

function other(side: 'client' | 'server'): 'client' | 'server' {
  return side === 'client' ? 'server' : 'client';
}

function metricsPoint(at: number, d: Record<string, unknown>): MetricsPoint {
  const cwnd = Number(d['cwnd_packets']);
  const perPacket = Number(d['congestion_window']) / cwnd;
  const ss = Number(d['ssthresh']);
  return {
    at,
    cwnd,
    ssthresh: ss < 0 || !Number.isFinite(perPacket) || perPacket === 0 ? null : ss / perPacket,
    inFlight: Number(d['packets_in_flight']),
    srtt: (d['smoothed_rtt'] as number | null) ?? null,
    latestRtt: (d['latest_rtt'] as number | null) ?? null,
  };
}

/** RTT samples the data sender took (each new latest_rtt). */
export function rttSamples(m: TransferModel): number[] {
  const out: number[] = [];
  let last: number | null = null;
  for (const p of m.metrics) {
    if (p.latestRtt !== null && p.latestRtt > 0 && p.latestRtt !== last) out.push(p.latestRtt);
    last = p.latestRtt;
  }
  return out;
}
