/**
 * The main thread of chat-server: starts the workers, owns the session table
 * and repairs it when a worker dies, relays operator commands, and shuts
 * everything down in order.
 */
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { writeLineSync } from '../../common/sync-output.js';
import { AddressTable } from '../shm/address-table.js';
import { SocketBudget } from '../shm/socket-budget.js';
import { SharedThrottleRecords } from '../shm/shared-throttle.js';
import { planSockets, type SocketPlan } from './fd-plan.js';
import { StartupError } from './startup-error.js';
import { PRE_HELLO_ALLOWANCE } from '../chat/admission.js';
import { SessionTable } from '../shm/session-table.js';
import { TicketTable } from '../shm/ticket-table.js';
import { UploadLedger } from '../shm/upload-ledger.js';
import { SharedMutex } from '../../common/shared-mutex.js';
import { WorkerStats } from '../shm/worker-stats.js';
import { ThreadBus } from '../bus/thread-bus.js';
import { SequencedBus } from '../bus/sequenced-bus.js';
import { StoreLink } from '../store/store-link.js';
import { StoreThread, SUPERVISOR_PORT } from './store-thread.js';
import { startTls } from '../tls/certificate.js';
import { listeningLines } from './listening-lines.js';
import type { StoreThreadConfig } from '../store/store-messages.js';
import { workerConfig, type SharedParts } from './worker-config.js';
import { assertPortFree, prepareFilesDir } from './startup-checks.js';
import { OperatorActions } from '../store/operator-actions.js';
import { describeListenFailure } from '../listen-error.js';
import { openLog, type OpenLog } from '../logger.js';
import { OperatorConsole } from './operator-console.js';
import type { TerminalScreen } from '../../common/terminal/screen.js';
import type { ServerOptions } from './options.js';
import type { BoundPorts, FromWorker, ToWorker } from '../thread-messages.js';

const SHUTDOWN_GRACE_MS = 5_000;

interface WorkerSlot {
  index: number;
  worker: Worker;
  threadId: number;
  stopping: boolean;
  crashes: number[];
}

export class Supervisor {
  readonly table: SessionTable;
  readonly addresses: AddressTable;
  readonly stats = WorkerStats.create();
  private readonly shared: SharedParts;
  private lftpPort = 0;
  private httpPort: number | null = null;
  private readonly bus: SequencedBus;
  private store: StoreThread | null = null;
  private storeLink: StoreLink | null = null;
  private readonly operator: OperatorActions;
  private readonly workers = new Map<number, WorkerSlot>();
  private readonly log: OpenLog;
  private port = 0;
  private shuttingDown: Promise<void> | null = null;
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
    this.table = SessionTable.create(options.maxClients);
    // Room for every session and every not-yet-HELLO connection from a different address, twice over.
    this.addresses = AddressTable.create(
      2 * (options.maxClients + PRE_HELLO_ALLOWANCE * options.workers),
      options.workers,
    );
    this.shared = {
      table: this.table,
      addresses: this.addresses,
      sockets: SocketBudget.create(plan.socketLimit, options.workers),
      ...{ throttle: SharedThrottleRecords.create(), nickThrottle: SharedThrottleRecords.create() },
      tickets: TicketTable.create(),
      uploads: UploadLedger.create(),
      stats: this.stats,
      busName: `chat-bus-${process.pid}-${randomBytes(4).toString('hex')}`,
      adminSecret: randomBytes(32).toString('hex'),
      serverName: `chat-server/${version}`,
      tls: null,
    };
    // The supervisor has no sessions: it only posts (operator broadcasts and kicks, notices for a dead worker's
    // sessions), room-wide posts through the store thread's sequencer like everyone's.
    const direct = new ThreadBus(this.shared.busName, null, null);
    this.bus = new SequencedBus(direct, {
      post: (frame) => (this.storeLink ? this.storeLink.post(frame) : direct.post(frame)),
    });
    const reopenLogs = () => {
      [...this.workers.keys()].forEach((i) => this.toWorker(i, { k: 'reopen-log' }));
      this.store?.reopenLog();
    };
    this.log = openLog(
      options.logFile,
      options.logLevel,
      { worker: 'supervisor' },
      { ...options.logRotation, onRotated: reopenLogs },
    );
    this.operator = new OperatorActions(this.table, this.bus, this.log.logger, print, '', {
      send: (m) => this.storeLink?.send(m),
    });
  }

  /** The store thread first: every room frame passes through it. */
  private async startStore(): Promise<void> {
    const o = this.options;
    const config: StoreThreadConfig = {
      ...{
        dataDir: o.history.dataDir,
        retention: o.history.retention,
        historyOnJoin: o.history.onJoin,
        pruneEveryMs: 60_000,
      },
      ...{
        defaultRoom: o.rooms.defaultRoom,
        rooms: o.rooms.limits,
        maxFrame: o.maxFrame,
        busName: this.shared.busName,
        logFile: o.logFile,
        logLevel: o.logLevel,
      },
      ...{ sessionBuffer: this.table.buffer, resumeWindowMs: o.history.resumeWindowMs, fresh: this.store === null },
    };
    this.store = await StoreThread.start(config, {
      fault: (fault) => this.print(`! history: ${fault.message}`),
      event: (text) => this.print(text),
      movedAside: (aside) =>
        this.print(`! history: the database was damaged; it was moved to ${aside} and a new one started`),
      died: (code) => void this.storeDied(code),
    });
    const mine = this.store.connect(SUPERVISOR_PORT);
    if (this.storeLink) this.storeLink.attach(mine);
    else this.storeLink = new StoreLink(mine, () => undefined);
  }

  /** Like a worker, the store thread is started again; meanwhile the workers refuse messages (NOT_STORED) instead of losing them. */
  private async storeDied(code: number): Promise<void> {
    this.log.logger.error({ code }, 'store thread died');
    this.print(`! the history store thread exited (code ${code}); restarting it`);
    this.storeLink?.detach();
    for (const i of this.workers.keys()) this.toWorker(i, { k: 'store-down' });
    for (let attempt = 0; attempt < 8 && !this.shuttingDown; attempt++) {
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      try {
        await this.startStore();
        for (const slot of this.workers.values()) {
          const port = this.store!.connect(slot.index);
          slot.worker.postMessage({ k: 'store-port', port } satisfies ToWorker, [port]);
        }
        this.log.logger.info('store thread restarted');
        return this.print('* the history store is back');
      } catch (err) {
        this.log.logger.error({ err, attempt }, 'store thread restart failed');
      }
    }
    this.print('! the history store could not be restarted: messages are refused (NOT_STORED); restart the server');
  }

  get listeningPort(): number {
    return this.port;
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
    if (port !== 0) await assertPortFree(host, port, 'tcp');
    if (httpPort) await assertPortFree(host, httpPort, 'web');
    const tls = await startTls(this.options.tls);
    this.shared.tls = tls.tls;
    await this.startStore();
    const first = await this.spawn(0, port, this.options.lftpPort ?? -1, httpPort);
    this.port = first.port;
    this.lftpPort = first.lftpPort;
    this.httpPort = first.httpPort;
    await Promise.all(
      Array.from({ length: workers - 1 }, (_, i) => this.spawn(i + 1, this.port, this.lftpPort, this.httpPort)),
    );
    this.log.logger.info(
      {
        host,
        port: this.port,
        lftpPort: this.lftpPort,
        httpPort: this.httpPort,
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
      port: this.port,
      lftpPort: this.lftpPort,
      httpPort: this.httpPort,
      tlsLine: tls.line,
      filesDir: this.options.filesDir,
      admin: this.options.adminToken !== null,
    }))
      this.print(line);
  }

  /** Starts worker `index` and resolves with the ports it listens on. */
  private spawn(
    index: number,
    port: number,
    lftpPort: number,
    httpPort: number | null,
    crashes: number[] = [],
  ): Promise<BoundPorts> {
    const storePort = this.store!.connect(index);
    const config = workerConfig(this.options, this.shared, index, { port, lftpPort, httpPort }, storePort);
    const worker = new Worker(new URL('../worker/worker-main.js', import.meta.url), {
      workerData: config,
      transferList: [storePort],
    });
    const slot: WorkerSlot = { index, worker, threadId: worker.threadId, stopping: false, crashes };
    this.workers.set(index, slot);
    return new Promise((resolve, reject) => {
      let listening = false;
      worker.on('message', (msg: FromWorker) => {
        switch (msg.k) {
          case 'listening':
            listening = true;
            resolve({ port: msg.port, lftpPort: msg.lftpPort, httpPort: msg.httpPort });
            return;
          case 'listen-error':
            reject(new StartupError(msg.failure.code, describeListenFailure(msg.failure)));
            return;
          case 'event':
            this.print(msg.text);
            return;
          case 'closed':
            slot.stopping = true;
            return;
        }
      });
      worker.on('error', (err) => this.log.logger.error({ err, worker: index }, 'worker error'));
      worker.on('exit', (code) => {
        if (!listening) {
          reject(new StartupError('WORKER_FAILED', `worker ${index} exited with code ${code} before listening`));
          return;
        }
        void this.onWorkerExit(slot, code);
      });
    });
  }

  /** Robust-mutex repair, then the dead worker's sessions are freed and announced, then a replacement starts. */
  private async onWorkerExit(slot: WorkerSlot, code: number): Promise<void> {
    if (this.workers.get(slot.index) === slot && !slot.stopping && !this.shuttingDown) {
      this.workers.delete(slot.index);
    } else if (slot.stopping || this.shuttingDown) {
      return;
    }
    const repaired = SharedMutex.releaseIfHeldBy(this.table.i32, this.table.lockWordIndex, slot.threadId);
    const orphans = await this.table.mutex.withLockAsync(() => this.table.orphanOwnedByLocked(slot.index));
    const [freed, away] = [orphans.filter((s) => !s.away), orphans.filter((s) => s.away)];
    const addressRepaired = SharedMutex.releaseIfHeldBy(
      this.addresses.i32,
      this.addresses.lockWordIndex,
      slot.threadId,
    );
    await this.addresses.releaseWorker(slot.index);
    this.shared.tickets.releaseWorker(slot.index);
    this.shared.sockets.releaseWorker(slot.index);
    for (const t of [this.shared.uploads, this.shared.throttle])
      SharedMutex.releaseIfHeldBy(new Int32Array(t.buffer), t.lockWordIndex, slot.threadId);
    this.log.logger.error(
      { worker: slot.index, code, lockRepaired: repaired, addressLockRepaired: addressRepaired, freed: freed.length },
      'worker died',
    );
    this.print(
      `! worker ${slot.index} exited (code ${code})${repaired ? '; it held the session table lock, released' : ''}; ` +
        `${freed.length} session${freed.length === 1 ? '' : 's'} freed, ${away.length} kept for resuming; restarting it`,
    );
    for (const s of orphans)
      this.print(`* ${s.nick} ${s.away ? 'lost connection' : 'left'} (worker ${slot.index} died)`);
    // Their rooms hear it from the store thread, which knows who was in which.
    this.storeLink?.send({
      k: 'worker-died',
      worker: slot.index,
      reason: 'server worker restarted',
      away: away.map(({ slot: s, generation }) => ({ slot: s, generation })),
    });
    if (this.shuttingDown) return;
    const now = Date.now();
    const crashes = [...slot.crashes.filter((t) => now - t < 60_000), now];
    // Back off a crash loop: 100ms, 200ms, ... up to 10s between restarts.
    const delay = Math.min(10_000, 100 * 2 ** (crashes.length - 1));
    setTimeout(() => {
      if (this.shuttingDown) return;
      this.spawn(slot.index, this.port, this.lftpPort, this.httpPort, crashes).then(
        () => this.log.logger.info({ worker: slot.index }, 'worker restarted'),
        (err: Error) => {
          this.log.logger.error({ err, worker: slot.index }, 'worker restart failed');
          this.print(`! worker ${slot.index} could not be restarted: ${err.message}`);
        },
      );
    }, delay).unref();
  }

  private toWorker(index: number, msg: ToWorker): boolean {
    const slot = this.workers.get(index);
    if (!slot) return false;
    slot.worker.postMessage(msg);
    return true;
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
        isRunning: (w) => this.workers.has(w),
        toWorker: (w, msg) => this.toWorker(w, msg),
        crashStore: () => this.store?.crash() ?? false,
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
      const exits = [...this.workers.values()].map(
        (slot) =>
          new Promise<void>((resolve) => {
            slot.stopping = true;
            slot.worker.once('exit', () => resolve());
            slot.worker.postMessage({ k: 'shutdown', reason } satisfies ToWorker);
          }),
      );
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), SHUTDOWN_GRACE_MS).unref());
      if ((await Promise.race([Promise.all(exits), timer])) === 'timeout') {
        this.log.logger.warn('workers did not stop in time; terminating them');
        await Promise.all([...this.workers.values()].map((s) => s.worker.terminate()));
      }
      // After the workers: what they handed in is stored and posted before the database closes.
      this.storeLink?.close();
      await this.store?.stop();
      this.bus.close();
      this.log.logger.info('stopped');
      this.log.flush();
      this.resolveStopped();
    })();
    return this.shuttingDown;
  }
}
