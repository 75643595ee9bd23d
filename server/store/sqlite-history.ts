/**
 * The history in SQLite through Node's built-in node:sqlite: one file,
 * `history.db` in the data folder, nothing to install. One connection, the
 * store thread's, is the only writer; the reader thread reads HISTORY_REQUEST
 * pages beside it on a read-only connection of its own (WAL lets readers run
 * beside the writer). The folder's lock (store-file.ts) makes a second
 * chat-server on the same folder fail at once instead of interleaving ids; a
 * database that fails PRAGMA quick_check when it opens is moved aside. WAL
 * with synchronous NORMAL makes a commit durable
 * against the process being killed (the WAL is in the kernel's page cache once
 * the commit returns; a power cut may lose the last commits, docs/PROTOCOL.md).
 *
 * Ids are made here: each conversation's last id is held in memory (read once
 * from `conversations`, which keeps it after retention has emptied the
 * messages, so an id is never given twice), and a batch is one transaction.
 */
import { mkdirSync, renameSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { ConversationKey, HistoryStore, NewEntry, Retention, StoredEntry } from './history.js';
import { SCHEMA, prepareStatements, rowToEntry, type HistoryStatements, type Row } from './history-sql.js';
import { StoreError, guarded, storeError } from './store-error.js';
import { loadSqlite } from './load-sqlite.js';
import { SqliteSessions } from './sqlite-sessions.js';
import { SqliteAccounts } from './sqlite-accounts.js';
import type { AccountStore } from './accounts.js';
import { HistoryOrigins } from './history-origins.js';
import { DirectParties } from './direct-parties.js';
import { SqlReads } from './history-read-sql.js';
import type { ReadSource } from './history-pages.js';
import { lockFolder, quickCheck } from './store-file.js';

/** Rows deleted per step when the size bound is over: small steps keep each transaction, and each pause of the thread, short. */
const PRUNE_STEP = 2000;

export interface OpenedStore {
  store: SqliteHistory;
  /** Where a damaged database was moved before a new one was started (null: it opened as it was). */
  movedAside: string | null;
}

export class SqliteHistory implements HistoryStore {
  readonly epoch: string;
  readonly sessions: SqliteSessions;
  /** This database's, or a cluster's (redis-accounts.ts), which every node shares. */
  readonly accounts: AccountStore;
  private readonly lastIds = new Map<ConversationKey, number>();
  private lastTs = 0;
  private readonly q: HistoryStatements;
  /** Bytes per sender's origin, for retention by size (history-origins.ts). */
  private readonly origins: HistoryOrigins;
  /** Who took part in each direct message (direct-parties.ts), and the reads limited to a party's. */
  private readonly parties: DirectParties;
  private readonly reads: SqlReads;
  /** The folder's lock (store-file.ts), held until close(). */
  private lock: DatabaseSync | null = null;

  private constructor(
    private readonly db: DatabaseSync,
    readonly file: string,
    private readonly now: () => number,
    accounts: AccountStore | undefined,
  ) {
    db.exec('PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
    quickCheck(db, file);
    db.exec(`BEGIN IMMEDIATE; ${SCHEMA} COMMIT;`);
    this.origins = new HistoryOrigins(db);
    this.q = prepareStatements(db);
    const row = db.prepare("SELECT value FROM meta WHERE key = 'epoch'").get() as { value: string } | undefined;
    if (row) this.epoch = row.value;
    else {
      this.epoch = randomBytes(8).toString('hex');
      db.prepare("INSERT INTO meta (key, value) VALUES ('epoch', ?)").run(this.epoch);
    }
    this.sessions = new SqliteSessions(db, file);
    this.accounts = accounts ?? new SqliteAccounts(db, file);
    this.parties = new DirectParties(db);
    this.reads = new SqlReads(db);
    const newest = db.prepare('SELECT MAX(ts) AS ts FROM messages').get() as { ts: number | null };
    this.lastTs = newest.ts ?? 0;
  }

  /**
   * Opens (or creates) `dir/history.db`. A file that is not a database, or
   * is damaged, is moved aside (history.db.damaged-TIME) and a new store with
   * a new epoch starts: the chat goes on, and the operator is told where the
   * old file is. A database another server holds is a StoreError STORE_LOCKED.
   */
  static async open(dir: string, now: () => number = Date.now, accounts?: AccountStore): Promise<OpenedStore> {
    const { DatabaseSync } = await loadSqlite();
    const file = join(dir, 'history.db');
    const attempt = () => {
      let db: DatabaseSync | null = null;
      try {
        db = new DatabaseSync(file, { timeout: 0 });
        return new SqliteHistory(db, file, now, accounts);
      } catch (err) {
        db?.close();
        throw storeError(err, file);
      }
    };
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new StoreError('STORE_IO', `cannot create the data folder ${dir}: ${(err as Error).message}`);
    }
    // Held by the store from here on, or let go again if it cannot open.
    const lock = lockFolder(DatabaseSync, dir, file);
    let opened: OpenedStore;
    try {
      try {
        opened = { store: attempt(), movedAside: null };
      } catch (err) {
        if (!(err instanceof StoreError) || err.code !== 'STORE_CORRUPT') throw err;
        const aside = `${file}.damaged-${new Date(now()).toISOString().replace(/[:.]/g, '-')}`;
        renameSync(file, aside);
        for (const extra of ['-wal', '-shm']) if (existsSync(file + extra)) renameSync(file + extra, aside + extra);
        opened = { store: attempt(), movedAside: aside };
      }
    } catch (err) {
      lock.close();
      throw err;
    }
    opened.store.lock = lock;
    return opened;
  }

  private last(conv: ConversationKey): number {
    let id = this.lastIds.get(conv);
    if (id === undefined) {
      const row = this.q.getLast.get(conv) as { last_id: number } | undefined;
      id = row?.last_id ?? 0;
      this.lastIds.set(conv, id);
    }
    return id;
  }

  async append(batch: NewEntry[]): Promise<StoredEntry[]> {
    return this.appendNow(batch);
  }

  /** append(), synchronously (the store thread's batching calls this). */
  appendNow(batch: NewEntry[]): StoredEntry[] {
    if (batch.length === 0) return [];
    // Times never go back within the store, whatever the wall clock does: `/history 1h` and retention rely on it.
    const ts = (this.lastTs = Math.max(this.lastTs, this.now()));
    const stored: StoredEntry[] = [];
    const next = new Map<ConversationKey, number>();
    try {
      this.db.exec('BEGIN IMMEDIATE');
      for (const e of batch) {
        const id = (next.get(e.conv) ?? this.last(e.conv)) + 1;
        next.set(e.conv, id);
        this.q.insert.run(e.conv, id, ts, e.kind, e.from, e.to ?? null, e.text, this.origins.idOf(e.origin));
        this.parties.record(e.conv, id, e.parties);
        stored.push({ ...e, id, ts });
      }
      this.origins.added(batch);
      for (const [conv, id] of next) this.q.setLast.run(conv, id);
      this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw storeError(err, this.file);
    }
    for (const [conv, id] of next) this.lastIds.set(conv, id);
    return stored;
  }

  private read(stmt: StatementSync, ...args: Array<string | number>): StoredEntry[] {
    try {
      return (stmt.all(...args) as unknown as Row[]).map(rowToEntry);
    } catch (err) {
      throw storeError(err, this.file);
    }
  }

  async after(
    conv: ConversationKey,
    afterId: number,
    limit: number,
    parties?: readonly string[],
  ): Promise<StoredEntry[]> {
    if (parties) return guarded(this.file, () => this.reads.read('after', conv, afterId, limit, parties));
    return this.read(this.q.after, conv, afterId, limit);
  }

  async before(
    conv: ConversationKey,
    beforeId: number,
    limit: number,
    parties?: readonly string[],
  ): Promise<StoredEntry[]> {
    const below = Number.isFinite(beforeId) ? beforeId : Number.MAX_SAFE_INTEGER;
    if (parties) return guarded(this.file, () => this.reads.read('before', conv, below, limit, parties));
    return this.read(this.q.before, conv, below, limit);
  }

  async since(
    conv: ConversationKey,
    sinceTs: number,
    limit: number,
    parties?: readonly string[],
  ): Promise<StoredEntry[]> {
    if (parties) return guarded(this.file, () => this.reads.read('since', conv, sinceTs, limit, parties));
    return this.read(this.q.since, conv, sinceTs, limit);
  }

  async lastId(conv: ConversationKey): Promise<number> {
    return this.last(conv);
  }

  async directConversations(foldedNick: string): Promise<ConversationKey[]> {
    try {
      return (this.q.directs.all(foldedNick) as Array<{ conv: string }>).map((r) => r.conv);
    } catch (err) {
      throw storeError(err, this.file);
    }
  }

  async topics(): Promise<Map<string, string>> {
    try {
      return new Map((this.q.topics.all() as Array<{ key: string; topic: string }>).map((r) => [r.key, r.topic]));
    } catch (err) {
      throw storeError(err, this.file);
    }
  }

  async setTopic(key: string, name: string, topic: string): Promise<void> {
    try {
      this.q.setTopic.run(key, name, topic);
    } catch (err) {
      throw storeError(err, this.file);
    }
  }

  /** Bytes the entries take in the file (pages in use). */
  bytes(): number {
    return (this.q.size.get() as { bytes: number }).bytes;
  }

  async prune(now: number, retention: Retention): Promise<number> {
    let removed = 0;
    try {
      for (let gone = PRUNE_STEP; retention.maxAgeMs > 0 && gone === PRUNE_STEP; ) {
        gone = this.origins.pruneAge(now - retention.maxAgeMs, PRUNE_STEP);
        removed += gone;
        await new Promise((r) => setImmediate(r));
      }
      for (
        let steps = 0, bytes = this.bytes();
        steps < 10_000 && bytes > retention.maxBytes;
        steps++, bytes = this.bytes()
      ) {
        // The oldest of whoever has stored the most, as many as the excess calls for, at most a step (history-origins.ts).
        const gone = this.origins.evictStep((bytes - retention.maxBytes) / bytes, PRUNE_STEP);
        removed += gone;
        // Freed pages go back to the file system, so the bound is on the file, not only on what is in it.
        this.db.exec('PRAGMA incremental_vacuum');
        if (gone === 0) break;
        // Between steps the store thread serves the chat: a large prune must not hold up its messages.
        await new Promise((r) => setImmediate(r));
      }
      if (removed > 0) this.db.exec('PRAGMA incremental_vacuum');
    } catch (err) {
      throw storeError(err, this.file);
    }
    return removed;
  }

  /** Pages on this connection: only when no reader thread reads them (unit tests). */
  readSource(): ReadSource {
    return this.reads;
  }

  async retireParty(party: string): Promise<void> {
    guarded(this.file, () => this.parties.retire(party, this.now()));
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
    if (this.lock?.isOpen) this.lock.close();
    this.lock = null;
  }
}
