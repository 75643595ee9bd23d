/**
 * Retention over the cluster's room log (server/store/redis-retention.ts) on a real redis-server: the heads (each
 * conversation keeping entries, by its first's time) stay true through appends and prunes, a log written before
 * them gets them on its first prune, and a prune by size reads the heads, not every conversation's stream.
 */
import { describe, expect, it } from 'vitest';
import { clusterKeys, type ClusterKeys } from '../../server/cluster/keys.js';
import { RedisRoomLog } from '../../server/store/redis-room-log.js';
import { retentionKeys } from '../../server/store/redis-retention.js';
import type { NewEntry } from '../../server/store/history.js';
import { recordingBus } from '../unit/room-log-contract.js';
import { redisPerFile } from '../helpers/redis-server.js';

const shared = redisPerFile();
let logs = 0;

const say = (text: string, conv: string): NewEntry => ({ conv, kind: 'say', from: 'ann', text });
const turn = (entries: NewEntry[]) => ({ entries, publish: () => undefined });
const NO_AGE = 0;
const NO_SIZE = 2 ** 40;

async function openLog(): Promise<{ log: RedisRoomLog; keys: ClusterKeys }> {
  const keys = clusterKeys(`rt${++logs}:`);
  return { log: await RedisRoomLog.open(shared.link, keys, recordingBus([])), keys };
}

/** The heads as Redis holds them, and as the streams say they should be. */
async function heads(keys: ClusterKeys): Promise<{ held: Record<string, number>; true: Record<string, number> }> {
  const k = retentionKeys(keys);
  const held: Record<string, number> = {};
  for (const { value, score } of await shared.link.zRangeWithScores(k.heads, 0, -1)) held[value] = score;
  const truth: Record<string, number> = {};
  for (const conv of await shared.link.hKeys(k.ids)) {
    const first = (await shared.link.xRange(k.streams + conv, '-', '+', { COUNT: 1 }))?.[0];
    if (first) truth[conv] = Number(first.message.ts);
  }
  return { held, true: truth };
}

/** Waits until Redis's clock (the entries' times) is past `ms`. */
async function redisPast(ms: number): Promise<void> {
  for (;;) {
    const [s, us] = await shared.link.time();
    if (Number(s) * 1000 + Math.floor(Number(us) / 1000) > ms) return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('retention over the cluster log, by its heads', () => {
  it('the heads follow appends and prunes: each conversation at its first kept entry, an emptied one gone', async () => {
    const { log, keys } = await openLog();
    const a = await log.append(turn([say('a1'.padEnd(200, '.'), 'room:#a'), say('a2', 'room:#a')]));
    await redisPast(a.entries[0]!.ts);
    const b = await log.append(turn([say('b1', 'room:#b'), say('d1', 'dm:ann\nbob')]));
    await redisPast(b.entries[0]!.ts);
    await log.append(turn([say('c1', 'room:#c'), say('a3', 'room:#a')]));
    let h = await heads(keys);
    expect(Object.keys(h.held).sort()).toEqual(['dm:ann\nbob', 'room:#a', 'room:#b', 'room:#c']);
    expect(h.held).toEqual(h.true);
    // By size: #a's first (the oldest, and big) goes; #a's head moves to its second.
    expect(await log.prune(Date.now(), { maxAgeMs: NO_AGE, maxBytes: (await log.keptBytes()) - 1 })).toBe(1);
    h = await heads(keys);
    expect(h.held).toEqual(h.true);
    expect(h.held['room:#a']).toBe(a.entries[1]!.ts);
    // By age: everything before the last turn; #b and the DM are emptied and leave the heads.
    const cut = await log.prune(b.entries[0]!.ts + 1 + 60_000, { maxAgeMs: 60_000, maxBytes: NO_SIZE });
    expect(cut).toBe(3);
    h = await heads(keys);
    expect(Object.keys(h.held).sort()).toEqual(['room:#a', 'room:#c']);
    expect(h.held).toEqual(h.true);
    // An emptied conversation that is written again is a head again, at its new entry.
    const again = await log.append(turn([say('b2', 'room:#b')]));
    expect((await heads(keys)).held['room:#b']).toBe(again.entries[0]!.ts);
  });

  it('a log written before the heads existed gets them on its first prune, and a prune by size takes the oldest', async () => {
    const { log, keys } = await openLog();
    const k = retentionKeys(keys);
    const old = await log.append(turn([say('z-old', 'room:#z')]));
    await redisPast(old.entries[0]!.ts);
    await log.append(turn([say('y-new', 'room:#y')]));
    await shared.link.del([k.heads, k.placed]); // as an older version left it
    expect(await log.prune(Date.now(), { maxAgeMs: NO_AGE, maxBytes: (await log.keptBytes()) - 1 })).toBe(1);
    expect(await log.after('room:#z', 0, 10)).toEqual([]);
    expect(await log.after('room:#y', 0, 10)).toHaveLength(1);
    expect(await shared.link.get(k.placed)).toBe('1');
    const h = await heads(keys);
    expect(h.held).toEqual(h.true);
  });

  it('a prune by size among 2,000 conversations reads the heads, not every stream', async () => {
    const { log } = await openLog();
    const first = await log.append(turn([say('first'.padEnd(300, '.'), 'room:#first')]));
    await redisPast(first.entries[0]!.ts);
    await log.append(turn(Array.from({ length: 2_000 }, (_, i) => say(`m${i}`, `dm:ann\nu${i}`))));
    await log.prune(Date.now(), { maxAgeMs: NO_AGE, maxBytes: NO_SIZE }); // places the heads, drops nothing
    await shared.link.configResetStat();
    expect(await log.prune(Date.now(), { maxAgeMs: NO_AGE, maxBytes: (await log.keptBytes()) - 1 })).toBe(1);
    expect(await log.after('room:#first', 0, 10)).toEqual([]);
    const stats = await shared.link.info('commandstats');
    const xrange = Number(/cmdstat_xrange:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    // One run: the oldest's head read to drop, its new first read (and after() reads it once more).
    expect(xrange).toBeGreaterThan(0);
    expect(xrange).toBeLessThan(10);
  });
});
