/**
 * The SQL behind a HISTORY_REQUEST (history-pages.ts ReadSource) and behind
 * the store's reads limited to a party's direct messages. The reader thread
 * runs these on its own read-only connection; the store's connection runs
 * them when there is no reader thread. The sizes come from octet_length(),
 * which SQLite answers from the record's header: a page's cost is known
 * without reading its text.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { ConversationKey, StoredEntry } from './history.js';
import type { PageAsk, ReadSource } from './history-pages.js';
import { rowToEntry, type Row } from './history-sql.js';

const COLUMNS = 'conv, id, ts, kind, sender, target, body';
/** The message is one of the two parties' (?5, ?6: the same party twice when there is one). */
const MINE =
  'EXISTS (SELECT 1 FROM direct_parties p WHERE p.conv = messages.conv AND p.id = messages.id AND p.party IN (?5, ?6))';

/** The statements, each with and without the party filter (parameters ?5 and ?6, unused without). */
function statements(db: DatabaseSync, filter: string) {
  const rows = (sql: string): StatementSync => {
    const stmt = db.prepare(sql);
    stmt.setReturnArrays(true);
    return stmt;
  };
  const mine = filter ? `AND ${filter}` : '';
  return {
    sizesBefore: rows(
      `SELECT id, octet_length(body) FROM messages WHERE conv = ?1 AND id < ?2 ${mine} ORDER BY id DESC LIMIT ?3`,
    ),
    sizesSince: rows(
      `SELECT id, octet_length(body) FROM messages WHERE conv = ?1 AND ts >= ?2 AND id <= ?3 ${mine} ORDER BY id LIMIT ?4`,
    ),
    range: rows(`SELECT ${COLUMNS} FROM messages WHERE conv = ?1 AND id >= ?2 AND id <= ?3 ${mine} ORDER BY id`),
    after: rows(`SELECT ${COLUMNS} FROM messages WHERE conv = ?1 AND id > ?2 ${mine} ORDER BY id LIMIT ?3`),
    before: rows(
      `SELECT ${COLUMNS} FROM (SELECT * FROM messages WHERE conv = ?1 AND id < ?2 ${mine} ORDER BY id DESC LIMIT ?3) ORDER BY id`,
    ),
    since: rows(`SELECT ${COLUMNS} FROM messages WHERE conv = ?1 AND ts >= ?2 ${mine} ORDER BY id LIMIT ?3`),
  };
}

type Statements = ReturnType<typeof statements>;

/** Party parameters, bound by name ?5 and ?6 after the positional ones. */
function partyArgs(parties: readonly string[]): [string, string] {
  return [parties[0]!, parties[1] ?? parties[0]!];
}

export class SqlReads implements ReadSource {
  private readonly all: Statements;
  private readonly mine: Statements;

  constructor(db: DatabaseSync) {
    this.all = statements(db, '');
    this.mine = statements(db, MINE);
  }

  /** Runs one of the statements, with the party filter when there are parties. */
  private run(name: keyof Statements, parties: readonly string[] | null, ...args: Array<string | number>): unknown[] {
    if (parties === null) return this.all[name].all(...args);
    // ?1..?4 are positional; ?5 and ?6 follow them (unused positions padded).
    const padded = [...args, ...Array<number>(Math.max(0, 4 - args.length)).fill(0)];
    return this.mine[name].all(...padded, ...partyArgs(parties));
  }

  sizes(conv: ConversationKey, parties: readonly string[] | null, ask: PageAsk): Array<[number, number]> {
    if (parties !== null && parties.length === 0) return [];
    const rows =
      ask.since !== undefined
        ? this.run('sizesSince', parties, conv, ask.since, ask.upto, ask.limit + 1)
        : this.run('sizesBefore', parties, conv, Math.min(ask.before ?? Infinity, ask.upto + 1), ask.limit + 1);
    return rows as Array<[number, number]>;
  }

  entries(conv: ConversationKey, parties: readonly string[] | null, first: number, last: number): StoredEntry[] {
    if (parties !== null && parties.length === 0) return [];
    return (this.run('range', parties, conv, first, last) as Row[]).map(rowToEntry);
  }

  /** The store's reads of a party's direct messages (HistoryStore after, before, since with parties). */
  read(
    name: 'after' | 'before' | 'since',
    conv: ConversationKey,
    from: number,
    limit: number,
    parties: readonly string[],
  ): StoredEntry[] {
    if (parties.length === 0) return [];
    return (this.run(name, parties, conv, from, limit) as Row[]).map(rowToEntry);
  }
}
