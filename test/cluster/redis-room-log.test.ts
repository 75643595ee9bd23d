/**
 * The cluster's RoomLog (server/cluster/redis-room-log.ts) on a real redis-server: the contract LocalRoomLog passes,
 * two nodes appending to one conversation, a real refusal (Redis out of memory) taking nothing, and the pages
 * HISTORY_REQUEST reads (redis-reader.ts) beside the SQLite reader's.
 */
import { describe, expect, it } from 'vitest';
import { SocketClosedUnexpectedlyError } from 'redis';
import { clusterKeys } from '../../server/cluster/keys.js';
import type { RedisLink } from '../../server/cluster/redis-link.js';
import { RedisRoomLog } from '../../server/store/redis-room-log.js';
import type { NewEntry } from '../../server/store/history.js';
import type { StoreError } from '../../server/store/store-error.js';
import { recordingBus, roomLogContract } from '../unit/room-log-contract.js';
import { redisPerFile } from '../helpers/redis-server.js';

const shared = redisPerFile();
let logs = 0;

/** The shared.link, but its next script fails with `next` (what the contract's failNext asks). */
function failingLink(): { link: RedisLink; failNext(err: StoreError): void } {
  let next: StoreError | null = null;
  const proxy = new Proxy(shared.link, {
    get(target, prop, receiver) {
      if (prop === 'evalSha' && next) {
        const failure = next;
        next = null;
        return () => Promise.reject(failure);
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { link: proxy, failNext: (err) => (next = err) };
}

roomLogContract('RedisRoomLog', async () => {
  const heard: string[] = [];
  const failing = failingLink();
  const log = await RedisRoomLog.open(failing.link, clusterKeys(`r${++logs}:`), recordingBus(heard));
  return { log, failNext: failing.failNext, heard: () => heard, keeps: true, close: () => undefined };
});

const say = (text: string, conv = 'room:#a'): NewEntry => ({ conv, kind: 'say', from: 'ann', text });
const turn = (entries: NewEntry[]) => ({ entries, publish: () => undefined });

describe('RedisRoomLog: what only a cluster has', () => {
  it('two nodes appending to one conversation at once: ids one more each, no gap, no twice; one epoch', async () => {
    const keys = clusterKeys(`r${++logs}:`);
    const nodes = await Promise.all([0, 1].map(() => RedisRoomLog.open(shared.link, keys, recordingBus([]))));
    expect(nodes[1]!.epoch).toBe(nodes[0]!.epoch);
    const appended = await Promise.all(
      Array.from({ length: 100 }, (_, i) => nodes[i % 2]!.append(turn([say(`m${i}`), say(`m${i}b`)]))),
    );
    const ids = appended.flatMap((a) => a.entries.map((e) => e.id)).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    // Each turn's two entries are next to each other: a turn is one step.
    for (const a of appended) expect(a.entries[1]!.id).toBe(a.entries[0]!.id + 1);
    const all = await nodes[1]!.after('room:#a', 0, 1000);
    expect(all.map((e) => e.id)).toEqual(ids);
    expect(all.every((e, i) => i === 0 || e.ts >= all[i - 1]!.ts)).toBe(true);
  });

  it('a turn whose answer was lost (its script ran) is sent again: stored once, with the same ids', async () => {
    // The next script runs in Redis, but its answer is lost on the way back, as when the link drops under it.
    let lose = 0;
    const link = new Proxy(shared.link, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        const f = (v as (...a: unknown[]) => Promise<unknown>).bind(target);
        if (prop !== 'evalSha') return f;
        return async (...a: unknown[]) => {
          const answer = await f(...a);
          if (lose === 0) return answer;
          lose--;
          throw new SocketClosedUnexpectedlyError();
        };
      },
    });
    const log = await RedisRoomLog.open(link, clusterKeys(`r${++logs}:`), recordingBus([]));
    await log.append(turn([say('one')]));
    lose = 2; // lost twice in a row: sent three times in all
    const again = await log.append(turn([say('two'), say('two b', 'room:#b')]));
    expect(again.entries.map((e) => e.id)).toEqual([2, 1]);
    expect((await log.append(turn([say('three')]))).entries[0]!.id).toBe(3);
    expect((await log.after('room:#a', 0, 10)).map((e) => `${e.id} ${e.text}`)).toEqual(['1 one', '2 two', '3 three']);
    expect((await log.after('room:#b', 0, 10)).map((e) => e.text)).toEqual(['two b']);
  });

  it('Redis out of memory refuses a turn whole (STORE_FULL), and the ids go on after', async () => {
    const log = await RedisRoomLog.open(shared.link, clusterKeys(`r${++logs}:`), recordingBus([]));
    await log.append(turn([say('kept')]));
    await shared.link.configSet({ maxmemory: '1', 'maxmemory-policy': 'noeviction' });
    try {
      await expect(log.append(turn([say('lost'), say('lost too', 'room:#b')]))).rejects.toMatchObject({
        code: 'STORE_FULL',
      });
    } finally {
      await shared.link.configSet('maxmemory', '0');
    }
    expect((await log.append(turn([say('next')]))).entries[0]!.id).toBe(2);
    expect(await log.lastId('room:#b')).toBe(0);
    expect((await log.after('room:#a', 0, 10)).map((e) => e.text)).toEqual(['kept', 'next']);
  });

  it('pages: back from the newest, forward from a time, the parties of a direct conversation only', async () => {
    const log = await RedisRoomLog.open(shared.link, clusterKeys(`r${++logs}:`), recordingBus([]));
    const dm = (text: string, parties: [string, string]): NewEntry => ({
      conv: 'dm:ann\nbob',
      kind: 'direct',
      from: 'ann',
      to: 'bob',
      text,
      parties,
    });
    await log.append(turn(Array.from({ length: 300 }, (_, i) => dm(`d${i}`, i < 150 ? ['a1', 'b1'] : ['a2', 'b1']))));
    // The reads go on past a chunk of 128 to fill a page with the asked parties' messages only.
    expect((await log.before('dm:ann\nbob', Infinity, 200, ['a1'])).map((e) => e.text)).toEqual(
      Array.from({ length: 150 }, (_, i) => `d${i}`),
    );
    expect((await log.after('dm:ann\nbob', 0, 3, ['a2'])).map((e) => e.text)).toEqual(['d150', 'd151', 'd152']);
    expect(await log.after('dm:ann\nbob', 0, 3, [])).toEqual([]);
    const reader = log.reader();
    const plan = await reader.plan('dm:ann\nbob', ['b1'], { upto: 300, limit: 10 });
    expect(plan).toMatchObject({ first: 291, last: 300, count: 10, more: true });
    const frames = await reader.frames('dm:ann\nbob', ['b1'], plan, { id: 1, with: 'bob' }, 65536);
    expect(frames.length).toBe(1);
    expect(frames[0]!.toString()).toContain('d299');
  });

  it('a Redis that lost its data (emptied under a running node): the next append is under a new epoch, ids from 1', async () => {
    const keys = clusterKeys(`r${++logs}:`);
    const log = await RedisRoomLog.open(shared.link, keys, recordingBus([]));
    const before = log.epoch;
    await log.append(turn([say('one'), say('two')]));
    for (const key of await shared.link.keys(`${keys.prefix}*`)) await shared.link.del(key);
    const after = await log.append(turn([say('three')]));
    expect(after.epoch).not.toBe(before);
    expect(log.epoch).toBe(after.epoch);
    expect(after.entries[0]!.id).toBe(1);
    // Another node opening now is in the same new epoch.
    expect((await RedisRoomLog.open(shared.link, keys, recordingBus([]))).epoch).toBe(after.epoch);
  });

  /** What AOF everysec loses in a crash: the last writes of #a, their ids counted back and their entries gone. */
  async function loseLast(prefix: string, n: number): Promise<void> {
    const stream = `${prefix}h:room:#a`;
    const link = shared.link;
    const kept = ((await link.xRange(stream, '-', '+')) ?? []).slice(0, -n);
    await link.del(stream);
    for (const e of kept) if (e) await link.xAdd(stream, e.id, e.message);
    await link.hIncrBy(`${prefix}ids`, 'room:#a', -n);
  }

  it('a Redis that lost only its last writes gives ids again: the node that notices starts a new epoch, once; the others follow it', async () => {
    const keys = clusterKeys(`r${++logs}:`);
    const a = await RedisRoomLog.open(shared.link, keys, recordingBus([]));
    const before = a.epoch;
    await a.append(turn([say('one'), say('two'), say('three')]));
    await loseLast(keys.prefix, 1);
    const again = await a.append(turn([say('three, again')]));
    expect(again.entries[0]!.id).toBe(3);
    expect(again.epoch).not.toBe(before);
    // Ids of the new epoch go on without another change.
    const next = await a.append(turn([say('four')]));
    expect([next.entries[0]!.id, next.epoch]).toEqual([4, again.epoch]);
    // A node that only saw the ids go by on the bus notices it too (here: the bus had seen 9 when Redis lost 8 and 9).
    const keys2 = clusterKeys(`r${++logs}:`);
    const writer = await RedisRoomLog.open(shared.link, keys2, recordingBus([]));
    await writer.append(turn(Array.from({ length: 9 }, (_, i) => say(`m${i + 1}`))));
    const old = writer.epoch;
    const watcher = await RedisRoomLog.open(shared.link, keys2, { ...recordingBus([]), highestSeen: () => 9 });
    await loseLast(keys2.prefix, 2);
    const seen = await watcher.append(turn([say('after the loss')]));
    expect([seen.entries[0]!.id, seen.epoch === old]).toEqual([8, false]);
    // The first node learns the new epoch at its next append (EPOCH), and does not start a third.
    const follows = await writer.append(turn([say('writer again')]));
    expect([follows.entries[0]!.id, follows.epoch]).toEqual([9, seen.epoch]);
  });

  it('retention by age drops what is older than the cutoff, from the head; the ids go on after', async () => {
    const log = await RedisRoomLog.open(shared.link, clusterKeys(`r${++logs}:`), recordingBus([]));
    const first = await log.append(turn([say('old 1'), say('old 2'), say('old dm', 'dm:ann\nbob')]));
    // Redis's clock (the entries' times) moves past the first turn's before the second.
    const t0 = first.entries[0]!.ts;
    const redisMs = async () => {
      const [s, us] = await shared.link.time();
      return Number(s) * 1000 + Math.floor(Number(us) / 1000);
    };
    while ((await redisMs()) <= t0) await new Promise((r) => setTimeout(r, 2));
    const second = await log.append(turn([say('new')]));
    const t1 = second.entries[0]!.ts;
    const removed = await log.prune(t1 + 1000, { maxAgeMs: 1000, maxBytes: 2 ** 40 });
    expect(removed).toBe(3);
    expect((await log.after('room:#a', 0, 10)).map((e) => [e.id, e.text])).toEqual([[3, 'new']]);
    expect(await log.after('dm:ann\nbob', 0, 10)).toEqual([]);
    expect(await log.since('room:#a', 0, 10)).toHaveLength(1);
    expect((await log.append(turn([say('next')]))).entries[0]!.id).toBe(4);
    expect(await log.keptBytes()).toBe(
      (await log.after('room:#a', 0, 10)).reduce((n, e) => n + Buffer.byteLength(JSON.stringify(stripped(e))), 0),
    );
  });

  it("retention runs on one node at a time: a prune finds another's lock and leaves it; its own goes after", async () => {
    const keys = clusterKeys(`r${++logs}:`);
    const log = await RedisRoomLog.open(shared.link, keys, recordingBus([]));
    await log.append(turn([say('kept')]));
    await shared.link.set(`${keys.prefix}pruning`, 'another node', { expiration: { type: 'PX', value: 60_000 } });
    expect(await log.prune(Date.now() + 10_000, { maxAgeMs: 1, maxBytes: 2 ** 40 })).toBe(0);
    expect(await shared.link.get(`${keys.prefix}pruning`)).toBe('another node');
    await shared.link.del(`${keys.prefix}pruning`);
    expect(await log.prune(Date.now() + 10_000, { maxAgeMs: 1, maxBytes: 2 ** 40 })).toBe(1);
    expect(await shared.link.exists(`${keys.prefix}pruning`)).toBe(0);
  });

  it('retention by size: the conversation with the oldest entry loses its oldest until the log is under the budget', async () => {
    const log = await RedisRoomLog.open(shared.link, clusterKeys(`r${++logs}:`), recordingBus([]));
    await log.append(turn(Array.from({ length: 10 }, (_, i) => say(`a${i}`.padEnd(100, '.'), 'room:#a'))));
    await log.append(turn(Array.from({ length: 10 }, (_, i) => say(`b${i}`.padEnd(100, '.'), 'room:#b'))));
    const all = await log.keptBytes();
    const budget = Math.floor(all * 0.75);
    const removed = await log.prune(Date.now(), { maxAgeMs: 0, maxBytes: budget });
    expect(await log.keptBytes()).toBeLessThanOrEqual(budget);
    expect(removed).toBe(5);
    expect((await log.after('room:#a', 0, 20)).map((e) => e.id)).toEqual([6, 7, 8, 9, 10]);
    expect(await log.after('room:#b', 0, 20)).toHaveLength(10);
    expect(await log.prune(Date.now(), { maxAgeMs: 0, maxBytes: budget })).toBe(0);
  });
});

/** What the log keeps of an entry: what was appended (its id and time are the stream's). */
function stripped(e: { id: number; ts: number } & NewEntry): NewEntry {
  const { id: _id, ts: _ts, ...rest } = e;
  return rest;
}
