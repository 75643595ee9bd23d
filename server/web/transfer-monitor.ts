/**
 * The dashboard's view of LFTP transfers across all workers. Each worker
 * samples its own transfers (cwnd, ssthresh, smoothed RTT, progress) into a
 * bounded history and publishes it on the bus; every worker keeps the latest
 * publication of every other, so whichever worker serves /admin can show all.
 * Pure bookkeeping: the caller supplies the clock and does the publishing.
 */
import type { TransferInfo } from '../files/lftp-server-api.js';
import type { TransferView } from '../../common/dashboard.js';

export type { TransferPoint, TransferView } from '../../common/dashboard.js';

/** History kept per transfer; when full, every other point is dropped, so a long transfer keeps its whole shape. */
export const MAX_POINTS = 600;
/** A finished transfer stays on the dashboard this long. */
export const FINISHED_KEEP_MS = 30_000;
/** A worker that has not published for this long (it died) is forgotten. */
const STALE_MS = 10_000;

interface Tracked {
  view: TransferView;
  finishedAt: number | null;
}

export class TransferMonitor {
  private readonly local = new Map<string, Tracked>();
  private readonly remote = new Map<number, { at: number; transfers: TransferView[] }>();
  private publishedEmpty = true;

  constructor(private readonly worker: number) {}

  /** Takes a sample of this worker's transfers; returns what to publish, or null when there is nothing new to say. */
  sample(infos: TransferInfo[], now: number): TransferView[] | null {
    for (const t of infos) {
      let tr = this.local.get(t.id);
      if (!tr) {
        tr = {
          view: {
            id: `${this.worker}/${t.id}`,
            worker: this.worker,
            op: t.op,
            name: t.name,
            owner: t.owner ?? null,
            remote: t.remote,
            state: t.state,
            finished: false,
            succeeded: false,
            serverSends: t.op === 'get',
            congestion: t.congestion,
            size: t.size,
            bytes: 0,
            startedAt: now,
            points: [],
          },
          finishedAt: null,
        };
        this.local.set(t.id, tr);
      }
      const v = tr.view;
      if (v.finished) continue; // the last sample stands; lingering adds nothing
      v.state = t.state;
      v.bytes = t.bytes;
      v.finished = t.finished;
      v.succeeded = t.succeeded;
      if (t.finished) tr.finishedAt = now;
      if (v.points.length >= MAX_POINTS) v.points = v.points.filter((_, i) => i % 2 === 0);
      v.points.push([
        now - v.startedAt,
        round2(t.cwnd),
        t.ssthresh,
        t.srttMs === null ? -1 : round2(t.srttMs),
        t.bytes,
        t.farthestBytes,
        t.losses,
        t.pacingRate ?? -1,
        t.phase ?? '',
      ]);
    }
    // A transfer the endpoint forgot without being seen finished (shutdown, abort) is closed here.
    const seen = new Set(infos.map((t) => t.id));
    for (const [id, tr] of this.local) {
      if (!seen.has(id) && tr.finishedAt === null) {
        tr.view.finished = true;
        tr.view.state = tr.view.succeeded ? tr.view.state : 'GONE';
        tr.finishedAt = now;
      }
      if (tr.finishedAt !== null && now - tr.finishedAt > FINISHED_KEEP_MS) this.local.delete(id);
    }
    if (this.local.size === 0) {
      if (this.publishedEmpty) return null;
      this.publishedEmpty = true;
      return [];
    }
    this.publishedEmpty = false;
    return this.localViews();
  }

  private localViews(): TransferView[] {
    return [...this.local.values()].map((t) => t.view);
  }

  /** Another worker's publication. */
  received(worker: number, transfers: TransferView[], now: number): void {
    if (transfers.length === 0) this.remote.delete(worker);
    else this.remote.set(worker, { at: now, transfers });
  }

  /** Everything known, this worker's first, newest first within each. */
  all(now: number): TransferView[] {
    const out = this.localViews();
    for (const [w, r] of this.remote) {
      if (now - r.at > STALE_MS) this.remote.delete(w);
      else out.push(...r.transfers);
    }
    return out.sort((a, b) => Number(a.finished) - Number(b.finished) || b.startedAt - a.startedAt);
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
