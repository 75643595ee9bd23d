/**
 * The supervisor's part in a cluster (--redis): its own Redis link, the
 * node's lease and presence (cluster/node-presence.ts: its records kept in
 * step with its session table, dead nodes' sessions turned away, then
 * ended), and the cluster's secrets. A node whose id still has a lease (its
 * previous run was killed a moment ago) waits for it to expire, at most one
 * lease and a half; a lease that is renewed meanwhile belongs to another node
 * running with this id, and the start fails saying so.
 */
import { clusterKeys, type ClusterKeys } from '../cluster/keys.js';
import { NodePresence } from '../cluster/node-presence.js';
import { atMost, CLOSE_DEADLINE_MS, closeRedis, type RedisLink } from '../cluster/redis-link.js';
import { openRedis } from '../cluster/open-redis.js';
import type { RedisTarget } from '../cluster/redis-url.js';
import type { SessionRecord } from '../cluster/session-records.js';
import type { SessionTable, SlotRef } from '../shm/session-table.js';
import { StartupError } from '../startup-error.js';
import type { Logger } from '../logger.js';
import { RedisSecrets } from './redis-secrets.js';
import { applyTold, throttleChannel, type ThrottleTable } from '../cluster/cluster-throttles.js';
import type { ThrottleRecords } from '../auth-throttle.js';
import { RedisNickRegistry } from '../cluster/redis-nicks.js';
import type { NickRegistry } from '../bus/nick-registry.js';
import type { SecretSource } from './secret-source.js';
import { peopleGone, peopleReset } from '../irc-door/cluster-people.js';
import { forgetUploads } from '../cluster/cluster-uploads.js';
import { nodeGeneration } from '../cluster/generation.js';

export interface ClusterNodeHooks {
  /** A line for the operator's console. */
  print(line: string): void;
  /** This node's sessions the cluster let go while it was cut off: they end here. */
  lost(sessions: SlotRef[]): void;
  /** A dead node's sessions (reaped here, once in the cluster): every node's rooms hear they lost their connection, then left. */
  nodeGone(away: string[], ended: string[], reason: string): void;
}

/** leave()'s bound: the renewal under way, the lease given back, the link closed, each within CLOSE_DEADLINE_MS. */
export const LEAVE_BOUND_MS = 3 * CLOSE_DEADLINE_MS;

export class ClusterNode {
  readonly secrets: SecretSource;
  /** Nicks on every node (the operator's kick looks them up here; it claims none, so it lets nothing go). */
  readonly nicks: NickRegistry;
  /** The connection that listens to the other nodes' throttles (a subscribed one does nothing else). */
  private listener: RedisLink | null = null;

  private constructor(
    private readonly link: RedisLink,
    private readonly keys: ClusterKeys,
    private readonly node: string,
    private readonly presence: NodePresence,
    table: SessionTable,
    private readonly log: Logger,
  ) {
    this.secrets = new RedisSecrets(link, keys.prefix);
    this.nicks = new RedisNickRegistry(table, node, link, keys, { displaced: () => undefined });
  }

  static async join(
    target: RedisTarget,
    node: string,
    table: SessionTable,
    times: { leaseMs: number; resumeWindowMs: number },
    log: Logger,
    hooks: ClusterNodeHooks,
  ): Promise<ClusterNode> {
    const link = await openRedis(target, {
      state: (up, detail) => log[up ? 'info' : 'warn']({ detail }, up ? 'Redis link back' : 'Redis link down'),
      moved: (to) => hooks.print(`* the cluster's Redis master is now ${to} (a Sentinel failover)`),
      // Once an episode (link-watchdog.ts): the operator hears of a silent link, not of each probe.
      silence: (up, detail) => {
        log[up ? 'info' : 'warn']({ detail }, up ? 'Redis link answers again' : 'Redis link silent');
        hooks.print(`${up ? '*' : '!'} ${detail}`);
      },
    }).catch((err: unknown) => {
      throw new StartupError('REDIS_UNREACHABLE', (err as Error).message);
    });
    const keys = clusterKeys();
    const generation = nodeGeneration();
    const presenceOpts = { leaseMs: times.leaseMs, renewMs: times.leaseMs / 5, resumeWindowMs: times.resumeWindowMs };
    await waitForOldLease(link, keys, node, presenceOpts, hooks.print);
    const say = (s: SessionRecord[]) => s.map((r) => r.nick).join(', ');
    const presence = new NodePresence(
      link,
      keys,
      node,
      table,
      { ...presenceOpts, generation },
      {
        reaped: (other, away, ended) => {
          log.warn({ node: other, away: away.length, ended: ended.length }, 'a node is gone');
          if (away.length > 0)
            hooks.print(`* node ${other} is gone: ${say(away)} lost connection (they may resume on any node)`);
          if (ended.length > 0) hooks.print(`* ${say(ended)} left (node ${other} is gone and they did not come back)`);
          const keyList = (records: SessionRecord[]) => records.map((r) => r.key);
          hooks.nodeGone(keyList(away), keyList(ended), `node ${other} is gone`);
          const irc = keyList(ended.filter((r) => r.transport === 'irc'));
          if (irc.length > 0) peopleGone(link, keys.prefix, other, irc).catch(() => undefined);
        },
        lost: (sessions) => {
          log.warn({ sessions: sessions.length }, 'this node was cut off from the cluster longer than its lease');
          hooks.lost(sessions);
        },
        reclaimed: (kept, lost) => {
          log.warn({ kept, lost }, 'sessions the cluster had lost claimed their nicks again');
          hooks.print(
            `* the cluster had lost ${kept + lost} of this node's sessions (Redis came back empty, or this node was cut off): ${kept} kept their nicks${lost ? `, ${lost} lost theirs to others and end` : ''}`,
          );
        },
        link: (ok, detail) => {
          if (ok) log.info(detail);
          else log.warn(detail);
          hooks.print(`${ok ? '*' : '!'} ${detail}`);
        },
      },
    );
    // The lease at once (another node must not reap this one while it starts); the reconcile after the store thread
    // has brought back the kept sessions (presence() below), so that their records are not dropped meanwhile. Before
    // anything is written: a node of another generation than the live nodes' is refused here, having changed nothing.
    await presence.renewOnly();
    // No IRC session outlives its node: what its previous run told of its IRC users is forgotten everywhere.
    await peopleReset(link, keys.prefix, node);
    // What this node's previous run counted against its users' upload quota: forgotten, as a single server's restart does.
    await forgetUploads(link, keys, node);
    log.info({ node, redis: target.shown, generation }, 'joined the cluster');
    return new ClusterNode(link, keys, node, presence, table, log);
  }

  /** Once the node's sessions are in its table (the store thread restored the kept ones): renewals and reconciles. */
  async present(): Promise<void> {
    await this.presence.start();
  }

  /** What the other nodes tell of their wrong-password throttles, written into this node's (cluster-throttles.ts). */
  async shareThrottles(target: RedisTarget, tables: Record<ThrottleTable, ThrottleRecords>): Promise<void> {
    this.listener = await openRedis(target, {
      silence: (up, detail) =>
        this.log[up ? 'info' : 'warn'](
          { detail, link: 'throttles' },
          up ? 'Redis link answers again' : 'Redis link silent',
        ),
    });
    await this.listener.subscribe(throttleChannel(this.keys.prefix), (told) => applyTold(told, this.node, tables));
  }

  /** This node's IRC sessions that ended without their worker's word (it died): the other nodes forget them. */
  peopleGone(sessionKeys: string[]): void {
    if (sessionKeys.length > 0) peopleGone(this.link, this.keys.prefix, this.node, sessionKeys).catch(() => undefined);
  }

  /**
   * Stops renewing and gives the lease back at once, so that a restart with this id need not wait. Each step within
   * CLOSE_DEADLINE_MS, for the link may be silent (a partition): the lease then lapses by itself.
   */
  async leave(): Promise<void> {
    const listener = this.listener ? closeRedis(this.listener) : Promise.resolve();
    await atMost(this.presence.stop());
    const bounded = this.link.withCommandOptions({ timeout: CLOSE_DEADLINE_MS, rejectInFlight: true });
    await bounded.del(this.keys.lease(this.node)).catch(() => undefined);
    await Promise.all([listener, closeRedis(this.link)]);
  }
}

/** Until this node id's lease from a previous run has expired; a lease renewed meanwhile is another live node's. */
async function waitForOldLease(
  link: RedisLink,
  keys: ClusterKeys,
  node: string,
  lease: { leaseMs: number; renewMs: number },
  print: (l: string) => void,
): Promise<void> {
  const key = keys.lease(node);
  let ttl = await link.pTTL(key);
  if (ttl < 0) return;
  print(`* waiting up to ${Math.ceil(ttl / 1000)}s for the previous run of node ${node} to be gone (its lease)`);
  const deadline = Date.now() + Math.max(ttl, lease.leaseMs) * 1.5;
  let last = ttl;
  while (ttl >= 0) {
    if (Date.now() > deadline || ttl > last + lease.renewMs / 2)
      throw new StartupError(
        'NODE_ID_IN_USE',
        `another chat-server is running as node ${node} in this cluster (its lease is being renewed): give each node its own --node-id`,
      );
    last = ttl;
    await new Promise((r) => setTimeout(r, 200));
    ttl = await link.pTTL(key);
  }
}
