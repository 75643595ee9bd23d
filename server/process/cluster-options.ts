/** The options that make a node one of a cluster: --redis, --node-id, --node-lease, --advertise. */
import { networkInterfaces } from 'node:os';
import { UsageError } from '../../common/errors.js';
import { parseDuration } from '../../common/units.js';
import { parseNodeId } from '../bus/node-id.js';
import { DEFAULT_PRESENCE } from '../cluster/node-presence.js';
import { parseRedisUrl } from '../cluster/redis-url.js';
import type { RedisTarget } from '../cluster/redis-url.js';

/** A cluster's node needs its own id: a constant default would be every node's. */
export function clusterOptions(
  redis: string | undefined,
  nodeId: string | undefined,
  lease: string | undefined,
): { redis: RedisTarget | null; nodeId: string; nodeLeaseMs: number } {
  const nodeLeaseMs = lease === undefined ? DEFAULT_PRESENCE.leaseMs : parseDuration(lease, '--node-lease');
  if (nodeLeaseMs < MIN_NODE_LEASE_MS || nodeLeaseMs > MAX_NODE_LEASE_MS)
    throw new UsageError(`--node-lease must be between ${MIN_NODE_LEASE_MS / 1000}s and ${MAX_NODE_LEASE_MS / 1000}s`);
  if (redis === undefined) {
    if (lease !== undefined) throw new UsageError('--node-lease is for a node of a cluster (--redis)');
    return { redis: null, nodeId: parseNodeId(nodeId), nodeLeaseMs };
  }
  if (nodeId === undefined)
    throw new UsageError(
      "--redis joins a cluster, where each node needs its own --node-id ID (1-16 letters, digits or '-')",
    );
  return { redis: parseRedisUrl(redis), nodeId: parseNodeId(nodeId), nodeLeaseMs };
}

/**
 * Where other machines reach this node: --advertise, else --host when it names one address, else the machine's
 * first non-loopback IPv4 address (a LAN's), else loopback. Only a cluster's node tells anyone.
 */
export function advertiseOption(value: string | undefined, host: string, redis: string | undefined): string | null {
  if (redis === undefined) {
    if (value !== undefined) throw new UsageError('--advertise is for a node of a cluster (--redis)');
    return null;
  }
  if (value !== undefined) {
    if (!/^[A-Za-z0-9.:_-]{1,253}$/.test(value)) throw new UsageError('--advertise takes a host name or an address');
    return value;
  }
  if (host !== '0.0.0.0' && host !== '::') return host;
  const lan = Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal);
  return lan?.address ?? '127.0.0.1';
}

/** A lease is renewed five times in its life: under a second, a Redis blip or a GC pause would end nodes. */
const MIN_NODE_LEASE_MS = 1_000;
const MAX_NODE_LEASE_MS = 300_000;
