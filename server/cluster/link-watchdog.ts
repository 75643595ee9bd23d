/**
 * A Redis link's watchdog: a connection whose packets are dropped without a
 * word (a partition, a firewall that forgot the flow) keeps its socket, and
 * TCP's retransmissions can hold it for minutes after the network is back;
 * one that lost an answer is out of step for good (RESP pairs answers with
 * commands by position). So each link is probed (a PING with a deadline); one
 * that does not answer is looked at from a new connection (link-watch.ts
 * judges), and unless Redis is holding its commands it is dropped: the
 * client fails what was under way on it and opens a new connection with its
 * own options, subscriptions and all, as after any drop. Every user of the
 * link keeps the same client object.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, ErrorReply } from 'redis';
import { ClusterError } from './cluster-error.js';
import { LinkWatch, PROBE_DEADLINE_MS, PROBE_EVERY_MS, type Seen } from './link-watch.js';
import type { RedisTarget } from './redis-url.js';

/** What the watchdog needs of a client (redis-link.ts's RedisLink). */
export interface Watched {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  on(event: 'connect' | 'ready' | 'error', listener: () => void): unknown;
  withCommandOptions(o: { timeout: number; rejectInFlight: boolean }): {
    ping(): Promise<unknown>;
    sendCommand(args: string[]): Promise<unknown>;
  };
  /** node-redis's own way to drop a connection that is out of step (@internal in 6.4; checked at start). */
  _resetDesyncedConnection(err: Error): void;
}

/** Told once an episode: the link went silent (up false, and what was done), or answers again (up true). */
export type SilenceReport = (up: boolean, detail: string) => void;

export function watchLink(client: Watched, target: RedisTarget, report: SilenceReport): void {
  if (typeof client._resetDesyncedConnection !== 'function')
    throw new ClusterError('REDIS_FAILED', 'this version of the redis client cannot drop a silent connection');
  const probe = client.withCommandOptions({ timeout: PROBE_DEADLINE_MS, rejectInFlight: true });
  const watch = new LinkWatch();
  // Redis's id of the link's connection, to ask Redis what it is doing with it (null: not known yet).
  let id: string | null = null;
  const learnId = () => {
    id = null;
    probe.sendCommand(['CLIENT', 'ID']).then(
      (v) => (id = String(v)),
      () => undefined,
    );
  };
  learnId();
  client.on('connect', () => watch.connected(Date.now()));
  client.on('ready', () => (watch.settled(), learnId()));
  client.on('error', () => watch.settled());
  const drop = (seen: Seen) => {
    const { drop, say } = watch.judged(Date.now(), seen);
    if (say) report(false, say);
    if (!drop || !client.isOpen) return;
    id = null;
    client._resetDesyncedConnection(
      new ClusterError('REDIS_SILENT', `no answer from Redis at ${target.shown} in ${PROBE_DEADLINE_MS}ms`),
    );
  };
  // An error answer is an answer: the link carries words both ways.
  const answers = () =>
    probe.ping().then(
      () => true,
      (err) => err instanceof ErrorReply,
    );
  const loop = async () => {
    while (client.isOpen) {
      // Unref'd: a link's watchdog never keeps a process alive.
      await sleep(PROBE_EVERY_MS, undefined, { ref: false });
      if (!client.isOpen) return;
      const step = watch.tick(Date.now(), client.isReady);
      if (step === 'drop') drop('handshake');
      if (step !== 'probe') continue;
      let answered = await answers();
      // Dropped meanwhile: the client is connecting again by itself (a tick looks at it if that takes too long).
      if (!answered && !client.isReady) continue;
      if (!answered) {
        // Asked again while the new connection looks: a probe whose deadline passed while this thread stood still
        // (its answer waiting to be read) is no silence, and the second one is answered at once.
        const [again, seen] = await Promise.all([answers(), inspect(target, id)]);
        answered = again;
        if (!again && client.isReady) drop(seen);
      }
      const line = answered ? watch.answered(Date.now()) : null;
      if (line) report(true, line);
    }
  };
  // Nothing in the loop should throw; if something does, the operator hears that this link is no longer watched.
  loop().catch((err: unknown) => report(false, `the Redis link's watchdog stopped: ${(err as Error).message}`));
}

/** What a new connection to the same Redis sees of the link with Redis's id `id` (null: unknown). */
async function inspect(target: RedisTarget, id: string | null): Promise<Seen> {
  const side = createClient({
    url: target.url,
    disableOfflineQueue: true,
    disableClientInfo: true,
    socket: { connectTimeout: PROBE_DEADLINE_MS, reconnectStrategy: false },
  }).withCommandOptions({ timeout: PROBE_DEADLINE_MS, rejectInFlight: true });
  side.on('error', () => undefined);
  const deadline = sleep(PROBE_DEADLINE_MS, 'unreachable' as const, { ref: false });
  const look = async (): Promise<Seen> => {
    await side.connect();
    if (id === null) return (await side.ping(), 'silent');
    const [seen] = await side.clientList({ ID: [id] });
    // A command of the link's that Redis holds (b: blocked, a pause or a blocking read) will be answered.
    return seen?.flags.includes('b') ? 'held' : 'silent';
  };
  try {
    return await Promise.race([
      look().catch((err: unknown) => (err instanceof ErrorReply ? 'busy' : 'unreachable')),
      deadline,
    ]);
  } finally {
    side.destroy();
  }
}
