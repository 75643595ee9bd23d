/**
 * What a connection tells its edge, as data: a type and the numbers that go
 * with it. Words are made from them only at the edges (event-text.ts for
 * --verbose and logs; a trace writer may keep the fields as they are).
 */
import type { LftpErrorCode } from './errors.js';
import type { CongestionName, CongestionPhase } from './congestion.js';
import type { PmtuChange } from './path-mtu.js';

export type Side = 'client' | 'server';
export type Op = 'get' | 'post';

export type ConnState =
  | 'SYN_SENT'
  | 'QUEUED'
  | 'SYN_RCVD'
  | 'ESTABLISHED'
  | 'END_WAIT' // data sender: END sent, waiting for its ACK
  | 'VERIFYING' // data receiver: END received, checking the file
  | 'FIN_WAIT_1'
  | 'FIN_WAIT_2'
  | 'TIME_WAIT'
  | 'CLOSE_WAIT' // server: data done, waiting for the client's FIN
  | 'LAST_ACK'
  | 'CLOSED'
  | 'FAILED';

/** Why a connection moved to its new state; the fields that matter for each are on the event. */
export type StateCause =
  | { cause: 'syn_sent'; seq: number; op: Op; name: string }
  | { cause: 'syn_received'; peerSeq: number; seq: number; ack: number }
  | { cause: 'queued'; position: number }
  | { cause: 'established'; mss: number; size: number; sending: boolean; from: number }
  | { cause: 'end_received' }
  | { cause: 'end_sent'; packets: number; seq: number }
  | { cause: 'end_acked' }
  | { cause: 'verified' }
  | { cause: 'fin_sent'; seq: number }
  | { cause: 'fin_acked' }
  | { cause: 'peer_fin'; peerSeq: number; seq?: number }
  | { cause: 'time_wait_over' }
  | { cause: 'peer_silent'; silentMs: number }
  | { cause: 'fin_unanswered' }
  | { cause: 'failed'; code: LftpErrorCode; message: string };

/** The control packets a connection retries on its own timer. */
export type ControlPacket = 'SYN' | 'SYN (queued)' | 'SYN-ACK' | 'END' | 'FIN';

export type TransferEvent =
  | ({ type: 'state'; state: ConnState } & StateCause)
  /** The client got SYN-ACK and answered with the handshake's last ACK. */
  | { type: 'syn_ack'; peerSeq: number; ack: number; seq: number; ackSent: number }
  | { type: 'queued'; position: number }
  /** The client took the server's RETRY (address validation) and sent its SYN again with the token. */
  | { type: 'retry'; tokenBytes: number }
  | { type: 'established'; size: number; from: number }
  /** A data packet sent again (fast retransmit or after an RTO). */
  | { type: 'retransmit_data'; seq: number; index: number }
  /** A control packet sent again: on its timer (nextWaitMs), because the peer repeated itself, or while queued. */
  | {
      type: 'retransmit_control';
      packet: ControlPacket;
      why: 'timeout' | 'duplicate_syn' | 'queued';
      try: number;
      maxTries: number;
      nextWaitMs?: number;
    }
  /** The client's handshake ACK was lost: the server sent SYN-ACK again. */
  | { type: 'handshake_ack_resent' }
  | { type: 'tail_probe'; seq: number; index: number; resend: boolean }
  | { type: 'rto'; resend: number; ssthresh: number; rtoMs: number }
  /** Data packets declared lost: their indexes (`lost`, the first `count` of them: a trace names each), the first and last. */
  | {
      type: 'loss';
      by: 'ack' | 'time';
      count: number;
      first: number;
      last: number;
      lost: readonly number[];
      reduced: boolean;
      cwnd: number;
      ssthresh: number;
    }
  | { type: 'window_closed' }
  /** The data sender's path MTU search (DPLPMTUD): a probe sent, a size confirmed or given up, the size in use. */
  | ({ type: 'pmtu' } & PmtuChange)
  /**
   * The data sender's congestion controller changed phase (Reno: slow start, avoidance, recovery; BBR: startup,
   * drain, ProbeBW's four, ProbeRTT), with its figures then: rates in bytes per second, null where the controller
   * has none (Reno paces nothing and models nothing).
   */
  | {
      type: 'cc_phase';
      controller: CongestionName;
      from: CongestionPhase | null;
      to: CongestionPhase;
      cwnd: number;
      pacingRate: number | null;
      pacingGain: number | null;
      bandwidth: number | null;
      minRttMs: number | null;
      /** BBR's in-flight bound from loss, packets (null: none yet). */
      inflightBound: number | null;
      /** BBR's measure of the path's random loss, 0..1. */
      randomLoss: number | null;
    }
  /** The data receiver: a packet arrived beyond a missing one (a hole opens; `sack`: what it now holds beyond it, as seq ranges). */
  | { type: 'hole'; expected: number; got: number; sack: Array<[number, number]> }
  /** The data receiver: the missing packets arrived (retransmitted); delivery in order runs on to `next`. */
  | { type: 'hole_filled'; from: number; next: number }
  /** The data receiver: a packet it had already (its ACK was lost or late, or the network duplicated it). */
  | { type: 'duplicate'; seq: number }
  /** The data receiver's window fell below a quarter of its capacity (the writer is behind), or rose back. */
  | { type: 'window_low'; window: number; capacity: number }
  | { type: 'window_reopened'; window: number; capacity: number }
  | { type: 'done'; size: number; sha256: string; verifiedBy: 'peer' | 'us' }
  | { type: 'error'; code: LftpErrorCode; message: string }
  | { type: 'closed' };

export type TransferEventType = TransferEvent['type'];
