/**
 * The watchdog's drop on a link through Sentinel (server/cluster/sentinel-link.ts, link-watchdog.ts), on real
 * redis-server and redis-sentinel processes. The Sentinel first names the master at a proxy's address
 * (test/helpers/blackhole-proxy.ts), and the link reaches it there; then the Sentinel is told the master's own
 * address (as after a failover whose +switch-master the link never heard) and the proxy goes silent. Nothing but the
 * watchdog's drop can make the link ask the Sentinels again: it does, and goes on at the address they name now,
 * its subscription with it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient } from 'redis';
import { closeRedis, type RedisLink } from '../../server/cluster/redis-link.js';
import { openRedis } from '../../server/cluster/open-redis.js';
import { parseRedisUrl } from '../../server/cluster/redis-url.js';
import { PROBE_DEADLINE_MS, PROBE_EVERY_MS } from '../../server/cluster/link-watch.js';
import { startBlackholeProxy, type BlackholeProxy } from '../helpers/blackhole-proxy.js';
import { startSentinelSet, type SentinelSetUnderTest } from '../helpers/redis-server.js';
import { eventually, until } from '../helpers/wait.js';

/** A silent link is dropped within a probe's interval, its deadline and a look from a new connection (and slack). */
const NOTICE_MS = PROBE_EVERY_MS + 2 * PROBE_DEADLINE_MS + 5000;

let set: SentinelSetUnderTest;
let proxy: BlackholeProxy;
let sentinel: ReturnType<typeof createClient>;
let link: RedisLink | null = null;
let listener: RedisLink | null = null;
let direct: RedisLink | null = null;

beforeAll(async () => {
  set = await startSentinelSet();
  proxy = await startBlackholeProxy(set.master.port);
  sentinel = createClient({ url: `redis://127.0.0.1:${new URL(set.url).port}` });
  await sentinel.connect();
  await monitor(proxy.port);
});
afterAll(async () => {
  for (const l of [link, listener]) if (l) await closeRedis(l);
  if (direct) await closeRedis(direct);
  sentinel.destroy();
  await proxy.close();
  await set.stop();
});

/**
 * The Sentinel watches the master at `port` from now on. A long down-after: its own view of a silent address must
 * start no failover (whose +switch-master would move the link without the watchdog).
 */
async function monitor(port: number): Promise<void> {
  await sentinel.sendCommand(['SENTINEL', 'REMOVE', 'mymaster']);
  await sentinel.sendCommand(['SENTINEL', 'MONITOR', 'mymaster', '127.0.0.1', String(port), '1']);
  await sentinel.sendCommand(['SENTINEL', 'SET', 'mymaster', 'down-after-milliseconds', '60000']);
}

it('a silent link through Sentinel is dropped, asks the Sentinels again and goes on at the master they name', async () => {
  const said: string[] = [];
  const heardOf = (who: string) => ({
    silence: (up: boolean, detail: string) => said.push(`${who} ${up ? '+' : '-'} ${detail}`),
    moved: (to: string) => said.push(`${who} moved ${to}`),
  });
  link = await openRedis(parseRedisUrl(set.url), heardOf('link'));
  // A subscribed link does nothing else (the node's throttle listener is one).
  listener = await openRedis(parseRedisUrl(set.url), heardOf('listener'));
  direct = await openRedis(parseRedisUrl(set.master.url));
  expect(await link.set('before', '1')).toBe('OK');
  const heard: string[] = [];
  await listener.subscribe('silent:ch', (m) => heard.push(m));
  await eventually(
    async () => ((await direct!.publish('silent:ch', 'before')) > 0 ? true : null),
    5000,
    () => 'the subscription never reached Redis',
  );
  await until(
    () => heard.includes('before'),
    5000,
    () => `heard ${heard.join(', ')}`,
  );

  await monitor(set.master.port);
  // The link goes on through the proxy until it is found silent: the Sentinel's new word alone moves nothing.
  expect(await link.get('before')).toBe('1');
  expect(said).toEqual([]);
  proxy.partitioned = true;

  const where = `127.0.0.1:${set.master.port}`;
  for (const who of ['link', 'listener']) {
    await until(
      () => said.includes(`${who} moved ${where}`),
      NOTICE_MS + 2000,
      () => `the ${who} did not move; said: ${said.join(' | ')}`,
    );
    // Found silent and dropped first: the Sentinels were asked because of the drop.
    const dropped = said.findIndex((l) => l.startsWith(`${who} - `) && l.includes('dropped and opened again'));
    expect(dropped).toBeGreaterThanOrEqual(0);
    expect(dropped).toBeLessThan(said.indexOf(`${who} moved ${where}`));
  }
  expect(
    await eventually(
      () => link!.set('after', '2').catch(() => null),
      5000,
      () => 'no write after the move',
    ),
  ).toBe('OK');
  expect(await link.get('before')).toBe('1');
  expect(await direct.get('after')).toBe('2');
  // Its subscription went with it.
  await eventually(
    async () => {
      await direct!.publish('silent:ch', 'after');
      await new Promise((r) => setTimeout(r, 100));
      return heard.includes('after') ? true : null;
    },
    5000,
    () => `the subscription was not taken to the master's own address; heard ${heard.join(', ')}`,
  );
}, 60_000);
