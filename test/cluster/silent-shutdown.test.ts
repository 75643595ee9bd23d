/**
 * A node told to stop while its Redis link is silent (docs/ARCHITECTURE.md, "Shutdown"): node s1 reaches a real
 * redis-server through a proxy that, partitioned, keeps every connection open and discards every byte both ways
 * (test/helpers/blackhole-proxy.ts). SIGTERMed then, before or after its watchdog noticed, it exits 0 within the
 * stated bound, saying what it always says, where closing a link that waits for answers that never come could hang.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { LEAVE_BOUND_MS } from '../../server/process/cluster-node.js';
import { STOP_TIMEOUT_MS } from '../../server/process/store-thread.js';
import { SHUTDOWN_GRACE_MS } from '../../server/process/worker-pool.js';
import { startBlackholeProxy, type BlackholeProxy } from '../helpers/blackhole-proxy.js';
import { startServer, stopAll, type ServerHandle } from '../helpers/processes.js';
import { closeRawSessions, rawSession } from '../helpers/raw-session.js';
import { startRedis, type RedisUnderTest } from '../helpers/redis-server.js';

/**
 * The stated bound (docs/ARCHITECTURE.md, "Shutdown"): the workers' wait, the store thread's and the cluster's leave,
 * each ended by force past its own; room for a loaded machine beside it.
 */
const NODE_STOP_BOUND_MS = SHUTDOWN_GRACE_MS + STOP_TIMEOUT_MS + LEAVE_BOUND_MS;
const SLACK_MS = 3000;

let redis: RedisUnderTest;
let proxy: BlackholeProxy | null = null;
let s1: ServerHandle | undefined;

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  closeRawSessions();
  await stopAll(s1);
  await proxy?.close();
  proxy = null;
});
afterAll(async () => {
  await redis.stop();
});

async function silentNode(id: string): Promise<ServerHandle> {
  proxy = await startBlackholeProxy(redis.port);
  s1 = await startServer([
    ...['--redis', `redis://127.0.0.1:${proxy.port}`, '--node-id', id, '--workers', '1', '--no-web'],
    ...['--node-lease', '40s'],
  ]);
  // A nick of its own: the previous test's node left its session in the cluster, kept for a resume.
  const alice = await rawSession(s1.port, `alice${id}`, { version: 2 });
  await alice.next('JOINED', () => true, 10_000);
  proxy.partitioned = true;
  return s1;
}

/** SIGTERM: the time to its exit, checked against the bound, and its usual lines. */
async function stops(s: ServerHandle): Promise<number> {
  const sent = Date.now();
  s.kill('SIGTERM');
  const { code } = await Promise.race([
    s.exited,
    new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`s1 still runs ${NODE_STOP_BOUND_MS + 20_000} ms after SIGTERM`)),
        NODE_STOP_BOUND_MS + 20_000,
      ),
    ),
  ]);
  const took = Date.now() - sent;
  expect(code).toBe(0);
  expect(s.lines).toContain('shutting down (received SIGTERM)');
  // Every thread closed its links and stopped by itself: none was terminated past its wait.
  const log = readFileSync(s.logFile, 'utf8');
  expect(log).toContain('"msg":"worker stopped"');
  expect(log).toContain('"msg":"store stopped"');
  expect(log).not.toContain('did not stop in time');
  expect(log).toContain('"msg":"stopped"');
  return took;
}

it('SIGTERMed just as its link went silent, a node exits within the bound', async () => {
  const s = await silentNode('s1');
  const took = await stops(s);
  console.log(`silent at SIGTERM (not yet noticed): exited ${took} ms after it`);
  expect(took).toBeLessThanOrEqual(NODE_STOP_BOUND_MS + SLACK_MS);
}, 90_000);

it('SIGTERMed once it said its link is silent, a node exits within the bound', async () => {
  const s = await silentNode('s2');
  await s.waitFor('! the Redis link is silent', 20_000);
  const took = await stops(s);
  console.log(`silent at SIGTERM (noticed): exited ${took} ms after it`);
  expect(took).toBeLessThanOrEqual(NODE_STOP_BOUND_MS + SLACK_MS);
}, 90_000);
