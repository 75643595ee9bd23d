/**
 * The People list: the current room's members (NAMES), each with their idle
 * time and heartbeat RTT, or away (WHO, which covers everyone online, away
 * sessions too: both count the same sessions); both asked
 * again every few seconds while connected and soon after someone comes,
 * goes or changes nick. The members are also the nicks Tab completes, kept
 * current from the notices between two answers.
 */
import { roomKey } from '../../common/unicode/room-rule.js';
import type { ClientMessage, ServerMessage } from './codec.js';
import { byId, el, formatDuration } from './dom.js';

/** The People list's members, idle times and RTTs are asked for again this often. */
const REFRESH_MS = 5_000;
/** Notices after which the list is asked for again, soon (once for a burst of them). */
const CHANGES_PEOPLE: ReadonlySet<string> = new Set([
  'joined',
  'parted',
  'left',
  'timed_out',
  'kicked',
  'nick',
  'away',
  'back',
]);
/** Notices of someone no longer in a room: that one (parted) or every one (the session ended). */
const LEAVES: ReadonlySet<string> = new Set(['parted', 'left', 'timed_out', 'kicked']);

type WhoEntry = Extract<ServerMessage, { type: 'WHO_REPLY' }>['users'][number];
type NamesReply = Extract<ServerMessage, { type: 'NAMES_REPLY' }>;

export class PeoplePanel {
  /** The current room ('' for none) and its members as last told (null: not yet). */
  private room = '';
  private members: string[] | null = null;
  private total = 0;
  /** Idle time and RTT by nick, from the last WHO. */
  private readonly who = new Map<string, WhoEntry>();
  /** NAMES this panel asked for and not yet answered, by room key: those answers are not shown in the log. */
  private readonly asked = new Map<string, number>();
  private refresh: number | null = null;
  private soon: number | null = null;

  constructor(
    private readonly send: (msg: ClientMessage) => void,
    private readonly me: () => string,
  ) {}

  /** The others in the current room, for Tab completion. */
  nicks(): string[] {
    const me = this.me();
    return (this.members ?? []).filter((n) => n !== me);
  }

  /** Connected: asked for every few seconds. Not: nobody shown. */
  connected(on: boolean): void {
    if (this.refresh !== null) window.clearInterval(this.refresh);
    this.refresh = on ? window.setInterval(() => this.ask(), REFRESH_MS) : null;
    this.asked.clear();
    this.members = null;
    if (on) this.ask();
    else this.render();
  }

  /** The current room changed ('' for none): its members. */
  showRoom(name: string): void {
    if (roomKey(name) === roomKey(this.room)) return;
    this.room = name;
    this.members = null;
    this.render();
    this.askNames();
  }

  /** Idle times and RTTs of everyone online. */
  show(users: WhoEntry[]): void {
    this.who.clear();
    for (const u of users) this.who.set(u.nick, u);
    this.render();
  }

  /** A NAMES answer; true when this panel asked for it (it is not shown in the log). */
  names(msg: NamesReply): boolean {
    const key = roomKey(msg.room);
    if (key === roomKey(this.room)) {
      this.members = msg.nicks;
      this.total = msg.total;
      this.render();
    }
    const waiting = this.asked.get(key) ?? 0;
    if (waiting === 0) return false;
    if (waiting === 1) this.asked.delete(key);
    else this.asked.set(key, waiting - 1);
    return true;
  }

  /** Who is in the room, kept current from the notices between two answers. */
  follow(msg: Extract<ServerMessage, { type: 'NOTICE' }>): void {
    const here = msg.room === undefined || roomKey(msg.room) === roomKey(this.room);
    if (this.members && here) {
      const was = this.members.includes(msg.nick);
      const others = this.members.filter((p) => p !== msg.nick);
      if (msg.event === 'joined') {
        this.members = [...others, msg.nick];
        if (!was) this.total++;
      } else if (msg.event === 'nick' && msg.newNick && was) this.members = [...others, msg.newNick];
      else if (LEAVES.has(msg.event) && was) {
        this.members = others;
        this.total--;
      }
      this.render();
    }
    if (CHANGES_PEOPLE.has(msg.event)) this.refreshSoon();
  }

  private ask(): void {
    this.send({ type: 'WHO' });
    this.askNames();
  }

  private askNames(): void {
    if (!this.room || this.refresh === null) return;
    const key = roomKey(this.room);
    this.asked.set(key, (this.asked.get(key) ?? 0) + 1);
    this.send({ type: 'NAMES', room: this.room });
  }

  private render(): void {
    const list = byId<HTMLUListElement>('who');
    const me = this.me();
    const members = this.members ?? [];
    byId('who-count').textContent = this.members ? `(${this.total})` : '';
    list.replaceChildren(
      ...[...members.filter((n) => n === me), ...members.filter((n) => n !== me)].map((nick) => {
        const u = this.who.get(nick);
        const rtt = !u ? '' : u.away ? ', away' : u.rttMs === null ? ', rtt –' : `, rtt ${u.rttMs.toFixed(1)} ms`;
        return el(
          'li',
          {},
          el('span', { class: 'name' }, nick + (nick === me ? ' (you)' : '')),
          el('span', { class: 'muted small' }, u ? `idle ${formatDuration(u.idleMs)}${rtt}` : ''),
        );
      }),
    );
    if (this.total > members.length && this.members)
      list.append(el('li', { class: 'muted small' }, `… and ${this.total - members.length} more`));
  }

  private refreshSoon(): void {
    if (this.soon !== null) return;
    this.soon = window.setTimeout(() => {
      this.soon = null;
      if (this.refresh !== null) this.ask();
    }, 300);
  }
}
