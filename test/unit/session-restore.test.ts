/** Kept sessions coming back when the store thread starts: as AWAY slots after a server restart; over live slots after the store thread alone restarted. */
import { describe, expect, it } from 'vitest';
import { SessionTable } from '../../server/shm/session-table.js';
import { hashHex, newToken } from '../../server/shm/resume-token.js';
import { Sequencer } from '../../server/store/sequencer.js';
import { NoHistory } from '../../server/store/no-history.js';
import { restoreSessions } from '../../server/store/session-restore.js';
import { DEFAULT_ROOM_LIMITS } from '../../server/store/rooms.js';
import type { SessionRecord, SessionStore } from '../../server/store/sessions.js';
import type { RoomBus } from '../../server/bus/room-bus.js';

class MemorySessions implements SessionStore {
  readonly rows = new Map<string, SessionRecord>();
  async all() {
    return [...this.rows.values()];
  }
  async save(r: SessionRecord) {
    this.rows.set(r.sid, { ...r });
  }
  async remove(sid: string) {
    this.rows.delete(sid);
  }
}

const quietBus: RoomBus = {
  post() {},
  postTo() {},
  kick() {},
  postToRooms() {},
  membership() {},
  replay() {},
  close() {},
};
const sequencer = () =>
  new Sequencer({
    node: 'n1',
    store: new NoHistory(),
    bus: quietBus,
    fault: () => undefined,
    schedule: (fn) => fn(),
    defaultRoom: '#lobby',
    roomLimits: DEFAULT_ROOM_LIMITS,
    historyOnJoin: 0,
    maxFrame: 65536,
  });
const record = (sid: string, nick: string, hash: Uint8Array, awaySince: number | null): SessionRecord => ({
  sid,
  hash: hashHex(hash),
  nick,
  version: 2,
  startedTs: 0,
  rooms: [{ name: '#lab', mark: 3 }],
  awaySince,
});

describe('restoreSessions', () => {
  it('after a server restart: every kept session within its window is AWAY again, in its rooms; one past its window goes', async () => {
    const table = SessionTable.create(8);
    const store = new MemorySessions();
    const [a, b] = [newToken(), newToken()];
    await store.save(record('s1', 'alice', a.hash, null));
    await store.save(record('s2', 'bob', b.hash, 1_000)); // away since t=1 s: its 2-minute window ended long ago
    const seq = sequencer();
    expect(await restoreSessions(store, table, seq, 120_000, 1_000_000, true)).toEqual({ away: 1, dropped: 1 });
    const alice = seq.rooms.byNick('alice')!;
    expect(alice.awaySince).toBe(1_000_000);
    expect(alice.marks.get('#lab')).toBe(3);
    expect(table.lookup('alice')).toMatchObject({ owner: -1 });
    expect([...store.rows.keys()]).toEqual(['s1']);
  });

  it('after the store thread alone restarted: a session whose slot is gone ended meanwhile and does not come back as a ghost', async () => {
    const table = SessionTable.create(8);
    const store = new MemorySessions();
    const [away, gone] = [newToken(), newToken()];
    const c = table.claim({
      nick: 'carol',
      owner: 0,
      transport: 'tcp',
      address: '10.0.0.1',
      port: 1,
      now: 0,
      token: away.hash,
    });
    if (!c.ok) throw new Error('claim');
    table.away(c);
    await store.save(record('s1', 'carol', away.hash, 500_000));
    await store.save(record('s2', 'dave', gone.hash, null)); // said BYE while the store thread was down
    const seq = sequencer();
    expect(await restoreSessions(store, table, seq, 120_000, 550_000, false)).toEqual({ away: 1, dropped: 1 });
    expect(seq.rooms.byNick('carol')?.address).toEqual({
      node: 'n1',
      slot: c.slot,
      generation: c.generation,
      owner: -1,
    });
    expect(seq.rooms.byNick('dave')).toBeUndefined();
    expect(table.lookup('dave')).toBeNull();
  });
});
