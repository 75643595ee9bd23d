/**
 * What the client needs to resume its session after a lost connection
 * (docs/PROTOCOL.md, "Resume"): the token the last WELCOME gave, and the
 * last id it has shown of each conversation, so that the server sends what
 * came after, once. Pure: the listener feeds it every frame.
 */
import type { ClientMessage, LastSeen, ServerMessage } from './messages.js';
import { roomKey } from './unicode/room-rule.js';
import { foldCase } from './unicode/text-policy.js';

/** Conversations listed in a resuming HELLO at most (the rooms one may be in, and the most recent direct ones). */
const MAX_LAST = 200;

export class ResumeState {
  private token: string | null = null;
  /** Room key or "@nick" (folded) → [name as shown, last id]. */
  private readonly last = new Map<string, LastSeen>();

  get canResume(): boolean {
    return this.token !== null;
  }

  /** HELLO: with the token and the last ids when there is a session to come back to; else with a private server's password, if any. */
  /** password: a private server's; nickPassword: the nick's, if it is registered (neither goes with a resume token). */
  hello(
    version: number,
    nick: string,
    client: string,
    password: string | null = null,
    nickPassword: string | null = null,
  ): ClientMessage {
    const base = { type: 'HELLO', version, nick, client } as const;
    if (this.token === null)
      return {
        ...base,
        ...(password !== null ? { password } : {}),
        ...(nickPassword !== null ? { nickPassword } : {}),
      };
    return { ...base, resume: this.token, last: [...this.last.values()].slice(-MAX_LAST) };
  }

  /** The session ended or could not be resumed: the next HELLO starts a new one. */
  forget(): void {
    this.token = null;
    this.last.clear();
  }

  learn(msg: ServerMessage, me: string): void {
    switch (msg.type) {
      case 'WELCOME':
        if (!msg.resumed) this.last.clear();
        this.token = msg.resume ?? null;
        return;
      case 'CHAT':
        if (msg.room !== undefined && msg.id !== undefined) this.saw(roomKey(msg.room), { room: msg.room, id: msg.id });
        return;
      case 'DIRECT': {
        const other = foldCase(msg.from) === foldCase(me) ? msg.to : msg.from;
        if (msg.id !== undefined) this.saw(`@${foldCase(other)}`, { with: other, id: msg.id });
        return;
      }
      case 'HISTORY': {
        const newest = msg.entries.at(-1);
        if (!newest) return;
        if (msg.room !== undefined) this.saw(roomKey(msg.room), { room: msg.room, id: newest.id });
        else if (msg.with !== undefined) this.saw(`@${foldCase(msg.with)}`, { with: msg.with, id: newest.id });
        return;
      }
    }
  }

  private saw(key: string, seen: LastSeen): void {
    const before = this.last.get(key);
    if (before && before.id >= seen.id) return;
    // Most recent last: when there are more than MAX_LAST, the oldest are the ones left out.
    this.last.delete(key);
    this.last.set(key, seen);
  }
}
