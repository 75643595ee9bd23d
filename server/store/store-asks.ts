/**
 * The store thread's answers to what workers ask outside the order
 * (StoreAsk): which account a nick is, for a HELLO that has no session yet.
 * A read of one row, outside the order: only a nick's holder can register
 * it, so while the nick is held a HELLO for it fails (NICK_TAKEN) whatever
 * the answer. The one gap is a holder that registers and leaves within the
 * instant between this answer and the HELLO's claim (docs/ARCHITECTURE.md).
 */
import { lookAlikeKey } from '../../common/unicode/confusables.js';
import { foldCase } from '../../common/unicode/text-policy.js';
import type { AccountStore } from './accounts.js';
import type { FromStore, StoreAsk } from './store-messages.js';

export async function answerAsk(accounts: AccountStore | null, ask: StoreAsk): Promise<FromStore> {
  try {
    const fold = foldCase(ask.q.nick);
    const a = accounts ? await accounts.find(fold, lookAlikeKey(ask.q.nick)) : null;
    return { k: 'answer', id: ask.id, account: a && { nick: a.nick, hash: a.hash, same: a.fold === fold } };
  } catch (err) {
    return { k: 'answer', id: ask.id, error: (err as Error).message };
  }
}
