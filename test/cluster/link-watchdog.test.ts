/**
 * A Redis link's watchdog (server/cluster/link-watchdog.ts) on a real redis-server: a subscribed link behind a
 * proxy that went silent (test/helpers/blackhole-proxy.ts) is dropped and hears its channel again after the heal,
 * what was under way on it failing as of unknown fate; a link whose command Redis holds (CLIENT PAUSE) is kept,
 * so that Redis runs the command when the pause ends (it would forget a closed connection's); a probe whose deadline
 * passed while the thread stood still drops nothing.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { PROBE_DEADLINE_MS, PROBE_EVERY_MS } from '../../server/cluster/link-watch.js';
import { closeRedis, failedCommand, type RedisLink } from '../../server/cluster/redis-link.js';
import { openRedis } from '../../server/cluster/open-redis.js';
import { parseRedisUrl } from '../../server/cluster/redis-url.js';
import { startBlackholeProxy, type BlackholeProxy } from '../helpers/blackhole-proxy.js';
import { startRedis, type RedisUnderTest } from '../helpers/redis-server.js';
import { eventually, until } from '../helpers/wait.js';

/** A silent link is said within a probe's interval, its deadline and a look from a new connection (and slack). */
const NOTICE_MS = PROBE_EVERY_MS + 2 * PROBE_DEADLINE_MS + 5000;

let redis: RedisUnderTest;
let direct: RedisLink;
let proxy: BlackholeProxy | null = null;
const links: RedisLink[] = [];

beforeAll(async () => {
  redis = await startRedis();
  direct = await openRedis(parseRedisUrl(redis.url));
});
afterEach(async () => {
  for (const l of links.splice(0)) await closeRedis(l).catch(() => undefined);
  await proxy?.close();
  proxy = null;
});
afterAll(async () => {
  await closeRedis(direct);
  await redis.stop();
});

/** A link to `port` whose watchdog's words are kept, in order ('+' back, '-' silent). */
async function watched(port: number): Promise<{ link: RedisLink; said: string[] }> {
  const said: string[] = [];
  const link = await openRedis(parseRedisUrl(`redis://127.0.0.1:${port}`), {
    silence: (up, detail) => said.push(`${up ? '+' : '-'} ${detail}`),
  });
  links.push(link);
  return { link, said };
}

it('drops a silent subscribed link; healed, it hears its channel again, and what was under way failed as unknown', async () => {
  proxy = await startBlackholeProxy(redis.port);
  const { link, said } = await watched(proxy.port);
  const heard: string[] = [];
  await link.subscribe('watch:ch', (m) => heard.push(m));
  await eventually(
    async () => ((await direct.publish('watch:ch', 'before')) > 0 ? true : null),
    5000,
    () => 'the subscription never reached Redis',
  );
  await until(
    () => heard.includes('before'),
    5000,
    () => 'the first message never came',
  );

  proxy.partitioned = true;
  // A command sent into the hole: it fails (its bound, or the drop), and nobody knows whether Redis ran it.
  const lost = await link.ping().then(
    () => null,
    (err: unknown) => err,
  );
  expect(failedCommand(lost)).toBe('unknown');
  await until(
    () => said.some((l) => l.startsWith('- the Redis link is silent') && l.endsWith('dropped and opened again')),
    NOTICE_MS,
    () => `the watchdog said: ${said.join(' | ')}`,
  );
  await direct.publish('watch:ch', 'during');

  proxy.partitioned = false;
  await until(
    () => said.some((l) => l.startsWith('+ the Redis link answers again')),
    NOTICE_MS,
    () => `the watchdog said: ${said.join(' | ')}`,
  );
  // Subscribed again on the new connection (the client did it): a message published now is heard.
  await eventually(
    async () => {
      await direct.publish('watch:ch', 'after');
      await new Promise((r) => setTimeout(r, 100));
      return heard.includes('after') ? true : null;
    },
    5000,
    () => `heard only: ${heard.join(', ')}`,
  );
  // What was published into the hole is lost (a subscription keeps nothing), and said once an episode.
  expect(heard).not.toContain('during');
  expect(said.filter((l) => l.startsWith('-'))).toHaveLength(1);
}, 60_000);

it('keeps a link whose command Redis holds (CLIENT PAUSE): Redis runs the command when the pause ends', async () => {
  const { link, said } = await watched(redis.port);
  await direct.del('watch:held');
  // Writes wait in Redis for 8 s: longer than the probe's deadline and a look, and the command's own bound (5 s).
  await direct.sendCommand(['CLIENT', 'PAUSE', '8000', 'WRITE']);
  const held = await link.set('watch:held', 'ran').then(
    () => null,
    (err: unknown) => err,
  );
  expect(failedCommand(held)).toBe('unknown');
  await until(
    () => said.some((l) => l.startsWith("- Redis holds this link's commands")),
    NOTICE_MS,
    () => `the watchdog said: ${said.join(' | ')}`,
  );
  // Kept: Redis runs the SET when the pause ends, and the link answers again.
  await eventually(
    async () => ((await direct.get('watch:held')) === 'ran' ? true : null),
    15_000,
    () => 'the held SET never ran',
  );
  await until(
    () => said.some((l) => l.startsWith('+ the Redis link answers again')),
    NOTICE_MS,
    () => `the watchdog said: ${said.join(' | ')}`,
  );
  expect(said.filter((l) => l.includes('dropped'))).toEqual([]);
}, 60_000);

/** A number from Redis's INFO. */
async function info(field: string): Promise<number> {
  return Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(await direct.info())![1]);
}

it("drops nothing when a probe's deadline passed while the thread stood still, its answer waiting to be read", async () => {
  proxy = await startBlackholeProxy(redis.port);
  const { link, said } = await watched(proxy.port);
  const id = await link.clientId();
  const [connections, clients] = [await info('total_connections_received'), await info('connected_clients')];
  // Once the next probe has gone out on the watched link (through the proxy), the thread stands still for longer
  // than its deadline: when it runs again the deadline's timer comes before the answer is read.
  const write = net.Socket.prototype.write;
  let stood = false;
  net.Socket.prototype.write = function (this: net.Socket, ...args: Parameters<typeof write>) {
    if (!stood && this.remotePort === proxy!.port && String(args[0]).includes('PING')) {
      stood = true;
      process.nextTick(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, PROBE_DEADLINE_MS + 500));
    }
    return write.apply(this, args);
  } as typeof write;
  try {
    await until(
      () => stood,
      5000,
      () => 'no probe went out',
    );
  } finally {
    net.Socket.prototype.write = write;
  }
  // The probe failed: a new connection looked at the link (Redis counts it), and it is gone again (the look ended).
  await eventually(
    async () =>
      (await info('total_connections_received')) > connections && (await info('connected_clients')) === clients
        ? true
        : null,
    10_000,
    () => 'no look from a new connection',
  );
  // Kept: the same connection, and nothing said.
  expect(await link.clientId()).toBe(id);
  expect(said).toEqual([]);
}, 60_000);
