/** What the supervisor checks and prepares before it starts any thread. */
import net from 'node:net';
import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { sweepPartFiles } from '../../common/lftp/node/file-sink.js';
import { startPartialSweeps } from '../files/partial-sweep.js';
import { describeListenFailure, type ListenFailure } from '../listen-error.js';
import { StartupError } from '../startup-error.js';

/**
 * reusePort would let this server silently join another process's port group
 * (same user, also reusePort): probe with a plain bind first so that a port in
 * use is reported as such.
 */
export function assertPortFree(host: string, port: number, component: ListenFailure['component']): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      const failure: ListenFailure = { component, code: err.code ?? 'UNKNOWN', host, port, detail: err.message };
      reject(new StartupError(failure.code, describeListenFailure(failure)));
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** The shared files' folder, created if missing, with unfinished uploads an earlier run left removed. */
export function prepareFilesDir(dir: string, log: Logger): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new StartupError('FILES_DIR', `cannot create the files directory ${dir}: ${(err as Error).message}`);
  }
  const stale = sweepPartFiles(dir);
  if (stale.length > 0)
    log.info({ removed: stale.length, files: stale.slice(0, 20) }, 'removed unfinished uploads left by an earlier run');
  // Partial uploads kept for resume go once untouched for 24 h (docs/LFTP.md, "Resume").
  startPartialSweeps(dir, log);
}
