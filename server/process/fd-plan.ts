/**
 * How many sockets the process may hold, from its open-file limit. Worker
 * threads share one descriptor table, so the limit is the process's, not a
 * worker's. Past it, accept() fails with EMFILE and libuv resets each new
 * connection without a word; worse, the log, an LFTP transfer's file or a
 * rotated log can no longer be opened. So the server keeps a reserve for
 * those, counts its sockets against the rest (server/shm/socket-budget.ts),
 * and refuses with a reason before the kernel would.
 *
 * Node raises the soft limit to the hard one when it starts, so what
 * /proc/self/limits says is what the process has; `ulimit -n` before the
 * start is how an operator gives it more.
 */
import { readFileSync } from 'node:fs';
import { StartupError } from '../startup-error.js';
import { PRE_HELLO_ALLOWANCE } from '../chat/admission.js';

/** Descriptors kept for everything that is not a client's socket: logs, listeners, LFTP sockets and files, the store. */
export const FD_RESERVE = 512;
/** HTTP connections (page loads, file transfers) planned per worker besides the sessions. */
export const WEB_ALLOWANCE = 256;
/** Below this many sessions the server is not worth starting: the operator must raise the limit. */
const MIN_CLIENTS = 16;

/** The soft RLIMIT_NOFILE of this process, or null where /proc does not say (not Linux). */
export function openFileLimit(limits?: string): number | null {
  let text = limits;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return null;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!m) return null;
  return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
}

export interface SocketPlan {
  /** Sockets (chat TCP and web HTTP, WebSockets included) the whole process may hold. */
  socketLimit: number;
  /** --max-clients, lowered when the limit cannot hold that many. */
  maxClients: number;
  /** What the operator is told when --max-clients was lowered. */
  warning: string | null;
}

/**
 * Plans sockets for `maxClients` sessions plus each worker's not-yet-HELLO
 * allowance (TLS handshakes included: a socket counts from accept()) and
 * (with the web side) its HTTP allowance, within `fdLimit`.
 */
export function planSockets(
  fdLimit: number | null,
  o: { maxClients: number; workers: number; web: boolean },
): SocketPlan {
  const perWorker = PRE_HELLO_ALLOWANCE + (o.web ? WEB_ALLOWANCE : 0);
  const wanted = o.maxClients + o.workers * perWorker;
  if (fdLimit === null) return { socketLimit: wanted, maxClients: o.maxClients, warning: null };
  const reserve = Math.min(FD_RESERVE, Math.floor(fdLimit / 4));
  const socketLimit = fdLimit - reserve;
  if (wanted <= socketLimit) return { socketLimit, maxClients: o.maxClients, warning: null };
  const maxClients = socketLimit - o.workers * perWorker;
  const raise = `raise it with \`ulimit -n ${wanted + FD_RESERVE}\` before starting the server`;
  if (maxClients < MIN_CLIENTS) {
    throw new StartupError(
      'FD_LIMIT',
      `the open-file limit (${fdLimit}) leaves room for ${Math.max(0, maxClients)} clients with ${o.workers} workers: ${raise}, or use fewer --workers`,
    );
  }
  return {
    socketLimit,
    maxClients,
    warning: `the open-file limit (${fdLimit}) holds ${maxClients} clients, not ${o.maxClients}: --max-clients lowered to ${maxClients}; ${raise}`,
  };
}
