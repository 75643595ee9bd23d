/**
 * A write failing while the room log's append script is in flight (store/room-log-scripts.ts APPEND: the next id,
 * the XADD, the bus entry, in one script), on real nodes and a real redis-server: node n1 reaches Redis through a
 * TCP proxy that this test cuts at the moment the script goes by (its answer lost after Redis ran it, or the
 * script itself lost), or Redis is paused past a command's bound (CLIENT PAUSE), or killed with the script held
 * in it. Whatever happens, the sender is told its message was not stored or it is delivered exactly once to
 * every member on both nodes, never twice, never to some and not others; the room's ids stay one more each
 * (docs/ARCHITECTURE.md, "Several nodes as one chat", the room log).
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeRedis, type RedisLink } from '../../server/cluster/redis-link.js';
import { openRedis } from '../../server/cluster/open-redis.js';
import { parseRedisUrl } from '../../server/cluster/redis-url.js';
import { NO_FLOOD_LIMIT, startServer, stopAll, type LineProcess, type ServerHandle } from '../helpers/processes.js';
import { closeRawSessions, rawSession, type RawSession } from '../helpers/raw-session.js';
import { startRedis, type RedisUnderTest } from '../helpers/redis-server.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { eventually, until } from '../helpers/wait.js';

/** What the proxy does to the next connection that carries the marker from n1 to Redis. */
type Cut = 'pass' | 'lose-answer' | 'lose-request' | 'watch';

let redis: RedisUnderTest;
let link: RedisLink | null = null;
let proxy: TcpProxy | null = null;
let procs: LineProcess[] = [];
let cut: Cut = 'pass';
let marker = '';
/** The marker went by (the script is on its way to Redis, or in it). */
let seen = false;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  closeRawSessions();
  await stopAll(...procs);
  procs = [];
  if (link) await closeRedis(link).catch(() => undefined);
  link = null;
  await proxy?.close();
  proxy = null;
});

/** n1's way to Redis: each connection passed through, except the one that carries the marker while a cut is set. */
function wire(client: net.Socket, upstream: net.Socket): void {
  let replies = true;
  client.on('data', (chunk: Buffer) => {
    if (marker === '' || cut === 'pass' || !chunk.includes(marker)) return void upstream.write(chunk);
    const what = cut;
    seen = true;
    if (what === 'watch') return void upstream.write(chunk);
    cut = 'pass';
    if (what === 'lose-request') {
      client.destroy();
      upstream.destroy();
      return;
    }
    // lose-answer: the script reaches Redis and runs; once Redis answers, the answer is dropped and the link cut.
    replies = false;
    upstream.write(chunk);
  });
  upstream.on('data', (chunk: Buffer) => {
    if (replies) return void client.write(chunk);
    client.destroy();
    upstream.destroy();
  });
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
}

/** Two nodes, n1 through the proxy; alice and carol on n1, bob on n2, all in the default room. */
async function setup(): Promise<{ n1: ServerHandle; alice: RawSession; carol: RawSession; bob: RawSession }> {
  proxy = await startTcpProxy(redis.port, wire);
  link = await openRedis(parseRedisUrl(redis.url));
  await link.flushAll();
  const args = (id: string, port: number) => [
    ...['--redis', `redis://127.0.0.1:${port}`, '--node-id', id, '--workers', '1', '--no-web'],
    ...NO_FLOOD_LIMIT,
  ];
  const n1 = await startServer(args('f1', proxy.port));
  const n2 = await startServer(args('f2', redis.port));
  procs.push(n1, n2);
  const alice = await rawSession(n1.port, 'alice', { version: 2 });
  const carol = await rawSession(n1.port, 'carol', { version: 2 });
  const bob = await rawSession(n2.port, 'bob', { version: 2 });
  for (const r of [alice, carol, bob]) await r.next('JOINED', () => true, 10_000);
  // Everyone sees everyone's chat before the fault (the scripts are loaded, the bus read from its start).
  await say(alice, [alice, carol, bob], 'warm-up a');
  await say(bob, [alice, carol, bob], 'warm-up b');
  return { n1, alice, carol, bob };
}

const chats = (r: RawSession, text: string) => r.of('CHAT').filter((m) => m.text === text).length;

/** `from` says `text`, and every one of `all` sees it once. */
async function say(from: RawSession, all: RawSession[], text: string): Promise<void> {
  from.send({ type: 'CHAT', text, action: false });
  for (const r of all) await r.next('CHAT', (m) => m.text === text, 10_000);
}

/**
 * What became of `text`, sent by alice: 'delivered' (her echo, bob's and carol's copy: once each, and no error) or
 * 'refused' (NOT_STORED, and nobody has it); checked after a later message has reached everyone on both nodes.
 */
async function outcome(alice: RawSession, carol: RawSession, bob: RawSession, text: string): Promise<string> {
  await until(
    () => chats(alice, text) > 0 || alice.of('ERROR').some((e) => e.code === 'NOT_STORED'),
    30_000,
    () => `alice heard nothing of "${text}"`,
  );
  // The chat goes on: a later message of alice's reaches everyone (retried while the nodes find Redis again).
  await eventually(
    async () => {
      alice.send({ type: 'CHAT', text: `after ${text}`, action: false });
      await new Promise((r) => setTimeout(r, 500));
      return [alice, carol, bob].every((r) => chats(r, `after ${text}`) > 0) ? true : null;
    },
    30_000,
    () => 'the chat did not go on after the fault',
  );
  // Then bob (n2) speaks: his message reaches n1 on the bus after anything of alice's turn that Redis ran late,
  // so once everyone has it, whatever became of her message has come by everywhere.
  await say(bob, [alice, carol, bob], `fence ${text}`);
  const counts = [alice, carol, bob].map((r) => chats(r, text));
  const refused = alice.of('ERROR').filter((e) => e.code === 'NOT_STORED');
  if (refused.length > 0) {
    expect(refused).toHaveLength(1);
    expect(refused[0]!.message).toMatch(/^not (sent|confirmed)/);
    // A clear error: nobody has it, or (its script ran after all) everyone has it once, alice too.
    expect([
      [0, 0, 0],
      [1, 1, 1],
    ]).toContainEqual(counts);
    return counts[0] === 0 ? 'refused' : 'refused, then delivered';
  }
  expect(counts).toEqual([1, 1, 1]);
  return 'delivered';
}

/** The room's stream: ids one more each from its first, and how many entries are `text`. */
async function stream(text: string): Promise<number> {
  const entries = (await link!.xRange('hc:h:room:#lobby', '-', '+')) ?? [];
  const ids = entries.map((e) => Number(e.id.split('-')[0]));
  expect(ids).toEqual(ids.map((_, i) => ids[0]! + i));
  return entries.filter((e) => (JSON.parse(e.message.e!) as { text: string }).text === text).length;
}

describe('a write failing while the append script is in flight', () => {
  it("the script's answer lost (the link cut after Redis ran it): delivered once to everyone, the sender echoed", async () => {
    const { alice, carol, bob } = await setup();
    marker = 'answer-lost-1';
    cut = 'lose-answer';
    alice.send({ type: 'CHAT', text: marker, action: false });
    expect(await outcome(alice, carol, bob, marker)).toBe('delivered');
    expect(await stream(marker)).toBe(1);
  }, 90_000);

  it('the script lost on its way (the link cut before Redis had it): delivered once, or refused and stored nowhere', async () => {
    const { alice, carol, bob } = await setup();
    marker = 'request-lost-1';
    cut = 'lose-request';
    alice.send({ type: 'CHAT', text: marker, action: false });
    const what = await outcome(alice, carol, bob, marker);
    expect(await stream(marker)).toBe(what === 'refused' ? 0 : 1);
    expect(what).toBe('delivered');
  }, 90_000);

  it("Redis paused past a command's bound with the script in it: delivered once when Redis runs it", async () => {
    const { alice, carol, bob } = await setup();
    marker = 'paused-1';
    cut = 'watch';
    seen = false;
    // Writes wait in Redis for 7 s: the script (sent now) runs then; its answer comes after the 5 s bound.
    await link!.sendCommand(['CLIENT', 'PAUSE', '7000', 'WRITE']);
    alice.send({ type: 'CHAT', text: marker, action: false });
    await until(
      () => seen,
      10_000,
      () => 'the script never went by',
    );
    expect(await outcome(alice, carol, bob, marker)).toBe('delivered');
    expect(await stream(marker)).toBe(1);
  }, 90_000);

  it('Redis paused longer than a node waits to learn: the sender is told it is in doubt, then everyone gets it once', async () => {
    const { alice, carol, bob } = await setup();
    marker = 'paused-long-1';
    cut = 'watch';
    seen = false;
    // 15 s: the script's answer is past its bound (5 s), and so is the node's wait to learn its fate (5 s more).
    await link!.sendCommand(['CLIENT', 'PAUSE', '15000', 'WRITE']);
    alice.send({ type: 'CHAT', text: marker, action: false });
    await until(
      () => seen,
      10_000,
      () => 'the script never went by',
    );
    await alice.next('ERROR', (e) => e.code === 'NOT_STORED', 20_000);
    expect(alice.of('ERROR').at(-1)!.message).toMatch(/^not confirmed: .*may have stored it/);
    // Redis runs it when the pause ends: its entry reaches both nodes, n1 included, once.
    expect(await outcome(alice, carol, bob, marker)).toBe('refused, then delivered');
    expect(await stream(marker)).toBe(1);
  }, 90_000);

  it('Redis killed with the script held in it: the sender is told, nobody gets the message, the chat goes on', async () => {
    const { alice, carol, bob, n1 } = await setup();
    marker = 'killed-1';
    cut = 'watch';
    seen = false;
    await link!.sendCommand(['CLIENT', 'PAUSE', '60000', 'WRITE']);
    alice.send({ type: 'CHAT', text: marker, action: false });
    await until(
      () => seen,
      10_000,
      () => 'the script never went by',
    );
    // Redis holds it: a client blocked (paused) on a script.
    await eventually(
      async () => ((await link!.clientList()).some((c) => c.cmd === 'evalsha' && c.flags.includes('b')) ? true : null),
      10_000,
      () => 'Redis never held the script',
    );
    await closeRedis(link!).catch(() => undefined);
    link = null;
    await redis.stop('SIGKILL');
    // Down for 6 s (longer than a node waits to learn what became of a script), then back, empty.
    await new Promise((r) => setTimeout(r, 6000));
    redis = await startRedis([], { port: redis.port, dir: redis.dir });
    link = await openRedis(parseRedisUrl(redis.url));
    await n1.waitFor('* the cluster is reachable again', 20_000).catch(() => undefined);
    expect(await outcome(alice, carol, bob, marker)).toBe('refused');
    expect(await stream(marker)).toBe(0);
  }, 120_000);
});
