/** pino loggers: one destination per thread, appending JSON lines to the same file, rotated by size. */
import { existsSync, mkdirSync, openSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import { parseChoice, parseInteger, parseSize } from '../common/units.js';
import { UsageError } from '../common/errors.js';

export type Logger = pino.Logger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** --log-level, checked; both server command lines use it. */
export function parseLogLevel(value: string | undefined): LogLevel {
  return parseChoice(value, '--log-level', LOG_LEVELS, 'info');
}

export interface OpenLog {
  logger: Logger;
  /** Writes out what is buffered; call before the thread exits. */
  flush(): void;
  /** Opens the file by its name again (after rotation moved the old one aside); lines meanwhile go to the old file. */
  reopen(): void;
}

/** Log rotation: a file past maxBytes becomes FILE.1 (FILE.1 becomes FILE.2, …), keeping `keep` old files. */
export interface LogRotation {
  maxBytes: number;
  keep: number;
}

export const DEFAULT_LOG_ROTATION: LogRotation = { maxBytes: 16 * 2 ** 20, keep: 5 };
/** --log-max-size and --log-keep, checked; both server command lines use them. */
export function parseLogRotation(maxSize: string | undefined, keep: string | undefined): LogRotation {
  const maxBytes = maxSize !== undefined ? parseSize(maxSize, '--log-max-size') : DEFAULT_LOG_ROTATION.maxBytes;
  if (maxBytes < 4096) throw new UsageError('--log-max-size must be at least 4KiB');
  return { maxBytes, keep: keep !== undefined ? parseInteger(keep, '--log-keep', 0, 100) : DEFAULT_LOG_ROTATION.keep };
}

/** How often the rotating thread looks at the file's size. */
export const LOG_CHECK_MS = 2_000;

/**
 * Moves the file aside when it has grown past the limit: true when it did
 * (then every thread writing it must reopen()). Only one thread of a process
 * rotates (the supervisor); the others reopen when told. A log is never
 * larger than maxBytes plus what LOG_CHECK_MS of logging adds, and never more
 * than keep + 1 files.
 */
export function rotateIfLarge(file: string, rotation: LogRotation): boolean {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return false;
  }
  if (size < rotation.maxBytes) return false;
  try {
    for (let i = rotation.keep; i >= 1; i--) {
      const older = `${file}.${i}`;
      if (!existsSync(older)) continue;
      if (i === rotation.keep) unlinkSync(older);
      else renameSync(older, `${file}.${i + 1}`);
    }
    if (rotation.keep === 0) unlinkSync(file);
    else renameSync(file, `${file}.1`);
    return true;
  } catch {
    // A log that cannot be rotated (read-only directory, removed meanwhile) goes on growing rather than stopping the server.
    return false;
  }
}

/**
 * O_APPEND on a regular file makes each line land whole even with several
 * threads writing, so no logging thread or transport is needed. `base` names
 * the thread: `thread` (supervisor, store) or `worker` (its index). pino
 * writes a field as often as it is given, so a child logger's bindings and a
 * line's own fields must not repeat one its parent has (a line about worker
 * 1 from the supervisor once read "worker":"supervisor","worker":1, and a
 * renamed session "nick":"old","nick":"new"; JSON readers keep one of them).
 */
export function openLog(
  file: string,
  level: LogLevel,
  base: Record<string, unknown>,
  rotation?: LogRotation & { onRotated?: () => void },
): OpenLog {
  mkdirSync(dirname(file), { recursive: true });
  // Opened here, synchronously: a destination that opens its file itself is not ready for a while,
  // and pino's flush at exit then throws "sonic boom is not ready yet" (a process that exits early, as
  // on a port already in use, crashed with that stack trace after its own error line).
  const fd = openSync(file, 'a');
  const dest = pino.destination({ dest: fd, sync: false, minLength: 0 });
  // Opened by descriptor, the destination does not know its file; reopen() needs the name.
  (dest as unknown as { file: string }).file = file;
  const logger = pino({ level, base: { pid: process.pid, ...base }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
  let reported = false;
  dest.on('error', (err: Error) => {
    if (!reported) process.stderr.write(`log ${file}: ${err.message}; lines are being lost\n`);
    reported = true;
  });
  const log: OpenLog = {
    logger,
    flush() {
      try {
        dest.flushSync();
      } catch {
        // flushSync throws if nothing was opened yet or the fd is gone; there is nothing left to save then.
      }
    },
    reopen() {
      try {
        dest.reopen();
      } catch {
        // A destroyed destination (the thread is ending) has nothing to reopen.
      }
    },
  };
  // The thread given a rotation is the one that rotates; it tells the others (onRotated) to reopen.
  if (rotation) {
    setInterval(() => {
      if (!rotateIfLarge(file, rotation)) return;
      log.reopen();
      rotation.onRotated?.();
    }, LOG_CHECK_MS).unref();
  }
  return log;
}
