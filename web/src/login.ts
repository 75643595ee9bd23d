/**
 * Logging in from the page: the join form (the nick checked by the server's
 * own rule before it is sent, a password never sent from a page over http),
 * the server's refusals shown on it, and the registered nick's password kept
 * for the next HELLO: as typed when joining, or as /register, /identify and
 * /password made it once the server accepted them.
 */
import { accountArgs } from '../../common/account-lines.js';
import { checkNick } from '../../common/unicode/nick-rule.js';
import type { ChatLog } from './chat-log.js';
import type { ClientMessage, ServerMessage } from './codec.js';
import { byId, setText } from './dom.js';

const NICK_KEY = 'heartbeat-chat.nick';
/** A password is never sent from a page over http: anyone on the network could read it (docs/PROTOCOL.md, Registered nicks). */
const PLAIN_PAGE =
  'not sent: this page is not over https, so a password would cross the network in the clear (open it with https://)';

/** Refusals of a HELLO that only the reader can get past (another nick, a password): no coming back by itself. */
const FOR_THE_READER: ReadonlySet<string> = new Set([
  'NICK_INVALID',
  'NICK_TAKEN',
  'NICK_REGISTERED',
  'NICK_PASSWORD_WRONG',
  'LOGIN_LOCKED',
  'PASSWORD_REQUIRED',
  'PASSWORD_WRONG',
  'PASSWORD_LOCKED',
  'VERSION_UNSUPPORTED',
]);

/** True when a refused HELLO needs the reader (the form again), not another try by itself. */
export function needsTheReader(code: string): boolean {
  return FOR_THE_READER.has(code);
}

export class Login {
  /** The registered nick's password, for the next HELLO: as typed when joining, or as /register, /identify, /password made it. */
  private nickPassword: string | null = null;
  /** What an ACCOUNT request sent would make the password, once the server accepts it. */
  private accountPending: string | null = null;

  /** @param join the form's nick passed the checks: join as it */
  constructor(
    private readonly log: ChatLog,
    private readonly send: (msg: ClientMessage) => void,
    join: (nick: string) => void,
  ) {
    const nickField = byId<HTMLInputElement>('nick');
    nickField.value = localStorage.getItem(NICK_KEY) ?? '';
    byId<HTMLFormElement>('join-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const check = checkNick(nickField.value.trim());
      if (!check.ok) {
        byId('join-error').textContent = `That nick will not do: ${check.reason}.`;
        return;
      }
      const password = byId<HTMLInputElement>('nick-password').value;
      if (password && location.protocol !== 'https:') {
        byId('join-error').textContent = PLAIN_PAGE;
        return;
      }
      this.nickPassword = password || null;
      join(check.nick);
    });
  }

  /** What HELLO carries besides the nick: a private server's password, the registered nick's. */
  passwords(): { server: string | null; nick: string | null } {
    return { server: byId<HTMLInputElement>('server-password').value || null, nick: this.nickPassword };
  }

  /** Joining: the form waits. */
  connecting(): void {
    byId('join-error').textContent = '';
    byId<HTMLButtonElement>('join').disabled = true;
  }

  /** The connection closed: the form may be sent again. */
  closed(): void {
    byId<HTMLButtonElement>('join').disabled = false;
  }

  /** Closed before a WELCOME: why, unless a refusal already said it. */
  couldNotJoin(code: number): void {
    if (!byId('join-error').textContent)
      byId('join-error').textContent = `could not join (connection closed, code ${code})`;
  }

  /** Welcomed: the nick is the form's next time. */
  welcomed(nick: string): void {
    localStorage.setItem(NICK_KEY, nick);
  }

  /** The form again (a login from the chat view was refused, or could not be made), with the nick it was for. */
  show(nick: string): void {
    byId('chat-view').hidden = true;
    byId('join-view').hidden = false;
    if (nick) byId<HTMLInputElement>('nick').value = nick;
  }

  /** The server refused the HELLO: said on the form. */
  refused(msg: Extract<ServerMessage, { type: 'ERROR' }>): void {
    setText(byId('join-error'), `${msg.code}: ${this.explain(msg)}`);
    // The nick is registered: its password goes in the field, and Join again.
    if (msg.code === 'NICK_REGISTERED' || msg.code === 'NICK_PASSWORD_WRONG') {
      const field = byId<HTMLInputElement>('nick-password');
      field.focus();
      field.select();
    }
  }

  /** The server's reason, in this page's terms: its NICK_REGISTERED names the terminal client's options. */
  private explain(msg: Extract<ServerMessage, { type: 'ERROR' }>): string {
    if (msg.code !== 'NICK_REGISTERED') return msg.message;
    const nick = /^nick (.+?) is registered/.exec(msg.message)?.[1] ?? byId<HTMLInputElement>('nick').value.trim();
    return location.protocol === 'https:'
      ? `nick ${nick} is registered: type its password in the Password field, then Join`
      : `nick ${nick} is registered: its password goes in the Password field, which this page sends only over https (open it with https://)`;
  }

  /** /register password, /identify nick password, /password old new: never from a page over http. */
  account(cmd: string, rest: string): void {
    if (location.protocol !== 'https:') return this.log.line(`! ${PLAIN_PAGE}`, 'error');
    // The terminal client's rule (common/account-lines.ts): a password in "quotes" is the same password everywhere.
    const a = accountArgs(cmd.slice(1) as 'register' | 'identify' | 'password', rest);
    if (!a.ok) return this.log.line(a.error, 'error');
    let msg: ClientMessage | null = null;
    if (a.op === 'register' && a.password !== undefined)
      msg = { type: 'ACCOUNT', op: 'register', password: a.password };
    else if (a.op === 'identify' && a.password !== undefined)
      msg = { type: 'ACCOUNT', op: 'identify', nick: a.nick, password: a.password };
    else if (a.op === 'password' && a.password !== undefined && a.newPassword !== undefined)
      msg = { type: 'ACCOUNT', op: 'password', password: a.password, newPassword: a.newPassword };
    // The page has no hidden prompt: a password left out is a usage error here.
    if (msg === null)
      return this.log.line(
        `usage: ${a.op === 'register' ? '/register <password>' : a.op === 'identify' ? '/identify <nick> <password>' : '/password <old> <new>'} ("double quotes" around a password with spaces)`,
        'error',
      );
    this.accountPending = msg.op === 'password' ? msg.newPassword : msg.password;
    this.send(msg);
  }

  /** The server's answer to an account request: the password it made current (or none, the account gone). */
  accountReply(msg: Extract<ServerMessage, { type: 'ACCOUNT_REPLY' }>): void {
    if (msg.op === 'unregistered') this.nickPassword = null;
    else if (msg.op !== 'offline' && this.accountPending !== null) this.nickPassword = this.accountPending;
    if (msg.op !== 'offline') this.accountPending = null;
  }
}
