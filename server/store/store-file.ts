/**
 * What opening the history's folder checks before anything is read or
 * written: that no other chat-server holds it, and that the database is
 * whole.
 *
 * The lock: `history.lock` beside `history.db`, a small SQLite file held
 * with an exclusive lock for as long as the store is open (locking_mode
 * EXCLUSIVE keeps it after the first write). history.db itself is opened in
 * the normal locking mode, so that the reader thread's read-only connection
 * can read beside the writer (WAL); a second server gets SQLITE_BUSY on the
 * lock and fails at start with STORE_LOCKED, as before. The operating system
 * drops the lock with the process, and node:sqlite closes it with a store
 * thread that dies, so a restarted thread takes it again.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { StoreError, storeError } from './store-error.js';

/** Takes the folder's lock; a StoreError STORE_LOCKED (naming `file`, the history) when another server has it. */
export function lockFolder(Database: typeof DatabaseSync, dir: string, file: string, again = true): DatabaseSync {
  const path = join(dir, 'history.lock');
  let lock: DatabaseSync | null = null;
  try {
    lock = new Database(path, { timeout: 0 });
    lock.exec(
      'PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS held (pid INTEGER); DELETE FROM held;',
    );
    lock.prepare('INSERT INTO held (pid) VALUES (?)').run(process.pid);
    lock.exec('COMMIT');
    return lock;
  } catch (err) {
    lock?.close();
    const e = storeError(err, file);
    // Not a database (something else wrote it): nobody can hold it, so it is made again.
    if (!again || !(e instanceof StoreError) || e.code !== 'STORE_CORRUPT') throw e;
    rmSync(path, { force: true });
    return lockFolder(Database, dir, file, false);
  }
}

/**
 * PRAGMA quick_check: the pages and their b-trees are whole (a file damaged in its middle is found now, not by a
 * read much later that fails). A damaged database is a StoreError STORE_CORRUPT, which open() moves aside.
 */
export function quickCheck(db: DatabaseSync, file: string): void {
  let result: string;
  try {
    const rows = db.prepare('PRAGMA quick_check(1)').all() as Array<Record<string, string>>;
    result = Object.values(rows[0] ?? {})[0] ?? 'ok';
  } catch (err) {
    throw storeError(err, file);
  }
  if (result !== 'ok') throw new StoreError('STORE_CORRUPT', `the history database ${file} is damaged (${result})`);
}
