/**
 * What the chat keeps of a conversation: every room message and direct
 * message, with an id that increases by one within its conversation (the
 * offset a client resumes from) and the server's time. The chat appends and
 * reads messages through a RoomLog (room-log.ts); this is what today's
 * LocalRoomLog stores with (append is the one place ids are made, which is
 * what gives a room one order for everyone), and what the store thread keeps
 * beside the order: kept sessions, accounts, topics, retention.
 */

import type { SessionStore } from './sessions.js';
import type { AccountStore } from './accounts.js';
import type { ReadSource } from './history-pages.js';

/** A room ("room:#lobby") or a pair of users ("dm:alice\nbob", the folded nicks in order). */
export type ConversationKey = string;

/** direct-action: a direct message said as /me (DIRECT's action). */
export type EntryKind = 'say' | 'action' | 'direct' | 'direct-action';

export interface NewEntry {
  conv: ConversationKey;
  kind: EntryKind;
  /** The sender's nick as shown. */
  from: string;
  /** For a direct message: the receiver's nick as shown. */
  to?: string;
  text: string;
  /**
   * For a direct message: who took part (direct-parties.ts), the sender's party and the receiver's. Only they
   * read it back (HISTORY_REQUEST with, a resume's replay, an inbox), whoever holds the nicks later.
   */
  parties?: [string, string];
  /**
   * Whom it counts against when retention by size must drop messages (rooms.ts holderOf: the sender's account, or
   * its address prefix); none: the unattributed, one more sender.
   */
  origin?: string;
}

export interface StoredEntry extends NewEntry {
  id: number;
  /** Milliseconds since the epoch, the server's clock when the entry was stored. */
  ts: number;
}

export interface Retention {
  /** Entries older than this go (0: no age limit). */
  maxAgeMs: number;
  /** The store is kept under this many bytes of entries, the oldest going first. */
  maxBytes: number;
}

export interface HistoryStore {
  /**
   * Stores a batch in one transaction, in order, and gives each its id and
   * time. Either all are stored or none (a StoreError says why).
   */
  append(batch: NewEntry[]): Promise<StoredEntry[]>;
  /**
   * Up to `limit` entries after `afterId`, oldest first (what a resuming client missed). `parties`: only the
   * direct messages one of these took part in (direct-parties.ts); so for before() and since().
   */
  after(conv: ConversationKey, afterId: number, limit: number, parties?: readonly string[]): Promise<StoredEntry[]>;
  /** Up to `limit` entries before `beforeId` (Infinity: the newest), oldest first (history on join, paging back). */
  before(conv: ConversationKey, beforeId: number, limit: number, parties?: readonly string[]): Promise<StoredEntry[]>;
  /** Up to `limit` entries at or after time `sinceTs`, oldest first (`/history 1h`). */
  since(conv: ConversationKey, sinceTs: number, limit: number, parties?: readonly string[]): Promise<StoredEntry[]>;
  /** What HISTORY_REQUEST pages are read from when no reader thread has a connection of its own (history-reads.ts). */
  readSource(): ReadSource;
  /** A party that ended (an account the operator removed): what it took part in is nobody's from now on. */
  retireParty(party: string): Promise<void>;
  /** The direct conversations a user (folded nick) is in. */
  directConversations(foldedNick: string): Promise<ConversationKey[]>;
  /** Where resumable sessions are kept; null: this store keeps none, so sessions cannot be resumed (--no-history). */
  readonly sessions: SessionStore | null;
  /** Registered nicks; null: this store keeps none (--no-history), so nicks cannot be registered. */
  readonly accounts: AccountStore | null;
  /** The id the conversation's last entry has (0: none yet). */
  lastId(conv: ConversationKey): Promise<number>;
  /** Rooms' topics as last set, by room key. */
  topics(): Promise<Map<string, string>>;
  setTopic(key: string, name: string, topic: string): Promise<void>;
  /** Drops what retention no longer keeps; how many entries went. */
  prune(now: number, retention: Retention): Promise<number>;
  /**
   * Names this store's id space: a new one when the store was started anew
   * (a corrupt file moved aside), so that a client holding ids from before
   * knows they mean nothing now.
   */
  readonly epoch: string;
  close(): void;
}

/** The conversation of a room. */
export function roomConversation(room: string): ConversationKey {
  return `room:${room}`;
}

/** The kind a direct message is stored as: a /me keeps its flag in history and replays. */
export function directKind(action: boolean): EntryKind {
  return action ? 'direct-action' : 'direct';
}
