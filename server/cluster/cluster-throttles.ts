/**
 * The wrong-password throttles across a cluster's nodes (docs/ARCHITECTURE.md,
 * "Per node or cluster-wide"): each node keeps its records in its shared
 * memory, where every check stays synchronous, and tells the other nodes
 * every change on one Redis channel (`{p}throttle`); each node's supervisor
 * writes what the others tell into its own records. A guesser who spreads
 * its tries over the nodes is counted on every node within a publish's
 * delay (milliseconds), not once per node, and a nick locked on one node is
 * locked on all; the owner's known addresses follow the same way. Pub/sub
 * keeps nothing while a node's link is down: what it misses meanwhile
 * (failures elsewhere) it does not count, which is the throttle of a single
 * node, not a hole.
 */
import type { ThrottleRecord, ThrottleRecords } from '../auth-throttle.js';
import type { RedisLink } from './redis-link.js';

/** The throttles a node shares: the server password and admin token per address, and the nick passwords. */
export type ThrottleTable = 'address' | 'nick';

interface Told {
  /** The node that changed it. */
  n: string;
  t: ThrottleTable;
  k: string;
  /** The record as it is now there; null: forgotten (a right password). */
  r: ThrottleRecord | null;
}

/** A node's records, each change also told to the other nodes. */
export class ToldRecords implements ThrottleRecords {
  constructor(
    private readonly local: ThrottleRecords,
    private readonly table: ThrottleTable,
    private readonly tell: (told: string) => void,
    private readonly node: string,
  ) {}

  get(key: string): ThrottleRecord | undefined {
    return this.local.get(key);
  }

  update(key: string, fn: (r: ThrottleRecord | undefined) => ThrottleRecord | undefined): void {
    let now: ThrottleRecord | undefined;
    this.local.update(key, (r) => (now = fn(r)));
    this.tell(JSON.stringify({ n: this.node, t: this.table, k: key, r: now ?? null } satisfies Told));
  }

  get size(): number {
    return this.local.size;
  }
}

/** The channel the nodes tell each other on. */
export function throttleChannel(prefix: string): string {
  return `${prefix}throttle`;
}

/** Publishes on the link, never waiting; a failure is the link's (its state is logged where it is opened). */
export function publisher(link: RedisLink, prefix: string): (told: string) => void {
  const channel = throttleChannel(prefix);
  return (told) => void link.publish(channel, told).catch(() => undefined);
}

/**
 * What another node told, written into this node's records: a record replaces ours unless ours is newer (a
 * failure here since); a forgotten one is forgotten here too. This node's own are skipped.
 */
export function applyTold(json: string, node: string, tables: Record<ThrottleTable, ThrottleRecords>): void {
  let told: Told;
  try {
    told = JSON.parse(json) as Told;
  } catch {
    return;
  }
  if (told.n === node || !(told.t in tables) || typeof told.k !== 'string') return;
  const records = tables[told.t];
  records.update(told.k, (ours) => {
    if (told.r === null) return undefined;
    return ours && ours.lastAt > told.r.lastAt ? ours : told.r;
  });
}
