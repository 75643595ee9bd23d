/**
 * The client's rooms (protocol version 2): which it is in, which one is
 * current (where a plain line goes, what the prompt shows), and how far back
 * it has seen each room's history (where /history goes on from). Pure: the
 * listener feeds it what the server says and asks it to turn room commands
 * into frames.
 */
import type { ClientMessage, ServerMessage } from '../common/protocol.js';
import { roomKey } from '../common/unicode/room-rule.js';
import { neutralizeControls as safe } from '../common/unicode/text-policy.js';

/** A room command as typed; room null means the current room. */
export type RoomCommand =
  | { cmd: 'join'; room: string }
  | { cmd: 'part'; room: string | null; reason: string }
  | { cmd: 'topic'; room: string | null; text: string | undefined }
  | { cmd: 'names'; room: string | null }
  | { cmd: 'rooms' }
  | { cmd: 'switch'; room: string }
  /** with: a nick, for the direct messages with them (room is then null). */
  | { cmd: 'history'; room: string | null; with?: string; count: number | undefined; sinceMs: number | undefined };

export type Resolved = { ok: true; msg: ClientMessage | null; line?: string } | { ok: false; error: string };

export class RoomState {
  /** Room keys → names as the server writes them, in the order joined. */
  private readonly joined = new Map<string, string>();
  private currentKey = '';
  /** The oldest id seen per room key: /history pages back from it. */
  private readonly oldest = new Map<string, number>();
  private nextHistoryId = 1;
  /** Rooms asked for again after a reconnection: their JOINED does not change the current room. */
  private readonly rejoining = new Set<string>();
  /** Rooms whose topic was asked for (/topic without text), in order: the server answers with a ROOMS_REPLY of one. */
  private readonly topicAsked: string[] = [];

  /** The current room's name ('' before WELCOME, or in no room). */
  get current(): string {
    return this.joined.get(this.currentKey) ?? '';
  }

  /** Whether a room is the current one (so its lines need no room label). */
  isCurrent(room: string | undefined): boolean {
    return room === undefined || roomKey(room) === this.currentKey;
  }

  /** What the server said, as far as rooms go; true when the current room changed (the prompt shows it). */
  apply(msg: ServerMessage): boolean {
    const before = this.current;
    switch (msg.type) {
      case 'WELCOME':
        this.joined.clear();
        if (msg.room) this.currentKey = roomKey(msg.room);
        break;
      case 'JOINED': {
        const key = roomKey(msg.room);
        this.joined.set(key, msg.room);
        if (!this.rejoining.delete(key) || !this.joined.has(this.currentKey)) this.currentKey = key;
        break;
      }
      case 'PARTED': {
        const key = roomKey(msg.room);
        this.joined.delete(key);
        if (key === this.currentKey) this.currentKey = [...this.joined.keys()].at(-1) ?? '';
        break;
      }
      case 'HISTORY':
        // A pair's ids are kept under "@nick", which no room's key can be (rooms start with #).
        if (msg.entries.length > 0) this.saw(msg.room ?? `@${msg.with ?? ''}`, msg.entries[0]!.id);
        break;
      case 'CHAT':
        if (msg.room && msg.id !== undefined) this.saw(msg.room, msg.id);
        break;
    }
    return this.current !== before;
  }

  /**
   * After a new login: JOIN for every room it was in but the default one, which the server joins by itself (a
   * second JOIN would be answered with a second "you are in"). None of their JOINED changes the current room.
   * @param defaultRoom the room WELCOME names
   */
  rejoin(defaultRoom: string | undefined): ClientMessage[] {
    const skip = defaultRoom === undefined ? '' : roomKey(defaultRoom);
    if (skip) this.rejoining.add(skip);
    for (const key of this.joined.keys()) this.rejoining.add(key);
    return [...this.joined].filter(([key]) => key !== skip).map(([, room]) => ({ type: 'JOIN', room }));
  }

  /** The line answering a /topic question ("no topic" said plainly), or null for a ROOMS_REPLY to /rooms. */
  topicAnswer(msg: Extract<ServerMessage, { type: 'ROOMS_REPLY' }>): string | null {
    const r = msg.rooms[0];
    const at = r && msg.total === 1 ? this.topicAsked.indexOf(roomKey(r.room)) : -1;
    if (!r || at < 0) return null;
    this.topicAsked.splice(at, 1);
    const room = safe(r.room);
    return r.topic
      ? `* the topic of ${room}: ${safe(r.topic)}`
      : `* ${room} has no topic (set one: /topic ${room} <text>)`;
  }

  private directHistory(nick: string, count: number | undefined, sinceMs: number | undefined, now: number): Resolved {
    const id = this.nextHistoryId++;
    if (sinceMs !== undefined)
      return { ok: true, msg: { type: 'HISTORY_REQUEST', id, with: nick, since: now - sinceMs, limit: 200 } };
    const before = this.oldest.get(`@${roomKey(nick)}`);
    return {
      ok: true,
      msg: { type: 'HISTORY_REQUEST', id, with: nick, limit: count ?? 50, ...(before !== undefined ? { before } : {}) },
    };
  }

  private saw(room: string, id: number): void {
    const key = roomKey(room);
    this.oldest.set(key, Math.min(this.oldest.get(key) ?? Infinity, id));
  }

  /** A room command as the frame that does it (null: done here), or why it cannot be done. */
  resolve(c: RoomCommand, now: number): Resolved {
    if (c.cmd === 'join') return { ok: true, msg: { type: 'JOIN', room: c.room } };
    if (c.cmd === 'rooms') return { ok: true, msg: { type: 'ROOMS' } };
    if (c.cmd === 'history' && c.with !== undefined) return this.directHistory(c.with, c.count, c.sinceMs, now);
    if (c.cmd === 'switch') {
      const name = this.joined.get(roomKey(c.room));
      if (name === undefined) return { ok: false, error: `you are not in ${c.room}: /join ${c.room}` };
      this.currentKey = roomKey(c.room);
      return { ok: true, msg: null, line: `* now talking in ${name}` };
    }
    const room = c.room ?? this.current;
    if (room === '') return { ok: false, error: 'you are in no room: /join #room first' };
    switch (c.cmd) {
      case 'part':
        return { ok: true, msg: { type: 'PART', room, ...(c.reason ? { reason: c.reason } : {}) } };
      case 'topic':
        // Only a member is answered: a question for another room gets an ERROR, not a ROOMS_REPLY to wait for.
        if (c.text === undefined && this.joined.has(roomKey(room))) this.topicAsked.push(roomKey(room));
        return { ok: true, msg: { type: 'TOPIC', room, ...(c.text !== undefined ? { text: c.text } : {}) } };
      case 'names':
        return { ok: true, msg: { type: 'NAMES', room } };
      case 'history': {
        const id = this.nextHistoryId++;
        if (c.sinceMs !== undefined)
          return { ok: true, msg: { type: 'HISTORY_REQUEST', id, room, since: now - c.sinceMs, limit: 200 } };
        const before = this.oldest.get(roomKey(room));
        return {
          ok: true,
          msg: { type: 'HISTORY_REQUEST', id, room, limit: c.count ?? 50, ...(before !== undefined ? { before } : {}) },
        };
      }
    }
  }
}
