/** Words for a transfer's events, for --verbose and the logs: the engine itself only emits data (engine/events.ts). */
import type { StateCause, TransferEvent } from './engine/events.js';

function ranges(count: number, first: number, last: number): string {
  if (count === 0) return 'none';
  return count === 1 ? `packet ${first}` : `${count} packets (${first}…${last})`;
}

function stateText(c: StateCause): string {
  switch (c.cause) {
    case 'syn_sent':
      return `SYN sent (seq=${c.seq}, ${c.op} ${c.name})`;
    case 'syn_received':
      return `SYN received (seq=${c.peerSeq}); SYN-ACK sent (seq=${c.seq}, ack=${c.ack})`;
    case 'queued':
      return `server busy: queued at position ${c.position}`;
    case 'established':
      return `connection established (mss ${c.mss}, ${c.size} bytes to ${c.sending ? 'send' : 'receive'})`;
    case 'end_received':
      return 'END received: all data in; checking size and SHA-256';
    case 'end_sent':
      return `all ${c.packets} data packets acknowledged; END sent (seq=${c.seq})`;
    case 'end_acked':
      return 'END acknowledged: the client has the file; waiting for its FIN';
    case 'verified':
      return 'file verified and stored; END acknowledged; waiting for the client FIN';
    case 'fin_sent':
      return `FIN sent (seq=${c.seq})`;
    case 'fin_acked':
      return 'our FIN acknowledged';
    case 'peer_fin':
      return c.seq === undefined
        ? `FIN received (seq=${c.peerSeq}); ACK sent; lingering to re-ACK a lost ACK`
        : `FIN received (seq=${c.peerSeq}); ACK sent, our FIN sent (seq=${c.seq})`;
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

/** One line for a person, or '' for events that say nothing worth a line. */
export function describeEvent(e: TransferEvent): string {
  switch (e.type) {
    case 'state': {
      const text = stateText(e);
      return e.cause === 'fin_acked' ? `${text}${e.state === 'CLOSED' ? ': closed' : '; waiting for the server FIN'}` : text;
    }
    case 'syn_ack':
      return `SYN-ACK received (seq=${e.peerSeq}, ack=${e.ack}); ACK sent (seq=${e.seq}, ack=${e.ackSent})`;
    case 'queued':
      return `waiting for a transfer slot: position ${e.position} in the queue`;
    case 'established':
    case 'closed':
      return '';
    case 'retransmit_data':
      return `retransmit seq ${e.seq} (packet ${e.index})`;
    case 'retransmit_control': {
      const why = e.why === 'timeout' ? `timeout, next wait ${e.nextWaitMs}ms` : e.why === 'duplicate_syn' ? 'duplicate SYN' : 'still queued';
      return `retransmit ${e.packet} (${why}, try ${e.try}${Number.isFinite(e.maxTries) ? `/${e.maxTries}` : ''})`;
    }
    case 'handshake_ack_resent':
      return 'SYN-ACK again: our ACK was lost; ACK resent';
    case 'tail_probe':
      return `tail loss probe: ${e.resend ? 'resend' : 'send'} seq ${e.seq} (no ACK for 2·SRTT)`;
    case 'rto':
      return `retransmission timeout: ${e.resend} packets to resend; cwnd → 1, ssthresh ${e.ssthresh}, RTO backed off to ${e.rtoMs}ms`;
    case 'loss':
      return e.by === 'ack'
        ? `loss detected: ${ranges(e.count, e.first, e.last)}${e.reduced ? `; cwnd → ${e.cwnd.toFixed(1)}, ssthresh ${e.ssthresh}` : ''} (fast retransmit)`
        : `loss detected by time: ${ranges(e.count, e.first, e.last)}${e.reduced ? `; cwnd → ${e.cwnd.toFixed(1)}` : ''}`;
    case 'window_closed':
      return 'receiver window closed (0): waiting, probing';
    case 'done':
      return e.verifiedBy === 'peer'
        ? `END acknowledged: the peer verified ${e.size} bytes (sha256 ${e.sha256.slice(0, 16)}…)`
        : `file complete and verified (${e.size} bytes, sha256 ${e.sha256.slice(0, 16)}…)`;
    case 'error':
      return e.message;
  }
}
