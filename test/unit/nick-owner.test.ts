/**
 * The session table when a registered nick's owner logs in with its password
 * (issue 33 item 1): the session holding this very nick, away or connected, is
 * taken over (the same slot and id, a new generation and token: a resume by
 * password) or replaced (freed, a new one claimed); /identify's rename ends it;
 * a look-alike is still refused. An away holder's conflict says since when;
 * WHO's snapshot lists away sessions, marked. All under the table's lock: four
 * threads taking and replacing one nick keep one holder and an exact count,
 * and a dead worker's taken-over session is repaired as any other.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { newToken } from '../../server/shm/resume-token.js';
import { SessionTable, SlotState } from '../../server/shm/session-table.js';
import { nickTakenText } from '../../server/shm/nick-keys.js';

const FIXTURE = new URL('../fixtures/lock-worker.mjs', import.meta.url);

const at = (owner: number, token: Uint8Array | null = newToken().hash, nick = 'alice') => ({
  nick,
  owner,
  transport: 'tcp' as const,
  address: `10.0.0.${owner + 1}`,
  port: 1000 + owner,
  now: 5000,
  token,
});

function awayAlice(t: SessionTable) {
  const first = newToken();
  const a = t.claim(at(0, first.hash));
  if (!a.ok) throw new Error('claim');
  expect(t.away(a, Infinity, 1234)).toBe(true);
  return { a, first };
}

describe('a nick taken by its owner', () => {
  it('an away session is taken over: same slot, id and nick, a new generation and token, the old token spent', () => {
    const t = SessionTable.create(4);
    const { a, first } = awayAlice(t);
    const next = newToken();
    const r = t.claimAsOwner(at(1, next.hash, 'ALICE'), 'take-over');
    expect(r).toMatchObject({
      ok: true,
      slot: a.slot,
      generation: a.generation + 1,
      sessionId: a.sessionId,
      taken: { slot: a.slot, generation: a.generation, owner: -1, nick: 'alice', away: true },
    });
    expect(r.ok && r.replaced).toBeFalsy();
    expect(t.activeCount()).toBe(1);
    expect(t.info(a.slot)).toMatchObject({ nick: 'alice', owner: 1, address: '10.0.0.2', away: false });
    expect(t.releaseAway(a)).toBe(false); // the store's window end cannot free it any more
    const to = { owner: 2, transport: 'tcp' as const, address: 'x', port: 1, now: 6 };
    expect(t.resume(first.hash, newToken().hash, to)).toEqual({ ok: false, reason: 'USED' });
    expect(t.resume(next.hash, newToken().hash, to)).toMatchObject({ ok: true, previous: { owner: 1 } });
  });

  it('a connected one too (a dead link not noticed yet): its connection finds its slot not current', () => {
    const t = SessionTable.create(4);
    const a = t.claim(at(0));
    if (!a.ok) throw new Error('claim');
    const r = t.claimAsOwner(at(1), 'take-over');
    expect(r).toMatchObject({ ok: true, slot: a.slot, taken: { owner: 0, away: false } });
    expect(t.isCurrent(a)).toBe(false);
    expect(t.release(a)).toBe(false);
    expect(t.activeCount()).toBe(1);
  });

  it("a table's generations start where it is told (a cluster's node: each run elsewhere), per slot", () => {
    const t = SessionTable.create(4, 1_000_000);
    const a = t.claim(at(0));
    const b = t.claim(at(1, null, 'bob'));
    if (!a.ok || !b.ok) throw new Error('claim');
    expect([a.generation, b.generation]).toEqual([1_000_001, 1_000_001]);
    expect(SessionTable.create(4).claim(at(0))).toMatchObject({ ok: true, generation: 1 });
  });

  it('replaced (version 1): the holder is freed and a new session claimed; the count stays exact', () => {
    const t = SessionTable.create(2);
    const { a } = awayAlice(t);
    const bob = t.claim(at(1, null, 'bob'));
    expect(bob.ok).toBe(true);
    // The table is full: the replacement takes the freed slot.
    const r = t.claimAsOwner(at(2, null), 'replace');
    expect(r).toMatchObject({ ok: true, replaced: { slot: a.slot, generation: a.generation, away: true } });
    expect(r.ok && r.sessionId).not.toBe(a.sessionId);
    expect(t.activeCount()).toBe(2);
    expect(t.releaseAway(a)).toBe(false);
    expect(t.lookup('alice')).toMatchObject({ owner: 2 });
  });

  it('a nick held by nobody is claimed; a look-alike of a held one is refused and the holder untouched', () => {
    const t = SessionTable.create(4);
    expect(t.claimAsOwner(at(0), 'take-over')).toMatchObject({ ok: true });
    const lookalike = t.claimAsOwner(at(1, newToken().hash, 'aIice'), 'take-over'); // capital I
    expect(lookalike).toEqual({ ok: false, reason: 'NICK_TAKEN', holder: 'alice', same: false });
    expect(t.claimAsOwner(at(1, null, 'aIice'), 'replace')).toMatchObject({ ok: false, same: false });
    expect(t.lookup('alice')).toMatchObject({ owner: 0 });
    expect(t.activeCount()).toBe(1);
  });

  it('/identify: the rename ends the holder, away or connected; without the password it is refused, saying away since when', () => {
    const t = SessionTable.create(4);
    const { a } = awayAlice(t);
    const other = t.claim(at(1, newToken().hash, 'alice_'));
    if (!other.ok) throw new Error('claim');
    const refused = t.rename(other, 'Alice');
    expect(refused).toEqual({ reason: 'NICK_TAKEN', holder: 'alice', same: true, awaySince: 1234 });
    expect(
      nickTakenText('Alice', refused as { holder: string; same: boolean }, { windowMs: 120_000, now: 13_234 }),
    ).toBe(
      'nick Alice is taken: its session is away (connection lost 12s ago), kept for 1m48s more for its holder to resume',
    );
    expect(t.rename(other, 'Alice', true)).toEqual({
      reason: 'REPLACED',
      replaced: { slot: a.slot, generation: a.generation, owner: -1, nick: 'alice', away: true },
    });
    expect(t.lookup('ALICE')).toMatchObject({ slot: other.slot, nick: 'Alice' });
    expect(t.state(a.slot)).toBe(SlotState.FREE);
    expect(t.activeCount()).toBe(1);
    const third = t.claim(at(2, null, 'carol'));
    if (!third.ok) throw new Error('claim');
    expect(t.rename(third, 'alice', true)).toMatchObject({ reason: 'REPLACED', replaced: { owner: 1, away: false } });
    expect(t.isCurrent(other)).toBe(false);
  });

  it('WHO, /list and the dashboard read every held session: an away one marked, with since when', () => {
    const t = SessionTable.create(4);
    const { a } = awayAlice(t);
    t.claim(at(1, null, 'bob'));
    expect(t.info(a.slot)).toBeNull(); // not connected (the store's address prefix of a member asks this)
    const rows = t.snapshot().map((s) => [s.nick, s.away, s.awaySince]);
    expect(rows).toEqual([
      ['alice', true, 1234],
      ['bob', false, null],
    ]);
    expect(rows.length).toBe(t.activeCount());
  });

  it('four threads taking over and replacing one nick: always one holder, the count exact; a dead owner repaired', async () => {
    const t = SessionTable.create(256);
    const startSab = new SharedArrayBuffer(8);
    const gate = new Int32Array(startSab);
    const runs = Array.from({ length: 4 }, (_, id) => {
      const worker = new Worker(FIXTURE, {
        workerData: { buffer: t.buffer, scenario: 'owner', id, iterations: 300, startSab },
      });
      return new Promise<{ ok: number }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    });
    const deadline = Date.now() + 10_000;
    while (Atomics.load(gate, 1) < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    const results = await Promise.all(runs);
    expect(results.every((r) => r.ok === 300)).toBe(true);
    const held = t.snapshot();
    expect(held.filter((s) => s.nick.toLowerCase() === 'alice')).toHaveLength(1);
    expect(t.activeCount()).toBe(held.length);
    expect(held.length).toBe(1 + 4 * 30);
    // Its holder's worker dies: a session that can be resumed goes away, as any other would.
    const alice = t.lookup('alice')!;
    const orphans = t.mutex.withLock(() => t.orphanOwnedByLocked(alice.owner));
    expect(orphans.find((o) => o.slot === alice.slot)).toMatchObject({ nick: alice.nick, away: true });
    expect(t.lookup('alice')).toMatchObject({ owner: -1 });
  });
});
