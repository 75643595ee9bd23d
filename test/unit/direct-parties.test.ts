/**
 * Who took part in a direct message, in the store (issue 31, item 4): reads
 * limited to a party's messages, a retired account's messages nobody's,
 * older messages given their parties once where that can be told; and the
 * store file's checks when it opens (its lock, PRAGMA quick_check).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
import { SqliteHistory } from '../../server/store/sqlite-history.js';
import type { NewEntry } from '../../server/store/history.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'parties-'));
  dirs.push(d);
  return d;
}

const dm = (from: string, to: string, text: string, parties?: [string, string]): NewEntry => ({
  conv: `dm:${[from, to].sort().join('\n')}`,
  kind: 'direct',
  from,
  to,
  text,
  ...(parties ? { parties } : {}),
});
const texts = (es: Array<{ text: string }>) => es.map((e) => e.text);

describe('direct messages by party', () => {
  it('reads only what a party took part in; paging by id and time; a retired account reads nothing', async () => {
    const { store } = await SqliteHistory.open(dataDir());
    const conv = 'dm:alice\nbob';
    await store.append([dm('alice', 'bob', 'one', ['s:a1', 's:b1']), dm('bob', 'alice', 'two', ['s:b1', 's:a1'])]);
    // alice quit; someone else took the nick.
    await store.append([
      dm('alice', 'bob', 'three', ['s:m1', 's:b1']),
      dm('alice', 'bob', 'four', ['a:alice', 's:b1']),
    ]);
    expect(texts(await store.after(conv, 0, 10, ['s:a1']))).toEqual(['one', 'two']);
    expect(texts(await store.after(conv, 0, 10, ['s:m1']))).toEqual(['three']);
    expect(texts(await store.after(conv, 0, 10, ['s:b1']))).toEqual(['one', 'two', 'three', 'four']);
    expect(texts(await store.before(conv, Infinity, 1, ['s:b1']))).toEqual(['four']);
    expect(texts(await store.since(conv, 0, 10, ['s:m1', 'a:alice']))).toEqual(['three', 'four']);
    expect(texts(await store.after(conv, 0, 10, ['s:nobody']))).toEqual([]);
    // The pages of a HISTORY_REQUEST: sizes without the text, then the entries.
    const source = store.readSource();
    expect(source.sizes(conv, ['s:a1'], { upto: 4, limit: 50 })).toEqual([
      [2, 3],
      [1, 3],
    ]);
    expect(source.sizes(conv, null, { before: 4, upto: 4, limit: 1 })).toEqual([
      [3, 5],
      [2, 3],
    ]);
    expect(source.sizes(conv, ['s:b1'], { since: 0, upto: 3, limit: 50 }).map(([id]) => id)).toEqual([1, 2, 3]);
    expect(texts(source.entries(conv, ['s:m1'], 1, 4))).toEqual(['three']);
    await store.retireParty('a:alice');
    expect(texts(await store.after(conv, 0, 10, ['a:alice']))).toEqual([]);
    expect(texts(await store.after(conv, 0, 10, ['s:b1']))).toEqual(['one', 'two', 'three', 'four']);
    store.close();
  });

  it('gives the messages stored before parties were kept their parties once, where that can be told', async () => {
    const dir = dataDir();
    const first = (await SqliteHistory.open(dir, () => 5000)).store;
    await first.accounts.create({ nick: 'Alice', fold: 'alice', look: 'alice', hash: 'h', createdTs: 1000 });
    await first.sessions.save({
      sid: 'bobsession',
      hash: 'aa',
      nick: 'bob',
      version: 2,
      startedTs: 2000,
      rooms: [],
      awaySince: null,
    });
    await first.append([dm('alice', 'bob', 'before parties'), dm('carol', 'bob', 'carol is gone')]);
    first.close();
    // What a store from before this change holds: no parties, and no note that they were given.
    const raw = new DatabaseSync(join(dir, 'history.db'));
    raw.exec("DELETE FROM direct_parties; DELETE FROM meta WHERE key = 'parties';");
    raw.close();
    const { store } = await SqliteHistory.open(dir);
    expect(texts(await store.after('dm:alice\nbob', 0, 10, ['a:alice']))).toEqual(['before parties']);
    expect(texts(await store.after('dm:alice\nbob', 0, 10, ['s:bobsession']))).toEqual(['before parties']);
    expect(texts(await store.after('dm:bob\ncarol', 0, 10, ['s:bobsession']))).toEqual(['carol is gone']);
    // carol was neither an account nor a kept session: nobody reads her side.
    const parties = new DatabaseSync(join(dir, 'history.db'), { readOnly: true })
      .prepare("SELECT party FROM direct_parties WHERE conv = 'dm:bob\ncarol'")
      .all();
    expect(parties).toEqual([{ party: 's:bobsession' }]);
    store.close();
  });
});

describe('the store file when it opens', () => {
  it('is locked while open (a second store is STORE_LOCKED) and free again once closed', async () => {
    const dir = dataDir();
    const { store } = await SqliteHistory.open(dir);
    await expect(SqliteHistory.open(dir)).rejects.toMatchObject({ code: 'STORE_LOCKED' });
    store.close();
    (await SqliteHistory.open(dir)).store.close();
  });

  it('a file damaged in its middle fails PRAGMA quick_check: it is moved aside and a new store begins', async () => {
    const dir = dataDir();
    const first = (await SqliteHistory.open(dir)).store;
    await first.append(
      Array.from({ length: 2000 }, (_, i) => ({
        conv: 'room:#a',
        kind: 'say' as const,
        from: 'u',
        text: `${i} ${'x'.repeat(300)}`,
      })),
    );
    first.close();
    const file = join(dir, 'history.db');
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(16384, 0x5a), 0, 16384, Math.floor(statSync(file).size / 2));
    closeSync(fd);
    const { store, movedAside } = await SqliteHistory.open(dir);
    expect(movedAside).toMatch(/history\.db\.damaged-/);
    expect(await store.after('room:#a', 0, 10)).toEqual([]);
    store.close();
  });

  it('keeps a direct action as such, and drops its parties with it (the trigger of a store made before it too)', async () => {
    const dir = dataDir();
    const first = (await SqliteHistory.open(dir)).store;
    first.close();
    // A store from before direct actions: its trigger named 'direct' only. Opening it again replaces the trigger.
    const old = new DatabaseSync(join(dir, 'history.db'));
    old.exec(`DROP TRIGGER direct_parties_gone;
      CREATE TRIGGER direct_parties_gone AFTER DELETE ON messages WHEN old.kind = 'direct'
      BEGIN DELETE FROM direct_parties WHERE conv = old.conv AND id = old.id; END;`);
    old.close();
    const { store } = await SqliteHistory.open(dir);
    const conv = 'dm:alice\nbob';
    await store.append([
      dm('alice', 'bob', 'hi', ['s:a1', 's:b1']),
      { ...dm('alice', 'bob', 'waves', ['s:a1', 's:b1']), kind: 'direct-action' },
    ]);
    expect((await store.after(conv, 0, 10, ['s:b1'])).map((e) => [e.text, e.kind])).toEqual([
      ['hi', 'direct'],
      ['waves', 'direct-action'],
    ]);
    store.close();
    const raw = new DatabaseSync(join(dir, 'history.db'));
    raw.exec("DELETE FROM messages WHERE kind = 'direct-action'");
    expect(raw.prepare('SELECT id, party FROM direct_parties ORDER BY party').all()).toEqual([
      { id: 1, party: 's:a1' },
      { id: 1, party: 's:b1' },
    ]);
    raw.close();
  });
});
