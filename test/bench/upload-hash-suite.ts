/**
 * `npm run bench -- --suite hash`: what a page upload's SHA-256 costs (issue 35). The page hashes a file over
 * 256 MiB a piece at a time with common/sha256.ts (Web Crypto's digest takes the whole file at once): its speed
 * here, in node's V8, the engine chromium runs it in. And a resumed upload's partial hashed again by the server
 * before it goes on (resume-record.ts hashPrefix, what openHeld does), from the page cache: the price of
 * recomputing the hash state rather than saving it.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Sha256 } from '../../common/sha256.js';
import { hashPrefix } from '../../common/lftp/node/resume-record.js';

export interface HashContext {
  quick: boolean;
  work: string;
  runs: number;
  record(suite: string, name: string, unit: string, values: number[], note?: string): void;
  log(line: string): void;
}

const MiB = 2 ** 20;

export async function uploadHashSuite(c: HashContext): Promise<void> {
  const size = (c.quick ? 64 : 256) * MiB;
  c.log(`hash: a page upload's SHA-256, ${size / MiB} MiB`);
  const piece = randomBytes(4 * MiB);
  const rates: number[] = [];
  for (let r = 0; r < c.runs; r++) {
    const h = new Sha256();
    const t = performance.now();
    for (let n = 0; n < size; n += piece.length) h.update(piece);
    h.digest();
    rates.push(size / MiB / ((performance.now() - t) / 1000));
  }
  c.record('hash', `page SHA-256 a piece at a time (common/sha256.ts), ${size / MiB} MiB`, 'MiB/s', rates);
  const path = join(c.work, 'held.bin');
  const fd = openSync(path, 'w');
  for (let n = 0; n < size; n += piece.length) writeSync(fd, piece);
  closeSync(fd);
  const times: number[] = [];
  for (let r = 0; r < c.runs; r++) {
    const t = performance.now();
    await hashPrefix(path, size);
    times.push(performance.now() - t);
  }
  c.record('hash', `a resumed upload's ${size / MiB} MiB partial hashed again (page cache)`, 'ms', times);
}
