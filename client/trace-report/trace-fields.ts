/**
 * The fields of a qlog event, checked as they are read into the report's
 * model: a number must be a finite JSON number (not a string of digits, not
 * markup), a name a string; anything else is malformed (null or undefined
 * here), and the event is left out and counted.
 */
import type { Datagram } from './transfer-model.js';
import type { MetricsPoint } from './transfer-series.js';

/** A finite JSON number, or null. */
export function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** A finite number, null when absent (null or undefined), or undefined when it is something else (malformed). */
export function optionalFinite(v: unknown): number | null | undefined {
  return v === null || v === undefined ? null : (finite(v) ?? undefined);
}

export function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export type PacketFields = Pick<
  Datagram,
  'type' | 'flags' | 'seq' | 'ack' | 'seqRel' | 'ackRel' | 'window' | 'length' | 'sack'
>;

/** A packet_sent or packet_received event's header, raw length and SACK blocks, checked; null if any is malformed. */
export function packetFields(data: Record<string, unknown>): PacketFields | null {
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

/** A metrics_updated event's figures; null if one of them is not a number (the RTTs may be null: no sample yet). */
export function metricsPoint(d: Record<string, unknown>): MetricsPoint | null {
  const [cwnd, bytes, ss, inFlight] = [
    finite(d['cwnd_packets']),
    finite(d['congestion_window']),
    finite(d['ssthresh']),
    finite(d['packets_in_flight']),
  ];
  const [srtt, latestRtt] = [optionalFinite(d['smoothed_rtt']), optionalFinite(d['latest_rtt'])];
  if (cwnd === null || bytes === null || ss === null || inFlight === null) return null;
  if (srtt === undefined || latestRtt === undefined) return null;
  // BBR's rates: absent from Reno's traces; present, they must be numbers.
  const [pacing, bandwidth] = [d['pacing_rate'], d['bandwidth']].map((v) => (v === undefined ? null : finite(v)));
  if ((d['pacing_rate'] !== undefined && pacing === null) || (d['bandwidth'] !== undefined && bandwidth === null))
    return null;
  const perPacket = bytes / cwnd;
  return {
    cwnd,
    ssthresh: ss < 0 || !Number.isFinite(perPacket) || perPacket === 0 ? null : ss / perPacket,
    inFlight,
    srtt,
    latestRtt,
    pacing: pacing ?? null,
    bandwidth: bandwidth ?? null,
  };
}
