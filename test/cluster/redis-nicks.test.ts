/**
 * The cluster's NickRegistry (server/cluster/redis-nicks.ts) against a real redis-server: the same contract as the
 * single node's (two registries, here two nodes with a session table each), then what only a cluster has: a race
 * of claims across nodes, a resume on another node, and a Redis that does not answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisNickRegistry } from '../../server/cluster/redis-nicks.js';
import { clusterKeys } from '../../server/cluster/keys.js';
import { closeRedis, type RedisLink } from '../../server/cluster/redis-link.js';
import { openRedis } from '../../server/cluster/open-redis.js';
import { parseRedisUrl } from '../../server/cluster/redis-url.js';
import { SessionTable } from '../../server/shm/session-table.js';
import type { NickHolder } from '../../server/bus/nick-registry.js';
import { newToken } from '../../server/shm/resume-token.js';
import { nickRegistryContract } from '../unit/nick-registry-contract.js';
import { startRedis, type RedisUnderTest } from '../helpers/redis-server.js';

let redis: RedisUnderTest;
const links: RedisLink[] = [];
let clusters = 0;

beforeAll(async () => {
  redis = await startRedis();
  for (let i = 0; i < 2; i++) links.push(await openRedis(parseRedisUrl(redis.url)));
});
afterAll(async () => {
  await Promise.all(links.map(closeRedis));
  await redis.stop();
});

/** Two nodes of a new cluster (its own key prefix): a registry and a table each; `displaced` lets go as the bus would. */
function cluster(capacity = 8) {
  const keys = clusterKeys(`t${++clusters}:`);
  const tables = new Map<string, SessionTable>([
    ['n1', SessionTable.create(capacity)],
    ['n2', SessionTable.create(capacity)],
  ]);
  const displaced: Array<{ from: NickHolder; how: string }> = [];
  const events = {
    displaced: (from: NickHolder, how: 'moved' | 'ended') => {
      displaced.push({ from, how });
      tables.get(from.node)!.release(from);
    },
  };
  const registry = (node: string, link: RedisLink) =>
    new RedisNickRegistry(tables.get(node)!, node, link, keys, events);
  return { a: registry('n1', links[0]!), b: registry('n2', links[1]!), tables, displaced, keys };
}

const session = (nick: string, owner: number, token: Uint8Array | null = null) => ({
  nick,
  owner,
  transport: 'tcp' as const,
  address: '127.0.0.1',
  port: 1000 + owner,
  now: 5000,
  token,
});

nickRegistryContract('RedisNickRegistry (two nodes, one Redis)', () => {
  const { a, b } = cluster();
  return { a, b, node: 'n1' };
});

describe('RedisNickRegistry: what only a cluster has', () => {
  it('100 nicks each claimed on two nodes at once: exactly one winner each, and the loser keeps no slot', async () => {
    const { a, b, tables } = cluster(128);
    const nicks = Array.from({ length: 100 }, (_, i) => `racer${i}`);
    const results = await Promise.all(
      nicks.flatMap((nick, i) => [a.claim(session(nick, 0)), b.claim(session(i % 2 ? nick.toUpperCase() : nick, 1))]),
    );
    for (let i = 0; i < nicks.length; i++) {
      const [x, y] = [results[2 * i]!, results[2 * i + 1]!];
      expect([x.ok, y.ok].filter(Boolean), nicks[i]).toHaveLength(1);
    }
    const held = tables.get('n1')!.activeCount() + tables.get('n2')!.activeCount();
    expect(held).toBe(100);
    expect((await a.who()).length).toBe(100);
  });

  it('a resume on another node: the session moves there with its next token; the old node is told to let go', async () => {
    const { a, b, tables, displaced } = cluster();
    const first = newToken();
    const ann = await a.claim(session('ann', 0, first.hash));
    if (!ann.ok) throw new Error('claim');
    const next = newToken();
    const to = { owner: 1, transport: 'ws' as const, address: '127.0.0.2', port: 9, now: 6000 };
    const moved = await b.resume(first.hash, next.hash, to);
    expect(moved).toMatchObject({ ok: true, nick: 'ann', previous: { node: 'n1', slot: ann.slot, owner: 0 } });
    expect(displaced).toEqual([{ from: expect.objectContaining({ node: 'n1', nick: 'ann' }) as never, how: 'moved' }]);
    expect(tables.get('n1')!.lookup('ann')).toBeNull();
    expect(tables.get('n2')!.lookup('ann')).toMatchObject({ owner: 1 });
    expect(await a.lookup('ANN')).toMatchObject({ node: 'n2', owner: 1 });
    // Both nodes at once with the next token: one wins, the other is told it was used.
    const [x, y] = await Promise.all([
      a.resume(next.hash, newToken().hash, { ...to, owner: 0 }),
      b.resume(next.hash, newToken().hash, to),
    ]);
    expect([x.ok, y.ok].filter(Boolean)).toHaveLength(1);
    expect([x, y].find((r) => !r.ok)).toEqual({ ok: false, reason: 'USED' });
  });

  it("the nick's owner on one node ends its session on another (replace), and the other node is told", async () => {
    const { a, b, displaced } = cluster();
    const held = await b.claim(session('frank', 1));
    if (!held.ok) throw new Error('claim');
    const mine = await a.claimAsOwner(session('Frank', 0), 'replace');
    expect(mine).toMatchObject({ ok: true, replaced: { node: 'n2', nick: 'frank', slot: held.slot } });
    expect(displaced.map((d) => d.how)).toEqual(['ended']);
    expect(await b.lookup('frank')).toMatchObject({ node: 'n1', nick: 'Frank' });
  });

  it('a Redis that does not answer: the claim fails with STORE_FAILED and its slot is given back', async () => {
    const link = await openRedis(parseRedisUrl(redis.url));
    const table = SessionTable.create(4);
    const lonely = new RedisNickRegistry(table, 'n9', link, clusterKeys('down:'), { displaced: () => undefined });
    await link.close();
    await expect(lonely.claim(session('zoe', 0))).rejects.toMatchObject({ code: 'STORE_FAILED' });
    expect(table.activeCount()).toBe(0);
  });

  it('counts the sessions and the nodes whose lease lives (LUSERS), a second old at most', async () => {
    const { a, b, keys } = cluster();
    const link = links[0]!;
    await link.sAdd(keys.nodes, ['n1', 'n2', 'n3']);
    await link.set(keys.lease('n1'), 'run1');
    await link.set(keys.lease('n2'), 'run2'); // n3 has no lease: dead
    await a.claim(session('ann', 0));
    await b.claim(session('bob', 1));
    const until = async (ok: () => boolean) => {
      const deadline = Date.now() + 3000;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`still ${a.nodes()} nodes, ${a.online()} online`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until(() => a.nodes() === 2 && a.online() === 2);
    await link.del(keys.lease('n2'));
    await until(() => a.nodes() === 1);
  });
});
