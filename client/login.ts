/**
 * Getting logged in, beyond the first HELLO. What the listener does when the
 * server refuses one: on a terminal a refusal a person can fix is not the end,
 * as in irssi and ssh: a taken nick is tried again as nick_, a registered one
 * asks for its password. And the registered nick's password, kept for the next
 * HELLO: given at start (--password, CHAT_PASSWORD), typed when the server
 * asked, or learnt from /register, /identify and /password once the server has
 * accepted them, so that a login after a session that could not be resumed
 * takes it again without asking. Pure: frames in, steps out (listener/listener.ts
 * carries them out).
 */
import type { ClientMessage, ServerMessage } from '../common/protocol.js';
import { neutralizeControls as safe } from '../common/unicode/text-policy.js';
import { nickWithSuffix } from '../common/unicode/nick-rule.js';
import { rejectionText } from './render.js';

/** A taken nick is tried again with "_" added this many times before giving up. */
export const NICK_RETRIES = 3;
/** A terminal asks for the password this many times (a wrong one counts) before the client gives up, as ssh does. */
export const PASSWORD_ASKS = 3;

/** Each step may come with a line to print first. */
export type LoginStep = {
  line?: string;
} /** The session could not be resumed (its window passed, the server lost it): a new login, on this connection. */ & (
  | { kind: 'login-again' }
  /** Reconnecting, and the lost connection still holds the nick until the server times it out: try again later. */
  | { kind: 'held'; why: string }
  /** A new connection, as another nick. */
  | { kind: 'other-nick'; nick: string }
  /** The main thread asks for the password (hidden); then a new connection with it. */
  | { kind: 'ask-password' }
  /** The end: exit REJECTED with this last line. */
  | { kind: 'reject'; text: string }
);

export interface LoginSettings {
  /** The password given at start, or null. */
  password: string | null;
  /** stdout is a terminal (a taken nick is retried). */
  tty: boolean;
  /** A person at the terminal can type the password (the main thread reads the keyboard). */
  canAsk: boolean;
  /** A password may be sent on this connection (TLS, or --allow-plain-passwords). */
  passwordsAllowed: boolean;
}

type AccountOp = Extract<ClientMessage, { type: 'ACCOUNT' }>['op'];

export class Login {
  private value: string | null;
  private nickRetries = 0;
  private asked = 0;
  /** The password each kind of account request last sent would make current, until its answer comes. */
  private readonly pending = new Map<AccountOp, string>();

  constructor(private readonly settings: LoginSettings) {
    this.value = settings.password;
  }

  /** What the next HELLO carries (null: none). */
  get password(): string | null {
    return this.value;
  }

  /** The server refused a HELLO for `nick`. */
  refused(code: string, message: string, nick: string, reconnecting: boolean): LoginStep {
    const s = this.settings;
    if (code === 'RESUME_FAILED') return { kind: 'login-again', line: `* ${safe(message)}; logging in again` };
    if (code === 'NICK_TAKEN' && reconnecting)
      return { kind: 'held', why: `${safe(nick)} is still held by the lost connection` };
    if (code === 'NICK_TAKEN' && s.tty && this.nickRetries < NICK_RETRIES) {
      this.nickRetries++;
      const next = nickWithSuffix(nick, '_');
      return { kind: 'other-nick', nick: next, line: `* nick ${safe(nick)} is taken; trying ${safe(next)}` };
    }
    // A password is asked for only where it may be sent.
    const forPassword = code === 'NICK_REGISTERED' || code === 'NICK_PASSWORD_WRONG';
    if (forPassword && s.canAsk && s.passwordsAllowed && this.asked < PASSWORD_ASKS) {
      this.asked++;
      return code === 'NICK_PASSWORD_WRONG'
        ? { kind: 'ask-password', line: `! ${safe(message)}` }
        : { kind: 'ask-password' };
    }
    return { kind: 'reject', text: `chat-client: ${rejectionText(code, message, nick)}` };
  }

  /** The person typed it (never ''). */
  typed(password: string): void {
    this.value = password;
  }

  /** A frame the listener sends: an account request's password becomes current once the server accepts it. */
  sent(msg: ClientMessage): void {
    if (msg.type === 'ACCOUNT') this.pending.set(msg.op, msg.op === 'password' ? msg.newPassword : msg.password);
  }

  /** A frame from the server: a WELCOME (the asks start again), the answers to account requests. */
  learn(msg: ServerMessage): void {
    if (msg.type === 'WELCOME') this.asked = 0;
    if (msg.type !== 'ACCOUNT_REPLY') return;
    const op: AccountOp | null =
      msg.op === 'registered'
        ? 'register'
        : msg.op === 'identified'
          ? 'identify'
          : msg.op === 'password'
            ? 'password'
            : null;
    if (op !== null && this.pending.has(op)) {
      this.value = this.pending.get(op)!;
      this.pending.delete(op);
    }
    // The operator removed the account: the nick is free again, and a password in HELLO would only be refused.
    if (msg.op === 'unregistered') this.value = null;
  }
}
