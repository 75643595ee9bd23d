/**
 * What the store keeps of a session that can be resumed (docs/PROTOCOL.md,
 * "Resume"): its token's hash, its nick and rooms, when it began and since
 * when it has been away. Kept so that a session outlives its connection and
 * the server process: at start the store thread brings every kept session
 * back as away (session-restore.ts). Behind an interface, like the history,
 * for the Redis implementation to fill.
 */
import { randomBytes } from 'node:crypto';

export interface SessionRecord {
  /** The session's own id in the store (random): the token changes at every resume, this does not. */
  sid: string;
  /** The current token's hash, hex (resume-token.ts). */
  hash: string;
  nick: string;
  version: number;
  /** The store's clock when the session began: direct messages since then are what it may have missed. */
  startedTs: number;
  /** Its rooms: name as shown → the room's last id when it joined (a resume replays after the later of that and the client's id). */
  rooms: Array<{ name: string; mark: number }>;
  /** Since when its connection has been lost (ms since the epoch), or null: connected (or it was, when the server stopped). */
  awaySince: number | null;
}

/** A new session's record: its token's hash, and when it began (the store's clock). */
export function newSessionRecord(hash: string, nick: string, version: number, startedTs: number): SessionRecord {
  return { sid: randomBytes(8).toString('hex'), hash, nick, version, startedTs, rooms: [], awaySince: null };
}

export interface SessionStore {
  all(): Promise<SessionRecord[]>;
  /** Creates or replaces the record with this sid. */
  save(record: SessionRecord): Promise<void>;
  remove(sid: string): Promise<void>;
}
