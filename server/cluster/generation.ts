/**
 * The cluster's format generation: one number for the shape of everything
 * the nodes share in Redis (keys.ts's keys and what they hold, the Lua
 * scripts, the bus entries). Nodes of different generations would read and
 * write each other's state wrongly, so a node joins only a cluster whose live
 * nodes run its generation (presence-scripts.ts RENEW checks it in the same
 * step as it takes the lease); once no node lives, one of a new generation
 * takes over (docs/ARCHITECTURE.md, "Upgrading a cluster").
 */
import { UsageError } from '../../common/errors.js';

/**
 * Bump this whenever a Redis key, a script's arguments or answers, or a bus entry changes shape, so that a node of
 * the new version refuses to join live nodes of the old one (and they it). 1: the first generation checked; nodes
 * from before the check record none, and the cluster they form counts as generation 0.
 */
export const CLUSTER_GENERATION = 1;

/**
 * For tests only (test/cluster/cluster-generation.test.ts): a node that claims another generation, as a node of
 * another version would, without building one. Not an option: no operator should ever set it.
 */
export const GENERATION_ENV = 'HC_TEST_CLUSTER_GENERATION';

/** This node's generation: CLUSTER_GENERATION, unless a test says otherwise through GENERATION_ENV. */
export function nodeGeneration(env: NodeJS.ProcessEnv = process.env): number {
  const forced = env[GENERATION_ENV];
  if (forced === undefined || forced === '') return CLUSTER_GENERATION;
  if (!/^\d{1,9}$/.test(forced)) throw new UsageError(`${GENERATION_ENV} must be a whole number`);
  return Number(forced);
}
