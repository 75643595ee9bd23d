/**
 * What a resume replays, shown in time order. The server sends what was missed
 * one conversation after another (each room's, then each direct conversation's
 * HISTORY marked missed, then RESUMED); read that way, a reply in #lab would
 * come before the question in #lobby it answers. The listener holds the entries
 * here until RESUMED (or until the connection is lost again) and shows them
 * merged by time. Pure.
 */
import type { ServerMessage } from '../common/protocol.js';

type History = Extract<ServerMessage, { type: 'HISTORY' }>;

/** Entries held at most: past it, what is held is shown (in order) before more is taken. */
export const MAX_REPLAY_HELD = 50_000;

export class ReplayOrder {
  private held: Array<{ frame: History; at: number }> = [];
  private count = 0;

  /** A frame of the replay, held; true when the bound is reached (drain() now). */
  add(msg: History): boolean {
    for (const entry of msg.entries)
      this.held.push({ frame: { ...msg, entries: [entry], done: false }, at: this.count++ });
    return this.held.length >= MAX_REPLAY_HELD;
  }

  /** Everything held, oldest first (ties in arrival order), one entry per frame; nothing is held after. */
  drain(): History[] {
    const out = this.held.sort((a, b) => a.frame.entries[0]!.ts - b.frame.entries[0]!.ts || a.at - b.at);
    this.held = [];
    return out.map((h) => h.frame);
  }
}
