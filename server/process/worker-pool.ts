/**
 * The chat workers as threads: each started with its config and its own port
 * to the store thread, started again after a crash (backing off a crash
 * loop), sent messages, and stopped at shutdown (terminated if they do not
 * stop in time). What a dead worker held in shared memory is repaired before
 * its replacement starts (the died hook: worker-repair.ts).
 */
import { Worker, type MessagePort } from 'node:worker_threads';
import { StartupError } from '../startup-error.js';
import { workerConfig, type SharedParts } from './worker-config.js';
import type { ServerOptions } from './options.js';
import { describeListenFailure } from '../listen-error.js';
import type { Logger } from '../logger.js';
import type { BoundPorts, FromWorker, ToWorker } from '../threads/messages.js';

/** The workers' time to stop before they are terminated (a node's stop bound, cluster-node.ts, counts it). */
export const SHUTDOWN_GRACE_MS = 5_000;

/** A worker that died: which one, and the thread it was (whose locks it may still hold). */
export interface DeadWorker {
  index: number;
  threadId: number;
}

interface WorkerSlot extends DeadWorker {
  worker: Worker;
  stopping: boolean;
  crashes: number[];
}

export interface WorkerPoolHooks {
  /** A line for the server's console. */
  print(line: string): void;
  /** A new port to the store thread for worker `index`. */
  storePort(index: number): MessagePort;
  /** A running worker died (not stopped): what it held is repaired and announced before it is replaced. */
  died(dead: DeadWorker, code: number): Promise<void>;
  /** The server is shutting down: nothing is restarted. */
  stopping(): boolean;
}

export class WorkerPool {
  private readonly workers = new Map<number, WorkerSlot>();
  /** The ports the workers listen on: the first worker's, which the others and every replacement take. */
  bound: BoundPorts = { port: 0, lftpPort: 0, httpPort: null, ircPort: null };

  constructor(
    private readonly options: ServerOptions,
    private readonly shared: SharedParts,
    private readonly log: Logger,
    private readonly hooks: WorkerPoolHooks,
  ) {}

  /** Starts worker `index` and resolves with the ports it listens on. */
  spawn(index: number, ports: BoundPorts, crashes: number[] = []): Promise<BoundPorts> {
    const storePort = this.hooks.storePort(index);
    const config = workerConfig(this.options, this.shared, index, ports, storePort);
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
            resolve({ port: msg.port, lftpPort: msg.lftpPort, httpPort: msg.httpPort, ircPort: msg.ircPort });
            return;
          case 'listen-error':
            reject(new StartupError(msg.failure.code, describeListenFailure(msg.failure)));
            return;
          case 'event':
            this.hooks.print(msg.text);
            return;
          case 'closed':
            slot.stopping = true;
            return;
          // One worker's LFTP post asks another's transfer to give way (files/writer-claim.ts); a worker that is
          // not running holds nothing once repaired, and its asker must not wait for it.
          case 'give-way':
            if (!this.send(msg.worker, { k: 'give-way', id: msg.id, from: index, key: msg.key, address: msg.address }))
              worker.postMessage({ k: 'gave-way', id: msg.id, answer: 'gone' } satisfies ToWorker);
            return;
          case 'gave-way':
            this.send(msg.to, { k: 'gave-way', id: msg.id, answer: msg.answer });
            return;
        }
      });
      worker.on('error', (err) => this.log.error({ err, worker: index }, 'worker error'));
      worker.on('exit', (code) => {
        if (!listening) {
          reject(new StartupError('WORKER_FAILED', `worker ${index} exited with code ${code} before listening`));
          return;
        }
        void this.onExit(slot, code);
      });
    });
  }

  /** The dead worker's shares repaired (the died hook), then a replacement starts. */
  private async onExit(slot: WorkerSlot, code: number): Promise<void> {
    if (this.workers.get(slot.index) === slot && !slot.stopping && !this.hooks.stopping()) {
      this.workers.delete(slot.index);
    } else if (slot.stopping || this.hooks.stopping()) {
      return;
    }
    await this.hooks.died(slot, code);
    if (this.hooks.stopping()) return;
    const now = Date.now();
    const crashes = [...slot.crashes.filter((t) => now - t < 60_000), now];
    // Back off a crash loop: 100ms, 200ms, ... up to 10s between restarts.
    const delay = Math.min(10_000, 100 * 2 ** (crashes.length - 1));
    setTimeout(() => {
      if (this.hooks.stopping()) return;
      this.spawn(slot.index, this.bound, crashes).then(
        () => this.log.info({ worker: slot.index }, 'worker restarted'),
        (err: Error) => {
          this.log.error({ err, worker: slot.index }, 'worker restart failed');
          this.hooks.print(`! worker ${slot.index} could not be restarted: ${err.message}`);
        },
      );
    }, delay).unref();
  }

  /** Whether worker `index` is running. */
  has(index: number): boolean {
    return this.workers.has(index);
  }

  send(index: number, msg: ToWorker): boolean {
    const slot = this.workers.get(index);
    if (!slot) return false;
    slot.worker.postMessage(msg);
    return true;
  }

  /** To every running worker. */
  sendAll(msg: ToWorker): void {
    [...this.workers.keys()].forEach((i) => this.send(i, msg));
  }

  /** The store thread is back: each running worker gets a new port to it. */
  reconnectStore(): void {
    for (const slot of this.workers.values()) {
      const port = this.hooks.storePort(slot.index);
      slot.worker.postMessage({ k: 'store-port', port } satisfies ToWorker, [port]);
    }
  }

  /** Bye to every client: each worker drains and stops; those that do not within the grace are terminated. */
  async stop(reason: string): Promise<void> {
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
      this.log.warn('workers did not stop in time; terminating them');
      await Promise.all([...this.workers.values()].map((s) => s.worker.terminate()));
    }
  }
}
