/**
 * Partial uploads kept for resume (common/lftp/node/resume-record.ts) and folders' staging folders
 * (folder-disk.ts) are removed once untouched for STALE_PARTIAL_MS (24 h): at start, then every hour. The same
 * for `chat-server lftp` and the chat server (docs/LFTP.md, "Resume").
 */
import { STALE_PARTIAL_MS, sweepStaleResume } from '../../common/lftp/node/resume-record.js';
import { sweepStaleFolders } from './folder-disk.js';

const SWEEP_EVERY_MS = 3600_000;

interface SweepLog {
  info(obj: object, msg: string): void;
}

/** One sweep of `dir`: the names removed. */
export function sweepStalePartials(dir: string, now = Date.now()): string[] {
  return [...sweepStaleResume(dir, STALE_PARTIAL_MS, now), ...sweepStaleFolders(dir, STALE_PARTIAL_MS, now)];
}

/** Sweeps now and every hour (the timer does not keep the process alive); stop with clearInterval. */
export function startPartialSweeps(dir: string, log: SweepLog): NodeJS.Timeout {
  const sweep = () => {
    const old = sweepStalePartials(dir);
    if (old.length > 0) log.info({ removed: old.length }, 'removed partial uploads untouched for 24 h');
  };
  sweep();
  return setInterval(sweep, SWEEP_EVERY_MS).unref();
}
