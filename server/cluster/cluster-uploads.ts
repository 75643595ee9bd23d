/**
 * The per-user upload quota over a cluster's nodes (files/upload-quota.ts), so that a user who uploads through
 * several nodes (over LFTP or HTTP, each node storing into its own --files) is held to one allowance, partials of
 * interrupted uploads included. Each node counts what it holds in its own hash, `{p}up:NODE` (folded nick ->
 * bytes: stored, in progress, and partials kept for resume, exactly as a single node's ledger counts them), and a
 * reservation adds every live node's count (nodes whose lease stands) to its own in one script, which takes the
 * bytes only if they fit: two nodes reserving for one user at once are two steps in Redis, never both past the
 * quota. A node that starts clears its own hash (a single server's restart forgets its ledger too), and a dead
 * node's counts stop counting once its lease is gone (its disk, its partials, are out of the cluster's reach).
 */
import { foldCase } from '../../common/unicode/text-policy.js';
import type { QuotaReservation, UploadQuota } from '../files/upload-quota.js';
import type { ClusterKeys } from './keys.js';
import { LuaScript } from './lua.js';
import type { RedisLink } from './redis-link.js';

/** The live nodes' counts of a user, this node's own first (the prelude of both scripts). */
const SUM = `
local used = tonumber(redis.call('HGET', KEYS[2], ARGV[3]) or '0')
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if node ~= ARGV[2] and redis.call('EXISTS', ARGV[1] .. 'lease:' .. node) == 1 then
    used = used + tonumber(redis.call('HGET', ARGV[1] .. 'up:' .. node, ARGV[3]) or '0')
  end
end
`;

/** KEYS: the nodes set, this node's counts. ARGV: the prefix, this node, the folded nick. -> bytes used */
const USED = new LuaScript('upload-used', `${SUM}\nreturn used`);

/**
 * KEYS: the nodes set, this node's counts. ARGV: the prefix, this node, the folded nick, the size, the quota.
 * -> {1, used before} taken, {0, used} refused
 */
const RESERVE = new LuaScript(
  'upload-reserve',
  `${SUM}
if used + tonumber(ARGV[4]) > tonumber(ARGV[5]) then return {0, used} end
redis.call('HINCRBY', KEYS[2], ARGV[3], ARGV[4])
return {1, used}
`,
);

/** KEYS: this node's counts. ARGV: the folded nick, the delta. Never below 0 (a count at 0 is removed). */
const ADJUST = new LuaScript(
  'upload-adjust',
  `
local v = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
if v <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return v
`,
);

export class RedisUploadQuota implements UploadQuota {
  private readonly own: string;

  constructor(
    private readonly link: RedisLink,
    private readonly keys: ClusterKeys,
    private readonly node: string,
    readonly maxPerUser: number,
    /** A change that could not be written (Redis unreachable): said in the log; the count is off by it until the node restarts. */
    private readonly lost: (err: Error) => void = () => undefined,
  ) {
    this.own = ownCounts(keys, node);
  }

  async used(nick: string): Promise<number> {
    return Number(await USED.run(this.link, [this.keys.nodes, this.own], this.args(nick)));
  }

  async reserve(nick: string, size: number): Promise<QuotaReservation> {
    const bytes = Math.round(size);
    const [ok, used] = (await RESERVE.run(
      this.link,
      [this.keys.nodes, this.own],
      [...this.args(nick), String(bytes), String(this.maxPerUser)],
    )) as [number, number];
    if (ok !== 1) return { ok: false, used: Number(used), full: false };
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.adjust(nick, -bytes);
      },
    };
  }

  adjust(nick: string, delta: number): void {
    const d = Math.round(delta);
    if (d === 0) return;
    // Commands on one connection run in the order sent: a release and the partial's count after it stay in order.
    ADJUST.run(this.link, [this.own], [foldCase(nick), String(d)]).catch((err: unknown) => this.lost(err as Error));
  }

  private args(nick: string): string[] {
    return [this.keys.prefix, this.node, foldCase(nick)];
  }
}

/** A node's own counts: `{p}up:NODE`. */
export function ownCounts(keys: ClusterKeys, node: string): string {
  return `${keys.prefix}up:${node}`;
}

/** A node starting: what its previous run counted is forgotten, as a single server's restart forgets its ledger. */
export async function forgetUploads(link: RedisLink, keys: ClusterKeys, node: string): Promise<void> {
  await link.del(ownCounts(keys, node));
}
