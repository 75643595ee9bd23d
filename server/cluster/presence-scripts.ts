/**
 * The scripts that keep the cluster's records true to the nodes that are
 * alive (node-presence.ts): a node's lease, its records in step with its
 * session table, and what happens to a dead node's sessions.
 * KEYS and the prefix as nick-scripts.ts's.
 */
import { script } from './nick-scripts.js';

/**
 * ARGV: prefix, node, ttl ms, run, generation (generation.ts). Renews the node's lease, which holds the run that took
 * it. Taking it (at start, or after it lapsed) checks the cluster's generation in the same step: while another node's
 * lease lives, only a node of the generation recorded may take one (none recorded while nodes live: nodes from
 * before the check, generation 0); once none lives, the taker's generation becomes the cluster's.
 * -> 'ok' | 'lapsed' (it had expired: taken again; the node may have been reaped) | 'stolen' (another run holds it)
 *    | {'generation', the cluster's generation, the live nodes...} (refused: nothing written)
 */
export const RENEW = script(
  'renew',
  `
local lease = P .. 'lease:' .. ARGV[2]
local holder = redis.call('GET', lease)
if holder == ARGV[4] then
  redis.call('PEXPIRE', lease, ARGV[3])
  return 'ok'
end
if holder then return 'stolen' end
local gen = P .. 'generation'
local g = redis.call('GET', gen) or '0'
if g ~= ARGV[5] then
  local live = {}
  for _, n in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do
    if n ~= ARGV[2] and redis.call('EXISTS', P .. 'lease:' .. n) == 1 then table.insert(live, n) end
  end
  if #live > 0 then
    table.sort(live)
    return {'generation', g, unpack(live)}
  end
  redis.call('SET', gen, ARGV[5])
end
redis.call('SET', lease, ARGV[4], 'PX', ARGV[3])
redis.call('SADD', P .. 'nodes', ARGV[2])
return 'lapsed'
`,
);

/**
 * ARGV: prefix, node, the time the table was read (wall ms), then triples of session key, awaySince (0: connected)
 * and owner: the node's table as it was then. Records of the node's that the table did not have go, unless written
 * after it was read (a claim or a resume that landed meanwhile); those whose away state or owner changed are
 * rewritten. -> the keys the table has that the cluster does not (it lost them, or let them go)
 */
export const RECONCILE = script(
  'reconcile',
  `
local node, readAt = ARGV[2], tonumber(ARGV[3])
local has = {}
for i = 4, #ARGV, 3 do has[ARGV[i]] = {tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])} end
for _, key in ipairs(redis.call('SMEMBERS', P .. 'n:' .. node)) do
  local mine = has[key]
  local j = redis.call('HGET', S, key)
  if mine == nil then
    if j and (cjson.decode(j).at or 0) < readAt then drop(key) end
  elseif j then
    local r = cjson.decode(j)
    if r.awaySince ~= mine[1] or r.owner ~= mine[2] then
      r.awaySince, r.owner = mine[1], mine[2]
      redis.call('HSET', S, key, cjson.encode(r))
    end
  end
  has[key] = nil
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

/** ARGV: prefix. -> {sessions held in the cluster, nodes whose lease lives} (LUSERS, WELCOME's count). */
export const COUNT = script(
  'count',
  `
local live = 0
for _, node in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do
  if redis.call('EXISTS', P .. 'lease:' .. node) == 1 then live = live + 1 end
end
return {redis.call('HLEN', S), live}
`,
);
