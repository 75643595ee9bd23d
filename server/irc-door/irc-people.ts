/**
 * What the IRC door knows of people that the chat protocol does not carry:
 * the door each one came through (the user part of their prefix), and for
 * IRC sessions their real name (USER), their AWAY message and the
 * registered nick they are logged in to (account-tag, WHOIS 330). The door
 * comes from the session table; the rest from this worker's own sessions,
 * for an IRC session of another worker of the node, from the shared
 * IrcPeopleTable its owner keeps (shm/irc-people-table.ts), and for one of
 * another node of a cluster, from what its owner told the other nodes
 * (people-elsewhere.ts: nobody, alone; cluster-people.ts on Redis).
 *
 * A change of AWAY is told to the IRC sessions that share a room with its
 * person, on every worker (away-notify): through the AwayChannel, which the
 * door's workers share, and to the other nodes' workers through
 * PeopleElsewhere.
 */
import { foldCase } from '../../common/unicode/text-policy.js';
import type { Door } from '../irc/nick-map.js';
import type { PersonInfo } from '../irc/who-answer.js';
import type { IrcPeopleTable, SharedPerson } from '../shm/irc-people-table.js';
import type { SlotRef, Transport } from '../shm/slot-layout.js';
import { type AwayChange, NOBODY_ELSEWHERE, type PeopleElsewhere } from './people-elsewhere.js';

export type { AwayChange } from './people-elsewhere.js';

/** An IRC session of this node whose ident is not known here (its worker has not written its person yet). */
export const OTHER_IRC: Door = { kind: 'irc', ident: 'irc' };

export interface Person {
  ident: string;
  realname: string;
  /** The registered nick this session is logged in to (SASL, IDENTIFY, REGISTER, or a HELLO with the nick's password). */
  account?: string;
  awayMessage?: string;
}

/** How AWAY changes cross between the workers (a BroadcastChannel; door-setup.ts). */
export interface AwayChannel {
  post(change: AwayChange): void;
  /** What the other workers post. */
  onChange(listener: (change: AwayChange) => void): void;
}

/** Where the session holding a nick is on this node, and how it is connected. */
export type Whereabouts = (nick: string) => (SlotRef & { transport: Transport }) | null;

export class IrcPeople {
  private readonly byNick = new Map<string, Person>();
  /** Each of this worker's people's slot (where its shared entry is) and nick (what the other nodes know it by). */
  private readonly slots = new WeakMap<Person, { at: SlotRef; nick: string }>();
  private readonly listeners = new Set<(change: AwayChange) => void>();

  constructor(
    private readonly where: Whereabouts,
    private readonly shared: IrcPeopleTable,
    private readonly channel: AwayChannel | null = null,
    private readonly elsewhere: PeopleElsewhere = NOBODY_ELSEWHERE,
  ) {
    channel?.onChange((change) => this.tell(change));
    elsewhere.onAway((change) => this.tell(change));
  }

  get size(): number {
    return this.byNick.size;
  }

  /** A session of this worker, now registered: kept here and in the shared table. */
  add(nick: string, person: Person): void {
    this.byNick.set(foldCase(nick), person);
    const at = this.where(nick);
    if (at) {
      this.slots.set(person, { at: { slot: at.slot, generation: at.generation }, nick });
      this.changed(person);
    }
  }

  /** The person's real name, account or AWAY changed: the other workers and nodes read it from now on. */
  changed(person: Person, awayIn?: string[]): void {
    const mine = this.slots.get(person);
    if (!mine) return;
    this.shared.write(mine.at, person);
    this.elsewhere.tell(mine.at, mine.nick, person, awayIn);
  }

  /** This worker's person set or cleared its AWAY message in these rooms: everyone who shares one is told. */
  awayChanged(nick: string, person: Person, rooms: string[]): void {
    this.changed(person, rooms);
    const change = { nick, message: person.awayMessage ?? null, rooms };
    this.tell(change);
    this.channel?.post(change);
  }

  /** A session of this worker hears AWAY changes (until the returned function is called). */
  listen(listener: (change: AwayChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The session's person, if it is one of this worker's IRC sessions. */
  get(nick: string): Person | undefined {
    return this.byNick.get(foldCase(nick));
  }

  renamed(from: string, to: string, person: Person): void {
    if (this.byNick.get(foldCase(from)) === person) this.byNick.delete(foldCase(from));
    this.byNick.set(foldCase(to), person);
    const mine = this.slots.get(person);
    if (!mine) return;
    mine.nick = to;
    this.changed(person);
  }

  remove(nick: string, person: Person): void {
    if (this.byNick.get(foldCase(nick)) === person) this.byNick.delete(foldCase(nick));
    const mine = this.slots.get(person);
    if (!mine) return;
    this.shared.clear(mine.at);
    this.elsewhere.tell(mine.at, mine.nick, null);
  }

  /** How nick connected, with its USER ident where it came through this node's IRC door (any worker's). */
  doorOf(nick: string): Door {
    const p = this.person(nick);
    if (p) return p.ident ? { kind: 'irc', ident: p.ident } : OTHER_IRC;
    const transport = this.where(nick)?.transport;
    return transport === 'ws' ? { kind: 'web' } : transport === 'irc' ? OTHER_IRC : { kind: 'chat' };
  }

  accountOf(nick: string): string | undefined {
    return this.person(nick)?.account;
  }

  awayOf(nick: string): string | undefined {
    return this.person(nick)?.awayMessage;
  }

  infoOf(nick: string): PersonInfo {
    const p = this.person(nick);
    const info: PersonInfo = { door: this.doorOf(nick) };
    if (p) {
      info.realname = p.realname;
      if (p.account !== undefined) info.account = p.account;
      if (p.awayMessage !== undefined) info.awayMessage = p.awayMessage;
    }
    return info;
  }

  /** This worker's, an IRC session of another worker's as its owner keeps it, or another node's as told. */
  private person(nick: string): Person | SharedPerson | undefined {
    const mine = this.get(nick);
    if (mine) return mine;
    const at = this.where(nick);
    if (!at) return this.elsewhere.get(nick);
    return at.transport === 'irc' ? (this.shared.read(at) ?? undefined) : undefined;
  }

  private tell(change: AwayChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
