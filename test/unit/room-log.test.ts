/**
 * The store core's two interfaces against today's implementations: RoomLog
 * as LocalRoomLog on SQLite and on --no-history (with a bus that records
 * what every session would hear), RoomDirectory as rooms.ts.
 * A Redis implementation runs the same suites (room-log-contract.ts,
 * room-directory-contract.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryStore } from '../../server/store/history.js';
import { LocalRoomLog } from '../../server/store/local-room-log.js';
import { NoHistory } from '../../server/store/no-history.js';
import { Rooms } from '../../server/store/rooms.js';
import { SqliteHistory } from '../../server/store/sqlite-history.js';
import type { StoreError } from '../../server/store/store-error.js';
import { roomDirectoryContract } from './room-directory-contract.js';
import { recordingBus, roomLogContract, type LogUnderTest } from './room-log-contract.js';

/** The log on this store, whose next append can be made to fail. */
function underTest(store: HistoryStore, keeps: boolean, close: () => void): LogUnderTest {
  let next: StoreError | null = null;
  const append = store.append.bind(store);
  store.append = async (batch) => {
    const failure = next;
    next = null;
    if (failure) throw failure;
    return append(batch);
  };
  const heard: string[] = [];
  const bus = recordingBus(heard);
  return { log: new LocalRoomLog(store, bus), failNext: (err) => (next = err), heard: () => heard, keeps, close };
}

roomLogContract('LocalRoomLog on SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'room-log-'));
  const { store } = await SqliteHistory.open(dir);
  return underTest(store, true, () => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

roomLogContract('LocalRoomLog on --no-history', async () => underTest(new NoHistory(), false, () => undefined));

roomDirectoryContract(
  'Rooms (in memory)',
  (limits, origin) => new Rooms(limits, () => '', { defaultRoom: '#lobby', origin }),
);
