/**
 * A link that follows a Sentinel failover (--redis redis-sentinel://...).
 * The master's address comes from the Sentinels (SENTINEL
 * get-master-addr-by-name, each asked in turn); the link is a stand-in for a
 * plain client to that master, which it swaps for a client to the new master
 * when a Sentinel announces one (+switch-master, on a subscription of its
 * own) or when the current master stops answering or its connection is
 * dropped as silent (the Sentinels asked again); the new client subscribes
 * again to what the old one had. Commands under way on the old master fail
 * (no offline queue) and their callers' own retries reach the new one. What the old master took
 * and had not yet passed to its replica is lost: Redis replicates
 * asynchronously (docs/ARCHITECTURE.md, "Several nodes as one chat").
 */
import { ClusterError } from './cluster-error.js';
import type { LinkOptions, RedisLink } from './redis-link.js';
import { parseRedisUrl, type RedisTarget } from './redis-url.js';

type OpenDirect = (target: RedisTarget, opts: LinkOptions) => Promise<RedisLink>;
type Listener = (message: string, channel: string) => unknown;

/** How soon after the master stops answering the Sentinels are asked where it is now. */
const RESOLVE_AFTER_MS = 300;

export async function openViaSentinel(target: RedisTarget, opts: LinkOptions, direct: OpenDirect): Promise<RedisLink> {
  const master = new FollowedMaster(target, opts, direct);
  await master.start();
  return master.link();
}

/** The master as the Sentinels say it is, and a client to it that is swapped when it moves. */
class FollowedMaster {
  private readonly s: NonNullable<RedisTarget['sentinel']>;
  private at = { host: '', port: 0 };
  private current: RedisLink | null = null;
  private sub: RedisLink | null = null;
  private closed = false;
  private switching: Promise<void> | null = null;
  private resolveTimer: NodeJS.Timeout | null = null;
  /** The subscriptions made through the stand-in, one channel each: a client to a new master makes them again. */
  private subscriptions: Array<{ channel: string; listener: Listener }> = [];

  constructor(
    private readonly target: RedisTarget,
    private readonly opts: LinkOptions,
    private readonly direct: OpenDirect,
  ) {
    this.s = target.sentinel!;
  }

  async start(): Promise<void> {
    this.at = await this.resolve();
    this.current = await this.open(this.at);
    // A Sentinel's announcement, at once; asking again (scheduleResolve) is for when no Sentinel could be heard.
    this.sub = await this.direct(this.sentinelTarget(0), { connectTimeoutMs: 2000 }).catch(() => null);
    await this.sub?.subscribe('+switch-master', (message) => {
      const [name, , , host, port] = message.split(' ');
      if (name === this.s.name && host && port) this.switchTo({ host, port: Number(port) });
    });
  }

  /** Where the Sentinels say the master is now (the first that answers). */
  private async resolve(): Promise<{ host: string; port: number }> {
    const why: string[] = [];
    for (let i = 0; i < this.s.nodes.length; i++) {
      const where = `${hostPart(this.s.nodes[i]!.host)}:${this.s.nodes[i]!.port}`;
      try {
        const asked = await this.direct(this.sentinelTarget(i), { connectTimeoutMs: 2000 });
        try {
          const addr = (await asked.sendCommand(['SENTINEL', 'get-master-addr-by-name', this.s.name])) as
            | string[]
            | null;
          if (addr) return { host: addr[0]!, port: Number(addr[1]) };
          why.push(`${where} knows no master named ${this.s.name}`);
        } finally {
          asked.destroy();
        }
      } catch (err) {
        why.push(`${where}: ${(err as Error).message}`);
      }
    }
    throw new ClusterError(
      'REDIS_UNREACHABLE',
      `no Sentinel says where the master ${this.s.name} is (${why.join('; ')})`,
    );
  }

  private async open(to: { host: string; port: number }): Promise<RedisLink> {
    const auth = this.s.auth ? `${this.s.auth}@` : '';
    const link = await this.direct(
      parseRedisUrl(`redis://${auth}${hostPart(to.host)}:${to.port}/${this.target.db}`),
      this.opts,
    );
    link.on('error', () => this.scheduleResolve());
    return link;
  }

  private sentinelTarget(i: number): RedisTarget {
    return parseRedisUrl(`redis://${hostPart(this.s.nodes[i]!.host)}:${this.s.nodes[i]!.port}`);
  }

  private switchTo(to: { host: string; port: number }): void {
    if (this.closed || (to.host === this.at.host && to.port === this.at.port)) return;
    this.switching ??= (async () => {
      try {
        const next = await this.open(to);
        // Before the switch: a listener must not miss more than the moment the new master was out of its reach.
        await Promise.all(this.subscriptions.map((s) => next.subscribe(s.channel, s.listener))).catch(
          (err: unknown) => {
            next.destroy();
            throw err;
          },
        );
        const old = this.current!;
        [this.current, this.at] = [next, to];
        old.destroy();
        const where = `${hostPart(to.host)}:${to.port}`;
        this.opts.state?.(true, `the cluster's Redis master is now ${where} (a Sentinel failover)`);
        this.opts.moved?.(where);
      } catch (err) {
        this.opts.state?.(false, `cannot reach the new master ${to.host}:${to.port}: ${(err as Error).message}`);
      } finally {
        this.switching = null;
      }
    })();
  }

  private scheduleResolve(): void {
    if (this.closed || this.resolveTimer) return;
    this.resolveTimer = setTimeout(() => {
      this.resolveTimer = null;
      this.resolve().then(
        (to) => this.switchTo(to),
        () => this.scheduleResolve(),
      );
    }, RESOLVE_AFTER_MS);
    this.resolveTimer.unref();
  }

  private async close(): Promise<void> {
    this.closed = true;
    if (this.resolveTimer) clearTimeout(this.resolveTimer);
    this.sub?.destroy();
    if (this.current?.isOpen) await this.current.close();
  }

  private subscribe(channels: string | string[], listener: Listener): Promise<void> {
    // Kept before it is sent: a switch while it is under way makes it on the new client too.
    for (const channel of [channels].flat()) this.subscriptions.push({ channel, listener });
    return this.current!.subscribe(channels, listener);
  }

  private unsubscribe(channels?: string | string[], listener?: Listener): Promise<void> {
    const gone = channels === undefined ? null : new Set([channels].flat());
    this.subscriptions = this.subscriptions.filter(
      (s) => !((gone === null || gone.has(s.channel)) && (listener === undefined || s.listener === listener)),
    );
    return this.current!.unsubscribe(channels, listener);
  }

  /** A stand-in for the client to the master: every property is the current client's, close and destroy end both. */
  link(): RedisLink {
    return new Proxy({} as RedisLink, {
      get: (_t, prop) => {
        if (prop === 'close') return () => this.close();
        if (prop === 'subscribe')
          return (channels: string | string[], listener: Listener) => this.subscribe(channels, listener);
        if (prop === 'unsubscribe')
          return (channels?: string | string[], listener?: Listener) => this.unsubscribe(channels, listener);
        if (prop === 'destroy')
          return () => {
            this.closed = true;
            this.sub?.destroy();
            this.current?.destroy();
          };
        const current = this.current!;
        const v = Reflect.get(current, prop, current) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(current) : v;
      },
    });
  }
}

function hostPart(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
