/**
 * Resumable sessions in the history database (the `sessions` table): one
 * row per session, written whenever what a resume needs changes (a room
 * joined or left, a new nick, away, back). Rows are small and the changes
 * rare next to messages, so each is its own statement, outside the batches.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { SessionRecord, SessionStore } from './sessions.js';
import { guarded } from './store-error.js';

export const SESSIONS_SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  sid TEXT PRIMARY KEY, hash TEXT NOT NULL, nick TEXT NOT NULL, version INTEGER NOT NULL,
  started_ts INTEGER NOT NULL, rooms TEXT NOT NULL, away_since INTEGER
) STRICT, WITHOUT ROWID;
`;

interface Row {
  sid: string;
  hash: string;
  nick: string;
  version: number;
  started_ts: number;
  rooms: string;
  away_since: number | null;
}

function isRoomMark(r: unknown): r is { name: string; mark: number } {
  const o = r as { name?: unknown; mark?: unknown } | null;
  return typeof o?.name === 'string' && typeof o.mark === 'number';
}

function parseRooms(json: string): SessionRecord['rooms'] {
  try {
    const v = JSON.parse(json) as unknown;
    if (Array.isArray(v)) return (v as unknown[]).filter(isRoomMark);
  } catch {
    // A row written by something else: the session keeps its nick, not its rooms.
  }
  return [];
}

export class SqliteSessions implements SessionStore {
  private readonly q: Record<'all' | 'save' | 'remove', StatementSync>;

  constructor(
    db: DatabaseSync,
    private readonly file: string,
  ) {
    this.q = {
      all: db.prepare('SELECT * FROM sessions'),
      save: db.prepare(
        'INSERT INTO sessions (sid, hash, nick, version, started_ts, rooms, away_since) VALUES (?, ?, ?, ?, ?, ?, ?) ' +
          'ON CONFLICT (sid) DO UPDATE SET hash = excluded.hash, nick = excluded.nick, rooms = excluded.rooms, away_since = excluded.away_since',
      ),
      remove: db.prepare('DELETE FROM sessions WHERE sid = ?'),
    };
  }

  async all(): Promise<SessionRecord[]> {
    const rows = this.run(() => this.q.all.all() as unknown as Row[]);
    return rows.map((r) => ({
      sid: r.sid,
      hash: r.hash,
      nick: r.nick,
      version: r.version,
      startedTs: r.started_ts,
      rooms: parseRooms(r.rooms),
      awaySince: r.away_since,
    }));
  }

  async save(r: SessionRecord): Promise<void> {
    this.run(() =>
      this.q.save.run(r.sid, r.hash, r.nick, r.version, r.startedTs, JSON.stringify(r.rooms), r.awaySince),
    );
  }

  async remove(sid: string): Promise<void> {
    this.run(() => this.q.remove.run(sid));
  }

  private run<T>(fn: () => T): T {
    return guarded(this.file, fn);
  }
}
