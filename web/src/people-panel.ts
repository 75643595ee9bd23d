/**
 * The People list: who is here, with their idle time and heartbeat RTT (WHO,
 * asked again every few seconds while connected and soon after someone comes,
 * goes or changes nick), and the nicks Tab completes, kept current from the
 * notices between two answers.
 */
import type { ClientMessage, ServerMessage } from './codec.js';
import { byId, el, formatDuration } from './dom.js';

/** The People list's idle times and RTTs are asked for again this often. */
const WHO_REFRESH_MS = 5_000;
/** Notices after which the list is asked for again, soon (once for a burst of them). */
const CHANGES_PEOPLE: ReadonlySet<string> = new Set(['joined', 'parted', 'left', 'timed_out', 'kicked', 'nick']);

type Users = Extract<ServerMessage, { type: 'WHO_REPLY' }>['users'];

export class PeoplePanel {
  private people: string[] = [];
  private refresh: number | null = null;
  private soon: number | null = null;

  constructor(
    private readonly send: (msg: ClientMessage) => void,
    private readonly me: () => string,
  ) {}

  /** The others here, for Tab completion. */
  nicks(): string[] {
    return this.people;
  }

  /** Connected: asked for every few seconds. Not: nobody shown. */
  connected(on: boolean): void {
    if (this.refresh !== null) window.clearInterval(this.refresh);
    this.refresh = on ? window.setInterval(() => this.send({ type: 'WHO' }), WHO_REFRESH_MS) : null;
    if (!on) {
      this.people = [];
      byId<HTMLUListElement>('who').replaceChildren();
      byId('who-count').textContent = '';
    }
  }

  show(users: Users, total: number): void {
    const list = byId<HTMLUListElement>('who');
    const me = this.me();
    list.replaceChildren();
    byId('who-count').textContent = `(${total})`;
    this.people = users.map((u) => u.nick).filter((n) => n !== me);
    for (const u of users) {
      const rtt = u.rttMs === null ? 'rtt –' : `rtt ${u.rttMs.toFixed(1)} ms`;
      list.append(
        el(
          'li',
          {},
          el('span', { class: 'name' }, u.nick + (u.nick === me ? ' (you)' : '')),
          el('span', { class: 'muted small' }, `idle ${formatDuration(u.idleMs)}, ${rtt}`),
        ),
      );
    }
  }

  /** Who can be completed, kept current from the notices between two WHO replies. */
  follow(msg: Extract<ServerMessage, { type: 'NOTICE' }>): void {
    const me = this.me();
    const others = this.people.filter((p) => p !== msg.nick);
    if (msg.event === 'joined' && msg.nick !== me) this.people = [...others, msg.nick];
    else if (msg.event === 'left' || msg.event === 'timed_out' || msg.event === 'kicked') this.people = others;
    else if (msg.event === 'nick' && msg.newNick) this.people = msg.nick === me ? others : [...others, msg.newNick];
    if (CHANGES_PEOPLE.has(msg.event)) this.refreshSoon();
  }

  private refreshSoon(): void {
    if (this.soon !== null) return;
    this.soon = window.setTimeout(() => {
      this.soon = null;
      this.send({ type: 'WHO' });
    }, 300);
  }
}
