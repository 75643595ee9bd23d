/**
 * Registered nicks of a cluster (accounts.ts), in its Redis, so that a nick
 * registered on one node is registered on every node:
 *   {p}acct          hash  folded nick -> the account (JSON AccountRecord)
 *   {p}acct:look     hash  look-alike key -> folded nick
 *   {p}inbox:FOLD    hash  conversation -> the first id the account missed
 * Registering, changing and removing are one script each (two nodes
 * registering one nick, or look-alikes, at once: one gets it). What an
 * inbox holds is counted in memory by each node, for the check that comes
 * in the order before a message is stored (as sqlite-accounts.ts does); the
 * caps are therefore each node's count of what it noted, not the cluster's.
 */
import {
  InboxSizes,
  MAX_ACCOUNTS,
  type AccountRecord,
  type AccountStore,
  type InboxCaps,
  type InboxItem,
} from './accounts.js';
import { StoreError } from './store-error.js';
import type { ClusterKeys } from '../cluster/keys.js';
import { LuaScript } from '../cluster/lua.js';
import type { RedisLink } from '../cluster/redis-link.js';

/** KEYS: accounts, looks. ARGV: fold, look, the record's JSON, the most accounts. -> 'ok' | 'exists' | 'full' */
const CREATE = new LuaScript(
  'account-create',
  `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 or redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return 'exists' end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return 'full' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return 'ok'
`,
);

/** KEYS: accounts, looks, the account's inbox. ARGV: fold. -> 1 removed, 0 none */
const REMOVE = new LuaScript(
  'account-remove',
  `
local j = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[3])
if not j then return 0 end
local look = cjson.decode(j).look
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HGET', KEYS[2], look) == ARGV[1] then redis.call('HDEL', KEYS[2], look) end
return 1
`,
);

export class RedisAccounts implements AccountStore {
  /** What this node noted in each inbox. */
  private readonly sizes = new InboxSizes();

  constructor(
    private readonly link: RedisLink,
    private readonly keys: ClusterKeys,
  ) {}

  async find(fold: string, look: string): Promise<AccountRecord | null> {
    return this.guard(async () => {
      const own = await this.link.hGet(this.accounts, fold);
      if (own) return JSON.parse(own) as AccountRecord;
      const twin = await this.link.hGet(this.looks, look);
      const other = twin ? await this.link.hGet(this.accounts, twin) : null;
      return other ? (JSON.parse(other) as AccountRecord) : null;
    });
  }

  async create(a: AccountRecord): Promise<'ok' | 'exists' | 'full'> {
    return this.guard(
      async () =>
        (await CREATE.run(
          this.link,
          [this.accounts, this.looks],
          [a.fold, a.look, JSON.stringify(a), String(MAX_ACCOUNTS)],
        )) as 'ok' | 'exists' | 'full',
    );
  }

  async setHash(fold: string, hash: string): Promise<boolean> {
    return this.guard(async () => {
      const own = await this.link.hGet(this.accounts, fold);
      if (!own) return false;
      // Only the account's owner changes its password, one command at a time: no race with another writer.
      await this.link.hSet(this.accounts, fold, JSON.stringify({ ...(JSON.parse(own) as AccountRecord), hash }));
      return true;
    });
  }

  async remove(fold: string): Promise<boolean> {
    this.sizes.clear(fold);
    return this.guard(
      async () => (await REMOVE.run(this.link, [this.accounts, this.looks, this.inboxKey(fold)], [fold])) === 1,
    );
  }

  async inboxAdd(fold: string, conv: string, id: number): Promise<void> {
    await this.guard(() => this.link.hSetNX(this.inboxKey(fold), conv, String(id)));
  }

  inboxReserve(fold: string, conv: string, bytes: number, caps: InboxCaps): 'ok' | 'conversations' | 'bytes' {
    return this.sizes.reserve(fold, conv, bytes, caps);
  }

  async inbox(fold: string): Promise<InboxItem[]> {
    const all = await this.guard(() => this.link.hGetAll(this.inboxKey(fold)));
    return Object.entries(all)
      .map(([conv, id]) => ({ conv, firstId: Number(id) }))
      .sort((a, b) => (a.conv < b.conv ? -1 : a.conv > b.conv ? 1 : 0));
  }

  async inboxClear(fold: string): Promise<void> {
    this.sizes.clear(fold);
    await this.guard(() => this.link.del(this.inboxKey(fold)));
  }

  /** Redis failing is the store failing, as a database's error is (the callers tell the user and the operator). */
  private async guard<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      throw new StoreError('STORE_IO', `the cluster's Redis: ${(err as Error).message}`);
    }
  }

  private get accounts(): string {
    return `${this.keys.prefix}acct`;
  }
  private get looks(): string {
    return `${this.keys.prefix}acct:look`;
  }
  private inboxKey(fold: string): string {
    return `${this.keys.prefix}inbox:${fold}`;
  }
}
