/**
 * LUSERS tells the truth (docs/IRC.md, "Numerics"): the users online, the
 * connections that have not registered yet, the rooms the room directory
 * holds, this node's sessions and the most it has held; on a cluster
 * (a real redis-server) every node's users and rooms, and as many servers as
 * nodes whose lease lives. Asked with a raw IRC client, as a person would.
 */
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RawIrc, closeBots } from '../helpers/irc-bot.js';
import { type LineProcess, type ServerHandle, startClient, startServer, stopAll } from '../helpers/processes.js';
import { startRedis, type RedisUnderTest } from '../helpers/redis-server.js';

let procs: LineProcess[] = [];
afterEach(async () => {
  closeBots();
  await stopAll(...procs);
  procs = [];
});

type Lusers = Record<'251' | '252' | '253' | '254' | '255' | '265' | '266', string>;

/** One LUSERS answer, each numeric's text after the nick. */
async function lusers(raw: RawIrc, me: string): Promise<Lusers> {
  const from = raw.lines.length;
  raw.send('LUSERS');
  await raw.line(new RegExp(` 266 ${me} `), 10_000, from);
  const out: Record<string, string> = {};
  for (const l of raw.lines.slice(from)) {
    const m = new RegExp(`^:\\S+ (25[1-5]|26[56]) ${me} (.*)$`).exec(l);
    if (m) out[m[1]!] = m[2]!;
  }
  return out as Lusers;
}

/** LUSERS asked again until `ok` holds (the counts of other workers and nodes are up to a second old). */
async function lusersUntil(raw: RawIrc, me: string, ok: (l: Lusers) => boolean, timeoutMs = 10_000): Promise<Lusers> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const l = await lusers(raw, me);
    if (ok(l)) return l;
    if (Date.now() > deadline) throw new Error(`LUSERS never matched: ${JSON.stringify(l)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('LUSERS', () => {
  it('counts users, unregistered connections, rooms and this node’s sessions on one server', async () => {
    const server = await startServer(['--workers', '2']);
    procs.push(server);
    const xm = await startClient(server.port, '小明');
    procs.push(xm);
    xm.send('/join #tea');
    await xm.waitFor(/you are in #tea/);

    const raw = new RawIrc(server.ircPort!);
    await raw.register('raw');
    await raw.line(/ 266 raw /);
    // The welcome's own LUSERS: 小明 and raw, in #lobby and #tea.
    const burst = Object.fromEntries(
      raw.lines.flatMap((l) => {
        const m = /^:\S+ (25[1-5]|26[56]) raw (.*)$/.exec(l);
        return m ? [[m[1]!, m[2]!]] : [];
      }),
    );
    expect(burst['251']).toBe(':There are 2 users and 0 invisible on 1 servers');
    expect(burst['252']).toBe('0 :operator(s) online');
    expect(burst['254']).toBe('2 :channels formed');
    expect(burst['255']).toBe(':I have 2 clients and 0 servers');
    expect(burst['265']).toBe('2 2 :Current local users 2, max 2');
    expect(burst['266']).toBe('2 2 :Current global users 2, max 2');

    // Two connections that have not registered (one IRC, one chat): unknown, on either worker.
    const half = new RawIrc(server.ircPort!);
    half.send('NICK half');
    const silent = connect({ host: '127.0.0.1', port: server.port });
    silent.on('error', () => undefined);
    try {
      const l = await lusersUntil(raw, 'raw', (l) => l['253'].startsWith('2 '));
      expect(l['253']).toBe('2 :unknown connection(s)');
    } finally {
      silent.destroy();
    }
    half.close();
    await lusersUntil(raw, 'raw', (l) => l['253'].startsWith('0 '));

    // A room made by an IRC JOIN counts at once (its answer came after the directory made it); one left closes.
    raw.send('JOIN #coffee');
    await raw.line(/ 366 raw #coffee /);
    expect((await lusers(raw, 'raw'))['254']).toBe('3 :channels formed');
    xm.send('/part #tea');
    await xm.waitFor(/you left #tea/);
    expect((await lusersUntil(raw, 'raw', (l) => l['254'] !== '3 :channels formed'))['254']).toBe('2 :channels formed');

    // 小明 leaves: one user now, the most stays 2.
    xm.send('/quit');
    await raw.line(/^:小明!\S+ QUIT /);
    const after = await lusersUntil(raw, 'raw', (l) => l['251'].includes('There are 1 users'));
    expect(after['255']).toBe(':I have 1 clients and 0 servers');
    expect(after['265']).toBe('1 2 :Current local users 1, max 2');
    expect(after['266']).toBe('1 2 :Current global users 1, max 2');
  });

  describe('on a cluster', () => {
    let redis: RedisUnderTest;
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(async () => {
      await redis.stop();
    });

    const node = async (id: string): Promise<ServerHandle> => {
      const s = await startServer([
        ...['--redis', redis.url, '--node-id', id, '--workers', '2', '--no-web'],
        ...['--node-lease', '2s', '--resume-window', '4s'],
      ]);
      procs.push(s);
      return s;
    };

    it('counts every node’s users and rooms, and the nodes alive as servers', async () => {
      const n1 = await node('n1');
      const n2 = await node('n2');
      const bob = await startClient(n2.port, 'bob');
      procs.push(bob);
      bob.send('/join #tea');
      await bob.waitFor(/you are in #tea/);

      const raw = new RawIrc(n1.ircPort!);
      await raw.register('raw');
      const both = await lusersUntil(raw, 'raw', (l) => l['251'].includes(' on 2 servers'));
      expect(both['251']).toBe(':There are 2 users and 0 invisible on 2 servers');
      expect(both['254']).toBe('2 :channels formed'); // #lobby and bob's #tea, made on n2
      expect(both['255']).toBe(':I have 1 clients and 1 servers');
      expect(both['265']).toBe('1 1 :Current local users 1, max 1');
      expect(both['266']).toBe('2 2 :Current global users 2, max 2');

      // n2 dies: once its lease is gone, one server.
      n2.kill('SIGKILL');
      await n2.exited;
      const alone = await lusersUntil(raw, 'raw', (l) => l['251'].includes(' on 1 servers'), 15_000);
      expect(alone['255']).toBe(':I have 1 clients and 0 servers');
      // His session is held (away) for the resume window, then ended: one user, and #tea is gone.
      const ended = await lusersUntil(raw, 'raw', (l) => l['251'].includes('There are 1 users'), 20_000);
      expect(ended['254']).toBe('1 :channels formed');
      expect(ended['266']).toBe('1 2 :Current global users 1, max 2');
    }, 60_000);
  });
});
