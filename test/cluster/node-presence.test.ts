/**
 * Node presence (server/cluster/node-presence.ts) on a real redis-server: leases, a dead node's sessions away then
 * ended, a node's records kept in step with its table, and a node that finds its lease lapsed.
 */
import { describe, expect, it } from 'vitest';
import { clusterKeys } from '../../server/cluster/keys.js';
import { NodePresence, type PresenceEvents } from '../../server/cluster/node-presence.js';
import { RECONCILE } from '../../server/cluster/presence-scripts.js';
import { RedisNickRegistry } from '../../server/cluster/redis-nicks.js';
import type { SessionRecord } from '../../server/cluster/session-records.js';
import { SessionTable, type SlotRef } from '../../server/shm/session-table.js';
import { newToken } from '../../server/shm/resume-token.js';
import { redisPerFile } from '../helpers/redis-server.js';

const shared = redisPerFile();
let clusters = 0;

const session = (nick: string, token: Uint8Array | null = null) => ({
  nick,
  owner: 0,
  transport: 'tcp' as const,
  address: '127.0.0.1',
  port: 1000,
  now: Date.now(),
  token,
});

/** A node of a new cluster: its table, registry and presence, with what its presence reported. */
function cluster(opts = { leaseMs: 150, renewMs: 50, resumeWindowMs: 300 }) {
  const keys = clusterKeys(`p${++clusters}:`);
  /** The wall clock the presences reap by: the tests move it past a resume window instead of waiting it out. */
  const clock = { now: Date.now() };
  const node = (id: string) => {
    const table = SessionTable.create(8);
    const seen = {
      reaped: [] as Array<{ away: SessionRecord[]; ended: SessionRecord[] }>,
      lost: [] as SlotRef[],
      reclaimed: [] as Array<[number, number]>,
    };
    const events: PresenceEvents = {
      reaped: (_node, away, ended) => seen.reaped.push({ away, ended }),
      lost: (refs) => seen.lost.push(...refs),
      reclaimed: (kept, lost) => seen.reclaimed.push([kept, lost]),
      link: () => undefined,
    };
    const registry = new RedisNickRegistry(table, id, shared.link, keys, {
      displaced: (from) => void table.release(from),
    });
    return {
      id,
      table,
      registry,
      presence: new NodePresence(shared.link, keys, id, table, opts, events, () => clock.now),
      seen,
    };
  };
  return { keys, node, clock };
}

describe('NodePresence', () => {
  it("a dead node's sessions are away once its lease is gone (resumable on another node), and end after the window", async () => {
    // A lease long enough that n2's look below is made while it lives, however busy the machine (150 ms was not).
    const c = cluster({ leaseMs: 1500, renewMs: 500, resumeWindowMs: 300 });
    const [n1, n2] = [c.node('n1'), c.node('n2')];
    const token = newToken();
    await n1.presence.tick();
    await n2.presence.tick();
    expect((await n1.registry.claim(session('ann', token.hash))).ok).toBe(true);
    expect((await n1.registry.claim(session('bob'))).ok).toBe(true);
    // n1 stops renewing (killed); n2 finds nothing to reap while the lease lives.
    await n2.presence.tick();
    expect(n2.seen.reaped).toEqual([]);
    await waitLeaseGone(c.keys.lease('n1'));
    await n2.presence.tick();
    expect(n2.seen.reaped.map((r) => r.away.map((s) => s.nick).sort())).toEqual([['ann', 'bob']]);
    expect(await n2.registry.claim(session('ann'))).toMatchObject({
      ok: false,
      awaySince: expect.any(Number) as never,
    });
    // ann's client comes back on n2 with its token: the session moves there.
    const to = { owner: 0, transport: 'tcp' as const, address: '127.0.0.1', port: 2, now: Date.now() };
    expect(await n2.registry.resume(token.hash, newToken().hash, to)).toMatchObject({ ok: true, nick: 'ann' });
    // bob's window passes: ended, and his nick is free.
    c.clock.now += 300;
    await n2.presence.tick();
    expect(n2.seen.reaped.at(-1)!.ended.map((s) => s.nick)).toEqual(['bob']);
    expect(await n2.registry.lookup('bob')).toBeNull();
    expect(await n2.registry.lookup('ann')).toMatchObject({ node: 'n2' });
  });

  it("each renewal brings the node's records in step with its table: ended sessions go, away ones say since when", async () => {
    const c = cluster({ leaseMs: 5000, renewMs: 1000, resumeWindowMs: 60_000 });
    const [n1, n2] = [c.node('n1'), c.node('n2')];
    const carol = await n1.registry.claim(session('carol', newToken().hash));
    const dave = await n1.registry.claim(session('dave'));
    if (!carol.ok || !dave.ok) throw new Error('claim');
    n1.table.away(carol, Infinity, 123_456);
    n1.table.release(dave);
    // A record is dropped only when older than the table read (the same millisecond could be a claim meanwhile).
    const claimedAt = Date.now();
    while (Date.now() <= claimedAt) await new Promise((r) => setTimeout(r, 1));
    await n1.presence.tick();
    expect(await n2.registry.lookup('dave')).toBeNull();
    expect(await n2.registry.claim(session('carol'))).toMatchObject({ ok: false, awaySince: 123_456 });
    expect((await n2.registry.who()).map((s) => [s.nick, s.away])).toEqual([['carol', true]]);
  });

  it('a Redis that came back empty: each node claims its sessions again, tokens and away state with them', async () => {
    const c = cluster({ leaseMs: 5000, renewMs: 1000, resumeWindowMs: 60_000 });
    const [n1, n2] = [c.node('n1'), c.node('n2')];
    const token = newToken();
    const gus = await n1.registry.claim(session('gus', token.hash));
    const hal = await n1.registry.claim(session('hal', newToken().hash));
    if (!gus.ok || !hal.ok) throw new Error('claim');
    n1.table.away(hal, Infinity, 777);
    await n1.presence.tick();
    for (const key of await shared.link.keys(`${c.keys.prefix}*`)) await shared.link.del(key);
    expect(await n2.registry.lookup('gus')).toBeNull();
    await n1.presence.tick();
    expect(n1.seen.reclaimed).toEqual([[2, 0]]);
    expect(n1.seen.lost).toEqual([]);
    expect(await n2.registry.claim(session('hal'))).toMatchObject({ ok: false, awaySince: 777 });
    // gus's client resumes with its token, on the other node: the token came back with the record.
    const to = { owner: 0, transport: 'tcp' as const, address: '127.0.0.1', port: 3, now: Date.now() };
    expect(await n2.registry.resume(token.hash, newToken().hash, to)).toMatchObject({ ok: true, nick: 'gus' });
  });

  it('a record written after the table was read is not dropped (a claim that landed meanwhile); older ones are', async () => {
    const c = cluster({ leaseMs: 5000, renewMs: 1000, resumeWindowMs: 60_000 });
    const n1 = c.node('n1');
    const ida = await n1.registry.claim(session('ida'));
    if (!ida.ok) throw new Error('claim');
    // As if the table had been read just before the claim: the claim's record is newer, kept.
    const keys = [c.keys.sessions, c.keys.folds, c.keys.looks, c.keys.tokens];
    await RECONCILE.run(shared.link, keys, [c.keys.prefix, 'n1', String(Date.now() - 60_000)]);
    expect(await n1.registry.lookup('ida')).toMatchObject({ node: 'n1' });
    // Read after it, without it: dropped.
    await RECONCILE.run(shared.link, keys, [c.keys.prefix, 'n1', String(Date.now() + 1)]);
    expect(await n1.registry.lookup('ida')).toBeNull();
  });

  it('a second process with the same node id: its renewals find the lease held by the other run, and drop nothing', async () => {
    const c = cluster({ leaseMs: 5000, renewMs: 1000, resumeWindowMs: 60_000 });
    const first = c.node('n1');
    await first.presence.tick();
    expect((await first.registry.claim(session('jon'))).ok).toBe(true);
    const twin = c.node('n1');
    const said: string[] = [];
    (twin.presence as unknown as { events: { link: (ok: boolean, d: string) => void } }).events.link = (_ok, d) =>
      said.push(d);
    await twin.presence.tick();
    expect(said).toEqual([expect.stringContaining("another chat-server holds node n1's lease") as never]);
    expect(await first.registry.lookup('jon')).toMatchObject({ node: 'n1' });
  });

  it('a node cut off longer than its lease finds it lapsed and ends the sessions the cluster let go', async () => {
    const c = cluster({ leaseMs: 100, renewMs: 50, resumeWindowMs: 0 });
    const [n1, n2] = [c.node('n1'), c.node('n2')];
    await n1.presence.tick();
    const erin = await n1.registry.claim(session('erin'));
    if (!erin.ok) throw new Error('claim');
    await waitLeaseGone(c.keys.lease('n1'));
    await n2.presence.tick(); // away now
    await n2.presence.tick(); // a window of 0: ended
    expect(await n2.registry.claim(session('erin'))).toMatchObject({ ok: true });
    await n1.presence.tick();
    expect(n1.seen.lost).toEqual([{ slot: erin.slot, generation: erin.generation }]);
  });
});

/** The lease key has expired (Redis's own clock: the condition, not a sleep). */
async function waitLeaseGone(key: string): Promise<void> {
  for (const deadline = Date.now() + 5000; Date.now() < deadline; ) {
    if ((await shared.link.exists(key)) === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${key} never expired`);
}
