/**
 * The reader thread, the store thread's child: HISTORY_REQUEST pages read on
 * a read-only connection of its own (WAL: it reads beside the writer, and
 * sees every commit made before it is asked). One request at a time, in the
 * order asked; a failure is an answer too (history-reader.ts ThreadReader).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadSqlite } from './load-sqlite.js';
import { SqlReads } from './history-read-sql.js';
import { answerFrames, packFrames, planFrom } from './history-pages.js';
import { StoreError, storeError } from './store-error.js';
import type { FromReader, ToReader } from './history-reader.js';

const { file } = workerData as { file: string };
const port = parentPort!;
const { DatabaseSync } = await loadSqlite();

let reads: SqlReads | null = null;
/** Opened on first use: the store thread has made the file and its tables before it asks. */
function source(): SqlReads {
  if (!reads) {
    const db = new DatabaseSync(file, { readOnly: true, timeout: 1000 });
    db.exec('PRAGMA query_only = ON');
    reads = new SqlReads(db);
  }
  return reads;
}

function answer(m: ToReader): FromReader {
  try {
    if (m.k === 'plan') return { seq: m.seq, plan: planFrom(source(), m.conv, m.parties, m.ask) };
    return { seq: m.seq, frames: packFrames(answerFrames(source(), m.conv, m.parties, m.plan, m.where, m.maxFrame)) };
  } catch (err) {
    const e = storeError(err, file);
    return e instanceof StoreError
      ? { seq: m.seq, error: e.message, code: e.code }
      : { seq: m.seq, error: (err as Error).message, code: 'STORE_IO' };
  }
}

// An answer's frames go as one buffer, transferred: no copy on the way to the store thread (nor on to the worker).
port.on('message', (m: ToReader) => {
  const a = answer(m);
  port.postMessage(a, 'frames' in a ? [a.frames.buffer] : []);
});
