/**
 * What an LftpConnection is made with and talks through: the request, the options, the hooks to the edge,
 * the data it sends or receives, and the timing constants of its liveness rules.
 */
import type { Packet } from './packet.js';
import type { RtoBounds } from './rtt.js';
import type { CongestionName } from './congestion.js';
import type { DataSource } from './send-window.js';
import type { DataSink } from './receive-window.js';
import type { ConnState, Op, Side, TransferEvent } from './events.js';
import type { ResumeAsk } from './payloads.js';

export interface TransferRequest {
  op: Op;
  name: string;
  /** post: the size of the file being sent. */
  size?: number;
  /** A one-time ticket or a shared token. */
  auth?: string;
  mss: number;
  /** Client: empty to say it answers a server's RETRY (address validation, docs/LFTP.md); then the RETRY's token. */
  retry?: Buffer;
  /** Client: what the SYN says about resuming (docs/LFTP.md, "Resume"). */
  resume?: ResumeAsk;
  /** Server: the largest datagram the client's SYN said it takes (it takes packed data datagrams). */
  dgram?: number;
}

/**
 * Packed data datagrams and the probe for them (docs/LFTP.md, "Datagram size"): what this side takes, and
 * whether it may probe (only where its datagrams go with the don't-fragment bit). Absent: one packet a
 * datagram, as a peer from before this.
 */
export interface DatagramOptions {
  /** The largest datagram (as version 1) this side takes and sends. */
  largest: number;
  probe: boolean;
  /** Bytes a datagram has on the wire beyond its version-1 form: 16 when protected. */
  overhead: number;
}

export interface SinkFinish {
  size: number;
  sha256: Buffer;
}

export interface ConnectionHooks {
  send(p: Packet): void;
  event(e: TransferEvent): void;
  /** The data receiver has everything; check size and SHA-256 and answer with sinkFinished(). */
  finishSink?(expected: SinkFinish): void;
  /** Called for every packet sent or received (for --trace). */
  trace?(dir: 'in' | 'out', p: Packet): void;
}

/** The sender's data: a DataSource that also yields the whole file's SHA-256 once read. */
export interface HashedSource extends DataSource {
  readonly size: number;
  sha256(): Buffer | null;
}

/** The receiver's data: a DataSink with the size announced by the peer. */
export interface SizedSink extends DataSink {
  /** `from`: the byte where the sender's data starts (a resumed transfer's offset). */
  setExpectedSize(size: number, mss: number, from: number): void;
}

export interface ConnectionOptions {
  side: Side;
  conn: number;
  isn: number;
  request: TransferRequest;
  /** Packets this side can hold when receiving (what it advertises). */
  receiveCapacity: number;
  /** Upper bound of the congestion window, in packets. */
  maxWindow: number;
  /** The congestion controller this side runs when it sends data (default bbr). */
  congestion?: CongestionName;
  /** The controller's randomness (BBR's probe timing); injected so a simulation replays exactly. */
  random?: () => number;
  datagram?: DatagramOptions;
  idleTimeoutMs: number;
  /** SYN / SYN-ACK tries before giving up. */
  handshakeTries: number;
  /** END and FIN tries before giving up. */
  closeTries: number;
  /** Client: give up the handshake after this long, whatever the tries. */
  handshakeTimeoutMs?: number;
  rto?: RtoBounds;
}

/**
 * A side that has sent nothing for this long sends a bare ACK. Liveness is then
 * independent of retransmission backoff: under heavy loss the peer still hears
 * from us every second or so, and a receiver's keepalive also re-advertises its
 * window (so a lost window update cannot stall the sender).
 */
export const KEEPALIVE_MS = 1000;
/**
 * A transfer whose data has not moved for this many idle timeouts ends, even
 * while packets flow. Not one: with the RTO capped at 10 s, heavy loss (the
 * 50% test) leaves 30 s without progress now and then, and still completes.
 */
export const NO_PROGRESS_FACTOR = 2;
/** Before the client's address is validated, the server sends at most this many times the bytes it received (RFC 9000 §8.1). */
export const AMPLIFICATION_LIMIT = 3;
/** The states in which a silent side sends a keepalive. */
export const KEEPALIVE_STATES: ReadonlySet<ConnState> = new Set([
  'ESTABLISHED',
  'END_WAIT',
  'VERIFYING',
  'CLOSE_WAIT',
  'FIN_WAIT_2',
]);
/** TIME_WAIT lasts 2·RTO, at most this long. */
export const TIME_WAIT_MAX_MS = 2000;
