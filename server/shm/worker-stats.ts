/**
 * Per-worker statistics in shared memory: one block of 16 i64 counters per
 * worker, written by that worker's ticker and read by anyone (the supervisor's
 * /stats, the dashboard in any worker). Single words, so no lock.
 */
export const MAX_WORKERS = 64;

const BLOCK_WORDS = 16;
export const WorkerStat = {
  MSGS_IN: 0,
  BYTES_IN: 1,
  BYTES_OUT: 2,
  FRAMES_OUT: 3,
  LOOP_LAG_MS: 4,
  CLIENTS: 5,
  TIMEOUTS: 6,
  LAG_CREDIT_MS: 7,
  /** Connections that have not said HELLO (LUSERS' unknown connections). */
  PENDING: 8,
} as const;
export type WorkerStatName = keyof typeof WorkerStat;

export class WorkerStats {
  private readonly i64: BigInt64Array;

  static create(): WorkerStats {
    return new WorkerStats(new SharedArrayBuffer(MAX_WORKERS * BLOCK_WORDS * 8));
  }

  constructor(readonly buffer: SharedArrayBuffer) {
    this.i64 = new BigInt64Array(buffer);
    if (this.i64.length !== MAX_WORKERS * BLOCK_WORDS) throw new Error('not a worker statistics buffer');
  }

  add(worker: number, stat: WorkerStatName, delta: number): void {
    if (delta !== 0) Atomics.add(this.i64, worker * BLOCK_WORDS + WorkerStat[stat], BigInt(delta));
  }
  set(worker: number, stat: WorkerStatName, value: number): void {
    Atomics.store(this.i64, worker * BLOCK_WORDS + WorkerStat[stat], BigInt(Math.round(value)));
  }
  get(worker: number, stat: WorkerStatName): number {
    return Number(Atomics.load(this.i64, worker * BLOCK_WORDS + WorkerStat[stat]));
  }

  /** One counter summed over the first `workers` workers. */
  sum(workers: number, stat: WorkerStatName): number {
    let n = 0;
    for (let w = 0; w < workers; w++) n += this.get(w, stat);
    return n;
  }

  /** Messages in and frames out, summed over the first `workers` workers. */
  totals(workers: number): { msgs: number; frames: number } {
    let msgs = 0;
    let frames = 0;
    for (let w = 0; w < workers; w++) {
      msgs += this.get(w, 'MSGS_IN');
      frames += this.get(w, 'FRAMES_OUT');
    }
    return { msgs, frames };
  }
}

export interface Rates {
  msgsPerSec: number;
  deliveriesPerSec: number;
  /** The interval the rates were measured over. */
  overMs: number;
}

/**
 * Server-wide messages and deliveries per second between two readings of the
 * shared counters. The one rates function: the supervisor's /stats and the
 * dashboard both read through a RateMeter.
 */
export class RateMeter {
  private last: { at: number; msgs: number; frames: number } | null = null;
  private latest: Rates = { msgsPerSec: 0, deliveriesPerSec: 0, overMs: 0 };

  constructor(
    private readonly stats: WorkerStats,
    private readonly workers: number,
    now?: number,
  ) {
    if (now !== undefined) this.last = { at: now, ...stats.totals(workers) };
  }

  /**
   * Takes a reading; the rates since the previous one (zero on the first).
   * Within minIntervalMs of the previous reading, the previous rates stand.
   */
  sample(now: number, minIntervalMs = 0): Rates {
    const prev = this.last;
    if (prev && now - prev.at < minIntervalMs) return this.latest;
    const cur = { at: now, ...this.stats.totals(this.workers) };
    this.last = cur;
    const ms = prev ? now - prev.at : 0;
    if (prev && ms > 0) {
      this.latest = {
        msgsPerSec: Math.max(0, ((cur.msgs - prev.msgs) * 1000) / ms),
        deliveriesPerSec: Math.max(0, ((cur.frames - prev.frames) * 1000) / ms),
        overMs: ms,
      };
    }
    return this.latest;
  }
}
