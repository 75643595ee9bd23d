/**
 * One format generation across a cluster's nodes (server/cluster/generation.ts), on a real redis-server and real
 * chat-server processes: two nodes of one generation join; a node claiming another (the test-only
 * HC_TEST_CLUSTER_GENERATION, as a node of another version would) is refused with a message naming the cluster's
 * generation and exits 1 while they run on; once no node lives (one stopped, the other killed and its lease
 * lapsed), a node of the new generation takes over, and the old one is the one refused.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clusterKeys } from '../../server/cluster/keys.js';
import { GENERATION_ENV } from '../../server/cluster/generation.js';
import { closeRedis, type RedisLink } from '../../server/cluster/redis-link.js';
import { openRedis } from '../../server/cluster/open-redis.js';
import { parseRedisUrl } from '../../server/cluster/redis-url.js';
import { LineProcess, SERVER_JS, startServer, stopAll, tempDir, type ServerHandle } from '../helpers/processes.js';
import { closeRawSessions, rawSession } from '../helpers/raw-session.js';
import { startRedis, type RedisUnderTest } from '../helpers/redis-server.js';
import { eventually } from '../helpers/wait.js';

let redis: RedisUnderTest;
let link: RedisLink;
const procs: LineProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
  link = await openRedis(parseRedisUrl(redis.url));
});
afterAll(async () => {
  closeRawSessions();
  await stopAll(...procs);
  await closeRedis(link);
  await redis.stop();
});

const nodeArgs = (id: string) => [
  ...['--redis', redis.url, '--node-id', id, '--node-lease', '2s'],
  ...['--workers', '1', '--no-web', '--no-history'],
];

async function node(id: string, generation?: number): Promise<ServerHandle> {
  const env = generation === undefined ? {} : { [GENERATION_ENV]: String(generation) };
  const s = await startServer(nodeArgs(id), { env });
  procs.push(s);
  return s;
}

/** A node that must be refused: its exit code and what it said on stderr. */
async function refused(id: string, generation?: number): Promise<{ code: number | null; said: string }> {
  const env = generation === undefined ? {} : { [GENERATION_ENV]: String(generation) };
  const p = new LineProcess(
    `chat-server ${id}`,
    [
      ...[SERVER_JS, '--host', '127.0.0.1', '--port', '0'],
      ...['--log-file', join(tempDir('chat-log'), 'server.log'), '--files', tempDir('chat-files')],
      ...nodeArgs(id),
    ],
    { env },
  );
  procs.push(p);
  const code = await p.exit(30_000);
  return { code, said: p.errLines.join('\n') };
}

it('a node of another generation is refused while the live nodes run; once none lives, it takes over', async () => {
  const s1 = await node('s1');
  const s2 = await node('s2');
  expect(await link.get(clusterKeys().prefix + 'generation')).toBe('1');

  const newer = await refused('s3', 2);
  expect(newer.code).toBe(1);
  expect(newer.said).toContain(
    "chat-server: this node runs cluster generation 2, but the cluster's live nodes (s1, s2) run generation 1:",
  );
  // Refused before it wrote anything: no lease, no generation of its own.
  expect(await link.exists(clusterKeys().lease('s3'))).toBe(0);
  expect(await link.get(clusterKeys().prefix + 'generation')).toBe('1');
  // The cluster runs on.
  expect([s1.exitCode, s2.exitCode]).toEqual([undefined, undefined]);
  const alice = await rawSession(s1.port, 'alice', { version: 2 });
  await alice.next('JOINED', () => true, 10_000);

  // The upgrade: every node stopped (s2 gives its lease back; s1, killed, leaves its lease to lapse).
  s2.kill('SIGTERM');
  expect((await s2.exited).code).toBe(0);
  s1.kill('SIGKILL');
  await s1.exited;
  await eventually(
    async () => ((await link.exists(clusterKeys().lease('s1'))) === 0 ? true : null),
    10_000,
    () => "s1's lease never lapsed",
  );
  const upgraded = await node('s3', 2);
  expect(upgraded.lines).toContain(`* node s3 joined the cluster at ${redis.url}`);
  expect(await link.get(clusterKeys().prefix + 'generation')).toBe('2');

  const older = await refused('s1');
  expect(older.code).toBe(1);
  expect(older.said).toContain(
    "chat-server: this node runs cluster generation 1, but the cluster's live nodes (s3) run generation 2:",
  );
}, 120_000);
