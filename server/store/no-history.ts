/**
 * --no-history: messages are still sequenced and numbered (one order per
 * room, ids a client can name), but nothing is kept: the ids start again at
 * each start, under a new epoch, and every query is empty.
 */
import { randomBytes } from 'node:crypto';
import type { ConversationKey, HistoryStore, NewEntry, StoredEntry } from './history.js';
import { EMPTY_SOURCE, type ReadSource } from './history-pages.js';

export class NoHistory implements HistoryStore {
  readonly epoch = randomBytes(8).toString('hex');
  /** Nothing kept, nothing to replay: sessions are not resumable. */
  readonly sessions = null;
  /** Nor accounts: a password kept nowhere would be forgotten at the next start. */
  readonly accounts = null;
  private readonly lastIds = new Map<ConversationKey, number>();

  constructor(private readonly now: () => number = Date.now) {}

  async append(batch: NewEntry[]): Promise<StoredEntry[]> {
    const ts = this.now();
    return batch.map((e) => {
      const id = (this.lastIds.get(e.conv) ?? 0) + 1;
      this.lastIds.set(e.conv, id);
      return { ...e, id, ts };
    });
  }
  async after(): Promise<StoredEntry[]> {
    return [];
  }
  async before(): Promise<StoredEntry[]> {
    return [];
  }
  async since(): Promise<StoredEntry[]> {
    return [];
  }
  async directConversations(): Promise<ConversationKey[]> {
    return [];
  }
  readSource(): ReadSource {
    return EMPTY_SOURCE;
  }
  async retireParty(): Promise<void> {}
  async lastId(conv: ConversationKey): Promise<number> {
    return this.lastIds.get(conv) ?? 0;
  }
  private readonly topicsByKey = new Map<string, string>();
  async topics(): Promise<Map<string, string>> {
    return new Map(this.topicsByKey);
  }
  async setTopic(key: string, _name: string, topic: string): Promise<void> {
    this.topicsByKey.set(key, topic);
  }
  async prune(): Promise<number> {
    return 0;
  }
  close(): void {}
}
