/**
 * Loss detection after RFC 9002 (section 6.1), over the sender's packets:
 * every transmission gets a number that only grows (a retransmission gets a
 * new one), and a packet is lost when a transmission at least 3 numbers later
 * was acknowledged (packet threshold), or when a later one was acknowledged
 * and it has been out for 9/8 of the RTT (time threshold). This is "3
 * duplicate ACKs" made exact by SACK. Pure: the window's packets and the time
 * come in as arguments.
 */
import type { RttEstimator } from './rtt.js';
import type { LostPacket } from './congestion.js';
import type { RateStamp } from './delivery-rate.js';

export const PACKET_THRESHOLD = 3;
export const TIME_THRESHOLD = 9 / 8;

/** What loss detection reads of a packet in flight. */
export interface SentPacket {
  tx: number;
  sentAt: number;
  acked: boolean;
  lost: boolean;
  /** Its RTT, when its first transmission was acknowledged (selectively: a cumulative ACK lets it go). */
  rttMs?: number;
}

/** Indexes [from, end) that a later acknowledged transmission overtook: the only ones that can be declared lost. */
export function* overtaken<S extends SentPacket>(
  slots: ReadonlyMap<number, S>,
  from: number,
  end: number,
  largestAckedTx: number,
): Generator<[number, S]> {
  if (largestAckedTx < 0) return;
  for (let i = from; i < end; i++) {
    const s = slots.get(i);
    if (s && !s.acked && !s.lost && s.tx < largestAckedTx) yield [i, s];
  }
}

/** How long an overtaken packet may stay out before the time threshold calls it lost. */
export function lossDelay(rtt: RttEstimator): number {
  return TIME_THRESHOLD * Math.max(rtt.srtt ?? rtt.rto, rtt.latest);
}

export function isLost(s: SentPacket, largestAckedTx: number, now: number, delay: number): boolean {
  return s.tx + PACKET_THRESHOLD <= largestAckedTx || now >= s.sentAt + delay;
}

/** What the congestion control is told of a packet declared lost: its stamp, and the loss since it was sent. */
export function lostPacket(
  now: number,
  index: number,
  s: SentPacket & RateStamp,
  currentTx: number,
  lostTotal: number,
  neighborRttMs: number | null,
): LostPacket {
  return {
    now,
    tx: s.tx,
    currentTx,
    index,
    txInFlight: s.txInFlight,
    lostSinceSent: lostTotal - s.lostBefore,
    appLimited: s.appLimited,
    neighborRttMs,
  };
}

/**
 * The first packet after `index`, up to `end`, that arrived on its first transmission: where it is (`end` if
 * none) and its RTT. What lies between has none, so a caller going up through a run of losses asks again only
 * past `at`: a run of k losses costs k steps, not k².
 */
export function neighborAfter<S extends SentPacket>(
  slots: ReadonlyMap<number, S>,
  index: number,
  end: number,
): { at: number; rttMs: number | null } {
  for (let i = index + 1; i < end; i++) {
    const s = slots.get(i);
    if (s?.rttMs !== undefined) return { at: i, rttMs: s.rttMs };
  }
  return { at: end, rttMs: null };
}
