/**
 * Retention (--history-max-age, --history-max-size) over the whole cluster's room log (redis-room-log.ts), by one
 * node at a time (a lock with an expiry). By age, each conversation whose first kept entry is older than the
 * cutoff loses its entries older than it; by size, the conversation whose first entry is the oldest loses its
 * oldest, until the JSON kept is under the budget (not the single node's per-sender rule: a cluster's log counts
 * bytes, not senders). Both find their conversations in the heads (retention-scripts.ts), never by reading every
 * conversation. In steps of PRUNE_STEP entries, the link free between.
 */
import { randomBytes } from 'node:crypto';
import type { Retention } from './history.js';
import { StoreError } from './store-error.js';
import type { ClusterKeys } from '../cluster/keys.js';
import type { RedisLink } from '../cluster/redis-link.js';
import { PLACE_HEADS, PRUNE_AGE, PRUNE_SIZE, RELEASE_LOCK } from './retention-scripts.js';

/** Entries one retention script drops at most: Redis runs a script whole, so each is kept short. */
export const PRUNE_STEP = 500;
/** Conversations placed in the heads, or read from them, per round trip. */
const HEADS_PAGE = 500;
/** Steps one run takes at most (a run that cannot finish leaves the rest to the next). */
const MAX_STEPS = 10_000;

/** The room log's keys (its streams, counters and heads): one naming for the log and its retention. */
export function retentionKeys(keys: ClusterKeys) {
  const p = keys.prefix;
  return { ids: `${p}ids`, bytes: `${p}bytes`, heads: `${p}heads`, placed: `${p}heads:placed`, streams: `${p}h:` };
}

/** One run of retention; the entries it dropped (0 when another node holds the run). */
export async function pruneClusterLog(
  link: RedisLink,
  keys: ClusterKeys,
  now: number,
  retention: Retention,
): Promise<number> {
  const lock = `${keys.prefix}pruning`;
  // The lock holds this run's token: a run that outlasted the lock's expiry must not delete another node's.
  const token = randomBytes(8).toString('hex');
  if ((await link.set(lock, token, { condition: 'NX', expiration: { type: 'PX', value: 60_000 } })) === null) return 0;
  const k = retentionKeys(keys);
  try {
    await placeHeads(link, k);
    let removed = retention.maxAgeMs > 0 ? await pruneByAge(link, k, now - retention.maxAgeMs) : 0;
    for (let step = 0, gone = 1; gone > 0 && step < MAX_STEPS; step++, removed += gone)
      gone = Number(
        await PRUNE_SIZE.run(link, [k.bytes, k.heads], [k.streams, String(retention.maxBytes), `${PRUNE_STEP}`]),
      );
    return removed;
  } catch (err) {
    throw new StoreError('STORE_IO', `retention on the cluster's room log failed: ${(err as Error).message}`);
  } finally {
    await RELEASE_LOCK.run(link, [lock], [token]).catch(() => undefined);
  }
}

/** Entries older than `cutoff` dropped from the conversations whose first kept entry is. */
async function pruneByAge(link: RedisLink, k: ReturnType<typeof retentionKeys>, cutoff: number): Promise<number> {
  let removed = 0;
  for (let step = 0; step < MAX_STEPS; step++) {
    const old = await link.zRange(k.heads, '-inf', `(${cutoff}`, {
      BY: 'SCORE',
      LIMIT: { offset: 0, count: HEADS_PAGE },
    });
    if (old.length === 0) break;
    for (const conv of old)
      for (let gone = PRUNE_STEP; gone === PRUNE_STEP; removed += gone, step++)
        gone = Number(
          await PRUNE_AGE.run(link, [k.streams + conv, k.bytes, k.heads], [`${cutoff}`, `${PRUNE_STEP}`, conv]),
        );
  }
  return removed;
}

/**
 * A log written before the heads existed (an older version's, or one whose heads were lost) has its conversations
 * placed once, a page at a time; `placed` remembers it was done.
 */
async function placeHeads(link: RedisLink, k: ReturnType<typeof retentionKeys>): Promise<void> {
  if ((await link.exists(k.placed)) === 1) return;
  let cursor = '0';
  do {
    const page = await link.hScan(k.ids, cursor, { COUNT: HEADS_PAGE });
    cursor = String(page.cursor);
    const convs = page.entries.map((e) => e.field);
    if (convs.length > 0) await PLACE_HEADS.run(link, [k.heads], [k.streams, ...convs]);
  } while (cursor !== '0');
  await link.set(k.placed, '1');
}
