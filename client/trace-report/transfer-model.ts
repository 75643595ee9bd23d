/**
 * One LFTP transfer as the report draws it, from one side's qlog trace or
 * both (qlog-file.ts): the datagrams each side sent and received, matched
 * across the two when both are given (then a datagram sent and never
 * received is known lost), the states each side went through, and the data
 * sender's view of the transfer: its data packets, the ACKs and SACK ranges
 * it got, its losses, and its congestion figures over time. Times are ms
 * from the transfer's first event, on one clock (the traces' reference times
 * are wall-clock, so two machines' traces are as aligned as their clocks).
 *
 * A trace is input: every field is checked here, where events become the
 * model. A number must be a finite JSON number (not a string of digits, not
 * markup), a name a string; an event with a field that is not what it should
 * be is left out and counted (`malformed`), never drawn.
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
  /** Events left out because a field was missing or of the wrong type (a number that was not one, ...). */
  malformed: number;
}

/** A finite JSON number, or null. */
export function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** A finite number, null when absent (null or undefined), or undefined when it is something else (malformed). */
function optionalFinite(v: unknown): number | null | undefined {
  return v === null || v === undefined ? null : (finite(v) ?? undefined);
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

type PacketFields = Pick<
  Datagram,
  'type' | 'flags' | 'seq' | 'ack' | 'seqRel' | 'ackRel' | 'window' | 'length' | 'sack'
>;

/** A packet_sent or packet_received event's header, raw length and SACK blocks, checked; null if any is malformed. */
function packetFields(data: Record<string, unknown>): PacketFields | null {
  const h = record(data['header']);
  const [type, flags] = [h['packet_type'], h['flags']];
  const [seq, ack, seqRel, ackRel, window] = ['seq', 'ack', 'seq_rel', 'ack_rel', 'window'].map((k) => finite(h[k]));
  const length = data['raw'] === undefined ? 0 : optionalFinite(record(data['raw'])['length']);
  const sack = sackBlocks(data['frames']);
  if (typeof type !== 'string' || typeof flags !== 'string' || length === undefined || sack === null) return null;
  if (seq == null || ack == null || seqRel == null || ackRel == null || window == null) return null;
  return { type, flags, seq, ack, seqRel, ackRel, window, length: length ?? 0, sack };
}

/** The first frame's acked_ranges: [] when there are none, null when they are not pairs of numbers. */
function sackBlocks(frames: unknown): Array<[number, number]> | null {
  if (frames === undefined) return [];
  if (!Array.isArray(frames)) return null;
  if (frames.length === 0) return [];
  const ranges = record(frames[0])['acked_ranges'];
  if (ranges === undefined) return [];
  if (!Array.isArray(ranges)) return null;
  const out: Array<[number, number]> = [];
  for (const r of ranges) {
    if (!Array.isArray(r) || r.length !== 2) return null;
    const [s, e] = [finite(r[0]), finite(r[1])];
    if (s === null || e === null) return null;
    out.push([s, e]);
  }
  return out;
}

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
    malformed: 0,
  };
  for (const t of traces) {
    const seen = new Set<string>();
    const heard: Array<{ at: number; d: Datagram }> = [];
    received.set(t.side, heard);
    for (const e of t.events) {
      const now = at(t, e);
      m.endAt = Math.max(m.endAt, now);
      if (!addEvent(m, t.side, now, e, seen, heard)) m.malformed++;
    }
  }
  match(m, received);
  sent.sort((a, b) => (a.sentAt ?? a.receivedAt ?? 0) - (b.sentAt ?? b.receivedAt ?? 0));
  return m;
}

/** One event into the model; false if a field it needs is malformed (then nothing of it is taken). */
function addEvent(
  m: TransferModel,
  side: 'client' | 'server',
  now: number,
  e: QlogEvent,
  seen: Set<string>,
  heard: Array<{ at: number; d: Datagram }>,
): boolean {
  const data = e.data;
  if (e.name === 'transport:packet_sent' || e.name === 'transport:packet_received') {
    const p = packetFields(data);
    if (!p) return false;
    const out = e.name === 'transport:packet_sent';
    const key = `${p.type}:${p.seq}`;
    const d: Datagram = {
      from: out ? side : other(side),
      ...p,
      sentAt: out ? now : null,
      receivedAt: out ? null : now,
      retransmission: out && p.type !== 'ack' && seen.has(key),
    };
    if (out) {
      seen.add(key);
      m.datagrams.push(d);
      if (p.type === 'data') m.dataSender = side;
    } else heard.push({ at: now, d });
  } else if (e.name === 'transport:connection_state_updated') {
    if (typeof data['new'] !== 'string') return false;
    m.states.push({ side, at: now, state: data['new'] });
  } else if (e.name === 'recovery:packet_lost') {
    const seqRel = finite(record(data['header'])['seq_rel']);
    if (seqRel === null) return false;
    m.losses.push({ at: now, seqRel });
  } else if (e.name === 'recovery:loss_timer_updated') {
    if (data['timer_type'] === 'rto') m.rtoFires.push(now);
  } else if (e.name === 'recovery:metrics_updated') {
    const p = metricsPoint(now, data);
    if (!p) return false;
    m.metrics.push(p);
  } else if (e.name === 'recovery:congestion_state_updated') {
    if (typeof data['new'] !== 'string') return false;
    m.phases.push({ at: now, phase: data['new'] });
  } else if (e.name === 'lftp:transfer_done') {
    const [size, elapsedMs, sha256] = [finite(data['size']), finite(data['elapsed_ms']), data['sha256']];
    if (size === null || elapsedMs === null || typeof sha256 !== 'string') return false;
    m.done = { size, elapsedMs, sha256 };
  } else if (e.name === 'lftp:transfer_failed') {
    const [code, message] = [data['code'], data['message']];
    if (typeof code !== 'string' || typeof message !== 'string') return false;
    m.failed = { code, message };
  }
  return true;
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

/** A metrics_updated event's figures; null if one of them is not a number (the RTTs may be null: no sample yet). */
function metricsPoint(at: number, d: Record<string, unknown>): MetricsPoint | null {
  const [cwnd, bytes, ss, inFlight] = [
    finite(d['cwnd_packets']),
    finite(d['congestion_window']),
    finite(d['ssthresh']),
    finite(d['packets_in_flight']),
  ];
  const [srtt, latestRtt] = [optionalFinite(d['smoothed_rtt']), optionalFinite(d['latest_rtt'])];
  if (cwnd === null || bytes === null || ss === null || inFlight === null) return null;
  if (srtt === undefined || latestRtt === undefined) return null;
  const perPacket = bytes / cwnd;
  return {
    at,
    cwnd,
    ssthresh: ss < 0 || !Number.isFinite(perPacket) || perPacket === 0 ? null : ss / perPacket,
    inFlight,
    srtt,
    latestRtt,
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
