/**
 * What the IRC door knows of people that the chat protocol does not carry:
 * the door each one came through (the user part of their prefix), and for
 * the IRC sessions of this worker their real name (USER), their AWAY
 * message and the registered nick they are logged in to (account-tag,
 * WHOIS 330). The door comes from the session table, which every worker of
 * the node shares (a session of another node shows as a chat session); the
 * rest is known here only, so WHOIS of an IRC user on another worker shows
 * the nick as the real name and no AWAY message.
 */
import { foldCase } from '../../common/unicode/text-policy.js';
import type { Door } from '../irc/nick-map.js';
import type { PersonInfo } from '../irc/who-answer.js';
import type { Transport } from '../shm/slot-layout.js';

/** An IRC user elsewhere: the door, and no ident to show (it is known only where the session lives). */
export const OTHER_IRC: Door = { kind: 'irc', ident: 'irc' };

export interface Person {
  ident: string;
  realname: string;
  /** The registered nick this session is logged in to (SASL, IDENTIFY, or a HELLO with the nick's password). */
  account?: string;
  awayMessage?: string;
}

export class IrcPeople {
  private readonly byNick = new Map<string, Person>();

  /** @param transportOf how the session holding a nick is connected (this node's session table), or null */
  constructor(private readonly transportOf: (nick: string) => Transport | null) {}

  get size(): number {
    return this.byNick.size;
  }

  add(nick: string, person: Person): void {
    this.byNick.set(foldCase(nick), person);
  }

  /** The session's person, if it is one of this worker's IRC sessions. */
  get(nick: string): Person | undefined {
    return this.byNick.get(foldCase(nick));
  }

  renamed(from: string, to: string, person: Person): void {
    if (this.byNick.get(foldCase(from)) === person) this.byNick.delete(foldCase(from));
    this.byNick.set(foldCase(to), person);
  }

  remove(nick: string, person: Person): void {
    if (this.byNick.get(foldCase(nick)) === person) this.byNick.delete(foldCase(nick));
  }

  doorOf(nick: string): Door {
    if (this.byNick.has(foldCase(nick))) return OTHER_IRC;
    const transport = this.transportOf(nick);
    return transport === 'ws' ? { kind: 'web' } : transport === 'irc' ? OTHER_IRC : { kind: 'chat' };
  }

  accountOf(nick: string): string | undefined {
    return this.get(nick)?.account;
  }

  infoOf(nick: string): PersonInfo {
    const p = this.get(nick);
    const info: PersonInfo = { door: this.doorOf(nick) };
    if (p) {
      info.realname = p.realname;
      if (p.account !== undefined) info.account = p.account;
      if (p.awayMessage !== undefined) info.awayMessage = p.awayMessage;
    }
    return info;
  }
}
