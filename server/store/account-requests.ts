/**
 * Registered nicks as the sequencer changes them (accounts.ts): a session
 * registers the nick it holds, or gives its registered nick a new password.
 * The worker has hashed the password (and checked the old one); here the
 * account is written and the session told, in its place in the order.
 */
import { lookAlikeKey } from '../../common/unicode/confusables.js';
import { foldCase } from '../../common/unicode/text-policy.js';
import { withRef } from '../../common/messages.js';
import { MAX_ACCOUNTS, type AccountRecord } from './accounts.js';
import { refuse, send, type Req } from './request-context.js';
import type { SessionContext } from './session-requests.js';
import type { HistoryStore } from './history.js';
import { accountParty } from './direct-parties.js';
import { formatDuration } from '../../common/units.js';

/**
 * Whether a session holding `nick` is that account's: only a nick's holder can register it, and nobody else can
 * take a registered nick without its password, so a session that holds a registered nick is its account's. What a
 * restarted store thread (or a restarted server) learns again of the sessions it brings back, whose account flag
 * it did not keep.
 */
export async function holdsAccount(store: HistoryStore, nick: string): Promise<boolean> {
  return (await accountOf(store, nick)) !== null;
}

/** The account registered for exactly this nick (not one it only looks like), or null. */
export async function accountOf(store: HistoryStore, nick: string): Promise<AccountRecord | null> {
  const a = await store.accounts?.find(foldCase(nick), lookAlikeKey(nick));
  return a && foldCase(a.nick) === foldCase(nick) ? a : null;
}

export const accountRequests: {
  [K in 'register' | 'set-password' | 'unregister']: (ctx: SessionContext, msg: Req<K>) => Promise<void>;
} = {
  async register(ctx, msg) {
    const m = ctx.rooms.member(msg.session);
    const accounts = ctx.store.accounts;
    if (!m) return;
    if (!accounts)
      return refuse(
        ctx,
        msg.session,
        'ACCOUNTS_OFF',
        'this server keeps no accounts (it runs with --no-history)',
        msg.ref,
      );
    const now = ctx.now();
    // One of the network's registrations this hour, taken before the account is made (and given back if it is not).
    const taken = m.origin !== null ? await ctx.rooms.registrations.take(m.origin, now) : null;
    if (taken && !taken.ok)
      return refuse(
        ctx,
        msg.session,
        'REGISTER_LIMIT',
        `${ctx.rooms.limits.maxRegistrationsPerPrefix} nicks were registered from your network (${m.origin}) in the last hour, the most one address prefix may; try again in ${formatDuration(Math.ceil(taken.waitMs / 1000) * 1000)}`,
        msg.ref,
      );
    let made: Awaited<ReturnType<typeof accounts.create>>;
    try {
      made = await accounts.create({
        nick: m.nick,
        fold: foldCase(m.nick),
        look: lookAlikeKey(m.nick),
        hash: msg.hash,
        createdTs: now,
      });
    } catch (err) {
      taken?.giveBack();
      throw err;
    }
    if (made !== 'ok') taken?.giveBack();
    if (made === 'exists')
      return refuse(
        ctx,
        msg.session,
        'ACCOUNT_EXISTS',
        `${m.nick} (or a nick that looks like it) is registered already`,
        msg.ref,
      );
    if (made === 'full')
      return refuse(
        ctx,
        msg.session,
        'ACCOUNT_EXISTS',
        `the server has ${MAX_ACCOUNTS} registered nicks, the most it keeps`,
        msg.ref,
      );
    m.account = true;
    ctx.event(`* ${m.nick} registered their nick`);
    send(ctx, msg.session, { type: 'ACCOUNT_REPLY', op: 'registered', nick: m.nick, ...withRef(msg.ref) });
  },

  async 'set-password'(ctx, msg) {
    const m = ctx.rooms.member(msg.session);
    if (!m || !ctx.store.accounts) return;
    const changed = await ctx.store.accounts.setHash(foldCase(msg.nick), msg.hash);
    if (!changed)
      return refuse(ctx, msg.session, 'NOT_REGISTERED', `${msg.nick} is not a registered nick any more`, msg.ref);
    send(ctx, msg.session, { type: 'ACCOUNT_REPLY', op: 'password', nick: msg.nick, ...withRef(msg.ref) });
  },

  async unregister(ctx, msg) {
    const accounts = ctx.store.accounts;
    if (!accounts) return ctx.event('this server keeps no accounts (it runs with --no-history)');
    if (!(await accounts.remove(foldCase(msg.nick)))) return ctx.event(`no registered nick ${msg.nick}`);
    // Its direct messages are nobody's now: whoever registers the nick next is someone else (direct-parties.ts).
    await ctx.store.retireParty(accountParty(msg.nick));
    ctx.event(`* ${msg.nick} is not registered any more`);
    const holder = ctx.rooms.byNick(msg.nick);
    if (!holder) return;
    holder.account = false;
    send(ctx, holder.address, { type: 'ACCOUNT_REPLY', op: 'unregistered', nick: holder.nick });
  },
};
