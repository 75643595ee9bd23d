/** A worker's throttle records: its node's shared memory, and on a cluster's node told to the other nodes too. */
import type { ThrottleRecords } from '../auth-throttle.js';
import { publisher, ToldRecords, type ThrottleTable } from '../cluster/cluster-throttles.js';
import { clusterKeys } from '../cluster/keys.js';
import type { RedisLink } from '../cluster/redis-link.js';
import { SharedThrottleRecords } from '../shm/shared-throttle.js';

export function throttleRecords(
  table: ThrottleTable,
  buffer: SharedArrayBuffer,
  redis: RedisLink | null,
  node: string,
): ThrottleRecords {
  const local = new SharedThrottleRecords(buffer);
  return redis ? new ToldRecords(local, table, publisher(redis, clusterKeys().prefix), node) : local;
}
