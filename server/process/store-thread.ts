/**
 * The supervisor's handle on the store thread (server/store/store-main.ts):
 * started before any worker, since every room frame passes through it; one
 * MessageChannel per worker (and one for the supervisor's own posts); stopped
 * after the workers, so that what they handed in is stored and posted first.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { StartupError } from '../startup-error.js';
import type { StoreReport, StoreThreadConfig, ToStoreThread } from '../store/store-messages.js';

/** The store thread's time to stop before it is terminated (a node's stop bound, cluster-node.ts, counts it). */
export const STOP_TIMEOUT_MS = 10_000;

export interface StoreEvents {
  /** The store failed at work (the disk is full); the message says what. */
  fault(report: Extract<StoreReport, { k: 'fault' }>): void;
  /** A line for the operator's console (a session timed out). */
  event(text: string): void;
  /** A damaged database was moved to `path` and a new one started. */
  movedAside(path: string): void;
  /** The thread ended without being asked to (a crash): it must be started again. */
  died(code: number): void;
}

/** The index the supervisor's own port is known by in the store thread. */
export const SUPERVISOR_PORT = -1;

export class StoreThread {
  private constructor(
    private readonly worker: Worker,
    /** Where the history lives (null: --no-history), and its epoch. */
    readonly file: string | null,
    readonly epoch: string,
  ) {}

  private stopping = false;

  /** Starts the thread; resolves once the store is open, or rejects with a StartupError saying why it cannot be. */
  static start(config: StoreThreadConfig, events: StoreEvents): Promise<StoreThread> {
    const worker = new Worker(new URL('../store/store-main.js', import.meta.url), { workerData: config });
    return new Promise((resolve, reject) => {
      let thread: StoreThread | null = null;
      worker.on('message', (msg: StoreReport) => {
        if (msg.k === 'ready') {
          thread = new StoreThread(worker, msg.file, msg.epoch);
          if (msg.movedAside) events.movedAside(msg.movedAside);
          resolve(thread);
        } else if (msg.k === 'open-failed') reject(new StartupError(msg.code, msg.message));
        else if (msg.k === 'event') events.event(msg.text);
        else events.fault(msg);
      });
      worker.on('error', (err) => {
        if (!thread) reject(new StartupError('STORE_FAILED', `the store thread failed: ${err.message}`));
      });
      worker.on('exit', (code) => {
        if (!thread)
          reject(
            new StartupError('STORE_FAILED', `the store thread exited with code ${code} before the store was open`),
          );
        else if (!thread.stopping) events.died(code);
      });
    });
  }

  /** A new port to the store thread for worker `index` (or SUPERVISOR_PORT); its other end goes to the thread. */
  connect(index: number): MessagePort {
    const { port1, port2 } = new MessageChannel();
    this.worker.postMessage({ k: 'port', worker: index, port: port1 } satisfies ToStoreThread, [port1]);
    return port2;
  }

  /** Fault injection (/kill-store): the thread throws, as a bug would make it; false when it is not running. */
  crash(): boolean {
    if (this.stopping) return false;
    this.worker.postMessage({ k: 'crash' } satisfies ToStoreThread);
    return true;
  }

  reopenLog(): void {
    this.worker.postMessage({ k: 'reopen-log' });
  }

  /** Lets the thread store and post what it holds, close the database, and exit (bounded). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.worker.threadId === -1) return; // already gone
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ k: 'shutdown' } satisfies ToStoreThread);
    const timer = setTimeout(() => void this.worker.terminate(), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}
