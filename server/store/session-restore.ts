/**
 * When the store thread starts, the sessions it keeps come back before any
 * client can connect (the supervisor waits for 'ready'): after a restart of
 * the server, each takes an AWAY slot again (its nick held, its token good)
 * for a new resume window; after a restart of the store thread alone, the
 * slots are still there, and the workers tell of the connected ones again.
 */
import type { SessionTable } from '../shm/session-table.js';
import { SlotState } from '../shm/session-table.js';
import { hexHash } from '../shm/resume-token.js';
import type { Sequencer } from './sequencer.js';
import type { SessionStore } from './sessions.js';
import { roomKey } from '../../common/unicode/room-rule.js';
import { holdsAccount } from './account-requests.js';

export interface RestoredSessions {
  away: number;
  /** Kept records that could not come back: their window had ended, or their nick was taken. */
  dropped: number;
}

/** fresh: the process has just started (no slot is held yet); otherwise the store thread was started again over live slots. */
export async function restoreSessions(
  sessions: SessionStore,
  table: SessionTable,
  sequencer: Sequencer,
  windowMs: number,
  now: number,
  fresh = true,
): Promise<RestoredSessions> {
  const result = { away: 0, dropped: 0 };
  for (const r of await sessions.all()) {
    const hash = hexHash(r.hash);
    // A session that was away when the server stopped keeps its clock; one that was connected starts it now.
    const since = r.awaySince ?? now;
    if (windowMs <= 0 || since + windowMs <= now) {
      await sessions.remove(r.sid);
      result.dropped++;
      continue;
    }
    const slot = table.mutex.withLock(() => table.findTokenLocked(hash));
    if (slot >= 0 && table.state(slot) === SlotState.ACTIVE) {
      sequencer.kept.set(slot, r);
      continue;
    }
    const node = sequencer.node;
    let address = slot >= 0 ? { node, slot, generation: table.generation(slot), owner: -1 } : null;
    if (!address && !fresh) {
      // Its slot is gone: the session ended (BYE, kick) while this thread was down and could not hear of it.
      await sessions.remove(r.sid);
      result.dropped++;
      continue;
    }
    if (!address) {
      const claim = table.claim({
        nick: r.nick,
        owner: -1,
        transport: 'tcp',
        address: '',
        port: 0,
        now,
        token: hash,
        away: true,
        awaySince: since,
      });
      if (!claim.ok) {
        await sessions.remove(r.sid);
        result.dropped++;
        continue;
      }
      address = { node, slot: claim.slot, generation: claim.generation, owner: -1 };
    }
    const m = sequencer.rooms.enter(address, r.nick, r.version);
    for (const room of r.rooms) {
      if (sequencer.rooms.join(m, room.name, true).ok) m.marks.set(roomKey(room.name), room.mark);
    }
    m.record = r;
    m.awaySince = since;
    m.account = await holdsAccount(sequencer.store, r.nick);
    sequencer.persist(m);
    result.away++;
  }
  return result;
}
