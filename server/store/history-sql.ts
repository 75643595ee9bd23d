/**
 * The history database's SQL: the schema of `history.db` (with the sessions'
 * and accounts' tables, sqlite-sessions.ts and sqlite-accounts.ts), every
 * statement on the messages, conversations and rooms prepared once, and a
 * message row read back as an entry. sqlite-history.ts runs them.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { StoredEntry } from './history.js';
import { SESSIONS_SCHEMA } from './sqlite-sessions.js';
import { ACCOUNTS_SCHEMA } from './sqlite-accounts.js';

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS conversations (conv TEXT PRIMARY KEY, last_id INTEGER NOT NULL) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
  conv TEXT NOT NULL, id INTEGER NOT NULL, ts INTEGER NOT NULL,
  kind TEXT NOT NULL, sender TEXT NOT NULL, target TEXT, body TEXT NOT NULL,
  PRIMARY KEY (conv, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS messages_by_time ON messages (ts);
CREATE TABLE IF NOT EXISTS rooms (key TEXT PRIMARY KEY, name TEXT NOT NULL, topic TEXT NOT NULL) STRICT, WITHOUT ROWID;
${SESSIONS_SCHEMA}${ACCOUNTS_SCHEMA}`;

/** A message row as an array (StatementSync.setReturnArrays): a replay reads hundreds of thousands, and arrays are the cheapest shape. */
export type Row = [
  conv: string,
  id: number,
  ts: number,
  kind: string,
  sender: string,
  target: string | null,
  body: string,
];
const COLUMNS = 'conv, id, ts, kind, sender, target, body';

export function rowToEntry(r: Row): StoredEntry {
  // One shape for every entry (to always present): the objects stay monomorphic through framing.
  return {
    conv: r[0],
    id: r[1],
    ts: r[2],
    kind: r[3] as StoredEntry['kind'],
    from: r[4],
    text: r[6],
    to: r[5] ?? undefined,
  };
}

/** The statements, by what they do. */
export type HistoryStatements = Record<
  'insert' | 'setLast' | 'getLast' | 'after' | 'before' | 'since' | 'size' | 'topics' | 'setTopic' | 'directs',
  StatementSync
>;

/** Prepares them on the store's connection (the schema already made); the message reads return arrays (Row). */
export function prepareStatements(db: DatabaseSync): HistoryStatements {
  const prepare = (sql: string) => db.prepare(sql);
  const rows = (sql: string) => {
    const stmt = db.prepare(sql);
    stmt.setReturnArrays(true);
    return stmt;
  };
  return {
    // origin: whom retention by size counts it against (history-origins.ts; the column is added to older stores there).
    insert: prepare(
      'INSERT INTO messages (conv, id, ts, kind, sender, target, body, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    setLast: prepare(
      'INSERT INTO conversations (conv, last_id) VALUES (?, ?) ON CONFLICT (conv) DO UPDATE SET last_id = excluded.last_id',
    ),
    getLast: prepare('SELECT last_id FROM conversations WHERE conv = ?'),
    after: rows(`SELECT ${COLUMNS} FROM messages WHERE conv = ? AND id > ? ORDER BY id LIMIT ?`),
    before: rows(
      `SELECT ${COLUMNS} FROM (SELECT * FROM messages WHERE conv = ? AND id < ? ORDER BY id DESC LIMIT ?) ORDER BY id`,
    ),
    since: rows(`SELECT ${COLUMNS} FROM messages WHERE conv = ? AND ts >= ? ORDER BY id LIMIT ?`),
    // A pair's key is "dm:" + one folded nick + "\n" + the other: the nick on either side of the newline.
    directs: prepare(
      "SELECT conv FROM conversations WHERE conv >= 'dm:' AND conv < 'dm;' AND " +
        '((instr(conv, char(10)) = length(?1) + 4 AND substr(conv, 4, length(?1)) = ?1) OR substr(conv, instr(conv, char(10)) + 1) = ?1)',
    ),
    topics: prepare('SELECT key, topic FROM rooms'),
    setTopic: prepare(
      'INSERT INTO rooms (key, name, topic) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET name = excluded.name, topic = excluded.topic',
    ),
    size: prepare(
      'SELECT (page_count - freelist_count) * page_size AS bytes FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()',
    ),
  };
}
