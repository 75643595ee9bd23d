/**
 * A direct message to a registered nick that is not online is kept by the
 * server for their next login; the sender's copy reads like any delivered one.
 * On a terminal the listener asks who is online right after such a message
 * (a WHO whose answer it does not print; WHO and DIRECT see the same table on
 * the server), unless the nick is known to be here (in the current room), and
 * when the answer does not list them it says that the message waits. Pure.
 */
import type { ClientMessage, ServerMessage } from '../common/protocol.js';
import { foldCase, neutralizeControls as safe } from '../common/unicode/text-policy.js';

/** Messages watched at once; the oldest is forgotten past it (a refused one is never echoed). */
const MAX_WATCHED = 100;

interface Watched {
  to: string;
  /** The nick as the server's copy writes it, once it came. */
  echoed: string | null;
  /** What the WHO answer said; undefined until it came. */
  online: boolean | undefined;
}

export class DirectWatch {
  private readonly watched: Watched[] = [];
  /** Every WHO sent, in order (answers come in order): the message the watch's own asks about, whose answer is not printed. */
  private readonly asked: Array<Watched | 'user'> = [];

  /** A DIRECT goes out: the WHO to send right after it, or null (the nick is known to be online). */
  sent(to: string, knownHere: boolean): ClientMessage | null {
    if (knownHere) return null;
    const w: Watched = { to: foldCase(to), echoed: null, online: undefined };
    this.watched.push(w);
    if (this.watched.length > MAX_WATCHED) this.watched.shift();
    this.asked.push(w);
    return { type: 'WHO' };
  }

  /** The user's own /who went out: its answer is printed. */
  userAsked(): void {
    this.asked.push('user');
  }

  /** A WHO_REPLY: whether it answers the watch (then it is not printed), and the lines to say. */
  answered(msg: Extract<ServerMessage, { type: 'WHO_REPLY' }>): { ours: boolean; lines: string[] } {
    const w = this.asked.shift();
    if (w === undefined || w === 'user') return { ours: false, lines: [] };
    // A list cut short (a very large server) cannot say someone is not on it.
    // Away (its connection lost) is not online: the message waits for it to come back.
    w.online = msg.users.length < msg.total || msg.users.some((u) => foldCase(u.nick) === w.to && !u.away);
    return { ours: true, lines: this.settled() };
  }

  /** My own DIRECT, as the server stored it: the lines to say. */
  echoed(msg: Extract<ServerMessage, { type: 'DIRECT' }>): string[] {
    const w = this.watched.find((x) => x.echoed === null && x.to === foldCase(msg.to));
    if (w) w.echoed = msg.to;
    return this.settled();
  }

  /** The server refused a direct message (no such nick, a full inbox): the oldest one not echoed is not coming. */
  refused(): void {
    const at = this.watched.findIndex((x) => x.echoed === null);
    if (at >= 0) this.watched.splice(at, 1);
  }

  private settled(): string[] {
    const lines: string[] = [];
    for (let i = 0; i < this.watched.length; ) {
      const w = this.watched[i]!;
      if (w.echoed === null || w.online === undefined) {
        i++;
        continue;
      }
      this.watched.splice(i, 1);
      if (!w.online) lines.push(`* ${safe(w.echoed)} is not online: the message waits for their next login`);
    }
    return lines;
  }
}
