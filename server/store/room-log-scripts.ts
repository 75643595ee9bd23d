/**
 * The scripts of the cluster's room log (redis-room-log.ts). Each
 * conversation is a Redis Stream whose entry ids are the conversation's own
 * message ids (`ID-0`), so "exactly one more" is the stream's order itself and
 * a read after an id is an XRANGE. The next id comes from a counter per
 * conversation in the same script as the XADD (Centrifuge's Redis broker
 * makes offsets so); an id Redis made itself (a time and a sequence) would
 * not be one more. Times come from Redis's clock, one clock for every node,
 * never going back within a conversation.
 * `#!lua` with no flags: a script that writes, so Redis refuses it whole when
 * out of memory rather than failing half-way.
 */
import { LuaScript } from '../cluster/lua.js';

/**
 * KEYS: the id counters (hash, `{p}ids`: the direct conversations' sets are named from its prefix), the last
 * times (hash), the bytes kept (a counter), the epoch, the bus stream, this run's last turn (`{p}turn:RUN`), the
 * conversations' first times (sorted set, retention-scripts.ts), then each entry's stream. ARGV: the epoch the node appends under, the turn's bus entry ('' for none: the node posts it
 * itself), the bus's MAXLEN, the turn's token (unique to this run of the node), then each entry's conversation and
 * its JSON. The bus entry (cluster/bus-ops.ts encodeTurnTemplate) goes with the ids and times made here (`x`), in
 * the same step: the messages reach every node's reader without a second round trip.
 * -> id, ts for each entry, in order; or the error EPOCH when the epoch is not the log's any more (Redis lost its
 * data: the counters started again, so ids from before would be given twice)
 * A turn may be sent again when its answer was lost (the link dropped, or the answer came too late): the token
 * and the answer of the run's last turn are kept, and a turn whose token they hold gets that answer again,
 * nothing stored twice. A node stores one turn at a time, so its last turn is the only one that can be in doubt.
 */
export const APPEND = new LuaScript(
  'append',
  `#!lua
local done = redis.call('GET', KEYS[6])
if done and string.sub(done, 1, #ARGV[4] + 1) == ARGV[4] .. '|' then
  local again = {}
  for v in string.gmatch(string.sub(done, #ARGV[4] + 2), '[^,]+') do table.insert(again, tonumber(v)) end
  return again
end
if redis.call('GET', KEYS[4]) ~= ARGV[1] then return redis.error_reply('EPOCH the room log was started anew') end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 8, #KEYS do
  local conv, j = ARGV[2 * (i - 7) + 3], ARGV[2 * (i - 7) + 4]
  local ts = math.max(now, tonumber(redis.call('HGET', KEYS[2], conv) or '0'))
  local id = redis.call('HINCRBY', KEYS[1], conv, 1)
  redis.call('HSET', KEYS[2], conv, ts)
  redis.call('XADD', KEYS[i], id .. '-0', 'ts', ts, 'e', j)
  redis.call('ZADD', KEYS[7], 'NX', ts, conv)
  redis.call('INCRBY', KEYS[3], #j)
  -- A direct conversation is listed under both its nicks (folded), for a resume's replay: {p}dms:NICK.
  local nl = string.sub(conv, 1, 3) == 'dm:' and string.find(conv, '\\n', 4, true)
  if nl then
    local dms = string.sub(KEYS[1], 1, #KEYS[1] - 3) .. 'dms:'
    redis.call('SADD', dms .. string.sub(conv, 4, nl - 1), conv)
    redis.call('SADD', dms .. string.sub(conv, nl + 1), conv)
  end
  table.insert(out, id)
  table.insert(out, ts)
end
local stored = table.concat(out, ',')
if ARGV[2] ~= '' then
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[3], '*', 'b', ARGV[2], 'x', stored)
end
redis.call('SET', KEYS[6], ARGV[4] .. '|' .. stored, 'PX', 60000)
return out
`,
);

/**
 * KEYS: a conversation's stream. ARGV: a time. The id of its first entry at or after that time (0: none). Times
 * never go back within a stream and its ids are contiguous from the first kept, so a binary search finds it.
 */
export const FIRST_SINCE = new LuaScript(
  'first-since',
  `#!lua flags=no-writes
local since = tonumber(ARGV[1])
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if not first then return 0 end
local function idOf(e) return tonumber(string.match(e[1], '^(%d+)')) end
local function tsOf(e) return tonumber(e[2][2]) end
if tsOf(last) < since then return 0 end
local lo, hi = idOf(first), idOf(last)
while lo < hi do
  local mid = math.floor((lo + hi) / 2)
  local e = redis.call('XRANGE', KEYS[1], mid .. '-0', mid .. '-0')[1]
  if e and tsOf(e) >= since then hi = mid else lo = mid + 1 end
end
return lo
`,
);

/** KEYS: the epoch. ARGV: the epoch the node knew, a new one. A new epoch unless another node made one already. */
export const NEW_EPOCH = new LuaScript(
  'new-epoch',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) end
return redis.call('GET', KEYS[1])
`,
);
