/** --redis's URL (server/cluster/redis-url.ts): what passes, what is refused with the reason, the password never shown. */
import { describe, expect, it } from 'vitest';
import { parseRedisUrl } from '../../server/cluster/redis-url.js';

describe('parseRedisUrl', () => {
  it('takes redis:// and rediss:// with user, password, port and database; shows the password masked', () => {
    expect(parseRedisUrl('redis://127.0.0.1:7000')).toMatchObject({ host: '127.0.0.1', port: 7000, db: 0, tls: false });
    expect(parseRedisUrl('redis://localhost')).toMatchObject({ port: 6379, db: 0 });
    const t = parseRedisUrl('rediss://chat:s3cret@redis.lan:6380/2');
    expect(t).toMatchObject({ tls: true, host: 'redis.lan', port: 6380, db: 2 });
    expect(t.url).toContain('s3cret');
    expect(t.shown).toBe('rediss://chat:***@redis.lan:6380/2');
    expect(parseRedisUrl('redis://[::1]:7000/').host).toBe('[::1]');
  });

  it('refuses what is not a Redis URL, as a usage error that says why', () => {
    for (const [text, why] of [
      ['localhost:6379', /scheme must be redis/],
      ['not a url', /is not a URL/],
      ['http://127.0.0.1:6379', /scheme must be redis/],
      ['redis://127.0.0.1:6379/abc', /only \/DB may follow/],
      ['redis://127.0.0.1:6379/1?x=1', /only \/DB may follow/],
      ['redis://127.0.0.1:99999', /is not a URL/],
    ] as const) {
      let err: unknown;
      try {
        parseRedisUrl(text);
      } catch (e) {
        err = e;
      }
      expect(err, text).toMatchObject({ code: 'REDIS_URL', exitCode: 2, message: expect.stringMatching(why) as never });
    }
  });

  it('takes redis-sentinel:// with the Sentinels and the master name; refuses one without a master name', () => {
    const t = parseRedisUrl('redis-sentinel://app:pw@10.0.0.5:26379,10.0.0.6,[::1]:26380/mymaster/3');
    expect(t.sentinel).toEqual({
      nodes: [
        { host: '10.0.0.5', port: 26379 },
        { host: '10.0.0.6', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'mymaster',
      auth: 'app:pw',
    });
    expect(t.db).toBe(3);
    expect(t.shown).toBe('redis-sentinel://app:***@10.0.0.5:26379,10.0.0.6,[::1]:26380/mymaster/3');
    expect(() => parseRedisUrl('redis-sentinel://10.0.0.5:26379')).toThrow(/MASTER/);
    expect(() => parseRedisUrl('redis-sentinel://h:99999/m')).toThrow(/not a Sentinel's HOST:PORT/);
  });

  it('never echoes a password when it cannot parse the URL', () => {
    for (const text of [
      'redis://app:s3cr?t#x@host:6379',
      'redis://app:s3cr@host:6379/x',
      'redis-sentinel://a:s3cr@h',
    ]) {
      let message = '';
      try {
        parseRedisUrl(text);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message, text).toMatch(/^--redis: /);
      expect(message, text).not.toContain('s3cr');
    }
  });
});
