/**
 * Accounts in the history database (accounts.ts): the `accounts` table, and
 * `inbox`, one row per account and direct conversation it missed, with the
 * bytes of text noted in it. Each change is its own statement: registrations
 * are rare next to messages. What each inbox holds is also kept in memory, so
 * that its caps are checked in the order, before a message is stored.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import {
  InboxSizes,
  MAX_ACCOUNTS,
  type AccountRecord,
  type AccountStore,
  type InboxCaps,
  type InboxItem,
} from './accounts.js';
import { guarded } from './store-error.js';
import { lookAlikeKey } from '../../common/unicode/confusables.js';

export const ACCOUNTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS accounts (
  fold TEXT PRIMARY KEY, look TEXT NOT NULL, nick TEXT NOT NULL, hash TEXT NOT NULL, created_ts INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS accounts_by_look ON accounts (look);
CREATE TABLE IF NOT EXISTS inbox (
  account TEXT NOT NULL, conv TEXT NOT NULL, first_id INTEGER NOT NULL, bytes INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (account, conv)
) STRICT, WITHOUT ROWID;
`;

interface Row {
  fold: string;
  look: string;
  nick: string;
  hash: string;
  created_ts: number;
}

export class SqliteAccounts implements AccountStore {
  /** What each inbox notes (as the table has them, plus what was reserved). */
  private readonly sizes = new InboxSizes();
  private readonly q: Record<
    'find' | 'count' | 'create' | 'setHash' | 'remove' | 'inboxAdd' | 'inbox' | 'inboxClear',
    StatementSync
  >;

  constructor(
    db: DatabaseSync,
    private readonly file: string,
  ) {
    this.addInboxBytes(db);
    this.q = {
      // The same nick first, then a look-alike.
      find: db.prepare('SELECT * FROM accounts WHERE fold = ?1 OR look = ?2 ORDER BY fold = ?1 DESC LIMIT 1'),
      count: db.prepare('SELECT COUNT(*) AS n FROM accounts'),
      create: db.prepare('INSERT INTO accounts (fold, look, nick, hash, created_ts) VALUES (?, ?, ?, ?, ?)'),
      setHash: db.prepare('UPDATE accounts SET hash = ? WHERE fold = ?'),
      remove: db.prepare('DELETE FROM accounts WHERE fold = ?'),
      // The first id noted stays; the bytes grow by the message's text (the history has it: it was just stored).
      inboxAdd: db.prepare(
        'INSERT INTO inbox (account, conv, first_id, bytes) VALUES (?1, ?2, ?3, coalesce((SELECT length(CAST(body AS BLOB)) FROM messages WHERE conv = ?2 AND id = ?3), 0)) ' +
          'ON CONFLICT (account, conv) DO UPDATE SET bytes = bytes + excluded.bytes',
      ),
      inbox: db.prepare('SELECT conv, first_id FROM inbox WHERE account = ? ORDER BY conv'),
      inboxClear: db.prepare('DELETE FROM inbox WHERE account = ?'),
    };
    this.refreshLooks(db);
    for (const r of db.prepare('SELECT account, conv, bytes FROM inbox').all() as Array<{
      account: string;
      conv: string;
      bytes: number;
    }>)
      this.sizes.add(r.account, r.conv, r.bytes);
  }

  /** An inbox table from before its bytes were counted gets the column (what it notes counts as nothing). */
  private addInboxBytes(db: DatabaseSync): void {
    this.run(() => {
      const columns = db.prepare('SELECT name FROM pragma_table_info(?)').all('inbox') as Array<{ name: string }>;
      if (!columns.some((c) => c.name === 'bytes'))
        db.exec('ALTER TABLE inbox ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0');
    });
  }

  /** Look-alike keys as today's rule makes them: a rule made stricter since a row was written holds for it too. */
  private refreshLooks(db: DatabaseSync): void {
    this.run(() => {
      const rows = db.prepare('SELECT fold, nick, look FROM accounts').all() as Array<
        Pick<Row, 'fold' | 'nick' | 'look'>
      >;
      const set = db.prepare('UPDATE accounts SET look = ? WHERE fold = ?');
      const stale = rows.filter((r) => lookAlikeKey(r.nick) !== r.look);
      if (stale.length === 0) return;
      db.exec('BEGIN');
      try {
        for (const r of stale) set.run(lookAlikeKey(r.nick), r.fold);
        db.exec('COMMIT');
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  async find(fold: string, look: string): Promise<AccountRecord | null> {
    const r = this.run(() => this.q.find.get(fold, look) as Row | undefined);
    return r ? { fold: r.fold, look: r.look, nick: r.nick, hash: r.hash, createdTs: r.created_ts } : null;
  }

  async create(a: AccountRecord): Promise<'ok' | 'exists' | 'full'> {
    if (await this.find(a.fold, a.look)) return 'exists';
    if ((this.run(() => this.q.count.get()) as { n: number }).n >= MAX_ACCOUNTS) return 'full';
    this.run(() => this.q.create.run(a.fold, a.look, a.nick, a.hash, a.createdTs));
    return 'ok';
  }

  async setHash(fold: string, hash: string): Promise<boolean> {
    return this.run(() => this.q.setHash.run(hash, fold)).changes > 0;
  }

  async remove(fold: string): Promise<boolean> {
    const removed = this.run(() => this.q.remove.run(fold)).changes > 0;
    await this.inboxClear(fold);
    return removed;
  }

  async inboxAdd(fold: string, conv: string, id: number): Promise<void> {
    this.run(() => this.q.inboxAdd.run(fold, conv, id));
  }

  inboxReserve(fold: string, conv: string, bytes: number, caps: InboxCaps): 'ok' | 'conversations' | 'bytes' {
    return this.sizes.reserve(fold, conv, bytes, caps);
  }

  async inbox(fold: string): Promise<InboxItem[]> {
    const rows = this.run(() => this.q.inbox.all(fold) as unknown as Array<{ conv: string; first_id: number }>);
    return rows.map((r) => ({ conv: r.conv, firstId: r.first_id }));
  }

  async inboxClear(fold: string): Promise<void> {
    this.sizes.clear(fold);
    this.run(() => this.q.inboxClear.run(fold));
  }

  private run<T>(fn: () => T): T {
    return guarded(this.file, fn);
  }
}
