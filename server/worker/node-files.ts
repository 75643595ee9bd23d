/**
 * A worker's files: its node's file service (workerFileService), and on a
 * cluster's node those files as the other nodes see them (cluster/cluster-files.ts):
 * the node's first worker says what the node holds every FILES_EVERY_MS and
 * at once after a file is stored; every worker issues tickets for the other
 * nodes' files and spends theirs for this node's, and keeps the other nodes'
 * web origins as their listings say them (the chat page's other servers:
 * web/web-server.ts), read again as often.
 */
import { chatFilesPort, type FilesPort } from '../chat/files-port.js';
import { clusterFilesPort } from '../chat/cluster-files-port.js';
import { ClusterFiles, FILES_EVERY_MS } from '../cluster/cluster-files.js';
import { ClusterTickets } from '../cluster/cluster-tickets.js';
import { RedisUploadQuota } from '../cluster/cluster-uploads.js';
import { clusterKeys } from '../cluster/keys.js';
import type { RedisLink } from '../cluster/redis-link.js';
import { FileService } from '../files/file-service.js';
import { TicketTable } from '../shm/ticket-table.js';
import { UploadLedger } from '../shm/upload-ledger.js';
import { LedgerQuota } from '../files/upload-quota.js';
import { PartialWriters } from '../shm/partial-writers.js';
import type { WorkerConfig } from '../threads/messages.js';
import type { Logger } from '../logger.js';
import { webOrigin } from '../web/page-policy.js';

/** An origin as webOrigin makes them: nothing else goes into the page's policy or its list of servers. */
const WEB_ORIGIN = /^https?:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/;

/** What a node's listing in Redis may take: far more than one FILES_REPLY frame shows, which the asker cuts. */
const LISTING_BYTES = 256 * 1024;

export class NodeFiles {
  readonly cluster: ClusterFiles;
  private timer: NodeJS.Timeout | null = null;
  private peersTimer: NodeJS.Timeout | null = null;
  private failing = false;
  /** The other live nodes' web origins, as last read (empty until then, and on one node). */
  webPeers: readonly string[] = [];

  constructor(
    redis: RedisLink,
    node: string,
    private readonly files: FileService,
    /** The cluster's count of tickets, the one the file service counts with (workerFileService). */
    readonly tickets: ClusterTickets,
    private readonly log: Logger,
  ) {
    this.cluster = new ClusterFiles(redis, clusterKeys(), node);
  }

  /** The chat sessions' FilesPort, over this node's own. */
  port(local: FilesPort, maxFrame: number): FilesPort {
    return clusterFilesPort(local, this.cluster, this.tickets, () => this.files.ticketSecret()!, maxFrame, this.log);
  }

  /** Tickets other nodes issued for this node's files, spent here (the LFTP endpoint's `elsewhere`). */
  get elsewhere(): { redeem: ClusterTickets['redeemRemote'] } {
    return { redeem: (ticket, op, name) => this.tickets.redeemRemote(ticket, op, name) };
  }

  /** Says the node's files now and every FILES_EVERY_MS, at `host` (--advertise), its LFTP port and web origin. */
  publishEvery(host: string, lftpPort: number, httpPort: number | null, tls: boolean): void {
    const web = httpPort === null ? null : webOrigin(tls, host, httpPort);
    const once = () => void this.publish(host, lftpPort, web);
    once();
    this.timer = setInterval(once, FILES_EVERY_MS);
    this.timer.unref();
    this.publishNow = once;
  }

  /** After a file is stored: at once (a no-op on workers that do not publish). */
  publishNow: () => void = () => undefined;

  /** Reads the other nodes' web origins now and every FILES_EVERY_MS (a failed read keeps the last). */
  watchPeers(): void {
    const once = () =>
      void this.cluster.others().then(
        (nodes) =>
          (this.webPeers = nodes.flatMap((n) => (n.web !== undefined && WEB_ORIGIN.test(n.web) ? [n.web] : []))),
        () => undefined,
      );
    once();
    this.peersTimer = setInterval(once, FILES_EVERY_MS);
    this.peersTimer.unref();
  }

  stop(): void {
    this.tickets.close();
    if (this.timer) clearInterval(this.timer);
    if (this.peersTimer) clearInterval(this.peersTimer);
    this.timer = this.peersTimer = null;
  }

  private async publish(host: string, lftpPort: number, web: string | null): Promise<void> {
    try {
      const { files } = await this.files.list(LISTING_BYTES);
      await this.cluster.publish(host, lftpPort, files, web);
      if (this.failing) this.log.info("telling the cluster this node's files again");
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.log.warn({ err: (err as Error).message }, "cannot tell the cluster this node's files");
      this.failing = true;
    }
  }
}

/** The chat sessions' FilesPort: this node's own, or on a cluster's node the cluster's over it. */
export function filesPortOf(
  nodeFiles: NodeFiles | null,
  files: FileService,
  maxFrame: number,
  lftpPort: () => number,
  log: Logger,
): FilesPort {
  const local = chatFilesPort(files, maxFrame, lftpPort, log);
  return nodeFiles ? nodeFiles.port(local, maxFrame) : local;
}

/**
 * The worker's file service over its node's --files, with the node's shared upload ledger and ticket table; on a
 * cluster's node (`cluster`), the upload quota and what tickets each session and network hold are counted for the
 * whole cluster instead (cluster/cluster-uploads.ts, cluster/cluster-tickets.ts).
 */
export function workerFileService(
  c: WorkerConfig,
  cluster: { redis: RedisLink; tickets: ClusterTickets; log: Logger } | null = null,
): FileService {
  const u = c.uploads;
  const quota = cluster
    ? new RedisUploadQuota(cluster.redis, clusterKeys(), c.node, u.maxUploadPerUser, (err) =>
        cluster.log.warn({ err: err.message }, "cannot tell the cluster's Redis an upload's count"),
      )
    : new LedgerQuota(new UploadLedger(u.ledgerBuffer), u.maxUploadPerUser);
  return new FileService(
    c.filesDir,
    { maxFileSize: u.maxFileSize, keepFree: u.keepFree, quota },
    new TicketTable(c.ticketBuffer, c.index),
    new PartialWriters(u.writersBuffer, c.index),
    cluster?.tickets ?? null,
  );
}

/** A cluster's worker: the cluster's count of tickets, under this run of the node (the same in all its workers). */
export function clusterTickets(c: WorkerConfig, redis: RedisLink, log: Logger): ClusterTickets {
  // The bus's name is made once per run of the node, for all its threads: a restarted node's sessions are new keys.
  const run = c.busName.slice(c.busName.lastIndexOf('-') + 1);
  return new ClusterTickets(redis, clusterKeys(), c.node, run, (err) =>
    log.warn({ err: err.message }, "cannot tell the cluster's Redis a ticket's count"),
  );
}

/** The worker's file service, and on a cluster's node (`redis`) its files as the cluster's other nodes see them. */
export function workerFiles(
  c: WorkerConfig,
  redis: RedisLink | null,
  log: Logger,
): { files: FileService; nodeFiles: NodeFiles | null } {
  if (!redis) return { files: workerFileService(c), nodeFiles: null };
  const filesLog = log.child({ component: 'files' });
  const tickets = clusterTickets(c, redis, filesLog);
  const files = workerFileService(c, { redis, tickets, log: filesLog });
  return { files, nodeFiles: new NodeFiles(redis, c.node, files, tickets, filesLog) };
}
