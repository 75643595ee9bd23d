/**
 * Sessions per address over a cluster's nodes (--max-sessions-per-address), on a real redis-server started here:
 * an address that holds its sessions on one node gets no more on another; another address does; a node killed,
 * its sessions count no more once its lease is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../common/protocol.js';
import { closeRedis, type RedisLink } from '../../server/cluster/redis-link.js';
import { openRedis } from '../../server/cluster/open-redis.js';
import { parseRedisUrl } from '../../server/cluster/redis-url.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, stopAll, type LineProcess } from '../helpers/processes.js';
import { startRedis, type RedisUnderTest } from '../helpers/redis-server.js';
import { eventually } from '../helpers/wait.js';

let redis: RedisUnderTest;
let link: RedisLink;
const procs: LineProcess[] = [];
const clients: RawClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
  link = await openRedis(parseRedisUrl(redis.url));
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await stopAll(...procs);
  await closeRedis(link);
  await redis.stop();
});

/** HELLO on the node's port from 127.0.0.1; the first answer (WELCOME or ERROR). */
async function hello(port: number, nick: string): Promise<ServerMessage> {
  const c = await RawClient.connect(port);
  clients.push(c);
  c.send({ type: 'HELLO', version: 1, nick });
  return c.waitFor((m) => m.type === 'WELCOME' || m.type === 'ERROR', 10_000);
}

/** What node `node` last said its sessions from 127.0.0.1 are (null until it says 2). */
const counted = (node: string, n: number) => async () =>
  Number((await link.hGet(`hc:addr:${node}`, '127.0.0.1')) ?? 0) === n ? true : null;

describe('sessions per address over a cluster', () => {
  it('an address at its limit on one node gets no more on another; the count of a dead node goes with its lease', async () => {
    const args = (id: string) => [
      ...['--redis', redis.url, '--node-id', id, '--workers', '1', '--no-web'],
      ...['--node-lease', '2s', '--max-sessions-per-address', '2'],
    ];
    const [n1, n2] = [await startServer(args('n1')), await startServer(args('n2'))];
    procs.push(n1, n2);
    expect(await hello(n1.port, 'a0')).toMatchObject({ type: 'WELCOME' });
    expect(await hello(n1.port, 'a1')).toMatchObject({ type: 'WELCOME' });
    // n1 says its counts at each renewal of its lease (every 400 ms with a lease of 2 s).
    await eventually(counted('n1', 2), 10_000, () => 'n1 never counted two sessions from 127.0.0.1');
    expect(await hello(n2.port, 'a2')).toMatchObject({
      type: 'ERROR',
      code: 'ADDRESS_LIMIT',
      message: expect.stringContaining("already has 2 sessions on this cluster's nodes"),
    });
    // Its own node still says so as it did.
    expect(await hello(n1.port, 'a3')).toMatchObject({ type: 'ERROR', code: 'ADDRESS_LIMIT' });
    n1.kill('SIGKILL');
    await n1.exited;
    // n1's lease ends (2 s) and its counts with it: the address may log in on n2 again.
    await eventually(
      async () => ((await link.exists('hc:lease:n1')) === 0 ? true : null),
      10_000,
      () => 'the lease of n1 never ended',
    );
    expect(await hello(n2.port, 'a4')).toMatchObject({ type: 'WELCOME' });
  });
});
