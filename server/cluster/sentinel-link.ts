/**
 * A link that follows a Sentinel failover (--redis redis-sentinel://...).
 * The master's address comes from the Sentinels (SENTINEL
 * get-master-addr-by-name, each asked in turn); the link is a stand-in for a
 * plain client to that master, which it swaps for a client to the new master
 * when a Sentinel announces one (+switch-master, on a subscription of its
 * own) or when the current master stops answering (the Sentinels asked
 * again). Commands under way on the old master fail (no offline queue) and
 * their callers' own retries reach the new one. What the old master took
 * and had not yet passed to its replica is lost: Redis replicates
 * asynchronously (docs/ARCHITECTURE.md, "Several nodes as one chat").
 */
import { ClusterError } from './cluster-error.js';
import type { LinkOptions, RedisLink } from './redis-link.js';
import { parseRedisUrl, type RedisTarget } from './redis-url.js';

type OpenDirect = (target: RedisTarget, opts: LinkOptions) => Promise<RedisLink>;

/** How soon after the master stops answering the Sentinels are asked where it is now. */
const RESOLVE_AFTER_MS = 300;

export async function openViaSentinel(target: RedisTarget, opts: LinkOptions, direct: OpenDirect): Promise<RedisLink> {
  const s = target.sentinel!;
  const masterTarget = (host: string, port: number) =>
    parseRedisUrl(
      `redis://${s.auth ? `${s.auth}@` : ''}${host.includes(':') ? `[${host}]` : host}:${port}/${target.db}`,
    );
  const sentinelTarget = (i: number) => parseRedisUrl(`redis://${hostPart(s.nodes[i]!.host)}:${s.nodes[i]!.port}`);

  /** Where the Sentinels say the master is now (the first that answers). */
  const resolve = async (): Promise<{ host: string; port: number }> => {
    const why: string[] = [];
    for (let i = 0; i < s.nodes.length; i++) {
      try {
        const asked = await direct(sentinelTarget(i), { connectTimeoutMs: 2000 });
        try {
          const addr = (await asked.sendCommand(['SENTINEL', 'get-master-addr-by-name', s.name])) as string[] | null;
          if (addr) return { host: addr[0]!, port: Number(addr[1]) };
          why.push(`${s.nodes[i]!.host}:${s.nodes[i]!.port} knows no master named ${s.name}`);
        } finally {
          asked.destroy();
        }
      } catch (err) {
        why.push(`${s.nodes[i]!.host}:${s.nodes[i]!.port}: ${(err as Error).message}`);
      }
    }
    throw new ClusterError('REDIS_UNREACHABLE', `no Sentinel says where the master ${s.name} is (${why.join('; ')})`);
  };

  let at = await resolve();
  let closed = false;
  let switching: Promise<void> | null = null;
  let resolveTimer: NodeJS.Timeout | null = null;
  const watch = (link: RedisLink) => link.on('error', () => scheduleResolve());
  let current = await direct(masterTarget(at.host, at.port), { ...opts, state: opts.state });
  watch(current);

  const switchTo = (to: { host: string; port: number }) => {
    if (closed || (to.host === at.host && to.port === at.port)) return;
    switching ??= (async () => {
      try {
        const next = await direct(masterTarget(to.host, to.port), opts);
        watch(next);
        const old = current;
        [current, at] = [next, to];
        old.destroy();
        opts.state?.(true, `the cluster's Redis master is now ${hostPart(to.host)}:${to.port} (a Sentinel failover)`);
        opts.moved?.(`${hostPart(to.host)}:${to.port}`);
      } catch (err) {
        opts.state?.(false, `cannot reach the new master ${to.host}:${to.port}: ${(err as Error).message}`);
      } finally {
        switching = null;
      }
    })();
  };
  const scheduleResolve = () => {
    if (closed || resolveTimer) return;
    resolveTimer = setTimeout(() => {
      resolveTimer = null;
      resolve().then(switchTo, () => scheduleResolve());
    }, RESOLVE_AFTER_MS);
    resolveTimer.unref();
  };

  // A Sentinel's announcement, at once; the resolve above is for when no Sentinel could be heard.
  const sub = await direct(sentinelTarget(0), { ...opts, state: undefined }).catch(() => null);
  await sub?.subscribe('+switch-master', (message) => {
    const [name, , , host, port] = message.split(' ');
    if (name === s.name && host && port) switchTo({ host, port: Number(port) });
  });

  return new Proxy({} as RedisLink, {
    get(_t, prop) {
      if (prop === 'close')
        return async () => {
          closed = true;
          if (resolveTimer) clearTimeout(resolveTimer);
          sub?.destroy();
          if (current.isOpen) await current.close();
        };
      if (prop === 'destroy')
        return () => {
          closed = true;
          sub?.destroy();
          current.destroy();
        };
      const v = Reflect.get(current, prop, current) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(current) : v;
    },
  });
}

function hostPart(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
