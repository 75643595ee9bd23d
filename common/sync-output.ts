/**
 * Synchronous line output that works from any thread. The client's listener
 * thread prints with these so that a line is on the terminal before the next
 * frame is handled, whatever the main thread is doing.
 */
import { writeSync } from 'node:fs';

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of buf; a non-blocking pipe that is full (EAGAIN) is waited on, not dropped. */
export function writeFullySync(fd: number, buf: Uint8Array): void {
  let offset = 0;
  let waits = 0;
  while (offset < buf.length) {
    try {
      offset += writeSync(fd, buf, offset, buf.length - offset);
      waits = 0;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN' && waits < 10_000) {
        waits++;
        Atomics.wait(pause, 0, 0, 1);
        continue;
      }
      if (code === 'EPIPE' || code === 'EAGAIN') return; // reader gone, or stuck for 10 s: drop output, keep running
      throw err;
    }
  }
}

export function writeLineSync(fd: number, line: string): void {
  writeFullySync(fd, Buffer.from(line + '\n', 'utf8'));
}
