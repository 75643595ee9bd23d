/** The cluster's secrets (server/process/redis-secrets.ts) on a real redis-server: the SecretSource contract, and one secret for every node. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisSecrets } from '../../server/process/redis-secrets.js';
import { closeRedis, type RedisLink } from '../../server/cluster/redis-link.js';
import { openRedis } from '../../server/cluster/open-redis.js';
import { parseRedisUrl } from '../../server/cluster/redis-url.js';
import { secretSourceContract } from '../unit/secret-source-contract.js';
import { startRedis, type RedisUnderTest } from '../helpers/redis-server.js';

let redis: RedisUnderTest;
let link: RedisLink;
let other: RedisLink;
let n = 0;

beforeAll(async () => {
  redis = await startRedis();
  link = await openRedis(parseRedisUrl(redis.url));
  other = await openRedis(parseRedisUrl(redis.url));
});
afterAll(async () => {
  await Promise.all([closeRedis(link), closeRedis(other)]);
  await redis.stop();
});

describe('RedisSecrets', () => {
  secretSourceContract('RedisSecrets', () => new RedisSecrets(link, `s${++n}:`));

  it('every node gets the same secret, whichever asked first, even when they ask at once', async () => {
    const prefix = `s${++n}:`;
    const nodes = [new RedisSecrets(link, prefix), new RedisSecrets(other, prefix), new RedisSecrets(link, prefix)];
    const got = await Promise.all(nodes.map((s) => s.secret('ticket')));
    expect(got[1]!.equals(got[0]!)).toBe(true);
    expect(got[2]!.equals(got[0]!)).toBe(true);
    // A node started later reads the same one.
    expect((await new RedisSecrets(other, prefix).secret('ticket')).equals(got[0]!)).toBe(true);
  });

  it('a key that holds something else is said, with what to do; a closed link is REDIS_FAILED', async () => {
    await link.set('bad:secret:ticket', 'not hex');
    await expect(new RedisSecrets(link, 'bad:').secret('ticket')).rejects.toThrow(/holds no secret.*delete it/);
    const gone = await openRedis(parseRedisUrl(redis.url));
    await gone.close();
    await expect(new RedisSecrets(gone, 'x:').secret('ticket')).rejects.toMatchObject({ code: 'REDIS_FAILED' });
  });
});
