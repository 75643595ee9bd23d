/** Messages between the supervisor and its workers, and on the room bus. */
import type { LogLevel } from './logger.js';
import type { ConnectionLimits } from './connection.js';

export interface WorkerConfig {
  index: number;
  host: string;
  port: number;
  tableBuffer: SharedArrayBuffer;
  ticketBuffer: SharedArrayBuffer;
  /** UDP port for LFTP; -1 = the same number as the TCP port this worker gets. */
  lftpPort: number;
  filesDir: string;
  maxTransfers: number;
  maxFileSize: number;
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
  | { k: 'listening'; port: number; lftpPort: number }
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
  | { k: 'kick'; slot: number; generation: number; reason: string };
