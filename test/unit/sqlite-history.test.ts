/** The SQLite history on real files: ids, order, paging, retention, a damaged file, a second opener. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { SqliteHistory } from '../../server/store/sqlite-history.js';
import { StoreError } from '../../server/store/store-error.js';
import { lookAlikeKey } from '../../common/unicode/confusables.js';

const dirs: string[] = [];
const open: SqliteHistory[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'history-'));
  dirs.push(d);
  return d;
}
async function openAt(dir: string, now?: () => number) {
  const opened = await SqliteHistory.open(dir, now);
  open.push(opened.store);
  return opened;
}
const say = (conv: string, from: string, text: string) => ({ conv, kind: 'say' as const, from, text });

describe('SqliteHistory', () => {
  it('gives ids one by one per conversation, in the order appended, and keeps them across a reopen', async () => {
    const dir = dataDir();
    let t = 1000;
    const { store } = await openAt(dir, () => t);
    const a = await store.append([
      say('room:#a', 'alice', 'one'),
      say('room:#b', 'bob', 'uno'),
      say('room:#a', 'bob', 'two'),
    ]);
    expect(a.map((e) => [e.conv, e.id, e.ts])).toEqual([
      ['room:#a', 1, 1000],
      ['room:#b', 1, 1000],
      ['room:#a', 2, 1000],
    ]);
    t = 500; // the wall clock went back: stored times do not
    const [b] = await store.append([{ conv: 'dm:alice\nbob', kind: 'direct', from: 'alice', to: 'bob', text: 'psst' }]);
    expect(b).toMatchObject({ id: 1, ts: 1000, to: 'bob' });
    const epoch = store.epoch;
    store.close();
    const again = (await openAt(dir)).store;
    expect(again.epoch).toBe(epoch);
    expect(await again.lastId('room:#a')).toBe(2);
    expect((await again.append([say('room:#a', 'carol', 'three')]))[0]!.id).toBe(3);
    expect((await again.after('room:#a', 0, 10)).map((e) => `${e.from}: ${e.text}`)).toEqual([
      'alice: one',
      'bob: two',
      'carol: three',
    ]);
    expect(await again.after('dm:alice\nbob', 0, 10)).toEqual([
      { conv: 'dm:alice\nbob', id: 1, ts: 1000, kind: 'direct', from: 'alice', to: 'bob', text: 'psst' },
    ]);
  });

  it('pages: the newest N, further back before an id, after an id, since a time', async () => {
    let t = 0;
    const { store } = await openAt(dataDir(), () => (t += 10));
    for (let i = 1; i <= 120; i++) await store.append([say('room:#p', 'u', `m${i}`)]);
    const texts = (es: { text: string }[]) => es.map((e) => e.text);
    expect(texts(await store.before('room:#p', Infinity, 3))).toEqual(['m118', 'm119', 'm120']);
    expect(texts(await store.before('room:#p', 118, 2))).toEqual(['m116', 'm117']);
    expect(texts(await store.after('room:#p', 117, 100))).toEqual(['m118', 'm119', 'm120']);
    expect(texts(await store.since('room:#p', 1190, 100))).toEqual(['m119', 'm120']);
    expect(await store.before('room:#nothing', Infinity, 5)).toEqual([]);
  });

  it('retention: by age, then by size, the oldest first; ids are never given again', async () => {
    let t = 0;
    const { store } = await openAt(dataDir(), () => t);
    for (let i = 0; i < 50; i++) {
      t = i * 1000;
      await store.append(Array.from({ length: 100 }, (_, k) => say('room:#r', 'u', `${i}-${k} ${'x'.repeat(200)}`)));
    }
    expect(await store.prune(50_000, { maxAgeMs: 40_000, maxBytes: Infinity })).toBe(1000); // second 0..9 went
    expect((await store.after('room:#r', 0, 1))[0]!.text.startsWith('10-0 ')).toBe(true);
    const before = store.bytes();
    const removed = await store.prune(50_000, { maxAgeMs: 0, maxBytes: 300_000 });
    expect(removed).toBeGreaterThan(2000);
    expect(store.bytes()).toBeLessThanOrEqual(300_000);
    expect(store.bytes()).toBeLessThan(before);
    const newest = await store.before('room:#r', Infinity, 1);
    expect(newest[0]!.text.startsWith('49-99 ')).toBe(true);
    // Everything pruned: the next id still follows the last one given.
    await store.prune(10_000_000, { maxAgeMs: 1, maxBytes: Infinity });
    expect(await store.after('room:#r', 0, 1)).toEqual([]);
    expect((await store.append([say('room:#r', 'u', 'after')]))[0]!.id).toBe(5001);
  });

  it('a second server on the same folder is refused: STORE_LOCKED', async () => {
    const dir = dataDir();
    await openAt(dir);
    const second = SqliteHistory.open(dir);
    await expect(second).rejects.toBeInstanceOf(StoreError);
    await expect(second).rejects.toMatchObject({
      code: 'STORE_LOCKED',
      message: expect.stringContaining('another chat-server uses the same --data folder'),
    });
  });

  it('a damaged file is moved aside and a new store with a new epoch starts', async () => {
    const dir = dataDir();
    const first = (await openAt(dir)).store;
    const epoch = first.epoch;
    first.close();
    writeFileSync(join(dir, 'history.db'), 'not a database at all '.repeat(500));
    const { store, movedAside } = await openAt(dir, () => Date.UTC(2026, 11, 2, 10, 0, 0));
    expect(movedAside).toBe(join(dir, 'history.db.damaged-2026-12-02T10-00-00-000Z'));
    expect(statSync(movedAside!).size).toBe(11000);
    expect(store.epoch).not.toBe(epoch);
    expect((await store.append([say('room:#a', 'u', 'fresh')]))[0]!.id).toBe(1);
    expect(readdirSync(dir).sort()).toContain('history.db.damaged-2026-12-02T10-00-00-000Z');
  });
});

describe('SqliteAccounts', () => {
  it('brings look-alike keys written by an older rule up to the current one when it opens', async () => {
    const dir = dataDir();
    const first = await openAt(dir);
    // What the rule before 'Aiice' counted as a look-alike of 'Alice' wrote.
    await first.store.accounts.create({ nick: 'Alice', fold: 'alice', look: 'alice', hash: 'h', createdTs: 1 });
    expect(await first.store.accounts.find('aiice', lookAlikeKey('Aiice'))).toBeNull();
    first.store.close();
    const again = await openAt(dir);
    expect(await again.store.accounts.find('aiice', lookAlikeKey('Aiice'))).toMatchObject({ nick: 'Alice' });
  });
});
