/**
 * Who is in the room and which files are shared, as the listener learns them
 * (a WHO and a FILES asked for quietly after WELCOME, then every notice), for
 * the main thread's tab completion. Pure.
 */
import type { ClientMessage, ServerMessage } from '../common/protocol.js';

/** Names kept for completion; a room larger than this completes the first ones. */
const MAX_NAMES = 10_000;

export class Roster {
  private readonly nicks = new Map<string, string>();
  private readonly files = new Set<string>();
  /** WHO and FILES asked for the roster, whose answers are not printed (answers come in the order asked). */
  private readonly quiet = { WHO_REPLY: 0, FILES_REPLY: 0 };

  /** The requests that fill the roster; their answers are then swallowed, not printed. */
  quietRequests(): ClientMessage[] {
    this.quiet.WHO_REPLY++;
    this.quiet.FILES_REPLY++;
    return [{ type: 'WHO' }, { type: 'FILES' }];
  }

  /** True for an answer the roster asked for (it is not printed). */
  swallow(type: 'WHO_REPLY' | 'FILES_REPLY'): boolean {
    if (this.quiet[type] === 0) return false;
    this.quiet[type]--;
    return true;
  }

  /** Takes what the message says about nicks or files; true when the lists changed. */
  apply(msg: ServerMessage): 'nicks' | 'files' | null {
    switch (msg.type) {
      case 'WHO_REPLY':
        this.nicks.clear();
        for (const u of msg.users) this.addNick(u.nick);
        return 'nicks';
      case 'FILES_REPLY':
        this.files.clear();
        for (const f of msg.files) if (this.files.size < MAX_NAMES) this.files.add(f.name);
        return 'files';
      case 'NOTICE':
        switch (msg.event) {
          case 'joined':
            this.addNick(msg.nick);
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
