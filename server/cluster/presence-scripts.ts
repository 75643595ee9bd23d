/**
 * The scripts that keep the cluster's records true to the nodes that are
 * alive (node-presence.ts): a node's lease, its records in step with its
 * session table, and what happens to a dead node's sessions.
 * KEYS and the prefix as nick-scripts.ts's.
 */
import { script } from './nick-scripts.js';

/** ARGV: prefix, node, ttl ms. Renews the node's lease. -> 'ok' | 'lapsed' (it had expired: the node may have been reaped) */
export const RENEW = script(
  'renew',
  `
local lease = P .. 'lease:' .. ARGV[2]
if redis.call('SET', lease, '1', 'PX', ARGV[3], 'XX') then return 'ok' end
redis.call('SET', lease, '1', 'PX', ARGV[3])
redis.call('SADD', P .. 'nodes', ARGV[2])
return 'lapsed'
`,
);

/**
 * ARGV: prefix, node, then pairs of session key and awaySince (0: connected): the node's table as it is now. Records
 * of the node's that the table no longer has go (their sessions ended); those whose away state changed are rewritten.
 * -> the keys the table has that the cluster does not (it reaped them while the node was cut off)
 */
export const RECONCILE = script(
  'reconcile',
  `
local node = ARGV[2]
local has = {}
for i = 3, #ARGV, 2 do has[ARGV[i]] = tonumber(ARGV[i + 1]) end
for _, key in ipairs(redis.call('SMEMBERS', P .. 'n:' .. node)) do
  local since = has[key]
  if since == nil then
    drop(key)
  else
    local j = redis.call('HGET', S, key)
    if j then
      local r = cjson.decode(j)
      if r.awaySince ~= since then
        r.awaySince = since
        redis.call('HSET', S, key, cjson.encode(r))
      end
    end
    has[key] = nil
  end
end
local missing = {}
for key, _ in pairs(has) do table.insert(missing, key) end
return missing
`,
);

/**
 * ARGV: prefix, node, now, resume window ms. A node whose lease is gone: its connected sessions become away from
 * now (their clients may resume them on another node, as after a lost connection); those away longer than the
 * window go. Nothing while the lease lives, so nodes reaping at once reap once.
 * -> {records now away, records ended}
 */
export const REAP = script(
  'reap',
  `
local node, now, window = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('EXISTS', P .. 'lease:' .. node) == 1 then return {{}, {}} end
local away, ended = {}, {}
for _, key in ipairs(redis.call('SMEMBERS', P .. 'n:' .. node)) do
  local j = redis.call('HGET', S, key)
  if j then
    local r = cjson.decode(j)
    if r.awaySince == 0 then
      r.awaySince = now
      r.owner = -1
      j = cjson.encode(r)
      redis.call('HSET', S, key, j)
      table.insert(away, j)
    elseif r.awaySince + window <= now then
      drop(key)
      table.insert(ended, j)
    end
  else
    redis.call('SREM', P .. 'n:' .. node, key)
  end
end
if redis.call('SCARD', P .. 'n:' .. node) == 0 then redis.call('SREM', P .. 'nodes', node) end
return {away, ended}
`,
);
