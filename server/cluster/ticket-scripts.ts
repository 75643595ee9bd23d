/**
 * The scripts of the cluster's ticket counts (cluster-tickets.ts, where the keys they touch are named): each one
 * step for every node. Times are Redis's clock (TIME), one for every node.
 */
import { LuaScript } from './lua.js';

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS: the session's holds, the network's (absent: none). ARGV: the member in each, the most per session and
 * per network, the ticket's life, the keys' life, then a ticket for another node's file to keep ('' for none:
 * its key, its record). -> 'ok' | 'limit' | 'prefix'
 */
export const TAKE = new LuaScript(
  'ticket-take',
  `${NOW}
local ttl = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 'limit' end
if #KEYS > 1 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 'prefix' end
  redis.call('ZADD', KEYS[2], now + ttl, ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
if ARGV[7] ~= '' then redis.call('SET', ARGV[7], ARGV[8], 'PX', ttl) end
return 'ok'
`,
);

/**
 * Transfers running: ARGV: how long they count from now, the keys' life, then for each: the session's holds, its
 * member, the network's holds ('' for none), its member.
 */
export const HOLD = new LuaScript(
  'ticket-hold',
  `${NOW}
local till = now + tonumber(ARGV[1])
for i = 3, #ARGV, 4 do
  redis.call('ZADD', ARGV[i], till, ARGV[i + 1])
  redis.call('PEXPIRE', ARGV[i], ARGV[2])
  if ARGV[i + 2] ~= '' then
    redis.call('ZADD', ARGV[i + 2], till, ARGV[i + 3])
    redis.call('PEXPIRE', ARGV[i + 2], ARGV[2])
  end
end
return 1
`,
);

/**
 * A transfer ended. ARGV: '1' armed again (counts for the ticket's life from now) or '0' (no longer counts), the
 * ticket's life, the keys' life, the session's holds, its member, the network's holds ('' for none), its member.
 */
export const END = new LuaScript(
  'ticket-end',
  `${NOW}
for i = 4, 6, 2 do
  if ARGV[i] ~= '' then
    if ARGV[1] == '1' then
      redis.call('ZADD', ARGV[i], now + tonumber(ARGV[2]), ARGV[i + 1])
      redis.call('PEXPIRE', ARGV[i], ARGV[3])
    else
      redis.call('ZREM', ARGV[i], ARGV[i + 1])
    end
  end
end
return 1
`,
);

/**
 * A session went away. ARGV: the prefix, its key, then the tickets its node's table gave back. Those, and its
 * tickets for other nodes' files still unused (their records removed: they no longer work), stop counting.
 * -> how many
 */
export const REVOKE = new LuaScript(
  'ticket-revoke',
  `
local P, skey = ARGV[1], ARGV[2]
local sset = P .. 'th:s:' .. skey
local given = {}
for i = 3, #ARGV do given[ARGV[i]] = true end
local n = 0
for _, m in ipairs(redis.call('ZRANGE', sset, 0, -1)) do
  local t, p = string.sub(m, 1, 32), string.sub(m, 34)
  local drop = given[t]
  if not drop and redis.call('EXISTS', P .. 'tk:' .. t) == 1 then
    redis.call('DEL', P .. 'tk:' .. t)
    drop = true
  end
  if drop then
    redis.call('ZREM', sset, m)
    if p ~= '0' then redis.call('ZREM', P .. 'th:p:' .. p, t .. ':' .. skey) end
    n = n + 1
  end
end
return n
`,
);

/**
 * A ticket another node issued for a file here. KEYS: its record. ARGV: this node, the op and the name asked,
 * the prefix, how long a transfer counts, the keys' life. Taken only on its node and for its op and name (one sent
 * to the wrong node, or for another file, is not spent); taken, its holds count it as running here.
 * -> nil (none), {1, record} taken, {0, record} another node's, {2, record} for another op or name
 */
export const REDEEM = new LuaScript(
  'ticket-redeem',
  `
local v = redis.call('GET', KEYS[1])
if not v then return nil end
local r = cjson.decode(v)
if r.node ~= ARGV[1] then return {0, v} end
if r.op ~= ARGV[2] or r.name ~= ARGV[3] then return {2, v} end
redis.call('DEL', KEYS[1])
if type(r.s) == 'string' and type(r.p) == 'string' then
  ${NOW}
  local P, t = ARGV[4], string.sub(KEYS[1], -32)
  local till = now + tonumber(ARGV[5])
  redis.call('ZADD', P .. 'th:s:' .. r.s, till, t .. ':' .. r.p)
  redis.call('PEXPIRE', P .. 'th:s:' .. r.s, ARGV[6])
  if r.p ~= '0' then
    redis.call('ZADD', P .. 'th:p:' .. r.p, till, t .. ':' .. r.s)
    redis.call('PEXPIRE', P .. 'th:p:' .. r.p, ARGV[6])
  end
end
return {1, v}
`,
);
