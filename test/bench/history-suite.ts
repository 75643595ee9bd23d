/**
 * `npm run bench -- --suite history`: the store on its own, on a real file in
 * the bench's folder: how fast batches are appended, the bytes one message
 * takes on disk, how fast a page is read back, and what retention costs;
 * then a real server resuming a session that missed 100,000 messages
 * (resume-bench.ts).
 */
import { mkdtempSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteHistory } from '../../server/store/sqlite-history.js';
import { resumeBench, type ResumeContext } from './resume-bench.js';

export interface HistoryContext extends ResumeContext {
  work: string;
}

const SUITE = 'history';

export async function historySuite(ctx: HistoryContext): Promise<void> {
  const total = ctx.quick ? 50_000 : 500_000;
  const batch = 100;
  const dir = mkdtempSync(join(ctx.work, 'history-'));
  const { store } = await SqliteHistory.open(dir);
  ctx.log(`history: ${total} messages of 100 bytes in batches of ${batch}, 10 rooms`);
  try {
    const text = 'x'.repeat(90);
    const t0 = performance.now();
    for (let i = 0; i < total; i += batch) {
      store.appendNow(
        Array.from({ length: batch }, (_, k) => ({
          conv: `room:#r${(i + k) % 10}`,
          kind: 'say' as const,
          from: 'bench-user',
          text: `${text}${i + k}`,
        })),
      );
    }
    const appendS = (performance.now() - t0) / 1000;
    ctx.record(SUITE, `append, batches of ${batch}`, 'msgs/s', [total / appendS]);
    const one0 = performance.now();
    for (let i = 0; i < 1000; i++) store.appendNow([{ conv: 'room:#one', kind: 'say', from: 'bench-user', text }]);
    ctx.record(SUITE, 'append, one message per transaction', 'msgs/s', [1000 / ((performance.now() - one0) / 1000)]);
    const file = join(dir, 'history.db');
    const onDisk = statSync(file).size + (statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0);
    ctx.record(
      SUITE,
      'bytes per message (100-byte text, file and WAL)',
      'B',
      [onDisk / (total + 1000)],
      `pages in use: ${store.bytes()} B`,
    );
    const r0 = performance.now();
    let read = 0;
    for (let i = 0; i < 200; i++) read += (await store.before(`room:#r${i % 10}`, Infinity, 50)).length;
    ctx.record(
      SUITE,
      'history on join (latest 50), reads',
      '/s',
      [200 / ((performance.now() - r0) / 1000)],
      `${read} entries read`,
    );
    const a0 = performance.now();
    const missed = await store.after('room:#r0', 0, 100_000);
    ctx.record(
      SUITE,
      'replay read (after an id), entries',
      '/s',
      [missed.length / ((performance.now() - a0) / 1000)],
      `${missed.length} entries`,
    );
    const half = Math.floor(store.bytes() / 2);
    const p0 = performance.now();
    const removed = await store.prune(Date.now(), { maxAgeMs: 0, maxBytes: half });
    ctx.record(
      SUITE,
      'retention: prune to half the size',
      'ms',
      [performance.now() - p0],
      `${removed} messages removed`,
    );
  } finally {
    store.close();
  }
  await resumeBench(ctx);
}
