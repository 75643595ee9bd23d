/**
 * The room directory's half of the cluster bus (replicated-rooms.ts): a
 * batch that changes it is added to the bus stream and written to the
 * directory's hashes in one script, so that a node starting reads a
 * snapshot and a stream position that agree (cluster-bus.ts start): every
 * change is either in the snapshot or after the position, never lost
 * between them (a change in both is applied twice, which does no harm).
 */
import type { BusOp } from './bus-ops.js';
import { encodeMemberState } from '../bus/directory-change.js';
import { LuaScript } from './lua.js';

/**
 * KEYS: the bus stream, the members hash, the topics hash. ARGV: the entry's JSON, the stream's MAXLEN, then
 * pairs of a field and a value: "m" + session key -> the member's state ("" deletes it), "t" + room key -> the
 * topic's JSON. -> the entry's id
 */
export const BUS_APPEND = new LuaScript(
  'bus-append',
  `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'b', ARGV[1])
for i = 3, #ARGV, 2 do
  local kind, field, value = string.sub(ARGV[i], 1, 1), string.sub(ARGV[i], 2), ARGV[i + 1]
  if kind == 'm' then
    if value == '' then redis.call('HDEL', KEYS[2], field) else redis.call('HSET', KEYS[2], field, value) end
  else
    redis.call('HSET', KEYS[3], field, value)
  end
end
return id
`,
);

/** The script's field/value pairs for a batch's directory changes (none: a plain XADD does). */
export function directoryArgs(ops: BusOp[]): string[] {
  const args: string[] = [];
  for (const op of ops) {
    if (op.k !== 'dir') continue;
    const c = op.change;
    if (c.t === 'member') args.push(`m${c.key}`, c.state ? encodeMemberState(c.state) : '');
    else args.push(`t${c.key}`, JSON.stringify([c.name, c.topic]));
  }
  return args;
}

/** A topic as the topics hash keeps it: the topic, or null when it is not one. */
export function decodeTopic(json: string): string | null {
  try {
    const [, topic] = JSON.parse(json) as [string, string];
    return typeof topic === 'string' ? topic : null;
  } catch {
    return null;
  }
}
