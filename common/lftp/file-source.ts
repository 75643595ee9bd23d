/**
 * File data for the sending side: read ahead asynchronously in large reads,
 * cut into packets, hashed in order as read, released once acknowledged. At
 * most `maxAhead` packets are held, so a 1 GiB file never sits in memory.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { HashedSource } from './connection.js';

const READ_BATCH = 64;

export class FileSource implements HashedSource {
  readonly totalPackets: number;
  private readonly chunks = new Map<number, Buffer>();
  private readIndex = 0;
  private released = 0;
  private reading = false;
  private readonly hash: Hash = createHash('sha256');
  private digest: Buffer | null = null;
  private closed = false;

  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    readonly mss: number,
    private readonly maxAhead: number,
    private readonly onReady: () => void,
    private readonly onError: (err: Error) => void,
  ) {
    this.totalPackets = Math.ceil(size / mss);
    if (size === 0) this.digest = this.hash.digest();
  }

  /** Opens the file; `size` must be what the peer was told (the file is read to exactly that length). */
  static async open(path: string, size: number, mss: number, maxAhead: number, onReady: () => void, onError: (err: Error) => void): Promise<FileSource> {
    const fh = await open(path, 'r');
    const src = new FileSource(fh, size, mss, Math.max(maxAhead, READ_BATCH * 2), onReady, onError);
    src.fill();
    return src;
  }

  chunk(index: number): Buffer | null {
    const c = this.chunks.get(index);
    if (c === undefined) this.fill();
    return c ?? null;
  }

  release(below: number): void {
    for (let i = this.released; i < below; i++) this.chunks.delete(i);
    if (below > this.released) this.released = below;
    this.fill();
  }

  sha256(): Buffer | null {
    return this.digest;
  }

  private fill(): void {
    if (this.reading || this.closed || this.readIndex >= this.totalPackets) return;
    if (this.readIndex - this.released >= this.maxAhead) return;
    this.reading = true;
    const count = Math.min(READ_BATCH, this.totalPackets - this.readIndex, this.maxAhead - (this.readIndex - this.released));
    const offset = this.readIndex * this.mss;
    const length = Math.min(count * this.mss, this.size - offset);
    const buf = Buffer.allocUnsafe(length);
    this.fh.read(buf, 0, length, offset).then(
      ({ bytesRead }) => {
        this.reading = false;
        if (this.closed) return;
        if (bytesRead !== length) {
          this.onError(new Error(`file shrank while being sent (read ${bytesRead} of ${length} bytes at ${offset})`));
          return;
        }
        this.hash.update(buf);
        for (let k = 0; k < count; k++) this.chunks.set(this.readIndex + k, buf.subarray(k * this.mss, Math.min((k + 1) * this.mss, length)));
        this.readIndex += count;
        if (this.readIndex >= this.totalPackets) this.digest = this.hash.digest();
        this.onReady();
        this.fill();
      },
      (err: Error) => {
        this.reading = false;
        if (!this.closed) this.onError(err);
      },
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    this.chunks.clear();
    await this.fh.close().catch(() => undefined);
  }
}
