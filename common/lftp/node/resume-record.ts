/**
 * What a receiver keeps of a transfer that was cut, so that running it again moves only the missing bytes
 * (docs/LFTP.md, "Resume"). Next to the final name, in the same directory:
 *
 *   .resume-<K>.lftp-held   the bytes received so far, from offset 0 (data arrives in order)
 *   .resume-<K>.lftp-rec    JSON {"v":1,"name","size","mtimeMs","tag","ranges":[[0,held]]}
 *
 * K = the first 16 bytes of SHA-256("lftp resume" 0x00 key) in hex, key being the final name (and, on a
 * server with users, the uploader's). The record is written after the bytes it counts, by write and rename, so
 * it never claims more than the file holds; what is held is the smaller of the record's range and the file's
 * length. The source's identity is its `tag` (sourceTag below): a partial download or upload is continued only
 * for a source of the same name, size, modification time and tag, else it is dropped and the transfer starts
 * from zero. The whole file's SHA-256 is still checked at the end: the held bytes are hashed again first.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, readFile, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { constants as fsConstants, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/** Every temporary upload file is a dot file ending in this. */
export const PART_SUFFIX = '.lftp-part';

/**
 * Removes what uploads interrupted by a crash left behind. For start-up only,
 * before any transfer runs: a part file then belongs to no one.
 */
export function sweepPartFiles(dir: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('.') || !name.endsWith(PART_SUFFIX)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      // Gone already, or not ours to remove: leave it.
    }
  }
  return removed;
}

/** Every resumable partial file (and its record) starts with this and ends with one of the two suffixes. */
export const RESUME_PREFIX = '.resume-';
export const HELD_SUFFIX = '.lftp-held';
export const RECORD_SUFFIX = '.lftp-rec';
/** Bytes of each end of the file that the source tag covers. */
export const TAG_EDGE_BYTES = 64 * 1024;
/** The source tag: this many bytes, base64url (22 characters). */
export const TAG_BYTES = 16;
/** A record is rewritten once this many more bytes are on disk (and when the transfer stops). */
export const RECORD_EVERY_BYTES = 256 * 1024;
/** A server drops partial uploads untouched for this long (docs/LFTP.md, "Resume"). */
export const STALE_PARTIAL_MS = 24 * 3600 * 1000;

export interface ResumeRecord {
  name: string;
  size: number;
  mtimeMs: number;
  tag: string;
  /** Byte ranges [start, end) held; always one range from 0 here (data is written in order). */
  ranges: Array<[number, number]>;
}

/** Where a partial of `key` lives in `dir`. */
export function resumePaths(dir: string, key: string): { held: string; record: string } {
  const k = createHash('sha256').update('lftp resume\0').update(key, 'utf8').digest('hex').slice(0, 32);
  return {
    held: join(dir, `${RESUME_PREFIX}${k}${HELD_SUFFIX}`),
    record: join(dir, `${RESUME_PREFIX}${k}${RECORD_SUFFIX}`),
  };
}

/**
 * The source's identity, cheap to make on every request: SHA-256("lftp tag" 0x00 ‖ size (u64) ‖ mtime in ms
 * (u64) ‖ the first and the last 64 KiB of the file)[0..16], base64url. Not a hash of the whole file: that
 * would read a 1 GiB file for every SYN. What it misses (an edit in the middle that keeps size and mtime) the
 * END's SHA-256 catches, and the partial is then dropped.
 */
export async function sourceTag(path: string, size: number, mtimeMs: number): Promise<string> {
  const h = createHash('sha256').update('lftp tag\0');
  const fixed = Buffer.alloc(16);
  fixed.writeBigUInt64BE(BigInt(size), 0);
  fixed.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(mtimeMs))), 8);
  h.update(fixed);
  const fh = await open(path, 'r');
  try {
    const head = Math.min(size, TAG_EDGE_BYTES);
    const tailAt = Math.max(head, size - TAG_EDGE_BYTES);
    for (const [at, len] of [
      [0, head],
      [tailAt, size - tailAt],
    ] as const) {
      const buf = Buffer.alloc(len);
      const { bytesRead } = await fh.read(buf, 0, len, at);
      h.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return h.digest().subarray(0, TAG_BYTES).toString('base64url');
}

function validRecord(v: unknown): ResumeRecord | null {
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  const whole = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (r['v'] !== 1 || typeof r['name'] !== 'string' || !whole(r['size']) || !whole(r['mtimeMs'])) return null;
  if (typeof r['tag'] !== 'string' || !Array.isArray(r['ranges'])) return null;
  const ranges = r['ranges'] as unknown[];
  const size = r['size'];
  const ok = ranges.every(
    (x) => Array.isArray(x) && x.length === 2 && whole(x[0]) && whole(x[1]) && x[0] <= x[1] && x[1] <= size,
  );
  if (!ok) return null;
  return {
    name: r['name'],
    size: r['size'],
    mtimeMs: r['mtimeMs'],
    tag: r['tag'],
    ranges: ranges as Array<[number, number]>,
  };
}

/** The contiguous bytes from 0 that a record claims. */
export function heldPrefix(r: ResumeRecord): number {
  const first = r.ranges.find(([s]) => s === 0);
  return first ? first[1] : 0;
}

/**
 * The partial of `key`, if there is one whose record reads: the record and the bytes really held (the smaller
 * of its range from 0 and the held file's length). A damaged record or a missing file: null.
 */
export async function readResume(dir: string, key: string): Promise<{ record: ResumeRecord; held: number } | null> {
  const p = resumePaths(dir, key);
  try {
    const record = validRecord(JSON.parse(await readFile(p.record, 'utf8')));
    if (!record) return null;
    const length = (await stat(p.held)).size;
    return { record, held: Math.min(heldPrefix(record), length) };
  } catch {
    return null;
  }
}

/** Writes the record (a temporary name, then rename: a reader sees the old one or the new one, whole). */
export async function writeResumeRecord(dir: string, key: string, r: ResumeRecord): Promise<void> {
  const p = resumePaths(dir, key);
  const tmp = `${p.record}.tmp`;
  await writeFile(tmp, JSON.stringify({ v: 1, ...r }), { mode: 0o644 });
  await rename(tmp, p.record);
}

/** Forgets the partial of `key`: the held bytes (unless `heldGone`: the caller removed them) and the record. */
export async function removeResume(dir: string, key: string, heldGone = false): Promise<void> {
  const p = resumePaths(dir, key);
  await unlink(p.record).catch(() => undefined);
  await unlink(`${p.record}.tmp`).catch(() => undefined);
  if (!heldGone) await unlink(p.held).catch(() => undefined);
}

/** A SHA-256 fed with the first `bytes` of the file at `path` (the held prefix), to go on with the new bytes. */
export async function hashPrefix(path: string, bytes: number): Promise<Hash> {
  const h = createHash('sha256');
  if (bytes === 0) return h;
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let at = 0; at < bytes; ) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, bytes - at), at);
      if (bytesRead === 0) throw new Error(`the partial file is shorter than ${bytes} bytes`);
      h.update(buf.subarray(0, bytesRead));
      at += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return h;
}

/** The partial file of `held`, opened (made if missing) and cut to `have` bytes, with their SHA-256 so far. */
export async function openHeld(held: HeldRecord, have: number): Promise<{ fh: FileHandle; path: string; hash: Hash }> {
  const path = held.paths.held;
  // Nothing held: cut to 0 as it is opened (one call fewer per file, which counts for a folder of small ones).
  const flags = fsConstants.O_RDWR | fsConstants.O_CREAT | (have === 0 ? fsConstants.O_TRUNC : 0);
  const fh = await open(path, flags, 0o644);
  try {
    if (have > 0) await fh.truncate(have);
    return { fh, path, hash: await hashPrefix(path, have) };
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
}

/**
 * Removes partials (and stray records) untouched for maxAgeMs: a server's clean-up, at start and then now and
 * then. Returns the names removed.
 */
export function sweepStaleResume(dir: string, maxAgeMs: number, now: number): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(RESUME_PREFIX) || !(name.endsWith(HELD_SUFFIX) || name.includes(RECORD_SUFFIX))) continue;
    try {
      const path = join(dir, name);
      if (now - statSync(path).mtimeMs < maxAgeMs) continue;
      unlinkSync(path);
      removed.push(name);
    } catch {
      // Gone already: nothing to do.
    }
  }
  return removed;
}

/**
 * A resumable sink's bookkeeping: where its partial lives, whose it is, and the record brought up to date as
 * bytes reach the disk (every RECORD_EVERY_BYTES, and when the transfer stops). Writes one record at a time.
 */
export class HeldRecord {
  /** The source's identity; the record is only written once it is known. */
  identity: Omit<ResumeRecord, 'ranges'> | null = null;
  private recorded = -1;
  private busy: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string,
    readonly key: string,
  ) {}

  get paths(): { held: string; record: string } {
    return resumePaths(this.dir, this.key);
  }

  /** The bytes the record last said are held (0 once removed): what a cut transfer kept. */
  get recordedBytes(): number {
    return Math.max(0, this.recorded);
  }

  /** `written` bytes from 0 are on disk: rewrite the record if it lags by RECORD_EVERY_BYTES (or `now`). */
  wrote(written: number, now = false): Promise<void> {
    if (!this.identity || (!now && written - this.recorded < RECORD_EVERY_BYTES) || written === this.recorded)
      return this.busy;
    this.recorded = written;
    const r: ResumeRecord = { ...this.identity, ranges: [[0, written]] };
    this.busy = this.busy.then(() => writeResumeRecord(this.dir, this.key, r)).catch(() => undefined);
    return this.busy;
  }

  /** The partial is complete or worthless: both files go (after any record being written); `heldGone`: removed. */
  async remove(heldGone = false): Promise<void> {
    this.identity = null;
    this.recorded = -1;
    await this.busy;
    await removeResume(this.dir, this.key, heldGone);
  }
}
