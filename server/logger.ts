/** pino loggers: one destination per thread, appending JSON lines to the same file. */
import { mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import { parseChoice } from '../common/units.js';

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
}

/**
 * O_APPEND on a regular file makes each line land whole even with several
 * threads writing, so no logging thread or transport is needed.
 */
export function openLog(file: string, level: LogLevel, base: Record<string, unknown>): OpenLog {
  mkdirSync(dirname(file), { recursive: true });
  // Opened here, synchronously: a destination that opens its file itself is not ready for a while,
  // and pino's flush at exit then throws "sonic boom is not ready yet" (a process that exits early, as
  // on a port already in use, crashed with that stack trace after its own error line).
  const fd = openSync(file, 'a');
  const dest = pino.destination({ dest: fd, sync: false, minLength: 0 });
  const logger = pino({ level, base: { pid: process.pid, ...base }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
  return {
    logger,
    flush() {
      try {
        dest.flushSync();
      } catch {
        // flushSync throws if nothing was opened yet or the fd is gone; there is nothing left to save then.
      }
    },
  };
}
