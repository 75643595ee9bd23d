/**
 * Where LUSERS' counts come from (irc-door/door-setup.ts lusersCounts): the room directory's rooms (rooms.ts
 * tells each change, written to shm/node-counts.ts), the session table's held and most-held counts, the
 * registry's online count and nodes, and every worker's not-yet-HELLO connections (worker-stats.ts).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ROOM_LIMITS, Rooms } from '../../server/store/rooms.js';
import { NodeCounts } from '../../server/shm/node-counts.js';
import { SessionTable } from '../../server/shm/session-table.js';
import { WorkerStats } from '../../server/shm/worker-stats.js';
import { LocalNickRegistry, type NickRegistry } from '../../server/bus/nick-registry.js';
import { lusersCounts } from '../../server/irc-door/door-setup.js';
import type { SessionAddress } from '../../server/bus/room-bus.js';

const at = (slot: number): SessionAddress => ({ node: 'n1', slot, generation: 1, owner: 0 });
const session = (nick: string) => ({
  nick,
  owner: 0,
  transport: 'irc' as const,
  address: '10.0.0.1',
  port: 1,
  now: 1,
  token: null,
});

describe('LUSERS counts', () => {
  it('the room directory tells how many rooms it holds each time one is made or closed', () => {
    const told: number[] = [];
    const rooms = new Rooms(DEFAULT_ROOM_LIMITS, () => '', { defaultRoom: '#lobby', counted: (n) => told.push(n) });
    const a = rooms.enter(at(1), 'a', 2);
    const b = rooms.enter(at(2), 'b', 2);
    rooms.join(a, '#lobby');
    rooms.join(b, '#lobby'); // exists: no change
    rooms.join(a, '#tea');
    rooms.part(a, '#tea');
    rooms.leave(b);
    rooms.leave(a);
    expect(told).toEqual([1, 2, 1, 0]);
  });

  it('the most sessions held, and the most seen online, only ever rise', () => {
    const table = SessionTable.create(4);
    const one = table.claim(session('one'));
    const two = table.claim(session('two'));
    if (!one.ok || !two.ok) throw new Error('claim');
    table.release(one);
    expect([table.activeCount(), table.mostCount()]).toEqual([1, 2]);
    const counts = NodeCounts.create();
    expect(counts.raiseOnline(5)).toBe(5);
    expect(counts.raiseOnline(3)).toBe(5);
  });

  it('puts them together: users, nodes, rooms, unregistered connections on every worker, this node’s sessions', () => {
    const table = SessionTable.create(8);
    const stats = WorkerStats.create();
    const node = NodeCounts.create();
    const config = { workers: 2, statsBuffer: stats.buffer, countsBuffer: node.buffer };
    const local = new LocalNickRegistry(table, 'n1');
    // A cluster's registry, as it last counted: 7 sessions on 3 nodes.
    const cluster: NickRegistry = Object.assign(Object.create(local) as NickRegistry, {
      online: () => 7,
      nodes: () => 3,
    });
    for (const nick of ['a', 'b', 'c']) table.claim(session(nick));
    node.setRooms(4);
    stats.set(0, 'PENDING', 2);
    stats.set(1, 'PENDING', 1);
    expect(lusersCounts(config, { table, nicks: local })()).toEqual({
      users: 3,
      servers: 1,
      rooms: 4,
      unknown: 3,
      local: 3,
      localMax: 3,
      globalMax: 3,
    });
    expect(lusersCounts(config, { table, nicks: cluster })()).toEqual({
      users: 7,
      servers: 3,
      rooms: 4,
      unknown: 3,
      local: 3,
      localMax: 3,
      globalMax: 7,
    });
  });
});
