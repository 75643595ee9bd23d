/** Which NickRegistry a worker uses: its node's table alone, or (a cluster's node) Redis for every node. */
import { LocalNickRegistry, type NickRegistry } from '../bus/nick-registry.js';
import { RedisNickRegistry } from '../cluster/redis-nicks.js';
import { clusterKeys } from '../cluster/keys.js';
import type { RedisLink } from '../cluster/redis-link.js';
import type { SessionTable } from '../shm/session-table.js';
import type { StoreLink } from '../store/store-link.js';

export function nickRegistry(
  table: SessionTable,
  node: string,
  redis: RedisLink | null,
  store: StoreLink,
): NickRegistry {
  if (!redis) return new LocalNickRegistry(table, node);
  // A session another node took is let go here through the store thread (store-main.ts letGo).
  return new RedisNickRegistry(table, node, redis, clusterKeys(), {
    displaced: (from, how) => store.letGo(from, from.nick, how),
  });
}
