/**
 * The cluster's bus (server/cluster/cluster-bus.ts) between three nodes on a real redis-server: posts reach the
 * nodes they concern; two nodes' turns in one room reach every node in id order; a node whose reading connection
 * is killed mid-stream reads what it missed, nothing twice; an entry written twice is taken once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomBus, SessionAddress } from '../../server/bus/room-bus.js';
import { ClusterBus } from '../../server/cluster/cluster-bus.js';
import { BusWriter } from '../../server/cluster/bus-writer.js';
import { encodeBatch, type BusBatch } from '../../server/cluster/bus-ops.js';
import { clusterKeys, type ClusterKeys } from '../../server/cluster/keys.js';
import { closeRedis, type RedisLink } from '../../server/cluster/redis-link.js';
import { openRedis } from '../../server/cluster/open-redis.js';
import { parseRedisUrl } from '../../server/cluster/redis-url.js';
import { RedisRoomLog } from '../../server/store/redis-room-log.js';
import type { Appended } from '../../server/store/room-log.js';
import { roomMessageFrame } from '../../server/bus/room-message.js';
import { startRedis, type RedisUnderTest } from '../helpers/redis-server.js';
import { until } from '../helpers/wait.js';

let redis: RedisUnderTest;
const links: RedisLink[] = [];
const buses: ClusterBus[] = [];
let clusters = 0;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(buses.map((b) => b.stop()));
  await Promise.all(links.map(closeRedis));
  await redis.stop();
});

const link = async () => {
  const l = await openRedis(parseRedisUrl(redis.url));
  links.push(l);
  return l;
};

/** What a node's workers got, as text: "rooms #r hello", "to 3 hi", "kick 3 why". */
function recordingLocal(heard: string[]): RoomBus {
  return {
    post: (f) => heard.push(`all ${f.toString()}`),
    postTo: (t, f) => heard.push(`to ${t.slot} ${f.toString()}`),
    kick: (t, why) => heard.push(`kick ${t.slot} ${why}`),
    postToRooms: (rooms, f) => heard.push(`rooms ${rooms.join(',')} ${f.toString()}`),
    membership: (t, room, joined) => heard.push(`member ${t.slot} ${room.key} ${joined}`),
    replay: () => undefined,
    close: () => undefined,
  };
}

async function node(keys: ClusterKeys, id: string) {
  const heard: string[] = [];
  const log: string[] = [];
  const reader = await link();
  const writer = await link();
  const bus = new ClusterBus(recordingLocal(heard), writer, reader, keys, id, {
    log: (_d, msg) => log.push(msg),
  });
  await bus.start();
  bus.listen();
  buses.push(bus);
  return { id, bus, heard, log, reader, writer };
}

async function cluster() {
  const keys = clusterKeys(`b${++clusters}:`);
  return { keys, nodes: [await node(keys, 'a'), await node(keys, 'b'), await node(keys, 'c')] };
}

const at = (node: string, slot: number): SessionAddress => ({ node, slot, generation: 1, owner: 0 });

describe('ClusterBus', () => {
  it('a room post reaches every node; a post to a session, or its kick, only the node it lives on; membership stays home', async () => {
    const { nodes } = await cluster();
    const [a, b, c] = nodes as [Awaited<ReturnType<typeof node>>, ...Array<Awaited<ReturnType<typeof node>>>];
    a.bus.postToRooms(['#r'], Buffer.from('hello'), 1);
    a.bus.postTo(at('b', 3), Buffer.from('hi b'));
    a.bus.kick(at('c', 4), 'flood');
    a.bus.membership(at('a', 1), { key: '#r', name: '#r' }, true);
    a.bus.post(Buffer.from('last'));
    await until(
      () => b!.heard.length === 3 && c!.heard.length === 3,
      5000,
      () => JSON.stringify(nodes.map((n) => n.heard)),
    );
    expect(a.heard).toEqual(['rooms #r hello', 'member 1 #r true', 'all last']);
    expect(b!.heard).toEqual(['rooms #r hello', 'to 3 hi b', 'all last']);
    expect(c!.heard).toEqual(['rooms #r hello', 'kick 4 flood', 'all last']);
  });

  it("two nodes' turns in one room, stored at once: every node hears them in id order, each once", async () => {
    const { keys, nodes } = await cluster();
    const logs = await Promise.all(nodes.slice(0, 2).map(async (n) => RedisRoomLog.open(await link(), keys, n.bus)));
    const turns = Array.from({ length: 200 }, (_, i) => {
      const log = logs[i % 2]!;
      return log.append({
        entries: [{ conv: 'room:#r', kind: 'say', from: `u${i}`, text: `m${i}` }],
        publish: (stored) => log.bus.postToRooms(['#r'], Buffer.from(String(stored!.entries[0]!.id)), 1),
      });
    });
    await Promise.all(turns);
    const expected = Array.from({ length: 200 }, (_, i) => `rooms #r ${i + 1}`);
    await until(
      () => nodes.every((n) => n.heard.length === 200),
      10_000,
      () => nodes.map((n) => n.heard.length).join(),
    );
    for (const n of nodes) expect(n.heard, n.id).toEqual(expected);
  });

  it('a turn that posts only its room messages goes on the bus in its append script: every node makes the same frames, in id order', async () => {
    const { keys, nodes } = await cluster();
    // The log appends on the bus's writing connection, as cluster-log.ts opens them.
    const logs = await Promise.all(nodes.slice(0, 2).map((n) => RedisRoomLog.open(n.writer, keys, n.bus)));
    const post = { room: '#r', name: '#R', action: false };
    const turns = Array.from({ length: 100 }, (_, i) => {
      const log = logs[i % 2]!;
      const entries = [{ conv: 'room:#r', kind: 'say' as const, from: `u${i}`, text: `m${i} ünïcode "q"` }];
      const publish = (stored: Appended | null) => {
        for (const e of stored!.entries) log.bus.postToRooms(['#r'], roomMessageFrame(e, post), 1);
      };
      return log.append({ entries, posts: [post], publish });
    });
    await Promise.all(turns);
    // Nothing else was written, so every turn's entry is its script's: the template and the ids beside it.
    const entries = (await (await link()).xRange(`${keys.prefix}bus`, '-', '+')) ?? [];
    expect(entries.map((e) => e.message.x === undefined)).toEqual(Array.from({ length: 100 }, () => false));
    await until(
      () => nodes.every((n) => n.heard.length === 100),
      10_000,
      () => nodes.map((n) => n.heard.length).join(),
    );
    const ids = (heard: string[]) => heard.map((h) => Number(/"id":(\d+)/.exec(h)![1]));
    expect(ids(nodes[2]!.heard)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // The storing node's frames (made from its stored entries) and the others' (from the bus entry) are one.
    for (const n of nodes) expect(n.heard, n.id).toEqual(nodes[2]!.heard);
  });

  it("a place reserved for a turn's script holds what the node sends meanwhile behind it, for the stream and its own sessions", async () => {
    const { keys } = await cluster();
    const raw = await link();
    const stream = `${keys.prefix}bus`;
    const delivered: number[] = [];
    const writer = new BusWriter(
      raw,
      stream,
      [keys.directory, keys.topics],
      (b) => delivered.push(b.seq!),
      () => undefined,
    );
    const batch = (seq: number): BusBatch => ({
      node: 'a',
      run: 'r',
      seq,
      ids: [],
      ops: [{ k: 'all', frame: Buffer.from(`${seq}`) }],
    });
    const slot = writer.reserve()!;
    expect(writer.reserve()).toBeNull();
    writer.send(batch(2), encodeBatch(batch(2)));
    // The script's entry (written here as the script would) goes in while the later post waits behind its place.
    await raw.xAdd(stream, '*', { b: encodeBatch(batch(1))! });
    expect(delivered).toEqual([]);
    writer.fill(slot, batch(1), null, true);
    expect(delivered).toEqual([1]);
    await until(
      () => delivered.length === 2,
      5000,
      () => delivered.join(),
    );
    const seqs = ((await raw.xRange(stream, '-', '+')) ?? []).map((e) => (JSON.parse(e.message.b!) as { s: number }).s);
    expect(seqs).toEqual([1, 2]);
    // A script that failed: its place is filled with what the turn posted (here nothing crosses), and what follows goes.
    const failed = writer.reserve()!;
    writer.send(batch(4), encodeBatch(batch(4)));
    writer.fill(failed, { ...batch(3), ops: [] }, null, false);
    await until(
      () => delivered.length === 4,
      5000,
      () => delivered.join(),
    );
    expect(delivered).toEqual([1, 2, 3, 4]);
    writer.stop();
  });

  it('a node whose reading connection is killed mid-stream reads what it missed when it is back, nothing twice', async () => {
    const { nodes } = await cluster();
    const [a, , c] = nodes;
    const killer = await link();
    for (let i = 0; i < 50; i++) a!.bus.postToRooms(['#r'], Buffer.from(`m${i}`), 1);
    await killer.clientKill({ filter: 'ID', id: await c!.reader.clientId() });
    for (let i = 50; i < 100; i++) a!.bus.postToRooms(['#r'], Buffer.from(`m${i}`), 1);
    const expected = Array.from({ length: 100 }, (_, i) => `rooms #r m${i}`);
    await until(
      () => c!.heard.length >= 100,
      10_000,
      () => `${c!.heard.length} heard; ${c!.log.join('; ')}`,
    );
    expect(c!.heard).toEqual(expected);
    expect(c!.log).toContain('cluster bus: cannot read from Redis; retrying');
  });

  it('an entry written twice (a write retried after a blip) is taken once', async () => {
    const { keys, nodes } = await cluster();
    const [, b] = nodes;
    const raw = await link();
    const entry = JSON.stringify({
      n: 'z',
      r: 'run1',
      s: 1,
      i: [],
      o: [{ k: 'all', f: Buffer.from('once').toString('base64') }],
    });
    const next = JSON.stringify({
      n: 'z',
      r: 'run1',
      s: 2,
      i: [],
      o: [{ k: 'all', f: Buffer.from('marker').toString('base64') }],
    });
    for (const b of [entry, entry, next]) await raw.xAdd(`${keys.prefix}bus`, '*', { b });
    await until(
      () => b!.heard.includes('all marker'),
      5000,
      () => b!.heard.join(),
    );
    expect(b!.heard).toEqual(['all once', 'all marker']);
    expect(b!.bus.counts.duplicates).toBe(1);
  });

  it('the room directory: changes reach the other nodes in order; a node started later finds them in its snapshot; a node started again clears its previous run', async () => {
    const { keys, nodes } = await cluster();
    const [a, b] = nodes;
    const changes: string[] = [];
    b!.bus.subscribe((c) =>
      changes.push(c.t === 'member' ? `${c.key} ${c.state?.rooms.join(';') ?? 'gone'}` : `topic ${c.topic}`),
    );
    const ann = { node: 'a', slot: 1, generation: 1, nick: 'ann', version: 2, sid: 'f00d', started: 1000 };
    a!.bus.publish({ t: 'member', key: 'a/1:1', state: { ...ann, rooms: [['#tea', 4]] } });
    a!.bus.publish({ t: 'member', key: 'a/2:1', state: { ...ann, slot: 2, nick: 'al', rooms: [['#tea', 0]] } });
    a!.bus.publish({ t: 'topic', key: '#tea', name: '#Tea', topic: 'oolong' });
    a!.bus.publish({ t: 'member', key: 'a/2:1', state: null });
    a!.bus.post(Buffer.from('marker'));
    await until(
      () => b!.heard.includes('all marker'),
      5000,
      () => b!.heard.join(),
    );
    expect(changes).toEqual(['a/1:1 #tea,4', 'a/2:1 #tea,0', 'topic oolong', 'a/2:1 gone']);
    // The hashes hold the latest of each, written in the same step as the entries.
    const late = await node(keys, 'late');
    expect(late.bus.snapshot().members).toEqual([['a/1:1', { ...ann, rooms: [['#tea', 4]] }]]);
    expect(late.bus.snapshot().topics).toEqual(new Map([['#tea', 'oolong']]));
    // Node a started again: what its previous run said is gone, for every node.
    const again = await node(keys, 'a');
    expect(again.bus.snapshot().members).toEqual([]);
    await until(
      () => changes.includes('a/1:1 gone'),
      5000,
      () => changes.join(),
    );
    const raw = await link();
    expect(await raw.hGetAll(keys.directory)).toEqual({});
  });
});
