/**
 * LFTP's tunables in one place: what both ends use unless told otherwise
 * (docs/LFTP.md explains each). The engine takes all of them as options; the
 * edges (chat-hosted server, standalone server, client) start from these.
 */
import { DEFAULT_MSS } from './engine/packet.js';

export const LFTP_DEFAULTS = {
  mss: DEFAULT_MSS,
  /** Packets a receiver buffers (its advertised window at most). */
  receiveCapacity: 2048,
  /** Upper bound of the congestion window, in packets. */
  maxWindow: 2048,
  /** A transfer whose peer is silent this long fails. */
  idleTimeoutMs: 30_000,
  /** The client's whole handshake, whatever the tries. */
  connectTimeoutMs: 30_000,
  /**
   * A server's half-open handshake (SYN-ACK sent, no ACK yet) is given up
   * after this long: a SYN that is never completed holds its slot for
   * seconds, not the client's 30.
   */
  serverHandshakeTimeoutMs: 8_000,
  /** SYN / SYN-ACK tries before giving up. */
  handshakeTries: 16,
  /**
   * How long a RETRY's token (address validation) stays good: the client's default --connect-timeout, so a
   * client that keeps repeating a lost SYN within its own deadline never outlives its token.
   */
  retryTokenLifetimeMs: 30_000,
  /** END and FIN tries before giving up. */
  closeTries: 16,
  /** Kernel socket buffers (SO_RCVBUF / SO_SNDBUF), both ends. */
  socketBufferBytes: 8 << 20,
  /** Transfers a server runs at once: chat-hosted (per worker) and standalone. */
  chatMaxTransfers: 4,
  standaloneMaxTransfers: 8,
  /** Requests that may wait for a transfer slot before the server says BUSY. */
  maxQueued: 64,
  /** Largest upload a server takes. */
  maxFileSize: 16 * 2 ** 30,
} as const;
