/**
 * The answer to WHO: every session online (the NickRegistry's `who`), connected or away (an away one marked, its RTT
 * unknown), by nick, within one frame; `total` is the online count WELCOME gives (docs/PROTOCOL.md, "Who is online").
 */
import type { ServerMessage, WhoEntry } from '../../common/protocol.js';
import type { SessionInfo } from '../shm/session-table.js';

export function whoReply(online: SessionInfo[], maxFrame: number, now: number): ServerMessage {
  const all = online.sort((a, b) => a.nick.localeCompare(b.nick));
  const users: WhoEntry[] = [];
  // A very large room gets the first entries and the total.
  let budget = maxFrame - 128;
  for (const s of all) {
    const idleMs = Math.max(0, now - s.lastActive);
    const entry: WhoEntry = s.away
      ? { nick: s.nick, idleMs, rttMs: null, away: true }
      : { nick: s.nick, idleMs, rttMs: s.rttMs };
    budget -= JSON.stringify(entry).length + 1;
    if (budget < 0) break;
    users.push(entry);
  }
  return { type: 'WHO_REPLY', users, total: all.length };
}
