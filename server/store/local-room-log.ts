/**
 * The first RoomLog: a HistoryStore (SQLite, or --no-history's ids and
 * nothing kept) appends a turn in one transaction, and the turn then posts on
 * the room bus the store thread owns. One thread appends, so a turn's commit
 * and its publication are one step for everyone else; turns handed in before
 * the last one has published wait for it.
 */
import type { RoomBus } from '../bus/room-bus.js';
import type { ConversationKey, HistoryStore, StoredEntry } from './history.js';
import { InlineReader, type HistoryReader } from './history-reader.js';
import type { Appended, LogTurn, RoomLog } from './room-log.js';
import { TurnSequence } from './turn-sequence.js';

export class LocalRoomLog implements RoomLog {
  private readonly turns = new TurnSequence(
    (entries) => this.store.append([...entries]),
    () => this.store.epoch,
  );

  constructor(
    private readonly store: HistoryStore,
    /** The thread bus (thread-bus.ts): every worker hears the store thread's posts in the order posted. */
    readonly bus: RoomBus,
  ) {}

  get epoch(): string {
    return this.store.epoch;
  }

  append(turn: LogTurn): Promise<Appended> {
    return this.turns.append(turn);
  }

  directConversations(foldedNick: string): Promise<ConversationKey[]> {
    return this.store.directConversations(foldedNick);
  }

  lastId(conv: ConversationKey): Promise<number> {
    return this.store.lastId(conv);
  }

  after(conv: ConversationKey, afterId: number, limit: number, parties?: readonly string[]): Promise<StoredEntry[]> {
    return this.store.after(conv, afterId, limit, parties);
  }

  before(conv: ConversationKey, beforeId: number, limit: number, parties?: readonly string[]): Promise<StoredEntry[]> {
    return this.store.before(conv, beforeId, limit, parties);
  }

  since(conv: ConversationKey, sinceTs: number, limit: number, parties?: readonly string[]): Promise<StoredEntry[]> {
    return this.store.since(conv, sinceTs, limit, parties);
  }

  /** The store thread reads pages itself, from the store's own connection (a reader thread is better: store-main.ts). */
  reader(): HistoryReader {
    return new InlineReader(() => this.store.readSource());
  }
}
