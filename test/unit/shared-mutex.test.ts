import { describe, expect, it } from 'vitest';
import { Worker, threadId } from 'node:worker_threads';
import { newToken, tokenHash } from '../../server/shm/resume-token.js';
import { SessionTable } from '../../server/shm/session-table.js';
import { SharedMutex } from '../../common/shared-mutex.js';
import { until } from '../helpers/wait.js';

const FIXTURE = new URL('../fixtures/lock-worker.mjs', import.meta.url);

function run(workerData: Record<string, unknown>): {
  worker: Worker;
  message: Promise<unknown>;
  exit: Promise<number>;
} {
  const worker = new Worker(FIXTURE, { workerData });
  const message = new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const exit = new Promise<number>((resolve) => worker.once('exit', resolve));
  return { worker, message, exit };
}

/** Word 0: the gate (1 = open); word 1: how many workers have arrived at it. */
function gate() {
  const startSab = new SharedArrayBuffer(8);
  const words = new Int32Array(startSab);
  return {
    startSab,
    open() {
      Atomics.store(words, 0, 1);
      Atomics.notify(words, 0);
    },
    /** Opens once n workers wait at the gate (worker start-up takes tens of ms each, so opening earlier serialises them). */
    async openWhenArrived(n: number) {
      const deadline = Date.now() + 10_000;
      while (Atomics.load(words, 1) < n) {
        if (Date.now() > deadline) throw new Error(`only ${Atomics.load(words, 1)} of ${n} workers reached the gate`);
        await new Promise((r) => setTimeout(r, 5));
      }
      this.open();
    },
  };
}

describe('SharedMutex across worker threads', () => {
  it('keeps a non-atomic counter exact under contention (4 workers x 25,000)', async () => {
    const table = SessionTable.create(16);
    const counterSab = new SharedArrayBuffer(8);
    const g = gate();
    const runs = Array.from({ length: 4 }, (_, id) =>
      run({ buffer: table.buffer, scenario: 'count', id, iterations: 25_000, counterSab, startSab: g.startSab }),
    );
    await g.openWhenArrived(4);
    await Promise.all(runs.map((r) => r.message));
    expect(new Int32Array(counterSab)[0]).toBe(100_000);
    expect(table.mutex.holderThreadId()).toBe(-1);
    await Promise.all(runs.map((r) => r.exit));
  });

  it('lockAsync on the main thread holds the lock when it returns, even while workers hammer it', async () => {
    // lockAsync once left its loop when the word it read was free, without taking it: the holder had
    // just released between two of its compareExchanges. The counter then lost increments, or unlock threw.
    const table = SessionTable.create(16);
    const counterSab = new SharedArrayBuffer(8);
    const counter = new Int32Array(counterSab);
    const g = gate();
    const runs = Array.from({ length: 2 }, (_, id) =>
      run({ buffer: table.buffer, scenario: 'count', id, iterations: 40_000, counterSab, startSab: g.startSab }),
    );
    await g.openWhenArrived(2);
    let mine = 0;
    const done = Promise.all(runs.map((r) => r.message));
    let finished = false;
    void done.then(() => (finished = true));
    while (!finished && mine < 20_000) {
      await table.mutex.lockAsync();
      expect(table.mutex.holderThreadId()).toBe(0);
      const v = counter[0]!;
      await Promise.resolve();
      counter[0] = v + 1;
      table.mutex.unlock();
      mine++;
    }
    await done;
    expect(counter[0]).toBe(80_000 + mine);
    await Promise.all(runs.map((r) => r.exit));
  });

  it('gives each nick to exactly one of several workers racing for it', async () => {
    const table = SessionTable.create(2000);
    const nicks = Array.from({ length: 2000 }, (_, i) => `nick${i}`);
    const g = gate();
    const runs = Array.from({ length: 4 }, (_, id) =>
      run({ buffer: table.buffer, scenario: 'claim', id, nicks, startSab: g.startSab }),
    );
    await g.openWhenArrived(4);
    const results = (await Promise.all(runs.map((r) => r.message))) as Array<{ won: string[] }>;
    const all = results.flatMap((r) => r.won).sort();
    expect(all).toEqual([...nicks].sort());
    expect(table.activeCount()).toBe(2000);
    expect(new Set(table.snapshot().map((s) => s.nick.toLowerCase())).size).toBe(2000);
    // Every worker got some: the race was real, not serialised by start-up order.
    expect(results.filter((r) => r.won.length > 0).length).toBeGreaterThan(1);
    await Promise.all(runs.map((r) => r.exit));
  });

  for (const how of ['terminate', 'exit', 'throw'] as const) {
    it(`is repaired when its holder dies (${how}) and the waiters proceed`, async () => {
      const table = SessionTable.create(16);
      const g = gate();
      g.open();
      const holder = run({ buffer: table.buffer, scenario: 'hold', how, startSab: g.startSab });
      const holderThread = holder.worker.threadId;
      holder.worker.on('error', () => undefined);
      await holder.message;
      expect(table.mutex.holderThreadId()).toBe(holderThread);
      const waiter = run({ buffer: table.buffer, scenario: 'wait-then-lock', startSab: g.startSab });
      let arrived = false;
      waiter.message.then(
        () => (arrived = true),
        () => undefined,
      );
      // The waiter is blocked: it has found the lock held and set the waiters bit to sleep on it (the holder
      // took the lock without it), and the lock is still the holder's, so nothing can have arrived.
      await until(
        () => (Atomics.load(table.i32, table.lockWordIndex) & 1) === 1,
        10_000,
        () => 'the waiter never waited on the lock',
      );
      expect(table.mutex.holderThreadId()).toBe(holderThread);
      expect(arrived).toBe(false);
      if (how === 'terminate') await holder.worker.terminate();
      await holder.exit;
      // What the supervisor does when a worker exits:
      expect(SharedMutex.releaseIfHeldBy(table.i32, table.lockWordIndex, holderThread)).toBe(true);
      const res = (await waiter.message) as { acquired: boolean; waited: number };
      expect(res.acquired).toBe(true);
      expect(table.mutex.holderThreadId()).toBe(-1);
      // Repair is a no-op for a thread that does not hold the lock.
      expect(SharedMutex.releaseIfHeldBy(table.i32, table.lockWordIndex, holderThread)).toBe(false);
      await waiter.exit;
    });
  }

  it('lockAsync on the main thread waits without blocking its event loop', async () => {
    const table = SessionTable.create(16);
    const g = gate();
    g.open();
    const holder = run({ buffer: table.buffer, scenario: 'hold', how: 'terminate', startSab: g.startSab });
    await holder.message;
    const holderThread = holder.worker.threadId; // -1 once the thread is gone: keep it now, as the supervisor does
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    let got = false;
    const acquired = table.mutex.lockAsync(10_000).then(() => (got = true));
    // The loop keeps running while the lock is held elsewhere: ticks come, and the lock is not ours yet.
    await until(
      () => ticks > 5,
      5000,
      () => `${ticks} ticks while waiting for the lock`,
    );
    expect(got).toBe(false);
    expect(table.mutex.holderThreadId()).toBe(holderThread);
    await holder.worker.terminate();
    expect(SharedMutex.releaseIfHeldBy(table.i32, table.lockWordIndex, holderThread)).toBe(true);
    clearInterval(ticker);
    await acquired;
    table.mutex.unlock();
  });
});

describe('SharedMutex on one thread', () => {
  it('lets a synchronous lookup run while an async one has not settled yet (a worker does both in one read)', async () => {
    const table = SessionTable.create(8);
    // The IRC door's worker did exactly this for two PRIVMSGs to a nick in one packet: the chat's DIRECT awaited
    // lookupAsync, the next line's 301 check looked up synchronously and met its own thread's lock.
    const pending = table.lookupAsync('nobody');
    expect(() => table.lookup('nobody')).not.toThrow();
    expect(table.mutex.holderThreadId()).toBe(-1);
    await expect(pending).resolves.toBeNull();
    const inside = table.mutex.withLockAsync(() => table.mutex.holderThreadId());
    expect(table.mutex.withLock(() => 'sync')).toBe('sync');
    await expect(inside).resolves.toBe(threadId);
  });
});

describe('session table', () => {
  it('keeps nicks of any script, finds them in any case and normal form, and refuses look-alikes of nicks in use', () => {
    const t = SessionTable.create(8);
    const claim = (nick: string) =>
      t.claim({ nick, owner: 0, transport: 'tcp', address: '127.0.0.1', port: 1, now: 0, token: null });
    const longest = '𠜎'.repeat(16); // 16 wide characters of 4 UTF-8 bytes: 64 bytes, 32 columns
    for (const nick of ['小明', 'Zoë', 'علي', 'alice', 'ape', longest]) expect(claim(nick).ok).toBe(true);
    expect(t.lookup('小明')?.nick).toBe('小明');
    expect(t.lookup('ZOE\u0308')?.nick).toBe('Zoë'); // NFD, other case: the same nick
    expect(t.lookup(longest)?.nick).toBe(longest);
    expect(claim('aIice')).toEqual({ ok: false, reason: 'NICK_TAKEN', holder: 'alice', same: false }); // capital I
    expect(claim('аре')).toEqual({ ok: false, reason: 'NICK_TAKEN', holder: 'ape', same: false }); // Cyrillic
    expect(claim('APE')).toMatchObject({ ok: false, holder: 'ape', same: true });
    expect(t.lookup('aIice')).toBeNull(); // a look-alike is not the nick: no direct message goes astray
    const ape = t.lookup('ape')!;
    expect(t.rename(ape, 'Ape')).toBe('ok'); // one's own nick in another case
    expect(t.rename(ape, 'a1ice')).toEqual({ reason: 'NICK_TAKEN', holder: 'alice', same: false });
    expect(t.lookup('APE')?.nick).toBe('Ape');
  });

  it('claims, renames, releases, and frees a dead owner’s slots', () => {
    const t = SessionTable.create(3);
    const a = t.claim({
      nick: 'alice',
      owner: 0,
      transport: 'tcp',
      address: '127.0.0.1',
      port: 1,
      now: 1000,
      token: null,
    });
    const b = t.claim({ nick: 'bob', owner: 1, transport: 'ws', address: '::1', port: 2, now: 1000, token: null });
    expect(a.ok && b.ok).toBe(true);
    expect(t.claim({ nick: 'ALICE', owner: 1, transport: 'tcp', address: 'x', port: 3, now: 0, token: null })).toEqual({
      ok: false,
      reason: 'NICK_TAKEN',
      holder: 'alice',
      same: true,
    });
    if (!a.ok || !b.ok) return;
    expect(t.rename(a, 'Bob')).toEqual({ reason: 'NICK_TAKEN', holder: 'bob', same: true });
    expect(t.rename(a, 'alicia')).toBe('ok');
    expect(t.lookup('ALICIA')?.slot).toBe(a.slot);
    expect(t.claim({ nick: 'c', owner: 0, transport: 'tcp', address: 'x', port: 3, now: 0, token: null }).ok).toBe(
      true,
    );
    expect(t.claim({ nick: 'd', owner: 0, transport: 'tcp', address: 'x', port: 3, now: 0, token: null })).toEqual({
      ok: false,
      reason: 'SERVER_FULL',
    });
    const freed = t.mutex.withLock(() => t.orphanOwnedByLocked(0));
    expect(freed.map((f) => f.nick).sort()).toEqual(['alicia', 'c']);
    expect(freed.every((f) => !f.away)).toBe(true); // no tokens: nothing to resume
    expect(t.activeCount()).toBe(1);
    expect(t.release(a)).toBe(false); // stale generation
    expect(t.info(b.slot)?.address).toBe('::1');
    expect(t.info(b.slot)?.transport).toBe('ws');
  });

  it('keeps a lost session AWAY (nick held, direct messages resolve), lets its token resume it once, and frees it only when told', () => {
    const t = SessionTable.create(4);
    const first = newToken();
    const a = t.claim({
      nick: 'alice',
      owner: 0,
      transport: 'tcp',
      address: '127.0.0.1',
      port: 1,
      now: 0,
      token: first.hash,
    });
    const v1 = t.claim({ nick: 'old', owner: 0, transport: 'tcp', address: '127.0.0.1', port: 2, now: 0, token: null });
    if (!a.ok || !v1.ok) throw new Error('claims failed');
    expect(t.away(v1)).toBe(false); // no token: cannot wait to resume
    expect(t.away(a)).toBe(true);
    expect(t.isCurrent(a)).toBe(false);
    expect(
      t.claim({ nick: 'ALICE', owner: 1, transport: 'tcp', address: 'x', port: 3, now: 0, token: null }),
    ).toMatchObject({ ok: false, reason: 'NICK_TAKEN' });
    expect(t.lookup('alice')).toMatchObject({ slot: a.slot, owner: -1 });
    expect(t.info(a.slot)).toBeNull(); // not listed as online
    const second = newToken();
    expect(
      t.resume(tokenHash('A'.repeat(24)), second.hash, { owner: 1, transport: 'ws', address: '::1', port: 9, now: 5 }),
    ).toEqual({ ok: false, reason: 'UNKNOWN' });
    const r = t.resume(first.hash, second.hash, { owner: 1, transport: 'ws', address: '::1', port: 9, now: 5 });
    expect(r).toMatchObject({
      ok: true,
      slot: a.slot,
      generation: a.generation + 1,
      nick: 'alice',
      sessionId: a.sessionId,
      previous: { slot: a.slot, generation: a.generation, owner: -1 },
    });
    expect(
      t.resume(first.hash, newToken().hash, { owner: 1, transport: 'tcp', address: 'x', port: 1, now: 6 }),
    ).toEqual({ ok: false, reason: 'USED' });
    expect(t.releaseAway(a)).toBe(false); // taken over: the old generation is not freed
    if (!r.ok) return;
    expect(t.info(r.slot)).toMatchObject({ owner: 1, transport: 'ws', address: '::1' });
    // A connected session can be taken over too (its old connection had not noticed it was dead).
    const third = newToken();
    expect(
      t.resume(second.hash, third.hash, { owner: 0, transport: 'tcp', address: 'y', port: 2, now: 7 }),
    ).toMatchObject({ ok: true, previous: { owner: 1 } });
    const now = t.lookup('alice')!;
    expect(t.away(now)).toBe(true);
    expect(t.releaseAway(now)).toBe(true);
    expect(t.lookup('alice')).toBeNull();
    expect(
      t.resume(third.hash, newToken().hash, { owner: 0, transport: 'tcp', address: 'y', port: 2, now: 8 }),
    ).toEqual({ ok: false, reason: 'UNKNOWN' });
    const orphans = t.mutex.withLock(() => t.orphanOwnedByLocked(0));
    expect(orphans).toEqual([{ slot: v1.slot, generation: v1.generation, nick: 'old', away: false }]);
    expect(t.activeCount()).toBe(0);
  });

  it('keeps at most so many sessions of one address away: past it, a lost connection ends its session', () => {
    const t = SessionTable.create(8);
    const claim = (nick: string, address: string) => {
      const c = t.claim({ nick, owner: 0, transport: 'tcp', address, port: 1, now: 0, token: newToken().hash });
      if (!c.ok) throw new Error(nick);
      return c;
    };
    const [a, b, c] = [claim('a', '10.0.0.1'), claim('b', '10.0.0.1'), claim('c', '10.0.0.2')];
    expect(t.away(a, 1)).toBe(true);
    expect(t.away(b, 1)).toBe(false); // 10.0.0.1 has one away already
    expect(t.away(c, 1)).toBe(true); // another address
    expect(t.release(b)).toBe(true);
  });
});
