/**
 * Words for a transfer's events, for --verbose and the logs: the engine itself only emits data (engine/events.ts).
 * Sequence numbers are shown relative to their side's initial one, as Wireshark shows TCP's (the SYN is 0, the
 * first data packet 1), with the absolute number after it in brackets.
 */
import type { StateCause, TransferEvent } from './engine/events.js';
import { seqDiff } from './engine/packet.js';

/** The two initial sequence numbers: this side's and the peer's (0 while unknown). */
export interface SeqBases {
  own: number;
  peer: number;
}

/** How a sequence number of this side's (own) or the peer's is written: relative, then [absolute]. */
interface Numbers {
  own(seq: number): string;
  peer(seq: number): string;
  peerRel(seq: number): number;
}

function numbers(b: SeqBases): Numbers {
  return {
    own: (seq) => `${seqDiff(seq, b.own) >>> 0} [${seq}]`,
    peer: (seq) => `${seqDiff(seq, b.peer) >>> 0} [${seq}]`,
    peerRel: (seq) => seqDiff(seq, b.peer) >>> 0,
  };
}

function ranges(count: number, first: number, last: number): string {
  if (count === 0) return 'none';
  return count === 1 ? `packet ${first}` : `${count} packets (${first}…${last})`;
}

function stateText(c: StateCause, { own, peer }: Numbers): string {
  switch (c.cause) {
    case 'syn_sent':
      return `SYN sent (seq=${own(c.seq)}, ${c.op} ${c.name})`;
    case 'syn_received':
      return `SYN received (seq=${peer(c.peerSeq)}); SYN-ACK sent (seq=${own(c.seq)}, ack=${peer(c.ack)})`;
    case 'queued':
      return `server busy: queued at position ${c.position}`;
    case 'established':
      return c.from > 0
        ? `connection established (mss ${c.mss}); resuming at byte ${c.from} of ${c.size}: ${c.size - c.from} bytes to ${c.sending ? 'send' : 'receive'}`
        : `connection established (mss ${c.mss}, ${c.size} bytes to ${c.sending ? 'send' : 'receive'})`;
    case 'end_received':
      return 'END received: all data in; checking size and SHA-256';
    case 'end_sent':
      return `all ${c.packets} data packets acknowledged; END sent (seq=${own(c.seq)})`;
    case 'end_acked':
      return 'END acknowledged: the client has the file; waiting for its FIN';
    case 'verified':
      return 'file verified and stored; END acknowledged; waiting for the client FIN';
    case 'fin_sent':
      return `FIN sent (seq=${own(c.seq)})`;
    case 'fin_acked':
      return 'our FIN acknowledged';
    case 'peer_fin':
      return c.seq === undefined
        ? `FIN received (seq=${peer(c.peerSeq)}); ACK sent (TIME_WAIT)`
        : `FIN received (seq=${peer(c.peerSeq)}); ACK sent, our FIN sent (seq=${own(c.seq)})`;
    case 'time_wait_over':
      return 'closed';
    case 'peer_silent':
      return `closed without the peer's last word (silent for ${c.silentMs}ms)`;
    case 'fin_unanswered':
      return 'closed (our FIN was never acknowledged; the transfer had completed)';
    case 'failed':
      return `${c.code}: ${c.message}`;
  }
}

/** Bytes per second as a person reads a link's rate. */
function mbit(bytesPerSec: number): string {
  return `${((bytesPerSec * 8) / 1e6).toFixed(1)} Mbit/s`;
}

/** A congestion controller's change of phase, with what it paces at and what it believes of the path. */
function phaseText(e: Extract<TransferEvent, { type: 'cc_phase' }>): string {
  const head = `congestion control (${e.controller}): ${e.from === null ? '' : `${e.from} → `}${e.to}`;
  if (e.pacingRate === null || e.bandwidth === null) return `${head}; cwnd ${e.cwnd.toFixed(1)}`;
  const model = [
    `pacing ${mbit(e.pacingRate)}${e.bandwidth > 0 && e.pacingGain !== null ? ` (${e.pacingGain} × bw ${mbit(e.bandwidth)})` : ''}`,
    `cwnd ${Math.round(e.cwnd)}`,
    e.minRttMs === null ? null : `min RTT ${e.minRttMs.toFixed(2)} ms`,
    `in-flight bound ${e.inflightBound === null ? 'none' : Math.round(e.inflightBound)}`,
    e.randomLoss ? `random loss ${(100 * e.randomLoss).toFixed(1)} %` : null,
  ];
  return `${head}; ${model.filter((x) => x !== null).join(', ')}`;
}

/** The path MTU search (DPLPMTUD): sizes as on the wire (a protected datagram's tag counted). */
function pmtuText(e: Extract<TransferEvent, { type: 'pmtu' }>): string {
  const d = `${e.size}-byte datagrams (${e.packets} packet${e.packets === 1 ? '' : 's'} each)`;
  switch (e.what) {
    case 'probe':
      return `path MTU: probing ${d}, try ${e.try} (a probe repeats packets in flight: losing it loses nothing)`;
    case 'confirmed':
      return `path MTU: the peer got the ${e.size}-byte probe`;
    case 'too_big':
      return `path MTU: no ${e.size}-byte probe got through in ${e.tries} tries: too big for this path`;
    case 'done':
      return `path MTU: search done, sending ${d}`;
    case 'black_hole':
      return `path MTU: a retransmission timeout with ${d}: back to one packet a datagram`;
  }
}

/** One line for a person, or '' for events that say nothing worth a line. `seqs`: the two ISNs, for relative numbers. */
export function describeEvent(e: TransferEvent, seqs: SeqBases = { own: 0, peer: 0 }): string {
  const n = numbers(seqs);
  const { own, peer } = n;
  switch (e.type) {
    case 'state': {
      const text = stateText(e, n);
      return e.cause === 'fin_acked'
        ? `${text}${e.state === 'CLOSED' ? ': closed' : '; waiting for the server FIN'}`
        : text;
    }
    case 'syn_ack':
      return `SYN-ACK received (seq=${peer(e.peerSeq)}, ack=${own(e.ack)}); ACK sent (seq=${own(e.seq)}, ack=${peer(e.ackSent)})`;
    case 'queued':
      return `waiting for a transfer slot: position ${e.position} in the queue`;
    case 'retry':
      return `RETRY received: the server checks our address first; SYN sent again with its ${e.tokenBytes}-byte token`;
    case 'established':
    case 'closed':
      return '';
    case 'retransmit_data':
      return `retransmit seq ${own(e.seq)} (packet ${e.index})`;
    case 'retransmit_control': {
      const why =
        e.why === 'timeout'
          ? `timeout, next wait ${e.nextWaitMs}ms`
          : e.why === 'duplicate_syn'
            ? 'duplicate SYN'
            : 'still queued';
      return `retransmit ${e.packet} (${why}, try ${e.try}${Number.isFinite(e.maxTries) ? `/${e.maxTries}` : ''})`;
    }
    case 'handshake_ack_resent':
      return 'SYN-ACK again: our ACK was lost; ACK resent';
    case 'tail_probe':
      return `tail loss probe: ${e.resend ? 'resend' : 'send'} seq ${own(e.seq)} (no ACK for 2·SRTT)`;
    case 'rto':
      return `retransmission timeout: ${e.resend} packets to resend; cwnd → 1, ssthresh ${e.ssthresh}, RTO backed off to ${e.rtoMs}ms`;
    case 'loss':
      return e.by === 'ack'
        ? `loss detected: ${ranges(e.count, e.first, e.last)}${e.reduced ? `; cwnd → ${e.cwnd.toFixed(1)}, ssthresh ${e.ssthresh}` : ''} (fast retransmit)`
        : `loss detected by time: ${ranges(e.count, e.first, e.last)}${e.reduced ? `; cwnd → ${e.cwnd.toFixed(1)}` : ''}`;
    case 'window_closed':
      return 'receiver window closed (0): waiting, probing';
    case 'cc_phase':
      return phaseText(e);
    case 'pmtu':
      return pmtuText(e);
    case 'hole':
      return `out of order: expected seq ${peer(e.expected)}, got ${peer(e.got)}; holding it, ACK with SACK ${e.sack.map(([a, b]) => `${n.peerRel(a)}-${n.peerRel(b) - 1}`).join(', ')}`;
    case 'hole_filled':
      return `hole filled: seq ${peer(e.from)} arrived (retransmitted); in order up to ${peer(e.next)}`;
    case 'duplicate':
      return `duplicate seq ${peer(e.seq)} (already had it: our ACK was lost or late)`;
    case 'window_low':
      return `receive window down to ${e.window} of ${e.capacity} packets: the disk is behind the network`;
    case 'window_reopened':
      return `receive window open again: ${e.window} of ${e.capacity} packets`;
    case 'done':
      return e.verifiedBy === 'peer'
        ? `END acknowledged: the peer verified ${e.size} bytes (sha256 ${e.sha256.slice(0, 16)}…)`
        : `file complete and verified (${e.size} bytes, sha256 ${e.sha256.slice(0, 16)}…)`;
    case 'error':
      return e.message;
  }
}
