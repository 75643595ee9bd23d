/**
 * Why the store could not do what was asked, as a stable code: the chat maps
 * these to what users get (the message is refused, not half-delivered) and to
 * what the operator reads.
 */
import { HeartbeatChatError } from '../../common/errors.js';
/**
 * STORE_RESTARTING: the store thread is away (it died and is being started again); asking again in a moment works.
 * STORE_IN_DOUBT: a cluster's Redis stopped answering while the messages were being stored, and did not answer
 * again in time to say whether it had stored them (store/append-retry.ts).
 */
export type StoreErrorCode =
  | 'STORE_FULL'
  | 'STORE_LOCKED'
  | 'STORE_CORRUPT'
  | 'STORE_IO'
  | 'STORE_RESTARTING'
  | 'STORE_IN_DOUBT';

export class StoreError extends HeartbeatChatError {
  declare readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string) {
    super(code, message);
  }
}

/** SQLite's primary result codes (https://sqlite.org/rescode.html) that mean something to the operator. */
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_IOERR = 10;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;

/** Runs a statement; a node:sqlite error it throws comes out as a StoreError naming the file. */
export function guarded<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw storeError(err, file);
  }
}

/** A node:sqlite error (code ERR_SQLITE_ERROR, errcode the extended result code) as a StoreError; others unchanged. */
export function storeError(err: unknown, file: string): unknown {
  const e = err as { code?: string; errcode?: number; errstr?: string; message?: string };
  if (e?.code !== 'ERR_SQLITE_ERROR' || typeof e.errcode !== 'number') return err;
  const reason = e.errstr ?? e.message ?? 'unknown error';
  switch (e.errcode & 0xff) {
    case SQLITE_FULL:
      return new StoreError('STORE_FULL', `the history database ${file} cannot grow: the disk is full (${reason})`);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return new StoreError(
        'STORE_LOCKED',
        `the history database ${file} is locked: another chat-server uses the same --data folder (${reason})`,
      );
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return new StoreError('STORE_CORRUPT', `the history database ${file} is damaged (${reason})`);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return new StoreError('STORE_IO', `the history database ${file} cannot be read or written (${reason})`);
    default:
      return new StoreError('STORE_IO', `the history database ${file} failed: ${reason}`);
  }
}

/** Any failure of the store as a StoreError (STORE_IO when it was not one already). */
export function asStoreError(err: unknown): StoreError {
  return err instanceof StoreError
    ? err
    : new StoreError('STORE_IO', `the history store failed: ${(err as Error).message}`);
}
