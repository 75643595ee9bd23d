/**
 * Who took part in a direct message (issue 31, item 4): a conversation's key
 * is the pair of folded nicks (conversations.ts), but a nick changes hands
 * (alice quits, someone else takes `alice`), so each direct message records
 * its two parties, and only they read it back:
 *
 * - a registered nick's session: its account, `a:` + the folded nick (the
 *   account's; the operator's /unregister retires it, so a later account of
 *   the same nick is someone else);
 * - any other session: `s:` + its session id, which a resume keeps (the
 *   store's SessionRecord sid, kept across restarts; one made here for a
 *   session that has no record).
 *
 * The `direct_parties` table holds one row per message and party; a trigger
 * drops them with their message (retention). Rows from before this table
 * are given parties once, where that can be told (migrateParties).
 */
import { randomBytes } from 'node:crypto';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { foldCase } from '../../common/unicode/text-policy.js';
import type { Member } from './rooms.js';

export const PARTIES_SCHEMA = `
CREATE TABLE IF NOT EXISTS direct_parties (
  conv TEXT NOT NULL, id INTEGER NOT NULL, party TEXT NOT NULL, PRIMARY KEY (conv, id, party)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS direct_parties_by_party ON direct_parties (party, conv, id);
DROP TRIGGER IF EXISTS direct_parties_gone;
CREATE TRIGGER direct_parties_gone AFTER DELETE ON messages WHEN old.kind IN ('direct', 'direct-action')
BEGIN DELETE FROM direct_parties WHERE conv = old.conv AND id = old.id; END;
`;

/** Session ids of members that have no record (version 1; a store thread that restarted without one). */
const madeSids = new WeakMap<Member, string>();

/** The session's id, which its direct messages are read back by: its record's, kept across resumes and nodes. */
export function sessionId(m: Member): string {
  if (m.record) return m.record.sid;
  if (m.elsewhere) return m.elsewhere.sid;
  let sid = madeSids.get(m);
  if (!sid) madeSids.set(m, (sid = randomBytes(8).toString('hex')));
  return sid;
}

export function accountParty(nick: string): string {
  return `a:${foldCase(nick)}`;
}

/** The party a member's direct messages are recorded with now; none (a party no one is) for a member not known. */
export function partyOf(m: Member | undefined): string {
  if (!m) return 'none';
  return m.account ? accountParty(m.nick) : `s:${sessionId(m)}`;
}

/** Every party a member reads as: its session's, and its account's when it holds its registered nick. */
export function partiesOf(m: Member): string[] {
  const own = `s:${sessionId(m)}`;
  return m.account ? [own, accountParty(m.nick)] : [own];
}

/** A retired account's party: unique, so that nobody is it. */
export function retiredParty(party: string, now: number): string {
  return `${party}#retired-${now}`;
}

/**
 * Once per database: the direct messages stored before parties were recorded get them where that can be told.
 * Each side's nick is taken to be the account of that nick if it was registered before the message (an account's
 * nick is nobody else's); else the session kept in the store that holds that nick and began before the message
 * (a session is unique among those alive); else no one, and the message is read back by nobody (it stays in the
 * file until retention removes it).
 */
export function migrateParties(db: DatabaseSync): void {
  if (db.prepare("SELECT 1 FROM meta WHERE key = 'parties'").get()) return;
  const accounts = new Map(
    (db.prepare('SELECT fold, created_ts FROM accounts').all() as Array<{ fold: string; created_ts: number }>).map(
      (a) => [a.fold, a.created_ts],
    ),
  );
  const sessions = new Map<string, Array<{ sid: string; started: number }>>();
  for (const s of db.prepare('SELECT sid, nick, started_ts FROM sessions').all() as Array<{
    sid: string;
    nick: string;
    started_ts: number;
  }>) {
    const fold = foldCase(s.nick);
    sessions.set(fold, [...(sessions.get(fold) ?? []), { sid: s.sid, started: s.started_ts }]);
  }
  const partyAt = (nick: string, ts: number): string | null => {
    const fold = foldCase(nick);
    const created = accounts.get(fold);
    if (created !== undefined && created <= ts) return `a:${fold}`;
    const s = sessions.get(fold)?.find((x) => x.started <= ts);
    return s ? `s:${s.sid}` : null;
  };
  const insert = db.prepare('INSERT OR IGNORE INTO direct_parties (conv, id, party) VALUES (?, ?, ?)');
  const rows = db
    .prepare("SELECT conv, id, ts, sender, target FROM messages WHERE conv >= 'dm:' AND conv < 'dm;'")
    .iterate() as Iterable<{ conv: string; id: number; ts: number; sender: string; target: string | null }>;
  db.exec('BEGIN IMMEDIATE');
  try {
    for (const r of rows)
      for (const nick of [r.sender, r.target ?? r.sender]) {
        const party = partyAt(nick, r.ts);
        if (party) insert.run(r.conv, r.id, party);
      }
    db.prepare("INSERT INTO meta (key, value) VALUES ('parties', '1')").run();
    db.exec('COMMIT');
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

/** The parties of the store's direct messages (SqliteHistory): written with each message, retired with an account. */
export class DirectParties {
  private readonly insert: StatementSync;
  private readonly rename: StatementSync;

  /** Makes the table (after the messages table) and gives the older messages their parties. */
  constructor(db: DatabaseSync) {
    db.exec(`BEGIN IMMEDIATE; ${PARTIES_SCHEMA} COMMIT;`);
    migrateParties(db);
    this.insert = db.prepare('INSERT OR IGNORE INTO direct_parties (conv, id, party) VALUES (?, ?, ?)');
    this.rename = db.prepare('UPDATE direct_parties SET party = ?2 WHERE party = ?1');
  }

  /** Within the batch's transaction: the message's parties (one row when both are one, a message to oneself). */
  record(conv: string, id: number, parties: readonly string[] | undefined): void {
    for (const party of new Set(parties ?? [])) this.insert.run(conv, id, party);
  }

  retire(party: string, now: number): void {
    this.rename.run(party, retiredParty(party, now));
  }
}
