/**
 * What the operator dashboard shows, gathered in whichever worker serves it:
 * sessions from the shared table, per-worker figures and rates from the shared
 * statistics, and every worker's LFTP transfers. Each worker samples its own
 * transfers and shares them with the others on a channel of their own, so any
 * worker can show them all.
 */
import { BroadcastChannel } from 'node:worker_threads';
import type { SessionInfo, SessionTable } from '../shm/session-table.js';
import { RateMeter, type WorkerStats } from '../shm/worker-stats.js';
import type { TransferInfo } from '../files/lftp-server-api.js';
import { sessionRow, type AdminSnapshot } from './admin-hub.js';
import { TransferMonitor, type TransferView } from './transfer-monitor.js';

/** How often live LFTP transfers are sampled for the dashboard's charts. */
const TRANSFER_SAMPLE_MS = 200;
/** Rates are measured over at least this long, however often a snapshot is taken. */
const RATE_WINDOW_MS = 1000;
/** Sessions listed on the dashboard (the table may hold 100,000). */
const MAX_SESSION_ROWS = 1000;

interface TransferShare {
  worker: number;
  transfers: TransferView[];
}

export interface DashboardFeedOptions {
  worker: number;
  workers: number;
  serverName: string;
  /** Name of the process's room bus; the transfer channel is named after it. */
  busName: string;
  table: SessionTable;
  stats: WorkerStats;
  /** A cluster's: every node's sessions (the registry's who(); the other nodes' have their node set). */
  everyone?: () => Promise<SessionInfo[]>;
}

export class DashboardFeed {
  private readonly monitor: TransferMonitor;
  private readonly rates: RateMeter;
  private readonly channel: BroadcastChannel;
  private timer: NodeJS.Timeout | null = null;
  /** The other nodes' sessions as last read: a snapshot shows them a snapshot late rather than wait. */
  private elsewhere: SessionInfo[] = [];

  constructor(private readonly o: DashboardFeedOptions) {
    this.monitor = new TransferMonitor(o.worker);
    this.rates = new RateMeter(o.stats, o.workers, Date.now());
    this.channel = new BroadcastChannel(`${o.busName}/transfers`);
    this.channel.onmessage = (ev) => {
      const share = (ev as { data: TransferShare }).data;
      this.monitor.received(share.worker, share.transfers, Date.now());
    };
  }

  /** Samples this worker's transfers from now on and shares them. */
  watchTransfers(source: () => TransferInfo[]): void {
    this.timer = setInterval(() => {
      const views = this.monitor.sample(source(), Date.now());
      if (views) this.channel.postMessage({ worker: this.o.worker, transfers: views } satisfies TransferShare);
    }, TRANSFER_SAMPLE_MS);
    this.timer.unref();
  }

  snapshot(now: number): AdminSnapshot {
    const { table, stats } = this.o;
    const rates = this.rates.sample(now, RATE_WINDOW_MS);
    // Connected and away: the sessions WELCOME counts and WHO lists.
    void this.o.everyone?.().then(
      (all) => (this.elsewhere = all.filter((s) => s.node !== undefined)),
      () => undefined,
    );
    const all = [...table.snapshot(), ...this.elsewhere].sort((a, b) => a.nick.localeCompare(b.nick));
    return {
      type: 'snapshot',
      now,
      server: this.o.serverName,
      workers: Array.from({ length: this.o.workers }, (_, index) => ({
        index,
        clients: stats.get(index, 'CLIENTS'),
        loopLagMs: stats.get(index, 'LOOP_LAG_MS'),
      })),
      msgsPerSec: Math.round(rates.msgsPerSec),
      deliveriesPerSec: Math.round(rates.deliveriesPerSec),
      sessions: all.slice(0, MAX_SESSION_ROWS).map((s) => sessionRow(s, now)),
      sessionsTotal: all.length,
      transfers: this.monitor.all(now),
    };
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.channel.close();
  }
}
