/**
 * A worker's side of registered nicks: whether a nick is registered (asked of
 * the store thread), whether the password given for it is right (scrypt, on
 * the thread pool), and the limits on guessing. Wrong passwords are booked in
 * two of the workers' shared throttles (server/auth-throttle.ts): per address
 * (with the server password's and the dashboard token's tries) and per nick,
 * so that neither one address trying many nicks nor many addresses trying one
 * nick get more than five free tries before locks that double up to a minute.
 * The address lock is the guesser's own. The nick lock holds only for
 * addresses the nick has not logged in from (known-callers.ts): the owner's
 * right password works from where it worked before, whoever guesses.
 * While a try is locked out, nothing is hashed: locked guesses cost no CPU.
 *
 * Passwords never cross a plain connection unless the operator allowed it
 * (--allow-plain-passwords): a password that arrives on one anyway is refused
 * unread, so that sending one in clear is never rewarded.
 */
import { createHash } from 'node:crypto';
import { ProtocolError } from '../../common/errors.js';
import { AuthThrottle, type ThrottleRecords } from '../auth-throttle.js';
import { foldCase } from '../../common/unicode/text-policy.js';
import { formatDuration } from '../../common/units.js';
import type { AccountAnswer } from '../store/store-messages.js';
import type { StoreQuestions } from '../store/store-link.js';
import { StoreError } from '../store/store-error.js';
import { KnownCallers } from './known-callers.js';
import { verifyPassword } from './password-hash.js';

/** Who is trying: the remote address, and whether its connection is encrypted (TLS, or the page over https). */
export interface Caller {
  address: string;
  secure: boolean;
}

export const PLAIN_PASSWORD_TEXT =
  'passwords are not taken over a plain connection (anyone on the network could read them): connect with TLS, the default';

export class AccountGate {
  private readonly byNick: AuthThrottle;
  private readonly known: KnownCallers;

  constructor(
    private readonly store: StoreQuestions,
    private readonly byAddress: AuthThrottle,
    nickRecords: ThrottleRecords,
    readonly allowPlainPasswords: boolean,
  ) {
    this.byNick = new AuthThrottle(nickRecords);
    this.known = new KnownCallers(nickRecords);
  }

  /** The caller asked to register `nick`: its address is the account's from now on (known-callers.ts). */
  registering(caller: Caller, nick: string, now: number): void {
    this.known.remember(nick, caller.address, now);
  }

  /** Throws PLAIN_PASSWORD unless a password may come over this connection. */
  checkChannel(caller: Caller): void {
    if (!caller.secure && !this.allowPlainPasswords) throw new ProtocolError('PLAIN_PASSWORD', PLAIN_PASSWORD_TEXT);
  }

  /** The account this nick is or looks like, or null; a store that cannot answer is a refusal, not a pass. */
  async find(nick: string): Promise<AccountAnswer | null> {
    try {
      return await this.store.account(nick);
    } catch (err) {
      const why =
        err instanceof StoreError && err.code === 'STORE_RESTARTING'
          ? "the server's store is restarting"
          : "the server's store failed";
      throw new ProtocolError('SERVER_FULL', `cannot check the nick now (${why}); try again in a moment`);
    }
  }

  /**
   * HELLO for `nick`: resolves true if it is registered and the password is
   * right, false if it is not registered (the password, if any, is not
   * needed). Throws the fatal refusal otherwise.
   */
  async login(caller: Caller, nick: string, password: string | undefined, now: number): Promise<boolean> {
    const account = await this.find(nick);
    if (!account) return false;
    if (!account.same)
      throw new ProtocolError('NICK_TAKEN', `nick ${nick} looks like ${account.nick}, a registered nick`);
    if (password === undefined)
      throw new ProtocolError(
        'NICK_REGISTERED',
        `nick ${account.nick} is registered: give its password (chat-client --password, CHAT_PASSWORD, or type it when asked)`,
      );
    this.checkChannel(caller);
    await this.verify(caller, account, password, now);
    return true;
  }

  /** The account of `nick` (not a look-alike), its password checked; throws NOT_REGISTERED, NICK_PASSWORD_WRONG or LOGIN_LOCKED. */
  async identify(caller: Caller, nick: string, password: string, now: number): Promise<AccountAnswer> {
    this.checkChannel(caller);
    const account = await this.find(nick);
    if (!account || !account.same) throw new ProtocolError('NOT_REGISTERED', `${nick} is not a registered nick`);
    await this.verify(caller, account, password, now);
    return account;
  }

  /** Throws NICK_REGISTERED if a session may not take this nick without its password (it is, or looks like, a registered one). */
  async checkUnregistered(nick: string): Promise<void> {
    const account = await this.find(nick);
    if (account?.same)
      throw new ProtocolError(
        'NICK_REGISTERED',
        `${account.nick} is registered: /identify ${account.nick} with its password`,
      );
    if (account) throw new ProtocolError('NICK_TAKEN', `nick ${nick} looks like ${account.nick}, a registered nick`);
  }

  private async verify(caller: Caller, account: AccountAnswer, password: string, now: number): Promise<void> {
    const nickKey = throttleKey(account.nick);
    const mine = this.byAddress.admit(caller.address, now);
    if (!mine.ok)
      throw new ProtocolError(
        'LOGIN_LOCKED',
        `too many wrong passwords from ${caller.address}: try again in ${formatDuration(mine.retryAfterMs)}`,
      );
    const nickLock = this.known.has(account.nick, caller.address, now) ? null : this.byNick.admit(nickKey, now);
    if (nickLock && !nickLock.ok)
      throw new ProtocolError(
        'LOGIN_LOCKED',
        `too many wrong passwords for ${account.nick} from addresses it has not logged in from: ` +
          `try again in ${formatDuration(nickLock.retryAfterMs)}, or from an address it used before`,
      );
    if (await verifyPassword(password, account.hash)) {
      // Neither lock is lifted by a success: a guesser logging in to its own account, or the owner to theirs,
      // must not buy five fresh guesses.
      this.known.remember(account.nick, caller.address, now);
      return;
    }
    const lock = Math.max(this.byAddress.failed(caller.address, now), this.byNick.failed(nickKey, now));
    throw new ProtocolError(
      'NICK_PASSWORD_WRONG',
      `wrong password for ${account.nick}${lock > 0 ? `; try again in ${formatDuration(lock)}` : ''}`,
    );
  }
}

/** A nick's key in the nick throttle: a fixed-size digest of its fold (the shared table keeps 64 bytes per key). */
function throttleKey(nick: string): string {
  return createHash('sha256').update(foldCase(nick)).digest('hex').slice(0, 32);
}
