/**
 * The contract between the supervisor and its workers: what a worker is
 * started with and the messages each side posts to the other. Chat traffic
 * between workers goes on the room bus (bus/thread-bus.ts), not here.
 */
import type { ListenerTls } from '../tls/listeners.js';
import type { LogLevel } from '../logger.js';
import type { MessagePort } from 'node:worker_threads';
import type { ConnectionLimits } from '../chat/session-host.js';
import type { CongestionName } from '../../common/lftp/engine/congestion.js';
import type { ListenFailure } from '../listen-error.js';
import type { AdmissionPolicy } from '../chat/admission.js';
import type { NickMode } from '../irc/nick-map.js';
import type { GiveWay } from '../shm/partial-writers.js';

export interface WorkerConfig {
  index: number;
  /** This node's id (--node-id): every SessionAddress a worker makes carries it. */
  node: string;
  /** --redis: the cluster's Redis (URL, password included), where nicks are held for every node; null: one node. */
  redisUrl: string | null;
  /** --advertise (a cluster's node): where other machines fetch this node's files; null: one node. */
  advertise: string | null;
  host: string;
  port: number;
  tableBuffer: SharedArrayBuffer;
  /** What the IRC door knows of its sessions beyond the chat (real name, AWAY, account), per slot (shm/irc-people-table.ts). */
  ircPeopleBuffer: SharedArrayBuffer;
  /** The node's rooms and the most sessions seen online, for LUSERS (shm/node-counts.ts). */
  countsBuffer: SharedArrayBuffer;
  ticketBuffer: SharedArrayBuffer;
  statsBuffer: SharedArrayBuffer;
  addressBuffer: SharedArrayBuffer;
  /** Wrong secrets per address, shared by the workers (shm/shared-throttle.ts). */
  throttleBuffer: SharedArrayBuffer;
  /** Client sockets per worker against the open-file limit (shm/socket-budget.ts). */
  socketBuffer: SharedArrayBuffer;
  admission: AdmissionPolicy;
  /** UDP port for LFTP; -1 = the same number as the TCP port this worker gets. */
  lftpPort: number;
  /** HTTP/WebSocket port; null: no web side (--no-web). */
  httpPort: number | null;
  /** The IRC door's port (--irc-port); null: no IRC door (--no-irc). */
  ircPort: number | null;
  /** The IRC door's settings: how it shows nicks (--irc-nicks), what 005 says of rooms, whether history is kept. */
  irc: { nicks: NickMode; roomsPerUser: number; history: boolean };
  /** Host names the web side answers to besides its addresses and localhost (--web-host). */
  webHosts: string[];
  webHeaderTimeoutMs: number;
  /** --admin-token, or null: no dashboard. */
  adminToken: string | null;
  /** Per-run secret that signs dashboard cookies (the same in every worker). */
  adminSecret: string;
  /** How many workers the server runs (for per-worker statistics). */
  workers: number;
  filesDir: string;
  maxTransfers: number;
  /** Upload limits; the quota's ledger and the partials' writers (server/shm/partial-writers.ts) are shared by every worker. */
  uploads: {
    maxFileSize: number;
    keepFree: number;
    maxUploadPerUser: number;
    ledgerBuffer: SharedArrayBuffer;
    writersBuffer: SharedArrayBuffer;
  };
  congestion: CongestionName;
  /** --qlog, or null. */
  qlogDir: string | null;
  busName: string;
  limits: ConnectionLimits & { maxClients: number };
  logFile: string;
  logLevel: LogLevel;
  serverName: string;
  /** The room everyone joins at login (--default-room). */
  defaultRoom: string;
  /** The certificate the chat and web ports serve (null: --no-tls, plain). */
  tls: ListenerTls | null;
  /** --server-password (null: an open server). */
  serverPassword: string | null;
  /** --resume-window (0 with --no-history: sessions are not kept). */
  resumeWindowMs: number;
  /** Registered nicks (null: --no-history keeps none); wrong passwords per nick are booked in nickThrottleBuffer. */
  accounts: { allowPlainPasswords: boolean; nickThrottleBuffer: SharedArrayBuffer } | null;
  /** This worker's port to the store thread (transferred with the config). */
  storePort: MessagePort;
}

export interface BoundPorts {
  port: number;
  lftpPort: number;
  httpPort: number | null;
  ircPort: number | null;
}

/** Supervisor → one worker (worker.postMessage). */
export type ToWorker =
  | { k: 'shutdown'; reason: string }
  /** Fault injection for demonstrations and tests (operator command /kill-worker). */
  | { k: 'crash'; holdLock: boolean }
  /** Fault injection (/stall-worker): block the worker's event loop, as a long GC or a CPU hog would. */
  | { k: 'stall'; ms: number }
  /** The log file was rotated: open it again by its name. */
  | { k: 'reopen-log' }
  /** The store thread died: refuse messages (NOT_STORED) until a new port comes. */
  | { k: 'store-down' }
  /** The restarted store thread's port for this worker (transferred). */
  | { k: 'store-port'; port: MessagePort }
  /** Worker `from` asks: end your LFTP transfer writing the partial `key` for `address` (a new post took over). */
  | { k: 'give-way'; id: number; from: number; key: string; address: string }
  /** The answer to this worker's give-way `id`. */
  | { k: 'gave-way'; id: number; answer: GiveWay };

/** Worker → supervisor (parentPort). */
export type FromWorker =
  | ({ k: 'listening' } & BoundPorts)
  | { k: 'listen-error'; failure: ListenFailure }
  | { k: 'event'; text: string }
  | { k: 'closed' }
  /** To pass to `worker` (files/writer-claim.ts: its transfer writes a partial this worker's post continues). */
  | { k: 'give-way'; id: number; worker: number; key: string; address: string }
  /** The answer to worker `to`'s give-way `id`, to pass back. */
  | { k: 'gave-way'; id: number; to: number; answer: GiveWay };
