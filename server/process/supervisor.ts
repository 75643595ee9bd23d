/**
 * The main thread of chat-server: starts the workers, owns the session table
 * and repairs it when a worker dies, relays operator commands, and shuts
 * everything down in order. The threads are worker-pool.ts's and
 * store-keeper.ts's to run; the repair is worker-repair.ts.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { writeLineSync } from '../../common/sync-output.js';
import { AddressTable } from '../shm/address-table.js';
import { SocketBudget } from '../shm/socket-budget.js';
import { planSockets, type SocketPlan } from './fd-plan.js';
import { StartupError } from '../startup-error.js';
import { PRE_HELLO_ALLOWANCE } from '../chat/admission.js';
import { SessionTable } from '../shm/session-table.js';
import { WorkerStats } from '../shm/worker-stats.js';
import { ThreadBus } from '../bus/thread-bus.js';
import { SequencedBus } from '../bus/sequenced-bus.js';
import { LocalNickRegistry } from '../bus/nick-registry.js';
import { StoreKeeper } from './store-keeper.js';
import { WorkerPool, type DeadWorker } from './worker-pool.js';
import { releaseDeadWorker } from './worker-repair.js';
import { startTls } from '../tls/certificate.js';
import { listeningLines } from './listening-lines.js';
import { secretSource, type SecretSource } from './secret-source.js';
import { freshTables, type SharedParts } from './worker-config.js';
import { assertPortFree, prepareFilesDir } from './startup-checks.js';
import { OperatorActions } from '../store/operator-actions.js';
import { openLog, type OpenLog } from '../logger.js';
import { OperatorConsole } from './operator-console.js';
import type { TerminalScreen } from '../../common/terminal/screen.js';
import { type ServerOptions, ircListenPort } from './options.js';
import { ClusterNode } from './cluster-node.js';
import { sessionKey } from '../bus/node-id.js';
import type { RedisTarget } from '../cluster/redis-url.js';
import { datagramPath } from '../../common/lftp/native/load.js';

export class Supervisor {
  readonly table: SessionTable;
  readonly addresses: AddressTable;
  readonly stats = WorkerStats.create();
  private readonly shared: SharedParts;
  private readonly bus: SequencedBus;
  private readonly store: StoreKeeper;
  private readonly workers: WorkerPool;
  private readonly operator: OperatorActions;
  private readonly log: OpenLog;
  private shuttingDown: Promise<void> | null = null;
  /** --redis: this node's part in the cluster (its lease, the shared secrets); null: a single node. */
  private cluster: ClusterNode | null = null;
  private resolveStopped: () => void = () => undefined;
  /** Settles once shutdown() has finished: workers stopped, logs flushed. */
  readonly stopped = new Promise<void>((resolve) => (this.resolveStopped = resolve));

  constructor(
    private readonly options: ServerOptions,
    version: string,
    private readonly print: (line: string) => void = (line) => writeLineSync(1, line),
    private readonly plan: SocketPlan = planSockets(null, {
      maxClients: options.maxClients,
      workers: options.workers,
      web: options.httpPort !== null,
    }),
  ) {
    // A cluster's node starts its generations at random: its previous run's session keys name no one of this run.
    this.table = SessionTable.create(options.maxClients, options.redis ? randomInt(1, 2 ** 30) : 0);
    // Room for every session and every not-yet-HELLO connection from a different address, twice over.
    this.addresses = AddressTable.create(
      2 * (options.maxClients + PRE_HELLO_ALLOWANCE * options.workers),
      options.workers,
    );
    this.shared = {
      table: this.table,
      addresses: this.addresses,
      sockets: SocketBudget.create(plan.socketLimit, options.workers),
      ...freshTables(options.maxClients),
      stats: this.stats,
      busName: `chat-bus-${process.pid}-${randomBytes(4).toString('hex')}`,
      adminSecret: '', // start(): the SecretSource's
      serverName: `chat-server/${version}`,
      tls: null,
    };
    // The supervisor has no sessions: it only posts (operator broadcasts and kicks, notices for a dead worker's
    // sessions), room-wide posts through the store thread's sequencer like everyone's.
    const direct = new ThreadBus(this.shared.busName, null, null, options.nodeId, true);
    this.bus = new SequencedBus(
      direct,
      {
        post: (frame) => {
          if (!this.store.post(frame)) direct.post(frame);
        },
        kickElsewhere: (target, reason) => this.store.kickElsewhere(target, reason),
      },
      options.nodeId,
    );
    const reopenLogs = () => {
      this.workers.sendAll({ k: 'reopen-log' });
      this.store.reopenLog();
    };
    this.log = openLog(
      options.logFile,
      options.logLevel,
      // Its own lines say thread, so that a line about a worker can name it as "worker" (once: pino writes both).
      { thread: 'supervisor' },
      { ...options.logRotation, onRotated: reopenLogs },
    );
    const stopping = () => this.shuttingDown !== null;
    const buffers = [this.table.buffer, this.shared.counts.buffer] as const;
    this.store = new StoreKeeper(options, this.shared.busName, ...buffers, this.log.logger, {
      print,
      down: () => this.workers.sendAll({ k: 'store-down' }),
      back: () => this.workers.reconnectStore(),
      stopping,
    });
    this.workers = new WorkerPool(options, this.shared, this.log.logger, {
      print,
      storePort: (index) => this.store.connect(index),
      died: (dead, code) => this.workerDied(dead, code),
      stopping,
    });
    // A cluster's node finds nicks on every node (its registry is there once it has joined).
    const local = new LocalNickRegistry(this.table, options.nodeId);
    this.operator = new OperatorActions(
      { lookup: (nick) => (this.cluster?.nicks ?? local).lookup(nick) },
      this.bus,
      this.log.logger,
      print,
      '',
      { send: (m) => this.store.send(m) },
      options.nodeId,
    );
  }

  get listeningPort(): number {
    return this.workers.bound.port;
  }

  async start(): Promise<void> {
    const { host, port, workers } = this.options;
    prepareFilesDir(this.options.filesDir, this.log.logger);
    const web = this.options.httpPort; // null: --no-web; undefined: the TCP port + 1
    const httpPort = web === null ? null : (web ?? (port === 0 ? 0 : port + 1));
    if (httpPort !== null && httpPort > 65535)
      throw new StartupError(
        'HTTP_PORT',
        `the web port would be ${httpPort}: choose one with --http-port, or --no-web`,
      );
    const ircPort = ircListenPort(this.options);
    if (port !== 0) await assertPortFree(host, port, 'tcp');
    if (httpPort) await assertPortFree(host, httpPort, 'web');
    if (ircPort) await assertPortFree(host, ircPort, 'irc');
    const tls = await startTls(this.options.tls);
    this.shared.tls = tls.tls;
    if (this.options.redis) this.cluster = await this.joinCluster(this.options.redis);
    await this.useSecrets(this.cluster?.secrets ?? secretSource(this.options.history.dataDir));
    // The store thread first: every room frame passes through it.
    await this.store.start();
    await this.cluster?.present();
    const bound = await this.workers.spawn(0, { port, lftpPort: this.options.lftpPort ?? -1, httpPort, ircPort });
    this.workers.bound = bound;
    await Promise.all(Array.from({ length: workers - 1 }, (_, i) => this.workers.spawn(i + 1, bound)));
    this.log.logger.info(
      {
        host,
        port: bound.port,
        lftpPort: bound.lftpPort,
        httpPort: bound.httpPort,
        ircPort: bound.ircPort,
        workers,
        sockets: this.plan.socketLimit,
        options: {
          ...this.options,
          adminToken: this.options.adminToken ? '(set)' : null,
          secrets: { ...this.options.secrets, serverPassword: this.options.secrets.serverPassword ? '(set)' : null },
        },
      },
      'listening',
    );
    if (this.plan.warning) this.log.logger.warn(this.plan.warning);
    for (const line of listeningLines({
      host,
      workers,
      port: bound.port,
      lftpPort: bound.lftpPort,
      httpPort: bound.httpPort,
      ircPort: bound.ircPort,
      tlsLine: tls.line,
      filesDir: this.options.filesDir,
      admin: this.options.adminToken !== null,
      datagramPath: datagramPath(),
    }))
      this.print(line);
  }

  /**
   * The IRC door's port: --irc-port, or IRC's own (6697 with TLS, 6667 without); with --port 0 (a port the
   * system picks, as tests use) a picked one too, as the web port's; null with --no-irc.
   */
  /** Before anything that uses the cluster: this node's lease, and where the shared secrets are. */
  private async joinCluster(target: RedisTarget): Promise<ClusterNode> {
    const node = await ClusterNode.join(
      target,
      this.options.nodeId,
      this.table,
      { leaseMs: this.options.nodeLeaseMs, resumeWindowMs: this.options.history.resumeWindowMs },
      this.log.logger,
      {
        print: this.print,
        lost: (sessions) => {
          for (const s of sessions)
            this.bus.kick({ node: this.options.nodeId, ...s, owner: -1 }, 'this node lost its place in the cluster');
        },
        nodeGone: (away, ended, reason) => this.store.send({ k: 'node-gone', away, ended, reason }),
      },
    );
    await node.shareThrottles(target, { address: this.shared.throttle, nick: this.shared.nickThrottle });
    this.print(`* node ${this.options.nodeId} joined the cluster at ${target.shown}`);
    return node;
  }

  /** The secrets tickets and dashboard cookies are signed with, from one source, before any worker starts. */
  private async useSecrets(source: SecretSource): Promise<void> {
    this.shared.tickets.useSecret(await source.secret('ticket'));
    this.shared.adminSecret = (await source.secret('admin-cookie')).toString('hex');
  }

  /** Robust-mutex repair, then the dead worker's sessions are freed and announced; its replacement starts after. */
  private async workerDied(dead: DeadWorker, code: number): Promise<void> {
    const { lockRepaired, addressLockRepaired, orphans } = await releaseDeadWorker(this.shared, dead);
    const [freed, away] = [orphans.filter((s) => !s.away), orphans.filter((s) => s.away)];
    this.log.logger.error(
      { worker: dead.index, code, lockRepaired, addressLockRepaired, freed: freed.length },
      'worker died',
    );
    this.print(
      `! worker ${dead.index} exited (code ${code})${lockRepaired ? '; it held the session table lock, released' : ''}; ` +
        `${freed.length} session${freed.length === 1 ? '' : 's'} freed, ${away.length} kept for resuming; restarting it`,
    );
    for (const s of orphans)
      this.print(`* ${s.nick} ${s.away ? 'lost connection' : 'left'} (worker ${dead.index} died)`);
    const irc = freed.filter((s) => this.shared.ircPeople.read(s) !== null);
    this.cluster?.peopleGone(irc.map((s) => sessionKey({ node: this.options.nodeId, ...s })));
    // Their rooms hear it from the store thread, which knows who was in which.
    this.store.send({
      k: 'worker-died',
      worker: dead.index,
      reason: 'server worker restarted',
      away: away.map(({ slot: s, generation }) => ({ slot: s, generation })),
    });
  }

  /** The operator's console on `input` (the server's stdin); on a terminal, a line editor drawn through `screen`. */
  attachConsole(input: NodeJS.ReadStream, screen: TerminalScreen | null = null): void {
    new OperatorConsole(
      {
        table: this.table,
        stats: this.stats,
        workers: this.options.workers,
        heartbeatIntervalMs: this.options.heartbeatIntervalMs,
        actions: this.operator,
        sessions: () => this.cluster?.nicks.who() ?? Promise.resolve(this.table.snapshot()),
        node: this.options.nodeId,
        isRunning: (w) => this.workers.has(w),
        toWorker: (w, msg) => this.workers.send(w, msg),
        crashStore: () => this.store.crash(),
        shutdown: (reason, cause) => this.shutdown(reason, cause),
      },
      this.log.logger,
      this.print,
    ).attach(input, screen);
  }

  /** Bye to every client, workers drained and stopped, logs flushed. Idempotent. */
  shutdown(reason: string, cause: string = reason): Promise<void> {
    if (this.shuttingDown) return this.shuttingDown;
    this.shuttingDown = (async () => {
      this.print(`shutting down (${cause})`);
      this.log.logger.info({ reason, cause }, 'shutting down');
      await this.workers.stop(reason);
      // After the workers: what they handed in is stored and posted before the database closes.
      await this.store.stop();
      await this.cluster?.leave();
      this.bus.close();
      this.log.logger.info('stopped');
      this.log.flush();
      this.resolveStopped();
    })();
    return this.shuttingDown;
  }
}
