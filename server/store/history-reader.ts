/**
 * Where HISTORY_REQUEST pages are read: the reader thread
 * (history-reader-main.ts), on a read-only connection of its own beside the
 * store thread's writer, so that a page of megabytes never holds up the
 * order (issue 31, item 3); or, without a database file (--no-history, unit
 * tests), the store's own ReadSource on the store thread.
 */
import { Worker } from 'node:worker_threads';
import type { ConversationKey } from './history.js';
import {
  answerFrames,
  planFrom,
  unpackFrames,
  type AnswerWhere,
  type PackedFrames,
  type PageAsk,
  type PagePlan,
  type ReadSource,
} from './history-pages.js';
import { StoreError } from './store-error.js';

export interface HistoryReader {
  /** Which entries the page holds and their size, from ids and sizes alone. */
  plan(conv: ConversationKey, parties: readonly string[] | null, ask: PageAsk): Promise<PagePlan>;
  /** The planned entries, read and framed. */
  frames(
    conv: ConversationKey,
    parties: readonly string[] | null,
    plan: PagePlan,
    where: AnswerWhere,
    maxFrame: number,
  ): Promise<Buffer[]>;
  close(): void;
}

/** The store thread reads itself (no file to open a second connection on). */
export class InlineReader implements HistoryReader {
  constructor(private readonly source: () => ReadSource) {}
  async plan(conv: ConversationKey, parties: readonly string[] | null, ask: PageAsk): Promise<PagePlan> {
    return planFrom(this.source(), conv, parties, ask);
  }
  async frames(
    conv: ConversationKey,
    parties: readonly string[] | null,
    plan: PagePlan,
    where: AnswerWhere,
    maxFrame: number,
  ): Promise<Buffer[]> {
    return answerFrames(this.source(), conv, parties, plan, where, maxFrame);
  }
  close(): void {}
}

/** What the store thread asks the reader thread. */
export type ToReader =
  | { k: 'plan'; seq: number; conv: string; parties: readonly string[] | null; ask: PageAsk }
  | {
      k: 'frames';
      seq: number;
      conv: string;
      parties: readonly string[] | null;
      plan: PagePlan;
      where: AnswerWhere;
      maxFrame: number;
    };

/** Its answers (error: the read failed; code: the StoreError's). */
export type FromReader =
  | { seq: number; plan: PagePlan }
  | { seq: number; frames: PackedFrames }
  | { seq: number; error: string; code: StoreError['code'] };

/** The reader thread: started on first use, and again after it died (the reads it had are refused). */
export class ThreadReader implements HistoryReader {
  private worker: Worker | null = null;
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (v: FromReader) => void; reject: (e: Error) => void }>();

  constructor(private readonly file: string) {}

  plan(conv: ConversationKey, parties: readonly string[] | null, ask: PageAsk): Promise<PagePlan> {
    return this.ask({ k: 'plan', seq: 0, conv, parties, ask }).then((r) => (r as { plan: PagePlan }).plan);
  }

  frames(
    conv: ConversationKey,
    parties: readonly string[] | null,
    plan: PagePlan,
    where: AnswerWhere,
    maxFrame: number,
  ): Promise<Buffer[]> {
    return this.ask({ k: 'frames', seq: 0, conv, parties, plan, where, maxFrame }).then((r) =>
      unpackFrames((r as { frames: PackedFrames }).frames),
    );
  }

  private ask(msg: ToReader): Promise<FromReader> {
    const worker = this.start();
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      worker.postMessage({ ...msg, seq });
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./history-reader-main.js', import.meta.url), {
      workerData: { file: this.file },
    });
    // Never what keeps the store thread alive.
    worker.unref();
    worker.on('message', (m: FromReader) => {
      const w = this.waiting.get(m.seq);
      if (!w) return;
      this.waiting.delete(m.seq);
      if ('error' in m) w.reject(new StoreError(m.code, m.error));
      else w.resolve(m);
    });
    const gone = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      const waiting = [...this.waiting.values()];
      this.waiting.clear();
      for (const w of waiting) w.reject(new StoreError('STORE_IO', `the history reader thread stopped: ${why}`));
    };
    worker.on('error', (err) => gone(err.message));
    worker.on('exit', (code) => gone(`it exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  close(): void {
    const worker = this.worker;
    this.worker = null;
    void worker?.terminate();
  }
}
