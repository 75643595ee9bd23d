/** Messages between the supervisor and its workers, and on the room bus. */
import type { LogLevel } from '../logger.js';
import type { ConnectionLimits } from '../chat/connection.js';
import type { TransferView } from '../web/transfer-monitor.js';
import type { CongestionName } from '../../common/lftp/engine/congestion.js';

export interface WorkerConfig {
  index: number;
  host: string;
  port: number;
  tableBuffer: SharedArrayBuffer;
  ticketBuffer: SharedArrayBuffer;
  /** UDP port for LFTP; -1 = the same number as the TCP port this worker gets. */
  lftpPort: number;
  /** HTTP/WebSocket port; null: no web side (--no-web). */
  httpPort: number | null;
  /** --admin-token, or null: no dashboard. */
  adminToken: string | null;
  /** Per-run secret that signs dashboard cookies (the same in every worker). */
  adminSecret: string;
  /** How many workers the server runs (for per-worker statistics). */
  workers: number;
  filesDir: string;
  maxTransfers: number;
  maxFileSize: number;
  congestion: CongestionName;
  busName: string;
  limits: ConnectionLimits & { maxClients: number };
  logFile: string;
  logLevel: LogLevel;
  serverName: string;
}

/** Supervisor → one worker (worker.postMessage). */
export type ToWorker =
  | { k: 'shutdown'; reason: string }
  /** Fault injection for demonstrations and tests (operator command /kill-worker). */
  | { k: 'crash'; holdLock: boolean }
  /** Fault injection (/stall-worker): block the worker's event loop, as a long GC or a CPU hog would. */
  | { k: 'stall'; ms: number };

/** Worker → supervisor (parentPort). */
export type FromWorker =
  | { k: 'listening'; port: number; lftpPort: number; httpPort: number | null }
  | { k: 'listen-error'; code: string; message: string }
  | { k: 'event'; text: string }
  | { k: 'closed' };

/**
 * The room bus: a BroadcastChannel joined by every worker and the supervisor.
 * A BroadcastChannel delivers one sender's messages in the order posted, which
 * is what per-sender FIFO across workers rests on.
 */
export type BusMessage =
  | { k: 'room'; frame: Uint8Array }
  | { k: 'direct'; slot: number; generation: number; frame: Uint8Array }
  | { k: 'kick'; slot: number; generation: number; reason: string }
  /** A worker's LFTP transfers for the dashboard (an empty list: none any more). */
  | { k: 'transfers'; worker: number; transfers: TransferView[] };
