/**
 * Registrations per address prefix over a cluster's nodes (store-quotas.ts RegistrationQuota), so that a network
 * registering through several nodes has one allowance (--max-registrations-per-prefix an hour), not one per node:
 *   {p}reg:PREFIX   sorted set: one member per registration, scored by its time (the registering node's clock)
 * Taking one is one script that drops what is older than the window, counts, and adds: two nodes registering from
 * one network at once are two steps, the second refused at the limit. The set expires a window after its last
 * registration. A registration that then fails (the nick registered meanwhile) gives its place back.
 */
import { randomBytes } from 'node:crypto';
import type { ClusterKeys } from '../cluster/keys.js';
import { LuaScript } from '../cluster/lua.js';
import type { RedisLink } from '../cluster/redis-link.js';
import { StoreError } from './store-error.js';
import { REGISTRATION_WINDOW_MS, type RegistrationQuota, type RegistrationTaken } from './store-quotas.js';

/**
 * KEYS: the prefix's registrations. ARGV: now, the window, the most in it, a new member.
 * -> 0 taken, or how long until one is free (ms)
 */
const TAKE = new LuaScript(
  'registration-take',
  `
local now, window, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n >= max then
  local oldest = redis.call('ZRANGE', KEYS[1], n - max, n - max, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 0
`,
);

export class RedisRegistrations implements RegistrationQuota {
  constructor(
    private readonly link: RedisLink,
    private readonly keys: ClusterKeys,
    private readonly max: number,
    /** A place that could not be given back (Redis unreachable): for the log; it goes with the window. */
    private readonly lost: (err: Error) => void = () => undefined,
  ) {}

  async take(prefix: string, now: number): Promise<RegistrationTaken> {
    const key = `${this.keys.prefix}reg:${prefix}`;
    const member = `${now}:${randomBytes(6).toString('hex')}`;
    let wait: number;
    try {
      wait = Number(
        await TAKE.run(this.link, [key], [String(now), String(REGISTRATION_WINDOW_MS), String(this.max), member]),
      );
    } catch (err) {
      // Redis failing is the store failing, as for the accounts themselves (redis-accounts.ts).
      throw new StoreError('STORE_IO', `the cluster's Redis: ${(err as Error).message}`);
    }
    if (wait > 0) return { ok: false, waitMs: wait };
    return {
      ok: true,
      giveBack: () => void this.link.zRem(key, member).catch((err: unknown) => this.lost(err as Error)),
    };
  }
}
