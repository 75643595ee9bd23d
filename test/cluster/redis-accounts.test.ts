/**
 * A cluster's registered nicks (server/store/redis-accounts.ts) against a real redis-server: registering, finding by
 * nick or by look, changing the password, the inbox (its first id stays), removing; two nodes registering one nick,
 * or look-alikes, at once: one gets it.
 */
import { describe, expect, it } from 'vitest';
import { clusterKeys } from '../../server/cluster/keys.js';
import { closeRedis } from '../../server/cluster/redis-link.js';
import { RedisAccounts } from '../../server/store/redis-accounts.js';
import type { AccountRecord } from '../../server/store/accounts.js';
import { lookAlikeKey } from '../../common/unicode/confusables.js';
import { foldCase } from '../../common/unicode/text-policy.js';
import { redisPerFile } from '../helpers/redis-server.js';

const shared = redisPerFile();
let clusters = 0;

/** The accounts of a new cluster as two nodes see them (two connections). */
async function nodes(): Promise<[RedisAccounts, RedisAccounts]> {
  const keys = clusterKeys(`a${++clusters}:`);
  return [new RedisAccounts(shared.link, keys), new RedisAccounts(await shared.another(), keys)];
}

const account = (nick: string, hash = 'h1'): AccountRecord => ({
  nick,
  fold: foldCase(nick),
  look: lookAlikeKey(nick),
  hash,
  createdTs: 1000,
});

describe('RedisAccounts', () => {
  it('registered on one node is registered on the other: by nick, by look; password, inbox, removal', async () => {
    const [a, b] = await nodes();
    expect(await a.create(account('Alice'))).toBe('ok');
    expect(await b.create(account('alice'))).toBe('exists');
    expect(await b.create(account('aIice'))).toBe('exists'); // a capital I for the l: it would pass for alice
    expect(await b.find('alice', lookAlikeKey('alice'))).toMatchObject({ nick: 'Alice', hash: 'h1' });
    expect(await b.find('aiice', lookAlikeKey('aIice'))).toMatchObject({ nick: 'Alice' });
    expect(await b.find('bob', lookAlikeKey('bob'))).toBeNull();
    expect(await b.setHash('alice', 'h2')).toBe(true);
    expect(await a.find('alice', 'x')).toMatchObject({ hash: 'h2' });
    expect(await a.setHash('nobody', 'h')).toBe(false);
    await a.inboxAdd('alice', 'dm:alice\nbob', 7);
    await b.inboxAdd('alice', 'dm:alice\nbob', 9); // the first id noted stays
    await b.inboxAdd('alice', 'dm:alice\ncat', 3);
    expect(await a.inbox('alice')).toEqual([
      { conv: 'dm:alice\nbob', firstId: 7 },
      { conv: 'dm:alice\ncat', firstId: 3 },
    ]);
    await a.inboxClear('alice');
    expect(await b.inbox('alice')).toEqual([]);
    await a.inboxAdd('alice', 'dm:alice\nbob', 11);
    expect(await b.remove('alice')).toBe(true);
    expect(await a.find('alice', lookAlikeKey('alice'))).toBeNull();
    expect(await a.inbox('alice')).toEqual([]);
    expect(await a.remove('alice')).toBe(false);
    expect(await a.create(account('aIice'))).toBe('ok'); // its look is free again
  });

  it('twenty registrations of one nick and its look-alikes on two nodes at once: exactly one gets it', async () => {
    const [a, b] = await nodes();
    const nicks = Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? 'paypal' : i % 3 === 1 ? 'PayPal' : 'paypaI'));
    const results = await Promise.all(nicks.map((n, i) => (i % 2 ? a : b).create(account(n))));
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r === 'exists')).toHaveLength(19);
  });

  it('a Redis that does not answer is the store failing (STORE_IO), said as such', async () => {
    const keys = clusterKeys(`a${++clusters}:`);
    const dead = await shared.another();
    const accounts = new RedisAccounts(dead, keys);
    await closeRedis(dead);
    await expect(accounts.find('x', 'x')).rejects.toMatchObject({ code: 'STORE_IO' });
  });
});
