/**
 * The limits a cluster counts for every node, against a real redis-server, each as two or three nodes (their own
 * connections) see it: the upload quota per user (cluster/cluster-uploads.ts: stored, in progress and kept
 * partials, a dead node's no longer), the tickets per session and per network (cluster/cluster-tickets.ts: this
 * node's own, those for other nodes' files, running transfers), and registrations per network an hour
 * (store/redis-registrations.ts). Each under a race across nodes: exactly the limit passes.
 */
import { describe, expect, it } from 'vitest';
import { clusterKeys, type ClusterKeys } from '../../server/cluster/keys.js';
import type { RedisLink } from '../../server/cluster/redis-link.js';
import { forgetUploads, RedisUploadQuota } from '../../server/cluster/cluster-uploads.js';
import { ClusterTickets } from '../../server/cluster/cluster-tickets.js';
import { RedisRegistrations } from '../../server/store/redis-registrations.js';
import { REGISTRATION_WINDOW_MS } from '../../server/store/store-quotas.js';
import { TICKETS_PER_PREFIX, TICKETS_PER_SESSION } from '../../server/shm/ticket-limits.js';
import { redisPerFile } from '../helpers/redis-server.js';
import { eventually } from '../helpers/wait.js';

const shared = redisPerFile();
let clusters = 0;

/** A new cluster's keys, and a link per node (the first is the file's own). */
async function cluster(n: number): Promise<{ keys: ClusterKeys; links: RedisLink[] }> {
  const keys = clusterKeys(`l${++clusters}:`);
  const links = [shared.link];
  while (links.length < n) links.push(await shared.another());
  return { keys, links };
}

/** Node `node` is alive (its lease stands) for leaseMs. */
async function alive(link: RedisLink, keys: ClusterKeys, node: string, leaseMs = 60_000): Promise<void> {
  await link.sAdd(keys.nodes, node);
  await link.set(keys.lease(node), 'run', { PX: leaseMs });
}

describe('the upload quota over the nodes', () => {
  it('one allowance per user whichever node stores; kept partials count; a dead node no longer; a restart forgets its own', async () => {
    const { keys, links } = await cluster(3);
    const ids = ['n1', 'n2', 'n3'];
    for (const [i, id] of ids.entries()) await alive(links[i]!, keys, id);
    const [q1, q2, q3] = ids.map((id, i) => new RedisUploadQuota(links[i]!, keys, id, 1000)) as [
      RedisUploadQuota,
      RedisUploadQuota,
      RedisUploadQuota,
    ];
    const a = await q1.reserve('Alice', 600);
    expect(a.ok).toBe(true);
    expect(await q2.reserve('alice', 500)).toEqual({ ok: false, used: 600, full: false });
    // A cut upload on n2 keeps a partial of 300 bytes: counted on every node.
    const b = await q2.reserve('ALICE', 400);
    if (!b.ok) throw new Error('n2 refused 400 bytes');
    b.release();
    q2.adjust('alice', 300);
    // adjust() does not wait for Redis; a command after it on n2's connection is answered after it has run.
    await links[1]!.ping();
    expect(await q3.used('alice')).toBe(900);
    expect(await q3.reserve('alice', 101)).toMatchObject({ ok: false, used: 900 });
    // Bob is someone else.
    expect((await q3.reserve('bob', 1000)).ok).toBe(true);
    // n1's upload was not stored: its 600 come back, and n2 drops its partial (another source of the name).
    if (a.ok) a.release();
    q2.adjust('alice', -300);
    await links[0]!.ping();
    await links[1]!.ping();
    expect(await q3.used('alice')).toBe(0);
    // n1 holds 700 of Alice's, then dies: once its lease is gone, they no longer count (its disk is out of reach).
    expect((await q1.reserve('alice', 700)).ok).toBe(true);
    expect(await q2.used('alice')).toBe(700);
    await links[0]!.del(keys.lease('n1'));
    expect(await q2.used('alice')).toBe(0);
    // n3 starts again: what its previous run counted is forgotten, as a single server's restart forgets its ledger.
    await forgetUploads(links[2]!, keys, 'n3');
    expect((await q3.reserve('bob', 1000)).ok).toBe(true);
  });

  it('thirty reservations of 100 bytes for one user on three nodes at once, under 1,000: exactly ten are taken', async () => {
    const { keys, links } = await cluster(3);
    const ids = ['n1', 'n2', 'n3'];
    for (const [i, id] of ids.entries()) await alive(links[i]!, keys, id);
    const quotas = ids.map((id, i) => new RedisUploadQuota(links[i]!, keys, id, 1000));
    const tries = await Promise.all(Array.from({ length: 30 }, (_, i) => quotas[i % 3]!.reserve('carol', 100)));
    expect(tries.filter((r) => r.ok)).toHaveLength(10);
    expect(await quotas[0]!.used('carol')).toBe(1000);
  });
});

describe('tickets over the nodes', () => {
  /** The ClusterTickets of a node (one per worker in the product; one here). */
  const tickets = (link: RedisLink, keys: ClusterKeys, node: string, runMs = 30_000) =>
    new ClusterTickets(link, keys, node, 'run1', () => undefined, { runMs, renewMs: runMs / 3 });
  const hex = (i: number) => i.toString(16).padStart(32, '0');
  const zcard = (key: string) => shared.link.zCard(key);

  it("a session's own tickets and those for other nodes' files count together; a network's on every node; going away gives back the unused", async () => {
    const { keys, links } = await cluster(2);
    const [t1, t2] = [tickets(links[0]!, keys, 'n1'), tickets(links[1]!, keys, 'n2')];
    const alice = { session: t1.sessionKey(1), prefix: 77 };
    // Five of n1's own files, three of n2's: eight, the most one session may hold.
    for (let i = 0; i < 5; i++) expect(await t1.take(hex(i), alice)).toBe('ok');
    const remote: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await t1.issueRemote(`f${i}.bin`, 'alice', 'n2', alice);
      if (!r.ok) throw new Error(`ticket ${i} for n2 refused: ${r.kind}`);
      remote.push(r.ticket);
    }
    expect(await t1.issueRemote('f9.bin', 'alice', 'n2', alice)).toEqual({ ok: false, kind: 'limit' });
    expect(await t1.take(hex(99), alice)).toBe('limit');
    // n2 serves one of them: spent there once, for its name only, and running it still counts against alice.
    expect(await t2.redeemRemote(remote[0]!, 'get', 'other.bin')).toMatchObject({ ok: false });
    const spent = await t2.redeemRemote(remote[0]!, 'get', 'f0.bin');
    if (!spent.ok) throw new Error(`not spent: ${spent.reason}`);
    expect(spent.nick).toBe('alice');
    expect(await t2.redeemRemote(remote[0]!, 'get', 'f0.bin')).toMatchObject({ ok: false });
    expect(await t1.take(hex(99), alice)).toBe('limit');
    // Its transfer ends: one place free.
    spent.ended!();
    await eventually(
      async () => ((await zcard(`${keys.prefix}th:s:${alice.session}`)) === 7 ? true : null),
      5000,
      () => 'the ended transfer still counts',
    );
    expect(await t1.take(hex(99), alice)).toBe('ok');
    // alice goes away: her table gave back three of n1's own, and her two unused tickets for n2's files stop working.
    t1.revoke(
      1,
      [hex(0), hex(1), hex(2)].map((ticket) => ({ ticket, prefix: 77 })),
    );
    await links[0]!.ping(); // n1's connection has run the revoke (one connection runs its commands in order)
    expect(await t2.redeemRemote(remote[1]!, 'get', 'f1.bin')).toMatchObject({ ok: false, reason: /unknown/ });
    expect(await zcard(`${keys.prefix}th:s:${alice.session}`)).toBe(3);
    // The network: 64 at most, whichever node's sessions hold them.
    const sessions = Array.from({ length: 10 }, (_, i) => ({
      t: i % 2 === 0 ? t1 : t2,
      owner: { session: (i % 2 === 0 ? t1 : t2).sessionKey(100 + i), prefix: 5 },
    }));
    let taken = 0;
    for (let k = 0; taken < TICKETS_PER_PREFIX; k++) {
      const s = sessions[k % sessions.length]!;
      expect(await s.t.take(hex(1000 + k), s.owner)).toBe('ok');
      taken++;
    }
    expect(await t2.take(hex(5000), { session: t2.sessionKey(999), prefix: 5 })).toBe('prefix');
    expect(await t1.issueRemote('x.bin', 'bob', 'n2', { session: t1.sessionKey(998), prefix: 5 })).toEqual({
      ok: false,
      kind: 'prefix',
    });
    // Another network is not held up.
    expect(await t2.take(hex(5001), { session: t2.sessionKey(999), prefix: 6 })).toBe('ok');
  });

  it('a transfer whose worker died stops counting once its lease lapses; a living one is renewed', async () => {
    const { keys, links } = await cluster(2);
    const [t1, t2] = [tickets(links[0]!, keys, 'n1', 600), tickets(links[1]!, keys, 'n2', 600)];
    const bob = { session: t1.sessionKey(7), prefix: 9 };
    for (let i = 0; i < TICKETS_PER_SESSION; i++) expect(await t1.take(hex(i), bob)).toBe('ok');
    // Two transfers run: one on a worker that goes on (t1), one on a worker that dies (t2 is closed, as if it had).
    t1.running(hex(0), bob);
    t2.running(hex(1), bob);
    t2.close();
    await new Promise((r) => setTimeout(r, 1500));
    // hex(1) lapsed, hex(0) was renewed; the six unused still count (a minute each).
    expect(await t1.take(hex(50), bob)).toBe('ok');
    expect(await t1.take(hex(51), bob)).toBe('limit');
    t1.close();
  });

  it('eighty tickets asked for one network on two nodes at once: exactly 64 are issued', async () => {
    const { keys, links } = await cluster(2);
    const [t1, t2] = [tickets(links[0]!, keys, 'n1'), tickets(links[1]!, keys, 'n2')];
    const tries = await Promise.all(
      Array.from({ length: 80 }, (_, i) => {
        const t = i % 2 === 0 ? t1 : t2;
        return t.take(hex(i), { session: t.sessionKey(i), prefix: 42 });
      }),
    );
    expect(tries.filter((r) => r === 'ok')).toHaveLength(TICKETS_PER_PREFIX);
    expect(tries.filter((r) => r === 'prefix')).toHaveLength(80 - TICKETS_PER_PREFIX);
  });
});

describe('registrations per network over the nodes', () => {
  it('at most N an hour for a network, whichever node registers; a failed one gives its place back; ten at once: N pass', async () => {
    const { keys, links } = await cluster(3);
    const [r1, r2, r3] = links.map((l) => new RedisRegistrations(l, keys, 3)) as [
      RedisRegistrations,
      RedisRegistrations,
      RedisRegistrations,
    ];
    const net = '10.1.2.0/24';
    expect(await r1.take(net, 1000)).toMatchObject({ ok: true });
    expect(await r2.take(net, 2000)).toMatchObject({ ok: true });
    const third = await r3.take(net, 3000);
    expect(third).toMatchObject({ ok: true });
    expect(await r1.take(net, 4000)).toEqual({ ok: false, waitMs: REGISTRATION_WINDOW_MS - 3000 });
    expect(await r2.take('10.1.3.0/24', 4000)).toMatchObject({ ok: true });
    // The third one's nick was registered meanwhile: its place comes back.
    if (third.ok) third.giveBack();
    await eventually(
      async () => ((await r1.take(net, 5000)).ok ? true : null),
      5000,
      () => 'the place given back never came back',
    );
    // An hour after the first, one more.
    expect(await r2.take(net, 6000)).toMatchObject({ ok: false });
    expect(await r2.take(net, REGISTRATION_WINDOW_MS + 1001)).toMatchObject({ ok: true });

    const tries = await Promise.all(
      Array.from({ length: 10 }, (_, i) => [r1, r2, r3][i % 3]!.take('10.9.9.0/24', 10_000 + i)),
    );
    expect(tries.filter((t) => t.ok)).toHaveLength(3);
  });
});
