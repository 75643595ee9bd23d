/**
 * File data for the receiving side: written in order to a temporary file in the destination's directory, hashed as
 * written, and renamed into place only when size and SHA-256 match. The final name is taken with link(2), which
 * fails if the name exists: an existing file is never overwritten, even one that appeared during the transfer.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { WriteBehind } from './write-behind.js';
import { open, link, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ioFailure } from './io-failure.js';
import type { SinkFinish, SizedSink } from '../engine/connection.js';
import { LftpError } from '../engine/errors.js';
import { openHeld, PART_SUFFIX, type HeldRecord } from './resume-record.js';

export { PART_SUFFIX, sweepPartFiles } from './resume-record.js';

/** Size of a staging buffer: data is copied in and written out a buffer (or what has gathered) at a time. */
const STAGING_BYTES = 1 << 20;

export type SinkOutcome =
  | { ok: true; size: number; sha256: string; path: string }
  | { ok: false; code: LftpError['code']; message: string };

/**
 * Received data is copied into a staging buffer rather than queued as is: a datagram's buffer then dies young (queued
 * ones lived until written and were promoted to the old generation: garbage collection took a tenth of the
 * receiver's time), and hashing and writing take one call per buffer, not per packet. Written buffers are reused:
 * fresh memory costs a page fault per 4 KiB on first touch. Written data is flushed as it goes (write-behind.ts).
 */
export class FileSink implements SizedSink {
  /** Full staging buffers (or their unwritten tails) waiting for the writer, oldest first. */
  private full: Buffer[] = [];
  private staging: Buffer | null = null;
  /** staging[0, stagedFrom) is written or being written; staging[stagedFrom, fill) waits. */
  private stagedFrom = 0;
  private fill = 0;
  private stagingAt = 0; // the file offset of staging[0]
  /** Retired staging buffers and the file offset where their data ends: reusable once written that far. */
  private readonly retired: Array<{ buf: Buffer; end: number }> = [];
  private readonly spare: Buffer[] = [];
  private writing = false;
  private written = 0;
  private pushed = 0;
  private hash: Hash = createHash('sha256');
  /** A resumable sink cut to 0 (the sender starts over): writes wait for it. */
  private restarting: Promise<void> | null = null;
  private error: Error | null = null;
  private drainWaiters: Array<() => void> = [];
  private expectedSize = -1;
  private mss = 1;
  private closed = false;
  private readonly behind: WriteBehind;

  private constructor(
    private readonly fh: FileHandle,
    readonly tempPath: string,
    readonly finalPath: string,
    private readonly onDrain: () => void,
    private readonly onError: (err: Error) => void,
    /** A resumable sink's record (resume-record.ts), and the bytes held from an earlier try with their hash. */
    readonly held: HeldRecord | null = null,
    prefix?: { bytes: number; hash: Hash },
  ) {
    this.behind = new WriteBehind(fh, (err) => this.fail(err));
    if (prefix) {
      this.written = this.pushed = this.stagingAt = prefix.bytes;
      this.hash = prefix.hash;
    }
  }

  /**
   * A sink that keeps what it received when the transfer is cut (docs/LFTP.md, "Resume"): the partial of `held`,
   * continued after its first `have` bytes (hashed again), or from 0 if the sender starts over (setExpectedSize).
   */
  static async resumable(
    finalPath: string,
    held: HeldRecord,
    have: number,
    onDrain: () => void,
    onError: (err: Error) => void,
  ): Promise<FileSink> {
    const { fh, path, hash } = await openHeld(held, have);
    return new FileSink(fh, path, finalPath, onDrain, onError, held, { bytes: have, hash });
  }

  /**
   * Creates the temporary file next to finalPath (same file system, so link() works). Its name does not
   * contain the final one: a valid name of 255 bytes would make it longer than a file name may be.
   */
  static async create(finalPath: string, onDrain: () => void, onError: (err: Error) => void): Promise<FileSink> {
    const temp = join(dirname(finalPath), `.upload-${randomBytes(8).toString('hex')}${PART_SUFFIX}`);
    const fh = await open(temp, 'wx', 0o644);
    return new FileSink(fh, temp, finalPath, onDrain, onError);
  }

  /** `from`: where the sender's data starts; a resumable sink holding more starts over from 0. */
  setExpectedSize(size: number, mss: number, from = 0): void {
    this.expectedSize = size;
    this.mss = Math.max(1, mss);
    if (from === this.written || this.pushed !== this.written) return;
    if (from !== 0) throw new Error(`FileSink: data from ${from}, but ${this.written} bytes are held`);
    this.written = this.pushed = this.stagingAt = 0;
    this.hash = createHash('sha256');
    this.restarting = this.fh.truncate(0).then(
      () => {
        this.restarting = null;
        this.writeMore();
      },
      (err: Error) => this.fail(err),
    );
  }

  /** Bytes received and not yet written. */
  get backlogBytes(): number {
    return this.pushed - this.written;
  }

  /** The backlog in packets of the transfer's size, for the receive window. */
  get backlogPackets(): number {
    return Math.ceil(this.backlogBytes / this.mss);
  }

  push(_index: number, data: Buffer): void {
    if (this.closed || this.error) return;
    this.pushed += data.length;
    let from = 0;
    while (from < data.length) {
      if (this.staging === null || this.fill === this.staging.length) this.nextStaging();
      const n = data.copy(this.staging!, this.fill, from);
      this.fill += n;
      from += n;
    }
    this.writeMore();
  }

  /** Retires a full staging buffer (its unwritten part queued for the writer) and starts an empty one. */
  private nextStaging(): void {
    if (this.staging !== null) {
      this.hash.update(this.staging.subarray(0, this.fill));
      if (this.fill > this.stagedFrom) this.full.push(this.staging.subarray(this.stagedFrom, this.fill));
      this.stagingAt += this.fill;
      this.retired.push({ buf: this.staging, end: this.stagingAt });
      this.recycle();
    }
    // What is left of the file if less than a buffer: a folder's 4 KiB files took 1 MiB each, and GC ran every few.
    const left = this.expectedSize < 0 ? STAGING_BYTES : Math.max(this.expectedSize - this.stagingAt, 4096);
    this.staging = this.spare.pop() ?? Buffer.allocUnsafe(Math.min(STAGING_BYTES, left));
    this.stagedFrom = 0;
    this.fill = 0;
  }

  /** Retired buffers whose data is all on disk become spares (two are enough: one filling, one writing). */
  private recycle(): void {
    while (this.retired.length > 0 && this.retired[0]!.end <= this.written) {
      const { buf } = this.retired.shift()!;
      if (this.spare.length < 2) this.spare.push(buf);
    }
  }

  /** Takes the next piece for the writer: a retired buffer first, else what gathered in the current one. */
  private takeNext(): Buffer | null {
    const next = this.full.shift();
    if (next !== undefined) return next;
    if (this.staging === null || this.fill === this.stagedFrom) return null;
    const piece = this.staging.subarray(this.stagedFrom, this.fill);
    this.stagedFrom = this.fill;
    return piece;
  }

  private writeMore(): void {
    if (this.writing || this.closed || this.restarting) return;
    const piece = this.takeNext();
    if (piece === null) return;
    this.writing = true;
    this.fh.write(piece, 0, piece.length, this.written).then(
      ({ bytesWritten }) => {
        this.writing = false;
        this.written += bytesWritten;
        this.recycle();
        this.behind.wrote(this.written);
        void this.held?.wrote(this.written);
        if (bytesWritten < piece.length) {
          // A short write (a full disk does this first): put the rest back; the next write reports why.
          this.full.unshift(piece.subarray(bytesWritten));
          this.writeMore();
          return;
        }
        if (this.backlogBytes > 0) this.writeMore();
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
    if (this.error || (!this.writing && this.backlogBytes === 0)) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Flushes, checks, and moves the file into place; removes the temporary file on any failure.
   * Without a sender's SHA-256 (HTTP uploads: TCP already checks the bytes) only the size is checked.
   */
  async finish(expected: Omit<SinkFinish, 'sha256'> & { sha256?: Buffer }): Promise<SinkOutcome> {
    await this.drained();
    if (this.error) {
      await this.drop();
      return this.failed(`cannot write ${this.label}`, this.error);
    }
    if (this.staging !== null) this.hash.update(this.staging.subarray(0, this.fill));
    this.staging = null;
    const digest = this.hash.digest();
    try {
      await this.behind.syncAndClose();
    } catch (err) {
      await this.drop();
      return this.failed(`cannot write ${this.label}`, err);
    }
    this.closed = true;
    if (this.written !== expected.size || (this.expectedSize >= 0 && this.written !== this.expectedSize)) {
      await this.drop();
      return {
        ok: false,
        code: 'SHA256_MISMATCH',
        message: `size mismatch: received ${this.written} bytes, expected ${expected.size}`,
      };
    }
    if (expected.sha256 && !digest.equals(expected.sha256)) {
      await this.drop();
      return {
        ok: false,
        code: 'SHA256_MISMATCH',
        message: `SHA-256 mismatch: received ${digest.toString('hex')}, sender has ${expected.sha256.toString('hex')}`,
      };
    }
    try {
      await link(this.tempPath, this.finalPath);
    } catch (err) {
      await this.drop();
      const code = (err as NodeJS.ErrnoException).code;
      return code === 'EEXIST'
        ? { ok: false, code: 'EXISTS', message: `${this.label} appeared during the transfer; not overwritten` }
        : this.failed(`cannot store ${this.label}`, err);
    }
    await unlink(this.tempPath).catch(() => undefined);
    await this.held?.remove(true); // its held partial is tempPath, just removed
    return { ok: true, size: this.written, sha256: digest.toString('hex'), path: this.finalPath };
  }

  /** The final name, quoted, for messages the peer reads (never the server's path). */
  private get label(): string {
    return JSON.stringify(basename(this.finalPath));
  }

  private failed(what: string, err: unknown): SinkOutcome {
    const e = ioFailure(what, err);
    return { ok: false, code: e.code, message: e.message };
  }

  /**
   * Abandons the transfer: closes and deletes the temporary file; a resumable sink keeps what reached the disk
   * and records it, for the next try (unless writing failed: a full disk keeps nothing).
   */
  async discard(): Promise<void> {
    if (this.held?.identity && !this.closed && !this.error) {
      this.closed = true;
      this.staging = null;
      await this.behind.close();
      await this.held.wrote(this.written, true);
      return;
    }
    await this.drop();
  }

  /** Closes and deletes the temporary file (a resumable sink's partial and record too). */
  private async drop(): Promise<void> {
    this.closed = true;
    this.full = [];
    this.staging = null;
    this.retired.length = 0;
    this.spare.length = 0;
    await this.behind.close();
    await unlink(this.tempPath).catch(() => undefined);
    await this.held?.remove();
  }
}
