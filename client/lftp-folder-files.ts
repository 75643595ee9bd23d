/**
 * A folder's files over LFTP (docs/LFTP.md, "Folders"): up to FILES_AT_ONCE in flight at once (and at most
 * BYTES_AT_ONCE of them together), started in the manifest's order, each its own transfer (its connection id,
 * handshake, resume and SHA-256), all on one socket shared by the folder. One at a time, a 4 KiB file spent most
 * of its time waiting: for its handshake's round trip, the server's checks and file opening, the receiver's fsync
 * and link. In flight together, those waits overlap. The first file that fails stops the others (a get keeps
 * their partials, a server a post's) and is the folder's error.
 */
import { folderTotals, type FolderFile, type FolderManifest } from '../common/lftp/node/folder-manifest.js';
import { SharedEndpoint } from '../common/lftp/node/shared-endpoint.js';
import { transfer } from './lftp-client.js';
import type { FolderOptions, FolderResult } from './lftp-transfer-options.js';

/**
 * Files of one folder in flight at once. Enough to hide the waits of small files on loopback; few enough to take
 * half of a standalone server's 8 transfers at once (--max-transfers). A chat server's worker has 4: small files
 * hold them a few ms each, and a request queued meanwhile takes the first one free (the queue is in order).
 */
export const FILES_AT_ONCE = 4;

/**
 * The most bytes of files in flight together: a file that would go past it waits for room, or to go alone. A big
 * file gains nothing from company (one transfer fills the path; its handshake is small beside its data), and
 * one at a time it holds one of a server's transfer slots, not four (a chat server has 4 per worker): files of
 * up to 1 MiB go four at once, files of 4 MiB and more one after another.
 */
export const BYTES_AT_ONCE = 4 * 2 ** 20;

/** What the folder's files have moved so far, for its one progress bar. */
class FolderProgress {
  private readonly started = Date.now();
  private readonly inFlight = new Set<{ bytes: number; from: number }>();
  done: number;
  resumed: number;
  retransmissions = 0;

  constructor(
    private readonly total: number,
    held: number,
    private readonly onProgress: FolderOptions['onProgress'],
  ) {
    this.done = held;
    this.resumed = held;
  }

  get elapsedMs(): number {
    return Date.now() - this.started;
  }

  /** A file under way: its progress, counted until it ends. */
  begin(): { bytes: number; from: number } {
    const slot = { bytes: 0, from: 0 };
    this.inFlight.add(slot);
    return slot;
  }

  end(slot: { bytes: number; from: number }, moved?: { size: number; resumedFrom: number; retransmissions: number }) {
    this.inFlight.delete(slot);
    if (moved) {
      this.done += moved.size;
      this.resumed += moved.resumedFrom;
      this.retransmissions += moved.retransmissions;
    }
    this.report();
  }

  report(): void {
    if (!this.onProgress) return;
    let bytes = this.done;
    let from = this.resumed;
    for (const s of this.inFlight) {
      bytes += s.bytes;
      from += s.from;
    }
    this.onProgress(bytes, this.total, this.elapsedMs, from);
  }
}

/** Moves the folder's files (`todo`: those not held already, `held` their bytes), adding their progress up. */
export async function moveFiles(
  o: FolderOptions,
  op: 'get' | 'post',
  m: FolderManifest,
  todo: FolderFile[],
  localOf: (f: FolderFile) => string,
  held: number,
): Promise<Omit<FolderResult, 'path'>> {
  const { bytes: total, files, dirs } = folderTotals(m);
  const progress = new FolderProgress(total, held, o.onProgress);
  const shared = await SharedEndpoint.connect(o.settings.host, o.settings.port);
  const stop = new AbortController();
  const outer = o.settings.signal;
  const onOuter = () => stop.abort(outer?.reason);
  if (outer?.aborted) onOuter();
  else outer?.addEventListener('abort', onOuter, { once: true });
  const failed: unknown[] = [];
  const one = async (f: FolderFile): Promise<void> => {
    const remote = `${o.remote}/${f.path}`;
    const slot = progress.begin();
    try {
      const r = await transfer({
        ...o.settings,
        op,
        remote,
        local: localOf(f),
        signal: stop.signal,
        shared,
        onProgress: (bytes, _total, _ms, from) => {
          slot.bytes = bytes;
          slot.from = from;
          progress.report();
        },
        ...(o.onFileLine ? { onResume: (line: string) => o.onFileLine?.(`${remote}: ${line}`) } : {}),
      });
      progress.end(slot, { size: f.size, resumedFrom: r.resumedFrom, retransmissions: r.retransmissions });
    } catch (err) {
      progress.end(slot);
      failed.push(err);
      stop.abort(`${remote} failed`);
    }
  };
  const inFlight = new Set<Promise<void>>();
  let bytesInFlight = 0;
  try {
    for (const [i, f] of todo.entries()) {
      // A server puts a posted folder in place once every file of it is on its disk (server/files/folders.ts), and a
      // file held whole from a cut run is asked for again: files done out of order could leave the last ones whole,
      // the folder put in place before they are asked for, and their SYNs refused. The last file goes after all.
      const alone = op === 'post' && i === todo.length - 1;
      while (inFlight.size >= FILES_AT_ONCE || (inFlight.size > 0 && (alone || bytesInFlight + f.size > BYTES_AT_ONCE)))
        await Promise.race(inFlight);
      if (failed.length > 0) break;
      bytesInFlight += f.size;
      const p: Promise<void> = one(f).finally(() => {
        inFlight.delete(p);
        bytesInFlight -= f.size;
      });
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  } finally {
    outer?.removeEventListener('abort', onOuter);
    await shared.release();
  }
  // The first file that failed says why; the others were stopped by it (ABORTED).
  if (failed.length > 0) throw failed[0];
  const { elapsedMs, resumed, retransmissions } = progress;
  return { files, dirs, size: total, elapsedMs, resumedFrom: resumed, retransmissions };
}
