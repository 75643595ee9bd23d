/** The answer to WHO: every session in the table, by nick, within one frame. */
import type { ServerMessage, WhoEntry } from '../../common/protocol.js';
import type { SessionTable } from '../shm/session-table.js';

export function whoReply(table: SessionTable, maxFrame: number, now: number): ServerMessage {
  const all = table.snapshot().sort((a, b) => a.nick.localeCompare(b.nick));
  const users: WhoEntry[] = [];
  // A very large room gets the first entries and the total.
  let budget = maxFrame - 128;
  for (const s of all) {
    const entry: WhoEntry = { nick: s.nick, idleMs: Math.max(0, now - s.lastActive), rttMs: s.rttMs };
    budget -= JSON.stringify(entry).length + 1;
    if (budget < 0) break;
    users.push(entry);
  }
  return { type: 'WHO_REPLY', users, total: all.length };
}
