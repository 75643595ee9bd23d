/**
 * What a worker is started with: the options it needs and the shared
 * buffers every worker views (the contract itself is server/threads/messages.ts).
 */
import type { ListenerTls } from '../tls/listeners.js';
import type { MessagePort } from 'node:worker_threads';
import type { ServerOptions } from './options.js';
import type { BoundPorts, WorkerConfig } from '../threads/messages.js';
import type { AddressTable } from '../shm/address-table.js';
import type { SessionTable } from '../shm/session-table.js';
import type { SocketBudget } from '../shm/socket-budget.js';
import { SharedThrottleRecords } from '../shm/shared-throttle.js';
import { TicketTable } from '../shm/ticket-table.js';
import { UploadLedger } from '../shm/upload-ledger.js';
import { PartialWriters } from '../shm/partial-writers.js';
import { IrcPeopleTable } from '../shm/irc-people-table.js';
import { NodeCounts } from '../shm/node-counts.js';
import type { WorkerStats } from '../shm/worker-stats.js';

/** Time a connection has to say HELLO. */
export const HELLO_TIMEOUT_MS = 10_000;

/** What the supervisor creates once and every worker shares. */
export interface SharedParts {
  table: SessionTable;
  addresses: AddressTable;
  sockets: SocketBudget;
  throttle: SharedThrottleRecords;
  /** Wrong nick passwords, per nick (the address ones go in `throttle`). */
  nickThrottle: SharedThrottleRecords;
  tickets: TicketTable;
  uploads: UploadLedger;
  /** Who writes each partial upload now (LFTP or HTTP, any worker). */
  writers: PartialWriters;
  ircPeople: IrcPeopleTable;
  /** Rooms (the store thread writes) and the most sessions seen online: LUSERS. */
  counts: NodeCounts;
  stats: WorkerStats;
  busName: string;
  adminSecret: string;
  serverName: string;
  /** The certificate, once the supervisor has it (start()); null: --no-tls. */
  tls: ListenerTls | null;
}

/** The shared tables made fresh for a run (the session, address and socket tables are sized by the supervisor). */
export function freshTables(maxClients: number) {
  return {
    throttle: SharedThrottleRecords.create(),
    nickThrottle: SharedThrottleRecords.create(),
    tickets: TicketTable.create(),
    uploads: UploadLedger.create(),
    writers: PartialWriters.create(),
    ircPeople: IrcPeopleTable.create(maxClients),
    counts: NodeCounts.create(),
  };
}

export function workerConfig(
  o: ServerOptions,
  shared: SharedParts,
  index: number,
  ports: BoundPorts,
  storePort: MessagePort,
): WorkerConfig {
  const { port, lftpPort, httpPort, ircPort } = ports;
  return {
    index,
    node: o.nodeId,
    redisUrl: o.redis?.url ?? null,
    advertise: o.advertise,
    host: o.host,
    port,
    lftpPort,
    httpPort,
    ircPort,
    irc: { nicks: o.ircNicks, roomsPerUser: o.rooms.limits.maxRoomsPerUser, history: o.history.dataDir !== null },
    adminToken: o.adminToken,
    webHosts: o.webHosts,
    webHeaderTimeoutMs: o.webHeaderTimeoutMs,
    adminSecret: shared.adminSecret,
    workers: o.workers,
    filesDir: o.filesDir,
    maxTransfers: o.maxTransfers,
    uploads: {
      maxFileSize: o.maxFileSize,
      keepFree: o.keepFree,
      maxUploadPerUser: o.maxUploadPerUser,
      ledgerBuffer: shared.uploads.buffer,
      writersBuffer: shared.writers.buffer,
    },
    congestion: o.congestion,
    qlogDir: o.qlogDir,
    ticketBuffer: shared.tickets.buffer,
    tableBuffer: shared.table.buffer,
    ircPeopleBuffer: shared.ircPeople.buffer,
    countsBuffer: shared.counts.buffer,
    statsBuffer: shared.stats.buffer,
    addressBuffer: shared.addresses.buffer,
    socketBuffer: shared.sockets.buffer,
    throttleBuffer: shared.throttle.buffer,
    admission: o.admission,
    busName: shared.busName,
    limits: {
      intervalMs: o.heartbeatIntervalMs,
      timeoutMs: o.heartbeatTimeoutMs,
      maxFrame: o.maxFrame,
      maxText: Math.floor((o.maxFrame - 512) / 2),
      helloTimeoutMs: HELLO_TIMEOUT_MS,
      maxSendQueue: o.maxSendQueue,
      // Each worker has its share; a worker's connections cannot borrow another's.
      maxOutputBytes: Math.max(o.maxSendQueue, Math.floor(o.maxOutputBytes / o.workers)),
      flood: o.flood,
      maxClients: o.maxClients,
    },
    logFile: o.logFile,
    logLevel: o.logLevel,
    serverName: shared.serverName,
    defaultRoom: o.rooms.defaultRoom,
    tls: shared.tls,
    serverPassword: o.secrets.serverPassword,
    resumeWindowMs: o.history.resumeWindowMs,
    // A cluster's registered nicks are in its Redis (store/redis-accounts.ts), every node's.
    accounts:
      o.history.dataDir === null
        ? null
        : { allowPlainPasswords: o.secrets.allowPlainPasswords, nickThrottleBuffer: shared.nickThrottle.buffer },
    storePort,
  };
}
