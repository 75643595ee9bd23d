/**
 * An upload's body from the request into a FileSink as it arrives: the
 * request paused while the disk is behind, cut off past the announced size or
 * after a silence, and stopped by a disk that fails. What became of it is
 * the caller's to judge and answer (http-files.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { FileSink } from '../../common/lftp/node/file-sink.js';
import { ioFailure } from '../../common/lftp/node/io-failure.js';

/** An upload that sends nothing for this long is abandoned. */
const UPLOAD_IDLE_MS = 30_000;
/** Bytes waiting for the disk before the request is paused (backpressure on the browser). */
const UPLOAD_BACKLOG_BYTES = 4 << 20;

export interface ReceivedBody {
  sink: FileSink;
  /** The body ended, with exactly the announced size. */
  complete: boolean;
  received: number;
  /** Why the request was cut off (more than announced, silent too long), if it was. */
  cut: Error | null;
  /** The disk's refusal (full, read-only), if it refused. */
  diskFailure: Error | null;
}

/** Opens the sink the body goes into (a new temporary file, or a resumable partial), with its two callbacks. */
export type OpenSink = (onDrain: () => void, onError: (err: Error) => void) => Promise<FileSink>;

/**
 * Reads the body, `size` bytes, into the sink `open` makes. `ended` settles once the
 * request's body was read to its end (true) or the request died first
 * (false). Throws the LftpError of a sink that cannot be created.
 */
export async function receiveBody(
  req: IncomingMessage,
  target: { name: string; size: number; open: OpenSink },
  ended: Promise<boolean>,
): Promise<ReceivedBody> {
  const { size } = target;
  // A disk that fails (full, read-only) ends the upload with an answer: the rest of the body is read and dropped
  // (lingering, lingering-close.ts), where cutting the connection would leave the client with a reset and no reason.
  let diskFailure: Error | null = null;
  let cut: Error | null = null;
  let stop: () => void = () => undefined;
  let sink: FileSink;
  try {
    sink = await target.open(
      () => {
        if (sink.backlogBytes < UPLOAD_BACKLOG_BYTES / 2 && req.isPaused()) req.resume();
      },
      (err) => {
        diskFailure ??= err;
        stop();
      },
    );
  } catch (err) {
    throw ioFailure(`cannot create ${JSON.stringify(target.name)}`, err);
  }
  let received = 0;
  let index = 0;
  const complete = await new Promise<boolean>((resolve) => {
    stop = () => resolve(false);
    req.setTimeout(UPLOAD_IDLE_MS, () => {
      cut ??= new Error(`nothing received for ${UPLOAD_IDLE_MS / 1000}s`);
      req.destroy();
    });
    req.on('data', (chunk: Buffer) => {
      if (diskFailure) return;
      received += chunk.length;
      if (received > size) {
        cut ??= new Error(`more than the announced ${size} bytes`);
        req.destroy();
        return;
      }
      sink.push(index++, chunk);
      if (sink.backlogBytes >= UPLOAD_BACKLOG_BYTES) req.pause();
    });
    void ended.then((whole) => resolve(whole && received === size));
    req.resume();
  });
  return { sink, complete, received, cut, diskFailure };
}
