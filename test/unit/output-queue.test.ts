/**
 * The output queue's window is the socket's high-water mark: it stops handing
 * frames over only once the socket has answered a write with false, so that
 * the socket's 'drain' brings it back. (With a fixed 16 KiB on Node 22, whose
 * sockets answer false only at 64 KiB, a socket holding 16-64 KiB had no
 * 'drain' to come, and what was queued behind waited for the next write.)
 */
import { describe, expect, it } from 'vitest';
import { OutputQueue, type OutputSink } from '../../server/chat/output-queue.js';
import { OutputBudget } from '../../server/chat/output-budget.js';
import { TurnBatcher } from '../../server/chat/turn-batcher.js';

/** A socket as Node's Writable behaves: it holds what the kernel has not taken; a write answers false at the mark. */
class Socket implements OutputSink {
  buffered = 0;
  readonly destroyed = false;
  readonly joinsFrames = true;
  /** Set when a write answered false: a 'drain' will come once the kernel has taken everything. */
  needDrain = false;
  readonly written: number[] = [];
  constructor(readonly highWaterMark: number) {}
  writeBatch(pieces: Buffer[]): void {
    for (const p of pieces) {
      this.buffered += p.length;
      this.written.push(p.length);
      if (this.buffered >= this.highWaterMark) this.needDrain = true;
    }
  }
}

describe('OutputQueue', () => {
  it('hands frames over until the socket answers false, so that a drain is always coming while frames wait', () => {
    const socket = new Socket(64 * 1024);
    const queue = new OutputQueue(socket, new TurnBatcher(), new OutputBudget(1 << 30, () => undefined));
    const frames = [40_000, 40_000, 40_000].map((n) => Buffer.alloc(n));
    for (const f of frames) queue.write(f);
    queue.flush(); // the kernel takes nothing
    expect(socket.written).toEqual([40_000, 40_000]); // 80,000 held: past the mark, the second write answered false
    expect(socket.needDrain).toBe(true);
    expect(queue.queuedBytes).toBe(120_000);
    socket.buffered = 0; // the kernel took it all: 'drain'
    socket.needDrain = false;
    queue.flush();
    expect(socket.written).toEqual([40_000, 40_000, 40_000]);
    expect(queue.queuedBytes).toBe(40_000);
  });
});
