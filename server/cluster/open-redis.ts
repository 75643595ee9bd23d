/**
 * A link for a --redis URL: straight to the server it names, or, for
 * redis-sentinel://, to the master the Sentinels name, followed through a
 * failover (sentinel-link.ts).
 */
import { openDirect, type LinkOptions, type RedisLink } from './redis-link.js';
import type { RedisTarget } from './redis-url.js';
import { openViaSentinel } from './sentinel-link.js';

export function openRedis(target: RedisTarget, opts: LinkOptions = {}): Promise<RedisLink> {
  return target.sentinel ? openViaSentinel(target, opts, openDirect) : openDirect(target, opts);
}
