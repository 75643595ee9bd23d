/**
 * A connection's outgoing frames, held by reference until the socket has
 * room for them. A broadcast is encoded once; every connection's queue holds
 * the same Buffer, so a room of n sessions costs one copy of a message, not n
 * (docs/ARCHITECTURE.md, "Output memory").
 *
 * Only a window's worth (the socket's high-water mark) is handed to the
 * socket at a time; the rest waits here and moves on as the socket drains. Within what is
 * handed over, runs of small frames are joined into one buffer (a Writable
 * keeps a request object per write, which costs more than a small frame) and
 * larger frames go as they are, in one corked write.
 *
 * Every byte queued here or in the socket is charged to the worker's output
 * budget (output-budget.ts), which drops the slowest readers first when the
 * worker's total passes its limit.
 */
import type { Flushable, TurnBatcher } from './turn-batcher.js';
import type { OutputBudget } from './output-budget.js';

/** Frames smaller than this are joined with their neighbours before they are written. */
const SMALL_FRAME = 512;

/** The socket end of the queue: the transport says how a batch goes out. */
export interface OutputSink {
  /** Bytes the socket holds that the kernel has not taken yet. */
  readonly buffered: number;
  /**
   * The window: bytes in the socket's own buffer at which the queue stops
   * handing frames over. It is the socket's high-water mark (64 KiB on Node
   * 22, 16 KiB before), because only a socket holding that much has answered
   * a write with false, so that its 'drain' event will come. (A fixed 16 KiB
   * on Node 22 left a socket holding 16-64 KiB with no 'drain' to come: what
   * was queued behind waited for the connection's next write, a heartbeat.)
   */
  readonly highWaterMark: number;
  readonly destroyed: boolean;
  /** True when frames may be joined into one buffer (a byte stream); false when each must stay a message. */
  readonly joinsFrames: boolean;
  /** Writes the pieces in order, as one system call where the transport can. */
  writeBatch(pieces: Buffer[]): void;
}

export class OutputQueue implements Flushable {
  private frames: Buffer[] = [];
  private head = 0;
  /** Bytes waiting here (not yet handed to the socket). */
  private bytes = 0;
  private accepted = 0;
  /** What this queue has charged to the budget: bytes here plus those the socket held when last looked at. */
  private charged = 0;
  private scheduled = false;

  /** Told what is still waiting after each flush: what the peer has not taken in time. */
  afterFlush: (waiting: number) => void = () => undefined;

  constructor(
    private readonly sink: OutputSink,
    private readonly batcher: TurnBatcher,
    private readonly budget: OutputBudget,
  ) {}

  /** Bytes waiting, here and in the socket. */
  get queuedBytes(): number {
    return this.bytes + (this.sink.destroyed ? 0 : this.sink.buffered);
  }

  /** Every byte ever accepted, and how many of them the kernel has taken. */
  get progress(): { accepted: number; taken: number } {
    return { accepted: this.accepted, taken: Math.max(0, this.accepted - this.queuedBytes) };
  }

  write(frame: Buffer): void {
    this.frames.push(frame);
    this.bytes += frame.length;
    this.accepted += frame.length;
    this.charged += frame.length;
    this.budget.charge(frame.length);
    if (!this.scheduled) {
      this.scheduled = true;
      this.batcher.add(this);
    }
  }

  /** Hands the socket what its window allows; called at the end of a turn, and by the transport when its socket drains. */
  flush(): void {
    this.scheduled = false;
    if (this.sink.destroyed) return this.discard();
    // Until the socket holds a window: then its write has returned false, and its 'drain' brings us back.
    // (The kernel often takes a batch at once, leaving the socket empty: then the next batch goes now.)
    const window = this.sink.highWaterMark;
    for (
      let room = window - this.sink.buffered;
      room > 0 && this.head < this.frames.length;
      room = window - this.sink.buffered
    ) {
      this.sink.writeBatch(this.takeBatch(room));
      if (this.sink.destroyed) return this.discard();
    }
    this.compact();
    this.settle();
    this.afterFlush(this.charged);
  }

  /** Frames for up to `room` bytes (at least one frame), small ones joined where the sink allows. */
  private takeBatch(room: number): Buffer[] {
    const pieces: Buffer[] = [];
    let small: Buffer[] = [];
    let smallBytes = 0;
    const joinSmall = () => {
      if (small.length > 0) pieces.push(small.length === 1 ? small[0]! : Buffer.concat(small, smallBytes));
      small = [];
      smallBytes = 0;
    };
    while (this.head < this.frames.length && room > 0) {
      const f = this.frames[this.head++]!;
      room -= f.length;
      this.bytes -= f.length;
      if (f.length < SMALL_FRAME && this.sink.joinsFrames) {
        small.push(f);
        smallBytes += f.length;
      } else {
        joinSmall();
        pieces.push(f);
      }
    }
    joinSmall();
    return pieces;
  }

  /** Hands over everything at once (before an orderly close: what is queued goes before the FIN). */
  drainAll(): void {
    const rest = this.frames.slice(this.head);
    this.frames = [];
    this.head = 0;
    this.bytes = 0;
    if (rest.length > 0 && !this.sink.destroyed) this.sink.writeBatch(rest);
    this.settle();
  }

  /** Forgets what has not been handed to the socket (a connection being dropped, or gone). */
  discard(): void {
    this.frames = [];
    this.head = 0;
    this.bytes = 0;
    this.settle();
  }

  /**
   * Brings the budget up to date with what the kernel has taken from the
   * socket since the last look (a socket's buffer only shrinks between
   * turns, so looking at each flush, drain and tick is exact enough).
   */
  settle(): void {
    const now = this.queuedBytes;
    if (now !== this.charged) this.budget.charge(now - this.charged);
    this.charged = now;
  }

  private compact(): void {
    if (this.head === this.frames.length) {
      this.frames = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
  }
}
