/**
 * The worker's clock: one interval that measures how late it fires (stalls
 * are taken out of awake time, heartbeat.ts), drives every connection's
 * heartbeats and deadlines, and publishes the worker's counters to shared
 * memory.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { LoopStallMeter, tickPeriodFor } from '../chat/heartbeat.js';
import type { ConnectionHost, WorkerTotals } from '../chat/session-host.js';

/** Timers on the monotonic clock (the flood gates'). */
export const REAL_TIMER: ConnectionHost['timer'] = {
  now: () => performance.now(),
  after: (ms, fn) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};
import type { WorkerStats } from '../shm/worker-stats.js';
import type { Logger } from '../logger.js';

const LAG_SAMPLE_MS = 1000;

export interface TickTarget {
  tick(awakeNow: number, wallNow: number): void;
  readonly sessionCount: number;
  /** Connections that have not said HELLO (LUSERS' unknown connections). */
  readonly pending: { readonly size: number };
}

export class WorkerTicker {
  readonly totals: WorkerTotals = { msgsIn: 0, bytesIn: 0, bytesOut: 0, framesOut: 0 };
  private readonly stall: LoopStallMeter;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  private timer: NodeJS.Timeout | null = null;
  private lagAt = 0;

  constructor(
    private readonly worker: number,
    private readonly intervalMs: number,
    private readonly stats: WorkerStats,
    private readonly log: Logger,
  ) {
    this.stall = new LoopStallMeter(tickPeriodFor(intervalMs), Date.now());
  }

  /** Wall time minus this loop's stalls: what heartbeat deadlines are judged in. */
  awakeNow(): number {
    return this.stall.awake(Date.now());
  }

  start(target: TickTarget): void {
    this.loopDelay.enable();
    this.stall.tick(Date.now());
    this.timer = setInterval(() => {
      const now = Date.now();
      const awake = this.stall.tick(now);
      // Read what arrived during a stall before judging anyone: deadlines are checked after the poll phase.
      setImmediate(() => {
        target.tick(awake, now);
        this.publish(now, target);
      });
    }, tickPeriodFor(this.intervalMs));
  }

  stop(target: Pick<TickTarget, 'sessionCount' | 'pending'>): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.loopDelay.disable();
    this.publish(Date.now(), target);
  }

  private publish(now: number, counts: Pick<TickTarget, 'sessionCount' | 'pending'>): void {
    const { stats: s, worker: w, totals: t } = this;
    s.add(w, 'MSGS_IN', t.msgsIn);
    s.add(w, 'BYTES_IN', t.bytesIn);
    s.add(w, 'BYTES_OUT', t.bytesOut);
    s.add(w, 'FRAMES_OUT', t.framesOut);
    t.msgsIn = t.bytesIn = t.bytesOut = t.framesOut = 0;
    s.set(w, 'CLIENTS', counts.sessionCount);
    s.set(w, 'PENDING', counts.pending.size);
    s.set(w, 'LAG_CREDIT_MS', this.stall.totalStallMs);
    if (now - this.lagAt < LAG_SAMPLE_MS) return;
    this.lagAt = now;
    const lagMs = Math.max(this.stall.takeMaxLate(), this.loopDelay.max / 1e6);
    s.set(w, 'LOOP_LAG_MS', lagMs);
    this.loopDelay.reset();
    if (lagMs > this.intervalMs)
      this.log.warn({ lagMs }, 'event loop stalled longer than the heartbeat interval; deadlines extended');
  }
}
