/**
 * A node's connection to the cluster's Redis (the `redis` npm client, which
 * Redis recommends: RESP3, scripts, reconnects). Opening it waits for the
 * first connection, within a bound, so that a wrong address is said at start;
 * after that the client reconnects by itself, backing off to a ceiling, and
 * every command in the meantime fails with REDIS_FAILED rather than waiting
 * in a queue of unknown length (the callers decide what a user sees). A
 * connection that goes silent without closing is found and replaced by the
 * link's watchdog (link-watchdog.ts).
 */
import { ClientClosedError, ClientOfflineError, createClient, ErrorReply, TimeoutError } from 'redis';
import { ClusterError } from './cluster-error.js';
import { HeartbeatChatError } from '../../common/errors.js';
import type { RedisTarget } from './redis-url.js';
import { watchLink } from './link-watchdog.js';

/** The client as made here (its type depends on the options it is made with). */
export type RedisLink = ReturnType<typeof makeClient>;

export interface LinkOptions {
  /** How long the first connection may take before the start fails. */
  connectTimeoutMs?: number;
  /** The longest wait between two reconnection attempts. */
  maxBackoffMs?: number;
  /** Told when the link goes down or comes back (a log line, a notice to users). */
  state?: (up: boolean, detail: string) => void;
  /** redis-sentinel://: the master moved (a failover), to this HOST:PORT. */
  moved?: (to: string) => void;
  /** Told once an episode that the link went silent (and what was done), and that it answers again; else `state`. */
  silence?: (up: boolean, detail: string) => void;
}

export const CONNECT_TIMEOUT_MS = 5000;
export const MAX_BACKOFF_MS = 2000;
/**
 * A command's bound, whether it is still waiting to be sent or sent and waiting for its answer: longer than the
 * bus's XREAD BLOCK (1 s, which is never cut short) and any script of ours; far shorter than a lease (10 s).
 */
export const COMMAND_TIMEOUT_MS = 5000;

/**
 * What a failed command's error says of the command: Redis refused it (`refused`: it answered with an error, the
 * command did nothing, a script's own error included), it never left this node (`unsent`: the link was down, or it
 * waited past its bound to be sent), or nobody knows (`unknown`: it was sent and its answer never came: the link
 * dropped, or the bound passed; Redis may have run it, or may still).
 */
export function failedCommand(err: unknown): 'refused' | 'unsent' | 'unknown' {
  // Under way on a connection the watchdog dropped: sent, perhaps run, its answer never came.
  if (err instanceof ClusterError && err.code === 'REDIS_SILENT') return 'unknown';
  // An error of the product's own is a decision taken here, never a lost answer.
  if (err instanceof ErrorReply || err instanceof HeartbeatChatError) return 'refused';
  if (err instanceof ClientOfflineError || err instanceof ClientClosedError || err instanceof TimeoutError)
    return 'unsent';
  return 'unknown';
}

/** A client to this very server (open-redis.ts picks it, or a Sentinel's master, for a --redis URL). */
export async function openDirect(target: RedisTarget, opts: LinkOptions = {}): Promise<RedisLink> {
  const connectTimeout = opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  const ceiling = opts.maxBackoffMs ?? MAX_BACKOFF_MS;
  let connected = false;
  const client = makeClient(target, connectTimeout, (retries, cause) =>
    connected ? Math.min(50 * 2 ** Math.min(retries, 10), ceiling) : cause,
  );
  // Without a listener the client's 'error' events would end the process.
  client.on('error', (err: Error) => opts.state?.(false, err.message));
  client.on('ready', () => {
    if (connected) opts.state?.(true, 'reconnected');
    connected = true;
  });
  try {
    await client.connect();
  } catch (err) {
    client.destroy();
    throw new ClusterError('REDIS_UNREACHABLE', `cannot reach Redis at ${target.shown}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    watchLink(client, target, opts.silence ?? ((up, detail) => opts.state?.(up, detail)));
  } catch (err) {
    client.destroy();
    throw err;
  }
  return client;
}

/** Until the first connection, no retry (the start says what is wrong); after it, `retry` backs off to its ceiling. */
function makeClient(
  target: RedisTarget,
  connectTimeout: number,
  retry: (retries: number, cause: Error) => number | Error,
) {
  return createClient({
    url: target.url,
    // Commands while the link is down fail at once: a chat turn must not wait on a queue that may never drain.
    disableOfflineQueue: true,
    socket: { connectTimeout, reconnectStrategy: retry },
    // A Redis that stalls (a long script, CLIENT PAUSE, a partition, a machine off) fails its commands within this,
    // those already sent too (rejectInFlight; an answer that comes later is dropped), instead of holding them for as
    // long as it stalls or for TCP's minutes of retransmissions: turns are refused, leases said unrenewable. A
    // command whose answer was lost so may have run: what must not run twice is made so it can be sent again
    // (the room log's append, store/redis-room-log.ts).
  }).withCommandOptions({ timeout: COMMAND_TIMEOUT_MS, rejectInFlight: true });
}

/**
 * How long closing a link may wait for the answers to the commands already sent (QUIT's way: they finish, then the
 * socket closes). A link silent at that moment (a partition) would wait for answers that never come, and hold a
 * node's shutdown for good: past this the socket is destroyed, what is under way failing.
 */
export const CLOSE_DEADLINE_MS = 1000;

/** Closes the link, letting commands already sent finish within CLOSE_DEADLINE_MS; then it is destroyed. */
export async function closeRedis(link: RedisLink): Promise<void> {
  if (!link.isOpen) return;
  if ((await within(link.close(), CLOSE_DEADLINE_MS)) === 'late') link.destroy();
}

/** At most `ms` of `work` (which goes on unwatched past it): for what a node's end waits on, on a link maybe silent. */
export async function atMost(work: Promise<unknown>, ms = CLOSE_DEADLINE_MS): Promise<void> {
  await within(work, ms);
}

/**
 * `work` settled, or 'late' after `ms`. The timer keeps the thread alive until then (a main thread whose loop
 * emptied while it awaits would end unsettled), and is cleared as soon as the work settles.
 */
async function within(work: Promise<unknown>, ms: number): Promise<'done' | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  const done = work.then(
    () => 'done' as const,
    () => 'done' as const,
  );
  try {
    return await Promise.race([done, late]);
  } finally {
    clearTimeout(timer);
  }
}
