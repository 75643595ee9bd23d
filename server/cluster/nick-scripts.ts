/**
 * The scripts that keep nicks and sessions for the whole cluster (keys.ts
 * says where). Each runs whole on Redis, so a claim's look-alike check and
 * its write are one step for every node: two nodes claiming look-alikes at
 * once get one winner. Records come whole from the node (JSON); a script only
 * reads their index fields (fold, look, token, spent, node).
 * KEYS: S F L T (keys.ts sessionScriptKeys); ARGV[1]: the prefix.
 */
import { LuaScript } from './lua.js';

const PRELUDE = `
local S, F, L, T = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local P = ARGV[1]
local function drop(key)
  local j = redis.call('HGET', S, key)
  if not j then return nil end
  local r = cjson.decode(j)
  redis.call('HDEL', S, key)
  if redis.call('HGET', F, r.fold) == key then redis.call('HDEL', F, r.fold) end
  if redis.call('HGET', L, r.look) == key then redis.call('HDEL', L, r.look) end
  if r.token ~= '' then redis.call('HDEL', T, r.token) end
  if r.spent ~= '' then redis.call('HDEL', T, r.spent) end
  redis.call('SREM', P .. 'n:' .. r.node, key)
  return j
end
local function put(key, j)
  local r = cjson.decode(j)
  redis.call('HSET', S, key, j)
  redis.call('HSET', F, r.fold, key)
  redis.call('HSET', L, r.look, key)
  if r.token ~= '' then redis.call('HSET', T, r.token, key) end
  if r.spent ~= '' then redis.call('HSET', T, r.spent, '!' .. key) end
  redis.call('SADD', P .. 'n:' .. r.node, key)
  redis.call('SADD', P .. 'nodes', r.node)
end
-- The session (other than except) holding this nick, or one it looks like; and whether it is the same nick.
local function holder(fold, look, except)
  local f = redis.call('HGET', F, fold)
  if f and f ~= except then return f, '1' end
  local l = redis.call('HGET', L, look)
  if l and l ~= except then return l, '0' end
  return nil, '0'
end
local function taken(key, same)
  return {'taken', redis.call('HGET', S, key) or '', same}
end
`;

/** A script with the prelude's helpers (drop, put, holder, taken) before its body. */
export const script = (name: string, body: string) => new LuaScript(name, PRELUDE + body);

/**
 * ARGV: prefix, key, record, except, expect. A session at `key` with this record, unless its nick (or a look-alike)
 * is held by a session other than `except`; `except`, when given, is ended (the nick's owner took it), and must still
 * hold the nick (`expect` '1'; else 'changed': the caller looks again). -> {'ok', ended record or ''} | {'taken', holder, same} | {'changed'}
 */
export const CLAIM = script(
  'claim',
  `
local key, j, except = ARGV[2], ARGV[3], ARGV[4]
local r = cjson.decode(j)
if ARGV[5] == '1' and redis.call('HGET', F, r.fold) ~= except then return {'changed'} end
local h, same = holder(r.fold, r.look, except)
if h then return taken(h, same) end
local ended = ''
if except ~= '' then ended = drop(except) or '' end
drop(key)
put(key, j)
return {'ok', ended}
`,
);

/** ARGV: prefix, key, record. The session's new record (a rename, away, back), unless it is gone or the nick is taken. -> {'ok'} | {'gone'} | taken */
export const UPDATE = script(
  'update',
  `
local key, j = ARGV[2], ARGV[3]
if redis.call('HEXISTS', S, key) == 0 then return {'gone'} end
local r = cjson.decode(j)
local h, same = holder(r.fold, r.look, key)
if h then return taken(h, same) end
drop(key)
put(key, j)
return {'ok'}
`,
);

/**
 * ARGV: prefix, from, to, record, token. The session at `from` moves to `to` (a resume, a take-over, on this node or
 * from another), with its record; `token` (hex, or '' for a take-over) must be its current one.
 * -> {'ok', its record before} | {'used'} | {'unknown'} | {'taken'} (its nick is another session's now)
 */
export const MOVE = script(
  'move',
  `
local from, to, j, token = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if token ~= '' then
  local at = redis.call('HGET', T, token)
  if not at then return {'unknown'} end
  if string.sub(at, 1, 1) == '!' then return {'used'} end
  if at ~= from then return {'unknown'} end
end
if redis.call('HEXISTS', S, from) == 0 then return {'unknown'} end
-- Its nick (or a look-alike) held by another session: the record moves only under a nick still its own.
local r = cjson.decode(j)
local h = holder(r.fold, r.look, from)
if h and h ~= to then return {'taken'} end
local was = drop(from)
drop(to)
put(to, j)
return {'ok', was}
`,
);

/** ARGV: prefix, key. The session's record goes (it ended). -> its record or false */
export const DROP = script('drop', `return drop(ARGV[2])`);

/** ARGV: prefix, fold. The record of the session holding this very nick, or false. */
export const LOOKUP = script(
  'lookup',
  `
local key = redis.call('HGET', F, ARGV[2])
if not key then return false end
return redis.call('HGET', S, key)
`,
);

/** ARGV: prefix, token. -> {'at', record} | {'used'} | {'unknown'} */
export const FIND_TOKEN = script(
  'find-token',
  `
local at = redis.call('HGET', T, ARGV[2])
if not at then return {'unknown'} end
if string.sub(at, 1, 1) == '!' then return {'used'} end
local j = redis.call('HGET', S, at)
if not j then return {'unknown'} end
return {'at', j}
`,
);
