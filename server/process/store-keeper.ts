/**
 * The supervisor's hold on the store thread: started before any worker, since
 * every room frame passes through it; started again when it dies, the workers
 * refusing messages (NOT_STORED) meanwhile instead of losing them; and the
 * supervisor's own link to it, for its room-wide posts and the operator's
 * requests. The thread's handle itself is store-thread.ts.
 */
import type { MessagePort } from 'node:worker_threads';
import { StoreLink } from '../store/store-link.js';
import type { SessionAddress } from '../bus/room-bus.js';
import type { StoreThreadConfig, ToStore } from '../store/store-messages.js';
import type { Logger } from '../logger.js';
import type { ServerOptions } from './options.js';
import { StoreThread, SUPERVISOR_PORT } from './store-thread.js';

export interface StoreKeeperHooks {
  /** A line for the server's console. */
  print(line: string): void;
  /** The thread died: the workers are told, and refuse messages until it is back. */
  down(): void;
  /** It is back: each worker is given a new port to it (connect()). */
  back(): void;
  /** The server is shutting down: the thread is not started again. */
  stopping(): boolean;
}

export class StoreKeeper {
  private store: StoreThread | null = null;
  private link: StoreLink | null = null;

  constructor(
    private readonly options: ServerOptions,
    private readonly busName: string,
    private readonly sessionBuffer: SharedArrayBuffer,
    /** The node's counts (shm/node-counts.ts): the thread writes its rooms there. */
    private readonly countsBuffer: SharedArrayBuffer,
    private readonly log: Logger,
    private readonly hooks: StoreKeeperHooks,
  ) {}

  /** Starts the thread (again, after it died), and links the supervisor to it. */
  async start(): Promise<void> {
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
        busName: this.busName,
        node: o.nodeId,
        redisUrl: o.redis?.url ?? null,
        logFile: o.logFile,
        logLevel: o.logLevel,
      },
      ...{
        sessionBuffer: this.sessionBuffer,
        countsBuffer: this.countsBuffer,
        resumeWindowMs: o.history.resumeWindowMs,
        fresh: this.store === null,
      },
    };
    this.store = await StoreThread.start(config, {
      fault: (fault) => this.hooks.print(`! history: ${fault.message}`),
      event: (text) => this.hooks.print(text),
      movedAside: (aside) =>
        this.hooks.print(`! history: the database was damaged; it was moved to ${aside} and a new one started`),
      died: (code) => void this.died(code),
    });
    const mine = this.store.connect(SUPERVISOR_PORT);
    if (this.link) this.link.attach(mine);
    else this.link = new StoreLink(mine, () => undefined);
  }

  /** Like a worker, the store thread is started again; meanwhile the workers refuse messages (NOT_STORED) instead of losing them. */
  private async died(code: number): Promise<void> {
    this.log.error({ code }, 'store thread died');
    this.hooks.print(`! the history store thread exited (code ${code}); restarting it`);
    this.link?.detach();
    this.hooks.down();
    for (let attempt = 0; attempt < 8 && !this.hooks.stopping(); attempt++) {
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      try {
        await this.start();
        this.hooks.back();
        this.log.info('store thread restarted');
        return this.hooks.print('* the history store is back');
      } catch (err) {
        this.log.error({ err, attempt }, 'store thread restart failed');
      }
    }
    this.hooks.print(
      '! the history store could not be restarted: messages are refused (NOT_STORED); restart the server',
    );
  }

  /** A new port to the store thread for worker `index`. */
  connect(index: number): MessagePort {
    return this.store!.connect(index);
  }

  /** A request from the supervisor itself (the operator's, a dead worker's sessions), in the order. */
  send(msg: ToStore): void {
    this.link?.send(msg);
  }

  /** A room-wide frame, sequenced with the messages; false when there is no link yet (the caller posts it directly). */
  /** A kick of a session on another node of the cluster, through the store thread's bus (nothing while it restarts). */
  kickElsewhere(target: SessionAddress, reason: string): void {
    this.link?.kickElsewhere(target, reason);
  }

  post(frame: Buffer): boolean {
    if (!this.link) return false;
    this.link.post(frame);
    return true;
  }

  /** Fault injection (/kill-store); false when it is not running. */
  crash(): boolean {
    return this.store?.crash() ?? false;
  }

  reopenLog(): void {
    this.store?.reopenLog();
  }

  /** After the workers: what they handed in is stored and posted before the database closes. */
  async stop(): Promise<void> {
    this.link?.close();
    await this.store?.stop();
  }
}
