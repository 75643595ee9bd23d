/**
 * Who is in the current room and which files are shared, as the listener
 * learns them (a NAMES asked for quietly whenever the current room changes, a
 * FILES after WELCOME, then every notice), for the main thread's tab
 * completion. Pure.
 */
import type { ClientMessage, ServerMessage } from '../common/protocol.js';
import { roomKey } from '../common/unicode/room-rule.js';
import type { FromListener } from './thread-messages.js';

/** Names kept for completion; a room larger than this completes the first ones. */
const MAX_NAMES = 10_000;

export class Roster {
  private readonly nicks = new Map<string, string>();
  private readonly files = new Set<string>();
  /** NAMES and FILES asked for the roster, whose answers are not printed (answers come in the order asked). */
  private readonly quiet = { NAMES_REPLY: 0, FILES_REPLY: 0 };
  /** The current room's key: its members are the nicks to complete. */
  private room = '';

  /** The requests that fill the roster after WELCOME; their answers are then swallowed, not printed. */
  quietRequests(): ClientMessage[] {
    this.quiet.FILES_REPLY++;
    return [{ type: 'FILES' }];
  }

  /** The current room changed: a request for its members, asked for quietly (null: in no room, or not `ask`). */
  roomChanged(room: string, ask: boolean): ClientMessage | null {
    this.room = roomKey(room);
    this.nicks.clear();
    if (room === '' || !ask) return null;
    this.quiet.NAMES_REPLY++;
    return { type: 'NAMES', room };
  }

  /** True for an answer the roster asked for (it is not printed). */
  swallow(type: 'FILES_REPLY' | 'NAMES_REPLY'): boolean {
    if (this.quiet[type] === 0) return false;
    this.quiet[type]--;
    return true;
  }

  /** Takes what the message says about nicks or files; true when the lists changed. */
  apply(msg: ServerMessage): 'nicks' | 'files' | null {
    switch (msg.type) {
      case 'NAMES_REPLY':
        if (roomKey(msg.room) !== this.room) return null;
        this.nicks.clear();
        for (const n of msg.nicks) this.addNick(n);
        return 'nicks';
      case 'FILES_REPLY':
        this.files.clear();
        for (const f of msg.files) if (this.files.size < MAX_NAMES) this.files.add(f.name);
        return 'files';
      case 'NOTICE':
        switch (msg.event) {
          case 'joined':
            if (msg.room !== undefined && roomKey(msg.room) !== this.room) return null;
            this.addNick(msg.nick);
            return 'nicks';
          case 'parted':
            if (msg.room === undefined || roomKey(msg.room) !== this.room) return null;
            this.nicks.delete(msg.nick.toLowerCase());
            return 'nicks';
          case 'left':
          case 'timed_out':
          case 'kicked':
            this.nicks.delete(msg.nick.toLowerCase());
            return 'nicks';
          case 'nick':
            this.nicks.delete(msg.nick.toLowerCase());
            if (msg.newNick) this.addNick(msg.newNick);
            return 'nicks';
          case 'shared':
            if (msg.name && this.files.size < MAX_NAMES) this.files.add(msg.name);
            return 'files';
        }
        return null;
      default:
        return null;
    }
  }

  /** Takes the message and tells the main thread (its completion) when a list changed. */
  learn(msg: ServerMessage, port: { post(msg: FromListener): void }): void {
    const changed = this.apply(msg);
    if (changed === 'nicks') port.post({ k: 'names', nicks: this.nickList() });
    else if (changed === 'files') port.post({ k: 'names', files: this.fileList() });
  }

  /** Whether the nick is in the current room, as far as the roster knows. */
  has(nick: string): boolean {
    return this.nicks.has(nick.toLowerCase());
  }

  private addNick(nick: string): void {
    if (this.nicks.size < MAX_NAMES) this.nicks.set(nick.toLowerCase(), nick);
  }

  nickList(): string[] {
    return [...this.nicks.values()].sort((a, b) => a.localeCompare(b));
  }
  fileList(): string[] {
    return [...this.files].sort();
  }
}
