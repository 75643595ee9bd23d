/**
 * The room log: every conversation's messages in one order, each with an id
 * exactly one more than the conversation's last, under the log's epoch.
 * Storing and publishing are one step (Centrifuge's Broker.Publish is the
 * model): a turn's entries are appended together, and only once they are
 * stored does the turn publish what follows from them (the messages with
 * their ids, and the notices and answers between them, in order). The
 * sequencer and the request handlers talk to this interface only; today's
 * implementation is local-room-log.ts (a HistoryStore, SQLite or none, and
 * the thread bus). A Redis implementation fits the same shape: publish runs
 * synchronously inside append, so what a turn posts on the log's bus can be
 * sent with its entries in one step (XADD per conversation and PUBLISH in one
 * MULTI/EXEC or script), as Centrifuge's Redis broker stores and publishes a
 * publication together.
 *
 * What every implementation guarantees (test/unit/room-log-contract.ts):
 * - ids: exactly one more per conversation, in the turn's order; ts the log's clock;
 * - a turn is all or nothing: stored entries, or none and the failure;
 * - publish runs once per turn, after its commit (or its failure), before any
 *   later turn is stored, so nothing is published before its commit and turns
 *   publish in the order they were appended;
 * - the reads see every turn whose append has resolved.
 */
import type { RoomBus } from '../bus/room-bus.js';
import type { RoomPost } from '../bus/room-message.js';
import type { HistoryReader } from './history-reader.js';
import type { ConversationKey, NewEntry, StoredEntry } from './history.js';
import type { StoreError } from './store-error.js';

/** A turn once stored: its entries with their ids and times, and the epoch the ids belong to. */
export interface Appended {
  entries: StoredEntry[];
  epoch: string;
}

/** What one turn of the sequencer appends, and what it publishes once that is stored. */
export interface LogTurn {
  readonly entries: readonly NewEntry[];
  /**
   * When all the turn posts is its messages, each to its room (one per entry, in order): a log may post them in
   * the append's own step (a cluster's: redis-room-log.ts). `publish` still runs, and posts them on this node.
   */
  readonly posts?: readonly RoomPost[];
  /**
   * After the commit: the stored turn, or null and why the log refused it (a refused turn's messages are published
   * to no one; its senders are told). Whatever this posts goes out before the next turn is stored.
   */
  publish(stored: Appended | null, failure: StoreError | null): void;
}

export interface RoomLog {
  /**
   * Where the store thread posts: a turn's publish posts here, and so do the requests that run between turns (a
   * join's membership and notice); one poster, so everything goes out in the order posted.
   */
  readonly bus: RoomBus;
  /** Names the id space: a new one when the log was started anew, so that ids from before mean nothing. */
  readonly epoch: string;
  /** Appends the turn and publishes it (see above); rejects with the StoreError after publishing a refusal. */
  append(turn: LogTurn): Promise<Appended>;
  /** The id the conversation's last entry has (0: none yet). */
  lastId(conv: ConversationKey): Promise<number>;
  /** The direct conversations a nick (folded) has taken part in: what a resume replays besides its rooms. */
  directConversations(foldedNick: string): Promise<ConversationKey[]>;
  /** Up to `limit` entries after `afterId`, oldest first; `parties`: only the direct messages one of these took part in. */
  after(conv: ConversationKey, afterId: number, limit: number, parties?: readonly string[]): Promise<StoredEntry[]>;
  /** Up to `limit` entries before `beforeId` (Infinity: the newest), oldest first. */
  before(conv: ConversationKey, beforeId: number, limit: number, parties?: readonly string[]): Promise<StoredEntry[]>;
  /** Up to `limit` entries at or after time `sinceTs`, oldest first. */
  since(conv: ConversationKey, sinceTs: number, limit: number, parties?: readonly string[]): Promise<StoredEntry[]>;
  /** Where HISTORY_REQUEST pages are read when no reader thread has a connection of its own (history-reads.ts). */
  reader(): HistoryReader;
}
