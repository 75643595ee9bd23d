/**
 * The scripts of the cluster's log retention (redis-retention.ts). Beside the
 * conversations' streams (room-log-scripts.ts), a sorted set `{p}heads` holds
 * each conversation that keeps entries, scored by the time of its first kept
 * entry: the append script adds a conversation when it has none (ZADD NX),
 * every drop from a head moves its score to the new first entry or removes
 * it. So retention by size finds the oldest conversation in O(log n), and by
 * age only the conversations that hold something older than the cutoff,
 * instead of reading the head of every conversation (a DM is one) in one
 * script, with Redis busy for all of them.
 */
import { LuaScript } from '../cluster/lua.js';

/**
 * Drops a stream's entries up to `last`, freeing `freed` bytes, and moves the conversation's place in the heads
 * (prelude of the prunes).
 */
const DROP_HEAD = `
local function dropHead(key, bytes, heads, conv, last, freed)
  local next = tonumber(string.match(last, '^(%d+)')) + 1
  redis.call('XTRIM', key, 'MINID', next .. '-0')
  redis.call('DECRBY', bytes, freed)
  local first = redis.call('XRANGE', key, '-', '+', 'COUNT', 1)[1]
  if first then redis.call('ZADD', heads, tonumber(first[2][2]), conv) else redis.call('ZREM', heads, conv) end
end
`;

/**
 * Retention by age. KEYS: a conversation's stream, the bytes kept, the heads. ARGV: the oldest time kept, the most
 * entries to drop now, the conversation. Only from the head, so the ids kept stay contiguous. -> entries dropped
 */
export const PRUNE_AGE = new LuaScript(
  'prune-age',
  `${DROP_HEAD}
local cutoff, n, freed, last = tonumber(ARGV[1]), 0, 0, nil
for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', tonumber(ARGV[2]))) do
  if tonumber(e[2][2]) >= cutoff then break end
  n, freed, last = n + 1, freed + #e[2][4], e[1]
end
if n > 0 then dropHead(KEYS[1], KEYS[2], KEYS[3], ARGV[3], last, freed)
elseif not redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1] then redis.call('ZREM', KEYS[3], ARGV[3]) end
return n
`,
);

/**
 * Retention by size. KEYS: the bytes kept, the heads. ARGV: the streams' prefix, the bytes to keep under, the most
 * entries to drop now. Over the budget, the conversation whose first entry is the oldest (the heads' first) loses
 * its oldest, as many as bring the total under, at most the step. -> entries dropped (0: under the budget)
 */
export const PRUNE_SIZE = new LuaScript(
  'prune-size',
  `${DROP_HEAD}
local total, max = tonumber(redis.call('GET', KEYS[1]) or '0'), tonumber(ARGV[2])
if total <= max then return 0 end
for _ = 1, 16 do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not oldest then return 0 end
  local key, n, freed, last = ARGV[1] .. oldest, 0, 0, nil
  for _, e in ipairs(redis.call('XRANGE', key, '-', '+', 'COUNT', tonumber(ARGV[3]))) do
    if total - freed <= max then break end
    n, freed, last = n + 1, freed + #e[2][4], e[1]
  end
  if n > 0 then
    dropHead(key, KEYS[1], KEYS[2], oldest, last, freed)
    return n
  end
  -- Listed with nothing kept (a stream emptied another way): no longer a head.
  redis.call('ZREM', KEYS[2], oldest)
end
return 0
`,
);

/**
 * Places conversations in the heads by their first kept entry (a log written before the heads existed, once, in
 * steps). KEYS: the heads. ARGV: the streams' prefix, then conversations. -> how many keep entries
 */
export const PLACE_HEADS = new LuaScript(
  'place-heads',
  `
local n = 0
for i = 2, #ARGV do
  local first = redis.call('XRANGE', ARGV[1] .. ARGV[i], '-', '+', 'COUNT', 1)[1]
  if first then
    redis.call('ZADD', KEYS[1], tonumber(first[2][2]), ARGV[i])
    n = n + 1
  else
    redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return n
`,
);

/** KEYS: a lock. ARGV: the token it was taken with. Deletes it only if it still holds that token. -> 1 | 0 */
export const RELEASE_LOCK = new LuaScript(
  'release-lock',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
);
