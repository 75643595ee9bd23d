/**
 * A link that follows a Sentinel failover (server/cluster/sentinel-link.ts), on real redis-server and
 * redis-sentinel processes: the master killed, the Sentinel promotes the replica, the link goes on with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRedis, type RedisLink } from '../../server/cluster/redis-link.js';
import { openRedis } from '../../server/cluster/open-redis.js';
import { parseRedisUrl } from '../../server/cluster/redis-url.js';
import { startSentinelSet, type SentinelSetUnderTest } from '../helpers/redis-server.js';
import { until } from '../helpers/wait.js';

let set: SentinelSetUnderTest;
let link: RedisLink | null = null;

beforeAll(async () => {
  set = await startSentinelSet();
});
afterAll(async () => {
  if (link) await closeRedis(link);
  await set.stop();
});

describe('a link through Sentinel', () => {
  it('finds the master, and after the master is killed goes on with the replica the Sentinel promoted', async () => {
    const moved: string[] = [];
    link = await openRedis(parseRedisUrl(set.url), { moved: (to) => moved.push(to) });
    await link.set('before', '1');
    // The replica has it before the master goes (replication is asynchronous: WAIT makes it so here).
    expect(await link.sendCommand(['WAIT', '1', '5000'])).toBe(1);
    set.master.proc.kill('SIGKILL');
    await until(
      () => moved.length > 0,
      20_000,
      () => `no failover seen; the sentinel said: ${set.sentinel.lines.slice(-5).join(' | ')}`,
    );
    expect(moved).toEqual([`127.0.0.1:${set.replica.port}`]);
    // A write (which a replica would refuse: READONLY) goes to the new master; one under way at the switch may fail.
    const wrote = await eventually(() => link!.set('after', '2'), 10_000);
    expect(wrote).toBe('OK');
    expect(await link.get('before')).toBe('1');
  });
});

/** fn's result once it succeeds, trying again every 100 ms for at most `ms`. */
async function eventually<T>(fn: () => Promise<T>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
