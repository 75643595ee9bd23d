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
import { clusterKeys } from '../cluster/keys.js';
import type { RedisLink } from '../cluster/redis-link.js';
import { FileService } from '../files/file-service.js';
import { TicketTable } from '../shm/ticket-table.js';
import { UploadLedger } from '../shm/upload-ledger.js';
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
    private readonly log: Logger,
  ) {
    this.cluster = new ClusterFiles(redis, clusterKeys(), node);
  }

  /** The chat sessions' FilesPort, over this node's own. */
  port(local: FilesPort, maxFrame: number): FilesPort {
    return clusterFilesPort(local, this.cluster, () => this.files.ticketSecret()!, maxFrame, this.log);
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

/** The worker's file service over its node's --files, with the node's shared upload ledger and ticket table. */
export function workerFileService(c: WorkerConfig): FileService {
  const u = c.uploads;
  const quota = { ledger: new UploadLedger(u.ledgerBuffer), maxPerUser: u.maxUploadPerUser };
  return new FileService(
    c.filesDir,
    { maxFileSize: u.maxFileSize, keepFree: u.keepFree, quota },
    new TicketTable(c.ticketBuffer, c.index),
    new PartialWriters(u.writersBuffer, c.index),
  );
}
