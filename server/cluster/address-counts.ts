/**
 * Sessions per address counted over the cluster (--max-sessions-per-address),
 * so that an address spread over N nodes does not get N times the limit.
 * Each node writes how many connected sessions each address has on it, at
 * each renewal of its lease (node-presence.ts): `{p}addr:NODE`, a hash that
 * expires with the lease, so a dead node's counts go with it. A login adds
 * the other live nodes' counts (nodes whose lease stands) to its own node's,
 * in one script: one round trip a login, none a connection. The counts are as
 * old as a renewal (`renewMs`, 2 s by default): logins on several nodes
 * within that may pass together.
 */
import { canonicalAddress } from '../shm/address-table.js';
import { clusterKeys, type ClusterKeys } from './keys.js';
import { LuaScript } from './lua.js';
import type { RedisLink } from './redis-link.js';

/** KEYS: the nodes set. ARGV: the prefix, this node, the address. -> the other live nodes' sessions from it */
const ELSEWHERE = new LuaScript(
  'address-elsewhere',
  `
local n = 0
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if node ~= ARGV[2] and redis.call('EXISTS', ARGV[1] .. 'lease:' .. node) == 1 then
    n = n + tonumber(redis.call('HGET', ARGV[1] .. 'addr:' .. node, ARGV[3]) or '0')
  end
end
return n
`,
);

/** Connected sessions (an away one holds no place) by address. */
export function addressCounts(sessions: ReadonlyArray<{ address: string; away: boolean }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of sessions) {
    if (s.away) continue;
    const a = canonicalAddress(s.address);
    counts.set(a, (counts.get(a) ?? 0) + 1);
  }
  return counts;
}

/** A node's counts in Redis: rewritten whole when they changed since the last write, else only kept standing. */
export class AddressCountWriter {
  private last: string | null = null;

  constructor(
    private readonly link: RedisLink,
    keys: ClusterKeys,
    node: string,
    /** How long they stand unless written again (the node's lease). */
    private readonly ttlMs: number,
    private readonly key = `${keys.prefix}addr:${node}`,
  ) {}

  async write(counts: ReadonlyMap<string, number>): Promise<void> {
    const fields = Object.fromEntries([...counts].map(([a, n]) => [a, String(n)]));
    const now = JSON.stringify(fields);
    // Gone meanwhile (its expiry, a Redis that came back empty): PEXPIRE says so, and the next write is whole.
    if (now === this.last && (await this.link.pExpire(this.key, this.ttlMs)) === 1) return;
    this.last = null;
    const m = this.link.multi().del(this.key);
    if (counts.size > 0) m.hSet(this.key, fields);
    await m.pExpire(this.key, this.ttlMs).exec();
    this.last = now;
  }
}

/** The sessions an address has on the other live nodes than `node`, asked of the cluster's Redis. */
export function sessionsElsewhere(link: RedisLink, node: string): (address: string) => Promise<number> {
  const keys = clusterKeys();
  return async (address) =>
    Number(await ELSEWHERE.run(link, [keys.nodes], [keys.prefix, node, canonicalAddress(address)]));
}
