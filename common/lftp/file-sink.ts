/**
 * File data for the receiving side: written in order to a temporary file in
 * the destination's directory, hashed as written, and renamed into place only
 * when size and SHA-256 match. The final name is taken with link(2), which
 * fails if the name exists: an existing file is never overwritten, even one
 * that appeared during the transfer.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { open, link, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { SinkFinish, SizedSink } from './connection.js';
import { LftpError } from './errors.js';

/** Bytes handed to one writev(2). */
const WRITE_BATCH_BYTES = 1 << 20;

export type SinkOutcome = { ok: true; size: number; sha256: string; path: string } | { ok: false; code: LftpError['code']; message: string };

export class FileSink implements SizedSink {
  private queue: Buffer[] = [];
  private writing = false;
  private written = 0;
  private readonly hash: Hash = createHash('sha256');
  private error: Error | null = null;
  private drainWaiters: Array<() => void> = [];
  private expectedSize = -1;
  private closed = false;

  private constructor(
    private readonly fh: FileHandle,
    readonly tempPath: string,
    readonly finalPath: string,
    private readonly onDrain: () => void,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Creates the temporary file next to finalPath (same file system, so link() works). */
  static async create(finalPath: string, onDrain: () => void, onError: (err: Error) => void): Promise<FileSink> {
    const temp = join(dirname(finalPath), `.${basename(finalPath)}.${randomBytes(4).toString('hex')}.lftp-part`);
    const fh = await open(temp, 'wx', 0o644);
    return new FileSink(fh, temp, finalPath, onDrain, onError);
  }

  setExpectedSize(size: number): void {
    this.expectedSize = size;
  }

  get backlogPackets(): number {
    return this.queue.length;
  }

  push(_index: number, data: Buffer): void {
    if (this.closed || this.error) return;
    this.queue.push(data);
    this.hash.update(data);
    this.writeMore();
  }

  private writeMore(): void {
    if (this.writing || this.queue.length === 0 || this.closed) return;
    this.writing = true;
    const batch: Buffer[] = [];
    let bytes = 0;
    while (this.queue.length > 0 && bytes < WRITE_BATCH_BYTES) {
      const b = this.queue.shift()!;
      batch.push(b);
      bytes += b.length;
    }
    this.fh.writev(batch, this.written).then(
      ({ bytesWritten }) => {
        this.writing = false;
        this.written += bytesWritten;
        if (bytesWritten < bytes) {
          // A short write (a full disk does this first): put the rest back; the next write reports why.
          const rest = Buffer.concat(batch).subarray(bytesWritten);
          this.queue.unshift(rest);
          this.writeMore();
          return;
        }
        if (this.queue.length > 0) this.writeMore();
        else {
          for (const w of this.drainWaiters.splice(0)) w();
        }
        this.onDrain();
      },
      (err: Error) => {
        this.writing = false;
        this.fail(err);
      },
    );
  }

  private fail(err: Error): void {
    if (this.error) return;
    this.error = err;
    for (const w of this.drainWaiters.splice(0)) w();
    this.onError(err);
  }

  private drained(): Promise<void> {
    if (this.error || (!this.writing && this.queue.length === 0)) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Flushes, checks, and moves the file into place; removes the temporary file on any failure.
   * Without a sender's SHA-256 (HTTP uploads: TCP already checks the bytes) only the size is checked.
   */
  async finish(expected: Omit<SinkFinish, 'sha256'> & { sha256?: Buffer }): Promise<SinkOutcome> {
    await this.drained();
    if (this.error) {
      await this.discard();
      return { ok: false, code: 'IO_ERROR', message: `cannot write ${this.finalPath}: ${this.error.message}` };
    }
    const digest = this.hash.digest();
    try {
      await this.fh.sync();
      await this.fh.close();
    } catch (err) {
      await this.discard();
      return { ok: false, code: 'IO_ERROR', message: `cannot write ${this.finalPath}: ${(err as Error).message}` };
    }
    this.closed = true;
    if (this.written !== expected.size || (this.expectedSize >= 0 && this.written !== this.expectedSize)) {
      await this.discard();
      return { ok: false, code: 'SHA256_MISMATCH', message: `size mismatch: received ${this.written} bytes, expected ${expected.size}` };
    }
    if (expected.sha256 && !digest.equals(expected.sha256)) {
      await this.discard();
      return { ok: false, code: 'SHA256_MISMATCH', message: `SHA-256 mismatch: received ${digest.toString('hex')}, sender has ${expected.sha256.toString('hex')}` };
    }
    try {
      await link(this.tempPath, this.finalPath);
    } catch (err) {
      await this.discard();
      const code = (err as NodeJS.ErrnoException).code;
      return code === 'EEXIST'
        ? { ok: false, code: 'EXISTS', message: `${this.finalPath} appeared during the transfer; not overwritten` }
        : { ok: false, code: 'IO_ERROR', message: `cannot store ${this.finalPath}: ${(err as Error).message}` };
    }
    await unlink(this.tempPath).catch(() => undefined);
    return { ok: true, size: this.written, sha256: digest.toString('hex'), path: this.finalPath };
  }

  /** Abandons the transfer: closes and deletes the temporary file. */
  async discard(): Promise<void> {
    this.closed = true;
    this.queue = [];
    await this.fh.close().catch(() => undefined);
    await unlink(this.tempPath).catch(() => undefined);
  }
}
