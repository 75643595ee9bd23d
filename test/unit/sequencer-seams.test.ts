/**
 * The sequencer against the store core's interfaces only (issue 34): given a
 * RoomLog whose appends take time, as a Redis one's would, and a
 * RoomDirectory of its own, it posts nothing but through the log's bus, each
 * turn's frames after that turn's commit, the ids one more per room.
 */
import { describe, expect, it } from 'vitest';
import { decodeServerMessage, isKnownFrameType } from '../../common/protocol.js';
import { FrameDecoder, MAX_MAX_FRAME } from '../../common/frame.js';
import type { RoomBus, SessionAddress } from '../../server/bus/room-bus.js';
import { LocalRoomLog } from '../../server/store/local-room-log.js';
import type { NewEntry, StoredEntry } from '../../server/store/history.js';
import { NoHistory } from '../../server/store/no-history.js';
import type { Appended, LogTurn, RoomLog } from '../../server/store/room-log.js';
import { DEFAULT_ROOM_LIMITS, Rooms } from '../../server/store/rooms.js';
import { Sequencer } from '../../server/store/sequencer.js';

const decode = (b: Buffer) =>
  decodeServerMessage(new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType }).push(b)[0]!);

/** A store whose every append takes a few milliseconds, as a round trip to Redis would. */
class SlowStore extends NoHistory {
  override async append(batch: NewEntry[]): Promise<StoredEntry[]> {
    await new Promise((r) => setTimeout(r, 3));
    return super.append(batch);
  }
}

/** A log on the slow store that tells `events` when a turn has been committed. */
class SlowLog extends LocalRoomLog implements RoomLog {
  constructor(
    bus: RoomBus,
    private readonly events: string[],
  ) {
    super(new SlowStore(() => 7), bus);
  }
  override append(turn: LogTurn): Promise<Appended> {
    return super.append({
      entries: turn.entries,
      publish: (stored, failure) => {
        this.events.push(`commit ${turn.entries.length}`);
        turn.publish(stored, failure);
      },
    });
  }
}

/** A bus that must not be used: everything goes through the log's. */
const unused: RoomBus = new Proxy({} as RoomBus, {
  get: (_t, name) => () => {
    throw new Error(`posted on the wrong bus: ${String(name)}`);
  },
});

const A: SessionAddress = { node: 'n1', slot: 1, generation: 1, owner: 0 };
const B: SessionAddress = { node: 'n1', slot: 2, generation: 1, owner: 0 };

describe('Sequencer behind RoomLog and RoomDirectory', () => {
  it('posts through the log, each turn after its commit, in order; the directory it was given holds the rooms', async () => {
    const events: string[] = [];
    const record = (what: string) => (_x: unknown, frame?: unknown) => {
      const f = (Buffer.isBuffer(_x) ? _x : frame) as Buffer | undefined;
      const m = f && Buffer.isBuffer(f) ? decode(f) : null;
      events.push(m && m.type === 'CHAT' ? `${what} CHAT ${m.text} ${m.id}` : `${what} ${m?.type ?? ''}`.trim());
    };
    const bus: RoomBus = {
      post: record('all'),
      postTo: record('to'),
      postToRooms: record('rooms'),
      kick: record('kick'),
      membership: record('member'),
      replay: record('replay'),
      close: () => undefined,
    };
    const log = new SlowLog(bus, events);
    const directory = new Rooms(DEFAULT_ROOM_LIMITS, () => '', { defaultRoom: '#lobby' });
    const seq = new Sequencer({
      node: 'n1',
      store: new NoHistory(),
      bus: unused,
      roomLog: log,
      directory,
      fault: (e) => {
        throw e;
      },
      schedule: (fn) => setImmediate(fn),
      defaultRoom: '#lobby',
      roomLimits: DEFAULT_ROOM_LIMITS,
      historyOnJoin: 0,
      maxFrame: 65536,
    });
    expect(seq.rooms).toBe(directory);
    expect(seq.log).toBe(log);
    seq.handle({ k: 'enter', session: A, nick: 'alice', version: 2, token: null });
    seq.handle({ k: 'say', room: '#lobby', from: 'alice', text: 'm1', action: false, sender: A });
    seq.handle({ k: 'say', room: '#lobby', from: 'alice', text: 'm2', action: false, sender: A });
    seq.handle({ k: 'enter', session: B, nick: 'bob', version: 2, token: null });
    seq.handle({ k: 'say', room: '#lobby', from: 'bob', text: 'm3', action: false, sender: B });
    await seq.drain();
    expect(events).toEqual([
      'commit 0', // the turn before alice's enter (a read: it ends the segment)
      'member',
      'rooms NOTICE',
      'to JOINED',
      'commit 2',
      'rooms CHAT m1 1',
      'rooms CHAT m2 2',
      'member',
      'rooms NOTICE',
      'to JOINED',
      'commit 1',
      'rooms CHAT m3 3',
    ]);
    expect(directory.room('#lobby')?.members.size).toBe(2);
  });
});
