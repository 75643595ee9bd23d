/**
 * File data for the sending side: read ahead asynchronously in large reads,
 * cut into packets, hashed in order as read, released once acknowledged. At
 * most the send window plus two reads' worth of packets are held, so a 1 GiB
 * file never sits in memory.
 *
 * Reads are large and two are kept in flight because a read's completion waits
 * for the event loop, which is busy sending: with one small read at a time
 * (64 packets) the sender spent most of a 256 MiB transfer waiting for data
 * with a full congestion window unused.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { HashedSource } from '../engine/connection.js';
import { hashPrefix } from './resume-record.js';

/** Bytes asked for per read (rounded down to whole packets). */
export const READ_BYTES = 1 << 20;
/** Reads outstanding at once. */
export const READS_IN_FLIGHT = 2;

interface DoneRead {
  first: number;
  count: number;
  buf: Buffer;
}

/** Released blocks kept for the next reads. */
const SPARE_BLOCKS = READS_IN_FLIGHT + 1;

/*
 * Blocks are reused once released: reading into fresh memory cost the
 * kernel's copy a page fault per 4 KiB (in this VM, a third of the sender's
 * CPU went to copying file data into new buffers). A released block may still
 * be referenced by a datagram the socket has queued but not sent, so the
 * caller says when reuse is safe (no sends queued).
 *
 * Reads start at multiples of packetsPerRead, so packet i lives in block
 * floor(i / packetsPerRead). Packets are cut from their block when asked for
 * and not kept: a kept Buffer per packet lived as long as the window and was
 * promoted to the old generation, where collecting it cost far more.
 */

export class FileSource implements HashedSource {
  readonly totalPackets: number;
  /** Read blocks by block number, hashed, not yet released. */
  private readonly blocks = new Map<number, Buffer>();
  private readonly spare: Buffer[] = [];
  private readonly packetsPerRead: number;
  /** Bytes of a whole block (every read but the file's tail): only these are reused. */
  private readonly blockBytes: number;
  /** Packets read beyond the oldest unacknowledged one, at most. */
  private readonly maxAhead: number;
  /** Next packet index to ask the file for. */
  private requested = 0;
  /** Next packet index to hash and publish (reads may complete out of order). */
  private published = 0;
  private readonly completed = new Map<number, DoneRead>();
  private reads = 0;
  private released = 0;
  private readonly hash: Hash;
  private digest: Buffer | null = null;
  private closed = false;
  private failed = false;

  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    readonly mss: number,
    window: number,
    private readonly onReady: () => void,
    private readonly onError: (err: Error) => void,
    private readonly canReuse: () => boolean,
    /** A resumed transfer's first byte (packet 0 starts here), and the SHA-256 of the bytes before it. */
    private readonly from = 0,
    hash: Hash = createHash('sha256'),
  ) {
    this.hash = hash;
    this.totalPackets = Math.ceil((size - from) / mss);
    this.packetsPerRead = Math.max(1, Math.floor(READ_BYTES / mss));
    this.blockBytes = this.packetsPerRead * mss;
    this.maxAhead = window + this.packetsPerRead * READS_IN_FLIGHT;
    if (this.totalPackets === 0) this.digest = this.hash.digest();
  }

  /**
   * Opens the file; `size` must be what the peer was told (the file is read to exactly that length).
   * `window` is the most packets the sender can have unacknowledged; reads run that far ahead plus two reads.
   * `canReuse` says whether released data is no longer referenced by queued sends (default: never reuse).
   * `from`: a resumed transfer sends from this byte on; the bytes before it are read only to be hashed.
   */
  static async open(
    path: string,
    size: number,
    mss: number,
    window: number,
    onReady: () => void,
    onError: (err: Error) => void,
    canReuse: () => boolean = () => false,
    from = 0,
  ): Promise<FileSource> {
    const hash = await hashPrefix(path, from);
    const fh = await open(path, 'r');
    const src = new FileSource(fh, size, mss, window, onReady, onError, canReuse, from, hash);
    src.fill();
    return src;
  }

  /** Packets read so far (for diagnostics). */
  get readAhead(): number {
    return this.published;
  }

  ready(index: number): boolean {
    if (index >= this.released && index < this.published) return true;
    this.fill();
    return false;
  }

  chunk(index: number): Buffer | null {
    if (!this.ready(index)) return null;
    const block = Math.floor(index / this.packetsPerRead);
    const buf = this.blocks.get(block)!;
    const at = (index - block * this.packetsPerRead) * this.mss;
    return buf.subarray(at, Math.min(at + this.mss, buf.length));
  }

  release(below: number): void {
    if (below <= this.released) return;
    // A block goes once every packet in it is acknowledged (most ACKs free none: ask canReuse only when one does).
    for (let b = Math.floor(this.released / this.packetsPerRead); (b + 1) * this.packetsPerRead <= below; b++) {
      const block = this.blocks.get(b);
      this.blocks.delete(b);
      if (
        block !== undefined &&
        block.length === this.blockBytes &&
        this.spare.length < SPARE_BLOCKS &&
        this.canReuse()
      )
        this.spare.push(block);
    }
    this.released = below;
    this.fill();
  }

  sha256(): Buffer | null {
    return this.digest;
  }

  private fill(): void {
    while (this.reads < READS_IN_FLIGHT && !this.closed && !this.failed && this.requested < this.totalPackets) {
      const room = this.maxAhead - (this.requested - this.released);
      // Wait for room for a whole read unless it is the file's tail: many small reads cost more than they gain.
      const count = Math.min(this.packetsPerRead, this.totalPackets - this.requested);
      if (room < count) return;
      this.startRead(this.requested, count);
      this.requested += count;
    }
  }

  private startRead(first: number, count: number): void {
    this.reads++;
    const offset = this.from + first * this.mss;
    const length = Math.min(count * this.mss, this.size - offset);
    const buf =
      length === this.blockBytes ? (this.spare.pop() ?? Buffer.allocUnsafe(length)) : Buffer.allocUnsafe(length);
    this.fh.read(buf, 0, length, offset).then(
      ({ bytesRead }) => {
        this.reads--;
        if (this.closed || this.failed) return;
        if (bytesRead !== length) {
          this.failed = true;
          this.onError(new Error(`file shrank while being sent (read ${bytesRead} of ${length} bytes at ${offset})`));
          return;
        }
        this.completed.set(first, { first, count, buf });
        this.publish();
        this.fill();
      },
      (err: Error) => {
        this.reads--;
        if (this.closed || this.failed) return;
        this.failed = true;
        this.onError(err);
      },
    );
  }

  /** Hashes and exposes completed reads strictly in file order. */
  private publish(): void {
    let any = false;
    for (let r = this.completed.get(this.published); r !== undefined; r = this.completed.get(this.published)) {
      this.completed.delete(r.first);
      this.hash.update(r.buf);
      this.blocks.set(r.first / this.packetsPerRead, r.buf);
      this.published += r.count;
      any = true;
    }
    if (this.published >= this.totalPackets && this.digest === null) this.digest = this.hash.digest();
    if (any) this.onReady();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.blocks.clear();
    this.spare.length = 0;
    this.completed.clear();
    await this.fh.close().catch(() => undefined);
  }
}
