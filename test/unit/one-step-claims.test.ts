/**
 * Claims that must be one step across threads: a folder's upload ticket (the check that no other session holds
 * one, and the issue, under the ticket table's lock) and a partial upload's writer (server/shm/partial-writers.ts).
 * Real worker threads on the compiled tables (npm run build first), started together at a gate.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { TicketTable } from '../../server/shm/ticket-table.js';
import { PartialWriters } from '../../server/shm/partial-writers.js';
import { until } from '../helpers/wait.js';

const FIXTURE = new URL('../fixtures/claim-race-worker.mjs', import.meta.url);
const THREADS = 4;
const ROUNDS = 200;
const workers: Worker[] = [];

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

function run(workerData: Record<string, unknown>): Promise<{ won?: number[]; result?: string }> {
  const worker = new Worker(FIXTURE, { workerData });
  workers.push(worker);
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

/** THREADS workers race through ROUNDS names at once; how many won each name. */
async function race(scenario: 'folders' | 'prefix' | 'writers', buffer: SharedArrayBuffer): Promise<number[]> {
  const startSab = new SharedArrayBuffer(8);
  const start = new Int32Array(startSab);
  const results = Array.from({ length: THREADS }, (_, id) => run({ scenario, buffer, id, rounds: ROUNDS, startSab }));
  await until(
    () => Atomics.load(start, 1) === THREADS,
    10_000,
    () => 'every worker at the gate',
  );
  Atomics.store(start, 0, 1);
  Atomics.notify(start, 0);
  const wins = new Array<number>(ROUNDS).fill(0);
  for (const r of await Promise.all(results)) for (const round of r.won ?? []) wins[round]!++;
  return wins;
}

describe('claims made in one step across threads', () => {
  it("a folder's upload ticket goes to exactly one of the sessions asking at the same instant", async () => {
    const wins = await race('folders', TicketTable.create(ROUNDS + 16).buffer);
    expect(wins.filter((n) => n !== 1)).toEqual([]);
  });

  it("a network's cap holds across threads: sessions of one network on four workers asking at once get exactly its 64", async () => {
    const table = TicketTable.create(ROUNDS * THREADS);
    const wins = await race('prefix', table.buffer);
    expect(wins.reduce((a, b) => a + b, 0)).toBe(64);
    expect(table.heldByPrefix(5, Date.now())).toBe(64);
  });

  it("an exclusive issue waits for the table's lock, then sees the ticket issued meanwhile", async () => {
    const table = TicketTable.create(16);
    table.mutex.lock();
    const answer = run({ scenario: 'wait', buffer: table.buffer, id: 1 });
    // The worker sleeps on the lock word with its waiters bit set: it has not checked yet.
    await until(
      () => (Atomics.load(table.i32, table.lockWordIndex) & 1) === 1,
      10_000,
      () => 'the issuer waiting',
    );
    // Every issue takes the lock: this thread, holding it, issues as the one that got there first.
    const other = table.issueHoldingLock('post', 'trip/', 'alice', Date.now(), 7);
    expect(typeof other).toBe('object');
    table.mutex.unlock();
    expect((await answer).result).toBe('held');
  });

  it("a partial's writer claim goes to exactly one of the writers asking at the same instant, and comes back", async () => {
    const writers = PartialWriters.create(ROUNDS + 16);
    const wins = await race('writers', writers.buffer);
    expect(wins.filter((n) => n !== 1)).toEqual([]);
    expect(writers.held('alice\u0000p0.bin')).toBe(true);
    writers.releaseWorker(0);
    writers.releaseWorker(1);
    writers.releaseWorker(2);
    writers.releaseWorker(3);
    expect(writers.held('alice\u0000p0.bin')).toBe(false);
    const mine = writers.claim('alice\u0000p0.bin', 'http');
    expect(mine.ok).toBe(true);
    // A refusal names the holder (its worker, -1 outside the workers, and door): whom a post may ask to give way.
    expect(writers.claim('alice\u0000p0.bin', 'lftp')).toEqual({
      ok: false,
      full: false,
      holder: { worker: -1, door: 'http' },
    });
    if (mine.ok) mine.release();
    expect(new PartialWriters(writers.buffer, 3).claim('alice\u0000p0.bin', 'lftp').ok).toBe(true);
    expect(writers.claim('alice\u0000p0.bin', 'http')).toMatchObject({ holder: { worker: 3, door: 'lftp' } });
    expect(writers.claim('bob\u0000p0.bin', 'lftp').ok).toBe(true); // another uploader's partial of the name is its own
  });
});
