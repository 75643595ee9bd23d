/**
 * Retention that one sender cannot turn into a tool (docs/PROTOCOL.md,
 * "History"). Every message counts against whom it came from (NewEntry's
 * origin: the sender's account when it is a registered nick's, else its
 * address prefix), and the store keeps how many bytes each origin has (the
 * `origins` table, changed in the same transactions as the messages). When
 * the store is over --history-max-size, the origin with the most bytes loses
 * its oldest messages first, down towards the next one's size: a flooder
 * fills and then churns its own share, and everyone who has stored less than
 * it keeps their history. Age (--history-max-age) applies to all alike.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { NewEntry } from './history.js';

/** What a row costs beside its text (ids, time, kind, the b-tree's own bytes), as retention counts it. */
export const ROW_OVERHEAD = 24;
const COST = `(length(CAST(body AS BLOB)) + length(CAST(sender AS BLOB)) + coalesce(length(CAST(target AS BLOB)), 0) + length(CAST(conv AS BLOB)) + ${ROW_OVERHEAD})`;

/** A message's size as retention counts it (the same sum as COST). */
export function entryCost(e: NewEntry): number {
  const to = e.to !== undefined ? Buffer.byteLength(e.to) : 0;
  return Buffer.byteLength(e.text) + Buffer.byteLength(e.from) + to + Buffer.byteLength(e.conv) + ROW_OVERHEAD;
}

/** Origins the level of retention by size is worked out over (the biggest; past them it may cut a little deeper). */
const TOP_ORIGINS = 1000;

interface Tally {
  n: number;
  bytes: number;
  rows: number;
}

export class HistoryOrigins {
  private readonly q: Record<'add' | 'sub' | 'drop' | 'top' | 'total' | 'pruneAge' | 'evict', StatementSync>;
  /** Origin → its number in `origins` (what a message row holds: a small integer keeps the index small). */
  private readonly ids = new Map<string, number>();
  private next = 1;

  /** Gives a store from before origins its column, index and tallies (its messages are one origin, '', number 0). */
  constructor(private readonly db: DatabaseSync) {
    const columns = db.prepare('SELECT name FROM pragma_table_info(?)').all('messages') as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'origin'))
      db.exec('ALTER TABLE messages ADD COLUMN origin INTEGER NOT NULL DEFAULT 0');
    db.exec(
      'CREATE INDEX IF NOT EXISTS messages_by_origin ON messages (origin, ts);' +
        'CREATE TABLE IF NOT EXISTS origins (n INTEGER PRIMARY KEY, origin TEXT NOT NULL, bytes INTEGER NOT NULL, rows INTEGER NOT NULL) STRICT;' +
        'CREATE INDEX IF NOT EXISTS origins_by_bytes ON origins (bytes);',
    );
    const counted = db.prepare('SELECT EXISTS (SELECT 1 FROM origins) AS yes').get() as { yes: number };
    if (!counted.yes)
      db.exec(
        `INSERT INTO origins SELECT origin, CASE origin WHEN 0 THEN '' ELSE 'unknown ' || origin END, SUM(${COST}), COUNT(*) FROM messages GROUP BY origin`,
      );
    for (const r of db.prepare('SELECT n, origin FROM origins').all() as Array<{ n: number; origin: string }>) {
      this.ids.set(r.origin, r.n);
      this.next = Math.max(this.next, r.n + 1);
    }
    this.ids.set('', 0);
    this.q = {
      add: db.prepare(
        'INSERT INTO origins (n, origin, bytes, rows) VALUES (?, ?, ?, ?) ON CONFLICT (n) DO UPDATE SET bytes = bytes + excluded.bytes, rows = rows + excluded.rows',
      ),
      sub: db.prepare('UPDATE origins SET bytes = bytes - ?, rows = rows - ? WHERE n = ?'),
      drop: db.prepare('DELETE FROM origins WHERE rows <= 0 AND n <> 0 RETURNING origin'),
      top: db.prepare('SELECT n, bytes, rows FROM origins ORDER BY bytes DESC LIMIT ?'),
      total: db.prepare('SELECT coalesce(SUM(bytes), 0) AS bytes FROM origins'),
      pruneAge: db.prepare(
        `DELETE FROM messages WHERE (conv, id) IN (SELECT conv, id FROM messages WHERE ts < ? LIMIT ?) RETURNING origin AS n, ${COST} AS cost`,
      ),
      evict: db.prepare(
        `DELETE FROM messages WHERE (conv, id) IN (SELECT conv, id FROM messages WHERE origin = ? ORDER BY ts LIMIT ?) RETURNING origin AS n, ${COST} AS cost`,
      ),
    };
  }

  /** The number a message of this origin is stored with (a new origin gets the next one). */
  idOf(origin: string | undefined): number {
    const key = origin ?? '';
    let n = this.ids.get(key);
    if (n === undefined) this.ids.set(key, (n = this.next++));
    return n;
  }

  /** A batch was inserted (call inside its transaction): its bytes go to their origins. */
  added(batch: NewEntry[]): void {
    const per = new Map<string, { bytes: number; rows: number }>();
    for (const e of batch) {
      const t = per.get(e.origin ?? '') ?? { bytes: 0, rows: 0 };
      t.bytes += entryCost(e);
      t.rows++;
      per.set(e.origin ?? '', t);
    }
    for (const [origin, t] of per) this.q.add.run(this.idOf(origin), origin, t.bytes, t.rows);
  }

  /** Deletes up to `limit` messages stored before `before`; how many. */
  pruneAge(before: number, limit: number): number {
    return this.deleting(() => this.q.pruneAge.all(before, limit));
  }

  /**
   * One step of retention by size, `over` the share of the store above the bound (0-1). The level is found that
   * the origins above it, each cut down to it, give the excess (water-filling over the TOP_ORIGINS biggest); the
   * biggest origin loses its oldest messages down to that level (at least one, at most `step`). Step after step
   * every origin above the level comes down to it, and none below it loses anything. How many went.
   */
  evictStep(over: number, step: number): number {
    const top = this.q.top.all(TOP_ORIGINS) as unknown as Tally[];
    const first = top[0];
    if (!first || first.rows <= 0) return 0;
    const excess = Math.ceil(over * (this.q.total.get() as { bytes: number }).bytes);
    let level = 0;
    for (let i = 0, sum = 0; i < top.length; i++) {
      sum += top[i]!.bytes;
      level = (sum - excess) / (i + 1);
      if (i + 1 === top.length || top[i + 1]!.bytes <= level) break;
    }
    const allowance = Math.max(1, first.bytes - Math.max(0, level));
    const rows = Math.min(step, Math.max(1, Math.ceil((first.rows * allowance) / Math.max(1, first.bytes))));
    return this.deleting(() => this.q.evict.all(first.n, rows));
  }

  /** Runs a delete that returns its rows' origins and costs, and takes them off the tallies, in one transaction. */
  private deleting(run: () => unknown[]): number {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const gone = run() as Array<{ n: number; cost: number }>;
      const per = new Map<number, { bytes: number; rows: number }>();
      for (const r of gone) {
        const t = per.get(r.n) ?? { bytes: 0, rows: 0 };
        t.bytes += r.cost;
        t.rows++;
        per.set(r.n, t);
      }
      for (const [n, t] of per) this.q.sub.run(t.bytes, t.rows, n);
      // An origin with nothing left is forgotten (a long run meets many): it gets a new number if it comes back.
      if (per.size > 0) for (const r of this.q.drop.all() as Array<{ origin: string }>) this.ids.delete(r.origin);
      this.db.exec('COMMIT');
      return gone.length;
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }
}
