/**
 * Registered nicks (docs/PROTOCOL.md, "Registered nicks"): an account per nick,
 * keyed by the folded nick and findable by what it looks like (so that a
 * look-alike cannot pass for it), holding the password's scrypt hash, and an
 * inbox: for each direct conversation, the first message that reached the
 * account while it was offline (or away for good), delivered at its next
 * login. Behind an interface, like the history, for the Redis implementation.
 */

export interface AccountRecord {
  /** The nick as registered (shown). */
  nick: string;
  /** The folded nick (foldCase): the key. */
  fold: string;
  /** lookAlikeKey of the nick: another nick with the same look passes for this one. */
  look: string;
  /** password-hash.ts's format. */
  hash: string;
  createdTs: number;
}

/** Accounts one server keeps at most: /register beyond it is refused (the table and every lookup stay bounded). */
export const MAX_ACCOUNTS = 100_000;

/** What an inbox holds at most (--max-inbox-conversations, --max-inbox-size). */
export interface InboxCaps {
  conversations: number;
  bytes: number;
}

export interface InboxItem {
  conv: string;
  /** The first id of the conversation that the account has not been given. */
  firstId: number;
}

/**
 * What each inbox holds, in memory, so that its caps are checked in the order, before a message is stored
 * (AccountStore.inboxReserve): folded nick -> conversation -> bytes of text noted.
 */
export class InboxSizes {
  private readonly sizes = new Map<string, Map<string, number>>();

  /** Counts what the store already holds (at its start). */
  add(fold: string, conv: string, bytes: number): void {
    const mine = this.sizes.get(fold) ?? new Map<string, number>();
    this.sizes.set(fold, mine.set(conv, (mine.get(conv) ?? 0) + bytes));
  }

  reserve(fold: string, conv: string, bytes: number, caps: InboxCaps): 'ok' | 'conversations' | 'bytes' {
    const mine = this.sizes.get(fold) ?? new Map<string, number>();
    if (!mine.has(conv) && mine.size >= caps.conversations) return 'conversations';
    let total = bytes;
    for (const b of mine.values()) total += b;
    if (total > caps.bytes) return 'bytes';
    this.add(fold, conv, bytes);
    return 'ok';
  }

  clear(fold: string): void {
    this.sizes.delete(fold);
  }
}

export interface AccountStore {
  /** The account whose nick is this one (same fold), else one that looks like it, else null. */
  find(fold: string, look: string): Promise<AccountRecord | null>;
  /** False if the nick (or one that looks like it) is registered already, or MAX_ACCOUNTS are. */
  create(record: AccountRecord): Promise<'ok' | 'exists' | 'full'>;
  setHash(fold: string, hash: string): Promise<boolean>;
  /** Drops the account and its inbox; false if there was none. */
  remove(fold: string): Promise<boolean>;
  /** Notes that the account missed the conversation from `id` on (a first id noted stays: later ones are after it). */
  inboxAdd(fold: string, conv: string, id: number): Promise<void>;
  /**
   * Room in the account's inbox for `bytes` more of conversation `conv`, counted at once if there is (answered from
   * memory, in the order: a batch of messages cannot all pass one check): 'ok', or which cap it would pass.
   */
  inboxReserve(fold: string, conv: string, bytes: number, caps: InboxCaps): 'ok' | 'conversations' | 'bytes';
  inbox(fold: string): Promise<InboxItem[]>;
  inboxClear(fold: string): Promise<void>;
}
