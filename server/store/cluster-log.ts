/**
 * A cluster node's room log and bus, as its store thread uses them (--redis):
 * the log on Redis Streams (redis-room-log.ts), published on a ClusterBus
 * that reaches this node's workers through its thread bus and the other
 * nodes through Redis. Two connections: the log's, which the bus writes
 * on too (a turn's append script may write its bus entry, which must come in
 * order with the bus's own writes: bus-writer.ts reserve), and the bus's
 * reader (held by XREAD BLOCK).
 */
import type { RoomBus } from '../bus/room-bus.js';
import { ClusterBus, type ClusterBusOptions } from '../cluster/cluster-bus.js';
import { clusterKeys } from '../cluster/keys.js';
import { atMost, closeRedis } from '../cluster/redis-link.js';
import { openRedis } from '../cluster/open-redis.js';
import { parseRedisUrl } from '../cluster/redis-url.js';
import { RedisRoomLog } from './redis-room-log.js';
import { RedisAccounts } from './redis-accounts.js';
import { RedisRegistrations } from './redis-registrations.js';
import type { RegistrationQuota } from './store-quotas.js';

export interface ClusterLog {
  log: RedisRoomLog;
  bus: ClusterBus;
  /** Registered nicks, every node's (on the log's connection). */
  accounts: RedisAccounts;
  /** Registrations per address prefix, counted for every node, at most `max` an hour. */
  registrations(max: number): RegistrationQuota;
  close(): Promise<void>;
}

export async function openClusterLog(
  url: string,
  node: string,
  threadBus: RoomBus,
  opts: ClusterBusOptions,
): Promise<ClusterLog> {
  const { log } = opts;
  const target = parseRedisUrl(url);
  const state = (up: boolean, detail: string) => log({ up, detail }, up ? 'Redis link back' : 'Redis link down');
  const links = await Promise.all([0, 1].map(() => openRedis(target, { state })));
  const [logLink, reader] = links as [(typeof links)[0], (typeof links)[0]];
  const keys = clusterKeys();
  const bus = new ClusterBus(threadBus, logLink, reader, keys, node, opts);
  await bus.start();
  return {
    log: await RedisRoomLog.open(logLink, keys, bus),
    bus,
    accounts: new RedisAccounts(logLink, keys),
    registrations: (max) =>
      new RedisRegistrations(logLink, keys, max, (err) =>
        log({ err: err.message }, "cannot give a registration's place back in the cluster's Redis"),
      ),
    close: async () => {
      // Its read ends within an XREAD's block on a link that answers; closing the links ends it on a silent one.
      await atMost(bus.stop());
      await Promise.all(links.map(closeRedis));
    },
  };
}
