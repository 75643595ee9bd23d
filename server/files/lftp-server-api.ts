/** What the LFTP endpoint is started with and what it reports (lftp-server.ts does the work). */
import type { CongestionName } from '../../common/lftp/engine/congestion.js';
import type { Op } from '../../common/lftp/engine/connection.js';
import type { LftpErrorCode } from '../../common/lftp/engine/errors.js';
import type { Logger } from '../logger.js';
import type { FileService } from './file-service.js';
import type { LftpKeying } from './syn-keys.js';
import type { DroppedCounts } from '../../common/lftp/protect/transfer-protection.js';
import type { GiveWay } from '../shm/partial-writers.js';

export interface LftpAuthRequest {
  op: Op;
  name: string;
  auth: string | undefined;
  remote: string;
}

/** Allowed: who asked, and (with a ticket) what to call once the transfer is over, whether it ran or not. */
export type AuthDecision =
  | { allow: true; owner?: string; ended?: () => void }
  | { allow: false; code: LftpErrorCode; message: string };

export interface LftpServerOptions {
  host: string;
  port: number;
  /** What may be read and written, and the upload limit. */
  files: FileService;
  maxTransfers: number;
  /** Requests allowed to wait for a slot; beyond this, BUSY. */
  maxQueued: number;
  /** Largest payload per datagram this server accepts. */
  maxMss: number;
  idleTimeoutMs: number;
  receiveCapacity: number;
  maxWindow: number;
  /** Congestion control for the transfers this server sends (gets). */
  congestion: CongestionName;
  reusePort: boolean;
  /** Where each transfer's key comes from (the ticket, the token), or none (--open). */
  keying: LftpKeying;
  /** Allows (naming who, if known) or refuses a request (after its key, if any, was proved). */
  authorize(req: LftpAuthRequest): AuthDecision | Promise<AuthDecision>;
  print(line: string): void;
  log: Logger;
  verbose: boolean;
  tracePath?: string;
  /** --qlog: a qlog file per transfer goes in this folder (common/lftp/node/qlog.ts). */
  qlogDir?: string;
  /** Resume cut transfers (docs/LFTP.md, "Resume"): `chat-server lftp`, and the chat server (its partials per user). */
  resume?: boolean;
  /** A chat server's other workers, whose transfers may write the partial a post continues (writer-claim.ts). */
  otherWorkers?: OtherWorkers;
  /** A file was received and stored. */
  onStored?(info: { name: string; size: number; remote: string; owner: string | undefined; files?: number }): void;
}

/** The other workers of a chat server, as an endpoint asks them (server/worker/other-workers.ts). */
export interface OtherWorkers {
  /** This endpoint's worker. */
  readonly self: number;
  /** How long giveWay waits for an answer before it says timeout. */
  readonly waitMs: number;
  /**
   * Asks `worker` to end its transfer writing the partial `key` when it is `address`'s; resolves once that worker
   * answered (ended: its claim is given back), or with timeout after waitMs.
   */
  giveWay(worker: number, key: string, address: string): Promise<GiveWay>;
}

export interface TransferInfo {
  id: string;
  op: Op;
  name: string;
  remote: string;
  /** The chat user whose ticket authorised it, if any. */
  owner: string | undefined;
  state: string;
  /** The congestion controller of the side that sends the data, as far as this server knows it. */
  congestion: string;
  /** Over (done or failed) but still lingering for a lost final ACK. */
  finished: boolean;
  succeeded: boolean;
  bytes: number;
  size: number;
  queuedAt?: number;
  cwnd: number;
  ssthresh: number;
  /** The controller's phase and pacing rate (bytes per second) when this server sends the data; null otherwise. */
  phase: string | null;
  pacingRate: number | null;
  srttMs: number | null;
  rtoMs: number;
  /** The farthest byte sent (data sender) or held (receiver): bytes ahead of `bytes` are in flight or beyond a hole. */
  farthestBytes: number;
  /** Losses so far: the sender's declared lost packets, or the receiver's holes. */
  losses: number;
  /** A protected transfer's datagrams dropped before they reached it; null: unprotected. */
  dropped: DroppedCounts | null;
}
