/**
 * What the client needs to resume its session after a lost connection
 * (docs/PROTOCOL.md, "Resume"): the token the last WELCOME gave, and the
 * last id it has shown of each conversation, so that the server sends what
 * came after, once. Pure: the listener feeds it every frame. The browser
 * page also keeps it across a reload of its tab (snapshot, restore).
 */
import type { ClientMessage, LastSeen, ServerMessage } from './messages.js';
import { roomKey } from './unicode/room-rule.js';
import { foldCase } from './unicode/text-policy.js';

/** Conversations listed in a resuming HELLO at most (the rooms one may be in, and the most recent direct ones). */
const MAX_LAST = 200;

/** What a session needs to be resumed by another instance of the client (the browser page after a reload). */
export interface ResumeSnapshot {
  token: string;
  last: LastSeen[];
}

/** A snapshot as kept: a token of sane length, and last ids each naming a room or a nick. */
function isSnapshot(v: unknown): v is ResumeSnapshot {
  if (typeof v !== 'object' || v === null) return false;
  const { token, last } = v as Partial<ResumeSnapshot>;
  if (typeof token !== 'string' || token.length === 0 || token.length > 128 || !Array.isArray(last)) return false;
  return last.every(
    (e: Partial<LastSeen> | null) =>
      typeof e === 'object' &&
      e !== null &&
      Number.isSafeInteger(e.id) &&
      (typeof e.room === 'string') !== (typeof e.with === 'string'),
  );
}

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

  /** The token and the last ids, or null when there is no session to come back to. */
  snapshot(): ResumeSnapshot | null {
    return this.token === null ? null : { token: this.token, last: [...this.last.values()] };
  }

  /** Takes up a snapshot; one that is not (a damaged copy) is refused, and the next HELLO starts a new session. */
  restore(snapshot: unknown): boolean {
    this.forget();
    if (!isSnapshot(snapshot)) return false;
    this.token = snapshot.token;
    for (const seen of snapshot.last.slice(-MAX_LAST))
      if (seen.room !== undefined) this.saw(roomKey(seen.room), { room: seen.room, id: seen.id });
      else if (seen.with !== undefined) this.saw(`@${foldCase(seen.with)}`, { with: seen.with, id: seen.id });
    return true;
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
