/**
 * Issue 31, Low: a history database damaged in the middle (random bytes
 * over some of its pages, its header intact) is found out when the server
 * starts, not by a read that never answers: the operator is told, and every
 * history request gets an answer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { closeRawSessions, rawSession } from '../helpers/raw-session.js';
import { SqliteHistory } from '../../server/store/sqlite-history.js';
import { LineProcess, startServer, stopAll, tempDir } from '../helpers/processes.js';
import { until } from '../helpers/wait.js';

let procs: LineProcess[] = [];
afterEach(async () => {
  closeRawSessions();
  await stopAll(...procs);
  procs = [];
});

/** A folder whose history.db holds 3,000 lobby messages, then 16 KiB of (seeded) random bytes over its middle. */
async function damagedFolder(): Promise<string> {
  const data = tempDir('damaged');
  const { store } = await SqliteHistory.open(data);
  await store.append(
    Array.from({ length: 3000 }, (_, i) => ({
      conv: 'room:#lobby',
      kind: 'say' as const,
      from: 'old',
      text: `${i} ${'o'.repeat(300)}`,
    })),
  );
  store.close();
  const file = join(data, 'history.db');
  let seed = 12345;
  const junk = Buffer.alloc(16384).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff);
  const fd = openSync(file, 'r+');
  writeSync(fd, junk, 0, junk.length, Math.floor(statSync(file).size / 2));
  closeSync(fd);
  return data;
}

describe('a damaged history database', () => {
  it('is found at start (the operator is told) and every history request is answered', async () => {
    const data = await damagedFolder();
    const server = await startServer(['--workers', '1', '--no-web', '--data', data]);
    procs.push(server);
    await server.waitFor(/^! history: the database was damaged; it was moved to .*history\.db\.damaged-/, 5000);
    const alice = await rawSession(server.port, 'alice', { version: 2 });
    // Pages over the whole of what was there: before today's fix one of them read the damaged pages and never came.
    const pages = [100, 500, 1000, 1500, 2000, 2500, 3001];
    for (const [i, before] of pages.entries())
      alice.send({ type: 'HISTORY_REQUEST', id: i + 1, room: '#lobby', before, limit: 200 });
    alice.send({ type: 'HISTORY_REQUEST', id: 99, with: 'bob', limit: 200 });
    const answered = () =>
      new Set(alice.of('HISTORY').flatMap((m) => (m.id !== undefined && m.done ? [m.id] : []))).size +
      alice.of('ERROR').length;
    await until(
      () => answered() === pages.length + 1,
      10_000,
      () => `${answered()} of ${pages.length + 1} history requests answered`,
    );
    expect(alice.of('ERROR')).toEqual([]);
  });
});
