/**
 * Direct messages to a registered nick that is not online (docs/PROTOCOL.md,
 * "Registered nicks"): stored in the pair's conversation like any other, and
 * noted in the account's inbox (accounts.ts, the first id it missed in each
 * conversation). At its next login, or /identify, the account is told how many
 * came (ACCOUNT_REPLY offline) and given them as HISTORY, newest kept when
 * there are more than INBOX_BYTES; then the inbox is empty. A session that
 * resumes gets them in its replay instead, and its inbox is emptied there
 * (session-requests.ts). Both are reads: each runs alone in its place in the
 * order, so a message stored here is posted before anything after it.
 *
 * An inbox holds at most --max-inbox-conversations conversations and
 * --max-inbox-size bytes of text: past either, a direct message that would
 * be noted in it is refused to its sender (INBOX_FULL), stored for no one.
 */
import { foldCase } from '../../common/unicode/text-policy.js';
import { formatBytes } from '../../common/units.js';
import { directConversation } from './conversations.js';
import { accountParty, partyOf } from './direct-parties.js';
import { historyEntry, historyFrames } from './history-frames.js';
import { directKind, type NewEntry, type StoredEntry } from './history.js';
import { awayAccount, notStored, postDirect, refuse, send, type Req, type RoomContext } from './request-context.js';
import { accountOf } from './account-requests.js';
import { holderOf } from './rooms.js';
import { otherNick, type SessionContext } from './session-requests.js';

/**
 * What a login is given of its inbox at most, in entries' JSON bytes: a quarter of the default
 * --max-sendq (256 KiB), so that it never costs the session its connection. The rest stays in the
 * history (/history nick).
 */
export const INBOX_BYTES = 64 * 1024;
/** Entries read per conversation at most (the newest). */
const INBOX_READ_MAX = 200;

/**
 * Whether a direct message of `text` in `conv` may be noted in the inbox of the account `fold` (`nick`): null if it
 * may (it is counted there now), else why not. Checked in the order, before the message is stored.
 */
export function inboxRefusal(ctx: RoomContext, fold: string, nick: string, conv: string, text: string): string | null {
  const accounts = ctx.store.accounts;
  if (!accounts) return null;
  const { maxInboxConversations: conversations, maxInboxBytes: bytes } = ctx.rooms.limits;
  const room = accounts.inboxReserve(fold, conv, Buffer.byteLength(text), { conversations, bytes });
  if (room === 'ok') return null;
  const full =
    room === 'conversations'
      ? `messages from ${conversations} people`
      : `${formatBytes(bytes)} of messages, the most an inbox holds`;
  return `not sent: ${nick} is offline and their inbox is full (${full}); try again once they have been online`;
}

export const inboxRequests: { [K in 'direct-offline' | 'inbox']: (ctx: SessionContext, msg: Req<K>) => Promise<void> } =
  {
    /** The worker found no session for `to`: a registered nick keeps it; anyone else is no user. */
    async 'direct-offline'(ctx, msg) {
      const sender = ctx.rooms.member(msg.sender);
      if (!sender) return;
      // Back online as this order knows it (logged in since the worker looked): posted as any direct message.
      const online = ctx.rooms.byNick(msg.to);
      const account = online ? null : await accountOf(ctx.store, msg.to);
      if (!online && !account) return refuse(ctx, msg.sender, 'NO_SUCH_NICK', `no user named ${msg.to}`, msg.ref);
      const to = online?.nick ?? account!.nick;
      const conv = directConversation(msg.from, to);
      const keepFor = account ? account.fold : awayAccount(online);
      const full = keepFor !== null ? inboxRefusal(ctx, keepFor, to, conv, msg.text) : null;
      if (full !== null) return refuse(ctx, msg.sender, 'INBOX_FULL', full, msg.ref);
      const entry: NewEntry = {
        conv,
        kind: directKind(msg.action),
        from: msg.from,
        to,
        text: msg.text,
        origin: holderOf(sender)?.key,
        // Who took part (direct-parties.ts): the receiver is its session if online, else its account.
        parties: [partyOf(sender), online ? partyOf(online) : accountParty(account!.nick)],
      };
      // Its own turn of the log: posted once stored; a refusal is the sender's, and the operator's (the sequencer's fault).
      await ctx.log.append({
        entries: [entry],
        publish: (stored, failure) =>
          stored
            ? postDirect(
                ctx,
                stored.entries[0]!,
                msg.sender,
                online && online.awaySince === null ? online.address : null,
                keepFor,
                msg.ref,
              )
            : refuse(ctx, msg.sender, 'NOT_STORED', notStored(failure), msg.ref),
      });
    },

    /** The session holds its registered nick (it logged in, or identified): what came while it was offline. */
    async inbox(ctx, msg) {
      const m = ctx.rooms.member(msg.session);
      const accounts = ctx.store.accounts;
      if (!m || !accounts) return;
      // Identifying as the nick it already had renames nothing: this is where the order learns it is the account's.
      m.account = true;
      if (m.version < 2) return;
      const fold = foldCase(m.nick);
      let count = 0;
      let budget = INBOX_BYTES;
      const frames: Buffer[] = [];
      for (const item of await accounts.inbox(fold)) {
        const last = await ctx.log.lastId(item.conv);
        if (last < item.firstId) continue;
        count += last - item.firstId + 1;
        const mine = [accountParty(m.nick)];
        const entries = (await ctx.log.before(item.conv, Infinity, INBOX_READ_MAX, mine)).filter(
          (e) => e.id >= item.firstId,
        );
        const kept = newestWithin(entries, budget);
        if (kept.entries.length === 0) continue;
        budget -= kept.bytes;
        frames.push(
          ...historyFrames(
            { with: otherNick(kept.entries, m.nick) },
            kept.entries,
            kept.entries[0]!.id > item.firstId,
            ctx.maxFrame,
          ),
        );
      }
      await accounts.inboxClear(fold);
      if (count === 0) return;
      send(ctx, m.address, { type: 'ACCOUNT_REPLY', op: 'offline', nick: m.nick, count });
      for (const f of frames) ctx.bus.postTo(m.address, f);
    },
  };

/** The newest entries whose JSON fits in `budget` bytes, oldest first. */
function newestWithin(entries: StoredEntry[], budget: number): { entries: StoredEntry[]; bytes: number } {
  let bytes = 0;
  let from = entries.length;
  while (from > 0) {
    const size = Buffer.byteLength(JSON.stringify(historyEntry(entries[from - 1]!))) + 1;
    if (bytes + size > budget) break;
    bytes += size;
    from--;
  }
  return { entries: entries.slice(from), bytes };
}
