/**
 * One worker thread of the chat server, as wiring: it builds the parts (the
 * client group, the room bus, the file service, LFTP, the web side, the
 * dashboard feed, the ticker), connects them, and opens and closes the
 * listeners in order. The parts do the work; docs/ARCHITECTURE.md draws them.
 */
import { ServerPassword } from '../chat/server-password.js';
import { chatListener } from '../tls/listeners.js';
import net from 'node:net';
import type { MessagePort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { encodeMessage, errorMessage } from '../../common/protocol.js';
import { formatBytes } from '../../common/units.js';
import { ThreadBus } from '../bus/thread-bus.js';
import { SequencedBus } from '../bus/sequenced-bus.js';
import { StoreLink } from '../store/store-link.js';
import { AccountGate } from '../accounts/account-gate.js';
import { OperatorActions } from '../store/operator-actions.js';
import { ClientGroup } from '../chat/client-group.js';
import type { ConnectionHost } from '../chat/session-host.js';
import { filesPortOf, type NodeFiles, workerFiles } from './node-files.js';
import { nickRegistry } from './nick-registry-choice.js';
import type { NickRegistry } from '../bus/nick-registry.js';
import { FileService } from '../files/file-service.js';
import { startChatLftp } from '../files/chat-lftp.js';
import type { LftpServer } from '../files/lftp-server.js';
import type { WorkerHandoffs } from './other-workers.js';
import { ListenError } from '../listen-error.js';
import { listenPaired, listenTcp } from './worker-listeners.js';
import type { Logger } from '../logger.js';
import { SessionTable } from '../shm/session-table.js';
import type { RedisLink } from '../cluster/redis-link.js';
import { AddressTable } from '../shm/address-table.js';
import { Admission } from '../chat/admission.js';
import { SocketBudget } from '../shm/socket-budget.js';
import { HostAllowList } from '../web/host-check.js';
import { WorkerStats } from '../shm/worker-stats.js';
import type { BoundPorts, WorkerConfig } from '../threads/messages.js';
import { AdminAuth } from '../web/admin-auth.js';
import { AuthThrottle, type ThrottleRecords } from '../auth-throttle.js';
import { throttleRecords } from './throttle-records.js';
import type { ThrottleTable } from '../cluster/cluster-throttles.js';
import { AdminHub } from '../web/admin-hub.js';
import { DashboardFeed } from '../web/dashboard-feed.js';
import { WebServer } from '../web/web-server.js';
import { sessionsElsewhere } from '../cluster/address-counts.js';
import { REAL_TIMER, WorkerTicker } from './worker-ticker.js';
import { ircDoor } from '../irc-door/door-setup.js';

export class ChatWorker {
  readonly table: SessionTable;
  /** Who holds which nick: this node's table, or a cluster's Redis. */
  private readonly nicks: NickRegistry;
  private readonly admission: Admission;
  private readonly group: ClientGroup;
  private readonly bus: SequencedBus;
  private readonly store: StoreLink;
  private readonly files: FileService;
  private readonly ticker: WorkerTicker;
  private readonly feed: DashboardFeed;
  private readonly tcp: net.Server;
  /** The IRC door's listener (--irc-port), or null (--no-irc). */
  private readonly irc: net.Server | null;
  private lftp: LftpServer | null = null;
  private lftpPort = 0;
  private web: WebServer | null = null;
  /** Wrong-password records: this node's shared memory, told to the other nodes of a cluster. */
  private readonly records: (table: ThrottleTable, buffer: SharedArrayBuffer) => ThrottleRecords;
  /** A cluster's node: its files told to the other nodes, theirs offered here. */
  private readonly nodeFiles: NodeFiles | null;

  constructor(
    private readonly config: WorkerConfig,
    private readonly log: Logger,
    /** A line for the operator's console (the supervisor prints it). */
    private readonly notify: (text: string) => void,
    /** A cluster's Redis (--redis): nicks are held there for every node; null: this node's table holds them. */
    redis: RedisLink | null = null,
    /** The other workers, as this worker's LFTP endpoint asks and answers them (other-workers.ts). */
    private readonly handoffs: WorkerHandoffs | null = null,
  ) {
    const c = config;
    this.table = new SessionTable(c.tableBuffer);
    const descriptors = { sockets: new SocketBudget(c.socketBuffer, c.index), log };
    this.admission = new Admission(new AddressTable(c.addressBuffer), c.index, c.admission, descriptors);
    const stats = new WorkerStats(c.statsBuffer);
    if (redis) this.admission.elsewhere = sessionsElsewhere(redis, c.node);
    ({ files: this.files, nodeFiles: this.nodeFiles } = workerFiles(c, redis, log));
    this.ticker = new WorkerTicker(c.index, c.limits.intervalMs, stats, log);
    this.group = new ClientGroup(c.limits.maxClients, c.limits.maxFrame, c.limits.maxOutputBytes);
    // A refused message goes back to its sender, if it is still here.
    this.store = new StoreLink(
      c.storePort,
      (to, message) => this.group.deliverTo(to, encodeMessage(errorMessage('NOT_STORED', message, false))),
      // A history page is paid from the session's flood credits, then comes back on this port (history-reads.ts).
      {
        charge: (to, credits, paid) => this.group.charge(to, credits, paid),
        deliver: (to, frames) => frames.forEach((f) => this.group.deliverTo(to, f)),
      },
    );
    this.bus = new SequencedBus(new ThreadBus(c.busName, c.index, this.group, c.node), this.store, c.node);
    this.nicks = nickRegistry(this.table, c.node, redis, this.store);
    this.records = (table, buffer) => throttleRecords(table, buffer, redis, c.node);
    this.feed = new DashboardFeed({
      worker: c.index,
      workers: c.workers,
      serverName: c.serverName,
      busName: c.busName,
      table: this.table,
      stats,
      ...(redis ? { everyone: () => this.nicks.who() } : {}),
    });
    const host: ConnectionHost = {
      ...{ workerIndex: c.index, node: c.node },
      serverName: c.serverName,
      limits: c.limits,
      log,
      totals: this.ticker.totals,
      // Sub-millisecond wall time, so loopback RTTs are not all "0ms".
      clock: { wallNow: () => performance.timeOrigin + performance.now(), awakeNow: () => this.ticker.awakeNow() },
      timer: REAL_TIMER,
      ...{ table: this.table, nicks: this.nicks },
      bus: this.bus,
      sequencer: this.store,
      defaultRoom: c.defaultRoom,
      resumeWindowMs: c.resumeWindowMs,
      serverPassword:
        c.serverPassword === null
          ? null
          : new ServerPassword(c.serverPassword, new AuthThrottle(this.records('address', c.throttleBuffer))),
      accounts:
        c.accounts &&
        new AccountGate(
          this.store,
          new AuthThrottle(this.records('address', c.throttleBuffer)),
          this.records('nick', c.accounts.nickThrottleBuffer),
          c.accounts.allowPlainPasswords,
        ),
      sessions: this.group,
      qlogDir: c.qlogDir,
      admission: this.admission,
      files: filesPortOf(this.nodeFiles, this.files, c.limits.maxFrame, () => this.lftpPort, log),
      event: notify,
    };
    this.group.attach(host);
    this.tcp = chatListener(c.tls, log, this.group);
    this.irc = c.ircPort === null ? null : chatListener(c.tls, log, ircDoor(c, host, this.group, redis));
  }

  /** A file arrived (LFTP or HTTP): the room hears about it. */
  private stored({ name, size, nick }: { name: string; size: number; nick: string }): void {
    this.nodeFiles?.publishNow();
    this.notify(`* ${nick} shared ${name} (${formatBytes(size)})`);
    this.bus.post(encodeMessage({ type: 'NOTICE', event: 'shared', nick, name, size }));
  }

  /** TCP and LFTP first (worker-listeners.ts), then the IRC door and the web side, if any. Failures are ListenErrors. */
  async listen(): Promise<BoundPorts> {
    const { host, port, lftpPort, httpPort, ircPort } = this.config;
    let tcp = 0;
    let httpBound: number | null = null;
    let ircBound: number | null = null;
    try {
      const paired = await listenPaired(port, lftpPort, {
        listenTcp: (p) => listenTcp(this.tcp, 'tcp', host, p, this.log),
        closeTcp: () => new Promise((done) => this.tcp.close(() => done())),
        startLftp: (p) =>
          startChatLftp({
            host,
            port: p,
            files: this.files,
            maxTransfers: this.config.maxTransfers,
            congestion: this.config.congestion,
            qlogDir: this.config.qlogDir,
            log: this.log.child({ component: 'lftp' }),
            print: this.notify,
            stored: (info) => this.stored(info),
            ...(this.nodeFiles ? { elsewhere: this.nodeFiles.elsewhere } : {}),
            ...(this.handoffs ? { handoffs: this.handoffs } : {}),
          }),
      });
      tcp = paired.tcp;
      const lftp = paired.lftp;
      this.lftp = lftp.server;
      if (this.irc && ircPort !== null) ircBound = await listenTcp(this.irc, 'irc', host, ircPort, this.log);
      this.lftpPort = lftp.port;
      this.feed.watchTransfers(() => lftp.server.transfers());
      if (httpPort !== null) httpBound = await this.startWeb(host, httpPort);
      const { advertise, tls } = this.config;
      if (this.config.index === 0 && advertise !== null)
        this.nodeFiles?.publishEvery(advertise, lftp.port, httpBound, tls !== null);
    } catch (err) {
      this.tcp.close();
      this.irc?.close();
      await this.lftp?.close();
      this.feed.close();
      this.bus.close();
      throw err;
    }
    this.ticker.start(this.group);
    return { port: tcp, lftpPort: this.lftpPort, httpPort: httpBound, ircPort: ircBound };
  }

  private async startWeb(host: string, port: number): Promise<number> {
    const c = this.config;
    const log = this.log.child({ component: 'web' });
    const operator = new OperatorActions(this.nicks, this.bus, log, this.notify, 'dashboard', this.store, c.node);
    const admin =
      c.adminToken === null
        ? null
        : {
            auth: new AdminAuth(
              c.adminToken,
              c.adminSecret,
              new AuthThrottle(this.records('address', c.throttleBuffer)),
            ),
            hub: new AdminHub(
              {
                snapshot: (now) => this.feed.snapshot(now),
                broadcast: (t) => operator.broadcast(t),
                kick: (n, r) => operator.kick(n, r),
              },
              log,
            ),
          };
    const group = this.group;
    this.nodeFiles?.watchPeers();
    this.web = new WebServer(
      {
        maxFrame: c.limits.maxFrame,
        tls: c.tls,
        maxConnections: group.connectionLimit,
        admin,
        admission: this.admission,
        hosts: HostAllowList.forListenAddress(c.host, c.webHosts),
        headerTimeoutMs: c.webHeaderTimeoutMs,
        peers: () => this.nodeFiles?.webPeers ?? [],
      },
      {
        files: this.files,
        log,
        stored: (info) => this.stored(info),
        get closing() {
          return group.closing;
        },
        canAcceptSession: () => group.canAccept(),
        acceptChatSocket: (ws, socket) => group.acceptWebSocket(ws, socket),
      },
      log,
    );
    try {
      return await this.web.listen(host, port);
    } catch (err) {
      throw ListenError.from('web', host, port, err);
    }
  }

  /** Says goodbye to every client, waits (bounded) for their sockets to close, then closes the rest. */
  async shutdown(reason: string, graceMs = 3_000): Promise<void> {
    this.tcp.close();
    this.nodeFiles?.stop();
    this.irc?.close();
    await this.group.shutdown(reason, graceMs);
    this.ticker.stop(this.group);
    await this.web?.close();
    await this.lftp?.close();
    this.feed.close();
    this.bus.close();
    this.store.close();
  }

  /** The store thread died: messages are refused until storeUp() brings the restarted one's port. */
  storeDown(): void {
    this.store.detach();
  }
  storeUp(port: MessagePort): void {
    this.store.attach(port);
    // The new thread knows no one: each session and its rooms again, before anything else from here.
    for (const m of this.group.membersForRestore()) {
      this.store.send({
        k: 'restore',
        session: { ...m.ref, node: this.config.node, owner: this.config.index },
        nick: m.nick,
        version: m.version,
        rooms: m.rooms,
      });
    }
  }

  /** For /kill-worker --hold-lock: dies with the table lock held, to show the supervisor's repair. */
  takeLockForever(): void {
    this.table.mutex.lock();
  }
}
