/**
 * A silent partition between a node and Redis (docs/ARCHITECTURE.md, "Redis unreachable"): node s1 reaches a real
 * redis-server through a proxy that, partitioned, keeps every connection open and discards every byte both ways,
 * so that the connections that lived through it are out of step for good. The node says its link went silent,
 * drops its connections and opens new ones (link-watchdog.ts); healed, it works again within the stated bound:
 * chat on it is stored and reaches everyone (s2 too, and s1 hears s2), a login works, its lease is renewed.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PROBE_DEADLINE_MS, PROBE_EVERY_MS } from '../../server/cluster/link-watch.js';
import { MAX_BACKOFF_MS } from '../../server/cluster/redis-link.js';
import { startBlackholeProxy, type BlackholeProxy } from '../helpers/blackhole-proxy.js';
import { NO_FLOOD_LIMIT, startServer, stopAll, type ServerHandle } from '../helpers/processes.js';
import { closeRawSessions, rawSession, type RawSession } from '../helpers/raw-session.js';
import { startRedis, type RedisUnderTest } from '../helpers/redis-server.js';
import { eventually, until } from '../helpers/wait.js';

/**
 * The stated bounds (docs/ARCHITECTURE.md), with room for a loaded machine: a silent link is noticed (and dropped)
 * within a probe's interval, its deadline and a look from a new connection; after the heal, a link is back within
 * a probe's interval and its deadline (or a handshake's), the client's backoff between attempts, and a reconnection.
 */
const NOTICE_MS = PROBE_EVERY_MS + 2 * PROBE_DEADLINE_MS;
const RECOVER_MS = PROBE_EVERY_MS + PROBE_DEADLINE_MS + MAX_BACKOFF_MS;
const SLACK_MS = 5000;

let redis: RedisUnderTest;
let proxy: BlackholeProxy;
let s1: ServerHandle;
let s2: ServerHandle;

beforeAll(async () => {
  redis = await startRedis();
  proxy = await startBlackholeProxy(redis.port);
  // A lease longer than the partition and the recovery: the node's users stay its own throughout.
  const args = (id: string, port: number) => [
    ...['--redis', `redis://127.0.0.1:${port}`, '--node-id', id, '--workers', '1', '--no-web'],
    ...['--node-lease', '40s', ...NO_FLOOD_LIMIT],
  ];
  [s1, s2] = await Promise.all([startServer(args('s1', proxy.port)), startServer(args('s2', redis.port))]);
});
afterAll(async () => {
  closeRawSessions();
  await stopAll(s1, s2);
  await proxy.close();
  await redis.stop();
});

const said = (r: RawSession, text: string) => r.of('CHAT').some((m) => m.text === text);

/** `from` says `text` (again, while it is refused) until every one of `all` has it. */
async function chatGoesOn(from: RawSession, all: RawSession[], text: string, timeoutMs: number): Promise<void> {
  await eventually(
    async () => {
      from.send({ type: 'CHAT', text, action: false });
      await new Promise((r) => setTimeout(r, 300));
      return all.every((r) => said(r, text)) ? true : null;
    },
    timeoutMs,
    () => `"${text}" did not reach everyone`,
  );
}

/**
 * `nick` logs in, again while it is refused (STORE_FAILED: each of the node's links comes back on its own, the one
 * that holds the nicks maybe last), until it has joined.
 */
async function logsIn(port: number, nick: string, timeoutMs: number): Promise<void> {
  await eventually(
    async () => {
      const r = await rawSession(port, nick, { version: 2 });
      await until(
        () => r.of('JOINED').length + r.of('ERROR').length > 0,
        10_000,
        () => `${nick} heard nothing`,
      );
      if (r.of('JOINED').length > 0) return true;
      r.s.destroy();
      await new Promise((res) => setTimeout(res, 300));
      return null;
    },
    timeoutMs,
    () => `${nick} could not log in`,
  );
}

it('a node whose Redis link went silent drops its connections and works again once the network is back', async () => {
  const alice = await rawSession(s1.port, 'alice', { version: 2 });
  const carol = await rawSession(s1.port, 'carol', { version: 2 });
  const bob = await rawSession(s2.port, 'bob', { version: 2 });
  for (const r of [alice, carol, bob]) await r.next('JOINED', () => true, 10_000);
  await chatGoesOn(alice, [alice, carol, bob], 'before a', 10_000);
  await chatGoesOn(bob, [alice, carol, bob], 'before b', 10_000);

  const from = s1.lines.length;
  proxy.partitioned = true;
  const cut = Date.now();
  await s1.waitFor('! the Redis link is silent', NOTICE_MS + SLACK_MS, from);
  const noticedMs = Date.now() - cut;
  // Its lease cannot be renewed meanwhile (what the node said before this change too).
  await s1.waitFor("! cannot renew this node's lease", 20_000, from);

  const healedFrom = s1.lines.length;
  proxy.partitioned = false;
  const healed = Date.now();
  // s1's log link and its bus (bob's words come to s1 through Redis), and a login (the nick, on the worker's link).
  await chatGoesOn(alice, [alice, carol, bob], 'after a', RECOVER_MS + SLACK_MS);
  await chatGoesOn(bob, [alice, carol, bob], 'after b', RECOVER_MS + SLACK_MS);
  await logsIn(s1.port, 'dave', RECOVER_MS + SLACK_MS);
  const workingMs = Date.now() - healed;
  await s1.waitFor('* the Redis link answers again', RECOVER_MS + SLACK_MS, healedFrom);
  // The lease: renewed at the next renewal (every 8 s with this lease).
  await s1.waitFor('* the cluster is reachable again', 8000 + SLACK_MS, healedFrom);
  console.log(
    `silent link noticed ${noticedMs} ms after the partition; s1 worked again ${workingMs} ms after the heal`,
  );
  expect(noticedMs).toBeLessThanOrEqual(NOTICE_MS + SLACK_MS);
  expect(workingMs).toBeLessThanOrEqual(RECOVER_MS + SLACK_MS);

  // Every thread's links were watched: the supervisor's (its link and its throttle listener's), the store thread's
  // and the worker's each said so.
  const silent = readFileSync(s1.logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes('the Redis link is silent'))
    .map((l) => JSON.parse(l) as { thread?: string; worker?: number; link?: string });
  expect(silent.some((l) => l.thread === 'supervisor' && l.link === undefined)).toBe(true);
  expect(silent.some((l) => l.thread === 'supervisor' && l.link === 'throttles')).toBe(true);
  expect(silent.some((l) => l.thread === 'store')).toBe(true);
  expect(silent.some((l) => l.worker === 0)).toBe(true);
}, 120_000);
