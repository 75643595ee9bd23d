/**
 * Several chat-server nodes as one chat on a real redis-server (started here on a free loopback port): chat, direct
 * messages, /who and history across three nodes; one nick space (a race of claims across nodes has one winner);
 * a node killed: the others see its users lose their connection within the lease, and free their nicks after the
 * resume window.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  LineProcess,
  CLIENT_JS,
  SERVER_JS,
  startClient,
  startServer,
  stopAll,
  type ServerHandle,
} from '../helpers/processes.js';
import { closeRawSessions, rawSession } from '../helpers/raw-session.js';
import { eventually, until } from '../helpers/wait.js';
import { closeRedis } from '../../server/cluster/redis-link.js';
import { openRedis } from '../../server/cluster/open-redis.js';
import { parseRedisUrl } from '../../server/cluster/redis-url.js';
import { clusterKeys } from '../../server/cluster/keys.js';
import { startRedis, startSentinelSet, type RedisUnderTest } from '../helpers/redis-server.js';

let redis: RedisUnderTest;
let procs: LineProcess[] = [];
let cluster = 0;

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
});

/** Nodes of a new cluster (its own Redis database), with a short lease and resume window so that a test sees them end. */
async function nodes(count: number): Promise<ServerHandle[]> {
  const db = ++cluster;
  const started = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      startServer([
        ...['--redis', `${redis.url}/${db}`, '--node-id', `n${i + 1}`, '--workers', '2', '--no-web'],
        ...['--node-lease', '2s', '--resume-window', '4s', '--allow-plain-passwords'],
      ]),
    ),
  );
  procs.push(...started);
  return started;
}

/** A client claiming `nick` on `server` is told it is taken (by a session on any node). */
async function takenOn(server: ServerHandle, nick: string): Promise<void> {
  const twin = new LineProcess(`client ${nick}`, [
    CLIENT_JS,
    '--host',
    '127.0.0.1',
    '--port',
    String(server.port),
    '--nick',
    nick,
  ]);
  procs.push(twin);
  await twin.waitFor(`nick ${nick} is taken`);
}

async function client(server: ServerHandle, nick: string): Promise<LineProcess> {
  const c = await startClient(server.port, nick);
  procs.push(c);
  return c;
}

/** Two nodes (2 s leases, 60 s resume window), alice on n1 and bob on n2, and a line of bob's that alice saw. */
async function aliceOnN1BobOnN2() {
  const db = ++cluster;
  const [n1, n2] = await Promise.all(
    ['n1', 'n2'].map((id) =>
      startServer([
        ...['--redis', `${redis.url}/${db}`, '--node-id', id, '--workers', '1', '--no-web'],
        ...['--node-lease', '2s', '--resume-window', '60s'],
      ]),
    ),
  );
  procs.push(n1!, n2!);
  const alice = await rawSession(n1!.port, 'alice', { version: 2 });
  const bob = await rawSession(n2!.port, 'bob', { version: 2 });
  for (const r of [alice, bob]) await r.next('JOINED', () => true, 10_000);
  const welcome = alice.of('WELCOME')[0]!;
  bob.send({ type: 'CHAT', text: 'before', action: false });
  const seen = (await alice.next('CHAT', (m) => m.text === 'before', 10_000)).id!;
  return { db, n1: n1!, n2: n2!, alice, bob, welcome, seen };
}

describe('a cluster of chat-server nodes on Redis', () => {
  it('chat, direct messages, /who and history across three nodes; a nick taken on one node is taken on all', async () => {
    const [n1, n2, n3] = await nodes(3);
    for (const n of [n1!, n2!, n3!])
      expect(n.lines).toContain(
        `* node ${n === n1 ? 'n1' : n === n2 ? 'n2' : 'n3'} joined the cluster at ${redis.url}/${cluster}`,
      );
    const alice = await client(n1!, 'alice');
    const bob = await client(n2!, 'bob');
    const carol = await client(n3!, 'carol');
    await alice.waitFor('* carol joined');
    alice.send('hello from n1');
    for (const c of [alice, bob, carol]) await c.waitFor('<alice> hello from n1');
    bob.send('/msg carol psst from n2');
    await carol.waitFor('*bob* psst from n2');
    await bob.waitFor('-> *carol* psst from n2');
    carol.send('/who');
    await carol.waitFor('* 3 users online:');
    await carol.waitFor(/^\*\s+alice\s+idle/);
    await carol.waitFor(/^\*\s+bob\s+idle/);
    // A latecomer on the third node gets the room's history, stored by the others.
    const dave = await client(n3!, 'dave');
    await dave.waitFor(/<alice> hello from n1$/);
    // alice's nick, in another case, on another node.
    await takenOn(n2!, 'Alice');
    // Registered nicks are the cluster's: registered on n2; once erin has left, n1 wants its password, n3 takes it.
    const password = 'a long enough password';
    const raw = await rawSession(n2!.port, 'erin', { version: 2 });
    raw.send({ type: 'ACCOUNT', op: 'register', password });
    expect(await raw.next('ACCOUNT_REPLY')).toMatchObject({ op: 'registered', nick: 'erin' });
    raw.send({ type: 'BYE', reason: 'bye' });
    await raw.next('BYE');
    // Its session's nick is let go at n2's next renewal (a fifth of the lease): until then the nick is in use.
    const refused = async () => {
      const s = await rawSession(n1!.port, 'erin', { version: 2, from: '127.0.0.9' });
      return s.of('ERROR')[0];
    };
    let first = await refused();
    for (let i = 0; i < 50 && first?.code === 'NICK_TAKEN'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      first = await refused();
    }
    expect(first).toMatchObject({ code: 'NICK_REGISTERED', fatal: true });
    // From another address than the refused tries above (they are many on a busy machine), and asked again while
    // the nick still reads as in use: n1's last refused try may not have let go of its claim yet.
    const login = () => rawSession(n3!.port, 'erin', { version: 2, from: '127.0.0.10', nickPassword: password });
    let back = await login();
    for (let i = 0; i < 50 && back.of('ERROR')[0]?.code === 'NICK_TAKEN'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      back = await login();
    }
    expect(back.of('WELCOME')[0], JSON.stringify(back.of('ERROR'))).toMatchObject({ nick: 'erin', account: true });
  });

  it('a hundred claims at once over three nodes, five for each of twenty nicks: exactly one session gets each', async () => {
    const all = await nodes(3);
    const claims = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        rawSession(all[i % 3]!.port, `zed${i % 20}`, { from: `127.0.0.${i + 2}` }).then((s) => ({ nick: i % 20, s })),
      ),
    );
    for (let nick = 0; nick < 20; nick++) {
      const mine = claims.filter((c) => c.nick === nick).map((c) => c.s);
      expect(
        mine.filter((s) => s.of('WELCOME').length > 0),
        `zed${nick}`,
      ).toHaveLength(1);
      expect(
        mine.filter((s) => s.of('ERROR').some((e) => e.code === 'NICK_TAKEN')),
        `zed${nick}`,
      ).toHaveLength(4);
    }
  });

  it('a node killed: the others see its users lose their connection within the lease, and free their nicks after the resume window', async () => {
    const [n1, n2] = await nodes(2);
    const alice = await client(n1!, 'alice');
    const bob = await client(n2!, 'bob');
    await alice.waitFor('* bob joined');
    n1!.kill('SIGKILL');
    alice.kill('SIGKILL');
    // Within the lease (2s) and two renewals (0.4s each): the bound is the waits' own, with room for a loaded machine.
    await n2!.waitFor('* node n1 is gone: alice lost connection (they may resume on any node)', 10_000);
    await n2!.waitFor('* alice left (node n1 is gone and they did not come back)', 15_000);
    const again = await client(n2!, 'alice');
    bob.send('/who');
    await bob.waitFor('* 2 users online:');
    expect(again.lines[0]).toMatch(/connected to .* as alice/);
  });

  it('a session kept for a resume on a node that then dies for good resumes on another node, with what it missed', async () => {
    const { db, n1, n2, alice, bob, welcome, seen } = await aliceOnN1BobOnN2();
    // alice's connection is lost: n1 keeps her session for a resume. Then n1 dies and is never started again.
    alice.s.destroy();
    await bob.next('NOTICE', (m) => m.event === 'away' && m.nick === 'alice', 10_000);
    n1!.kill('SIGKILL');
    await n1!.exited;
    for (const t of ['while n1 is gone 1', 'while n1 is gone 2']) {
      bob.send({ type: 'CHAT', text: t, action: false });
      await bob.next('CHAT', (m) => m.text === t, 10_000);
    }
    // Once n1's lease is gone (its sessions are n2's to take), alice resumes on n2, her kept session and what she missed.
    const link = await openRedis(parseRedisUrl(`${redis.url}/${db}`));
    try {
      await eventually(
        async () => ((await link.exists('hc:lease:n1')) === 0 ? true : null),
        10_000,
        () => "n1's lease never ended",
      );
    } finally {
      await closeRedis(link);
    }
    const back = await rawSession(n2!.port, 'whatever', {
      version: 2,
      resume: welcome.resume!,
      last: [{ room: '#lobby', id: seen }],
    });
    expect(back.of('WELCOME')[0]).toMatchObject({ nick: 'alice', resumed: true });
    expect(await back.next('RESUMED', () => true, 10_000)).toEqual({ type: 'RESUMED', missed: 2 });
    bob.send({ type: 'CHAT', text: 'live', action: false });
    await back.next('CHAT', (m) => m.text === 'live', 10_000);
  });

  it('sessions a node keeps when it is stopped (for its restart) resume on another node when it is not started again', async () => {
    const { n1, n2, alice, bob, welcome, seen } = await aliceOnN1BobOnN2();
    // n1 is stopped: it keeps alice's session for its restart (her BYE says she may resume), and is never started again.
    n1!.kill('SIGTERM');
    expect(await alice.next('BYE', () => true, 10_000)).toMatchObject({ resumable: true });
    await n1!.exited;
    bob.send({ type: 'CHAT', text: 'while n1 is stopped', action: false });
    await bob.next('CHAT', (m) => m.text === 'while n1 is stopped', 10_000);
    const back = await eventually(
      async () => {
        const r = await rawSession(n2!.port, 'whatever', {
          version: 2,
          resume: welcome.resume!,
          last: [{ room: '#lobby', id: seen }],
        });
        return r.of('WELCOME')[0] ? r : (r.s.destroy(), null);
      },
      15_000,
      () => "alice's session never became resumable on n2",
    );
    expect(back.of('WELCOME')[0]).toMatchObject({ nick: 'alice', resumed: true });
    expect(await back.next('RESUMED', () => true, 10_000)).toEqual({ type: 'RESUMED', missed: 1 });
  });

  it('a second live node with the same id is refused; a node killed and started again waits for its old lease', async () => {
    const [n1] = await nodes(1);
    const args = [...['--redis', `${redis.url}/${cluster}`, '--node-id', 'n1', '--no-web', '--node-lease', '2s']];
    const asN1 = (name: string) =>
      new LineProcess(name, [SERVER_JS, ...['--host', '127.0.0.1', '--port', '0', '--no-history'], ...args]);
    const twin = asN1('chat-server twin');
    procs.push(twin);
    await twin.waitFor('waiting up to 2s for the previous run of node n1 to be gone');
    await twin.waitFor(
      /another chat-server is running as node n1 in this cluster .* give each node its own --node-id/,
      10_000,
    );
    expect(await twin.exit()).toBe(1);
    n1!.kill('SIGKILL');
    await n1!.exited;
    // The dead run's lease would lapse within its 2 s, perhaps before a loaded machine has started the next run
    // (CI saw no wait): it is held here until the new run says it waits, then let go as its expiry would.
    const link = await openRedis(parseRedisUrl(`${redis.url}/${cluster}`));
    const lease = clusterKeys().lease('n1');
    expect(await link.pExpire(lease, 60_000)).toBe(1);
    const again = asN1('chat-server again');
    procs.push(again);
    await again.waitFor(/^\* waiting up to \d+s for the previous run of node n1 to be gone/, 15_000);
    await link.del(lease);
    await closeRedis(link);
    await again.waitFor(/^listening on tcp /, 15_000);
    expect(again.lines).toContain('* node n1 joined the cluster at ' + `${redis.url}/${cluster}`);
  });

  it('a client given two nodes goes on with the other when its node is killed: its nick and its session kept', async () => {
    const [n1, n2] = await nodes(2);
    const alice = new LineProcess('client alice', [
      ...[CLIENT_JS, '--nick', 'alice'],
      ...['--host', `127.0.0.1:${n1!.port}`, '--host', `127.0.0.1:${n2!.port}`],
    ]);
    procs.push(alice);
    await alice.waitFor(`* connected to 127.0.0.1:${n1!.port} as alice`);
    const bob = await client(n2!, 'bob');
    await alice.waitFor('* bob joined');
    n1!.kill('SIGKILL');
    await alice.waitFor(/^\* connection (lost|to the server lost|closed by the server)/);
    await alice.waitFor('* session resumed', 15_000);
    alice.send('still here, on n2');
    await bob.waitFor('<alice> still here, on n2');
    // The nick moved with the session: nobody else may take it while alice is on n2.
    await takenOn(n2!, 'ALICE');
  });

  it("one node's operator lists every node's sessions, broadcasts to every node and kicks a user on another node", async () => {
    const [n1, n2] = await nodes(2);
    const alice = await client(n1!, 'alice');
    const carol = await client(n2!, 'carol');
    await alice.waitFor('* carol joined');
    n1!.send('/list');
    await n1!.waitFor(/^NICK\s+VIA\s+ADDRESS\s+NODE\s+WORKER/);
    await n1!.waitFor(/^alice\s+tcp\s+127\.0\.0\.1:\d+\s+n1\s+\d\s/);
    await n1!.waitFor(/^carol\s+tcp\s+127\.0\.0\.1:\d+\s+n2\s+\d\s+-\s+-\s/);
    await n1!.waitFor('2 sessions');
    n1!.send('/stats');
    await n1!.waitFor('cluster: 2 sessions (n1 1, n2 1)');
    n1!.send('maintenance at noon');
    await carol.waitFor('[server] maintenance at noon');
    n1!.send('/kick carol spamming');
    await carol.waitFor('server closed the connection: kicked: spamming');
    await alice.waitFor('* carol was kicked (spamming)');
    n1!.send('/kick nobody');
    await n1!.waitFor(/no (one|user|session).*nobody/i);
  });

  it('Redis stopped for 5 s and started again empty: messages meanwhile are refused, then the chat goes on, nicks kept', async () => {
    const own = await startRedis();
    const [n1, n2] = await Promise.all(
      ['n1', 'n2'].map((id) => startServer(['--redis', own.url, '--node-id', id, '--no-web', '--node-lease', '2s'])),
    );
    procs.push(n1!, n2!);
    const alice = await client(n1!, 'alice');
    const bob = await client(n2!, 'bob');
    await alice.waitFor('* bob joined');
    await own.stop('SIGKILL');
    for (const n of [n1!, n2!]) await n.waitFor(/^! cannot renew this node's lease/, 10_000);
    alice.send('during the outage');
    await alice.waitFor(/^! NOT_STORED/);
    // The outage the scenario names: Redis is down for 5 s (not a wait for something to happen).
    await new Promise((r) => setTimeout(r, 5000));
    const back = await startRedis([], { port: own.port, dir: own.dir });
    try {
      for (const n of [n1!, n2!]) {
        await n.waitFor('* the cluster is reachable again', 15_000);
        await n.waitFor(/^\* the cluster had lost 1 of this node's sessions .*: 1 kept their nicks$/, 15_000);
      }
      alice.send('after the outage');
      await bob.waitFor('<alice> after the outage');
      expect(bob.lines.some((l) => l.includes('during the outage'))).toBe(false);
      await takenOn(n2!, 'ALICE');
    } finally {
      await stopAll(n1!, n2!);
      await back.stop();
    }
  });

  it('through Sentinel: the master killed, the nodes follow the failover by themselves and the chat goes on', async () => {
    const set = await startSentinelSet();
    try {
      const [n1, n2] = await Promise.all(
        ['n1', 'n2'].map((id) => startServer(['--redis', set.url, '--node-id', id, '--no-web', '--node-lease', '3s'])),
      );
      procs.push(n1!, n2!);
      const alice = await client(n1!, 'alice');
      const bob = await client(n2!, 'bob');
      await alice.waitFor('* bob joined');
      alice.send('before the failover');
      await bob.waitFor('<alice> before the failover');
      set.master.proc.kill('SIGKILL');
      for (const n of [n1!, n2!])
        await n.waitFor(
          `* the cluster's Redis master is now 127.0.0.1:${set.replica.port} (a Sentinel failover)`,
          20_000,
        );
      // A line sent while a node's store thread still switches may be refused (NOT_STORED); one is sent until it is heard.
      for (let i = 0; !bob.lines.some((l) => l.endsWith('<alice> after the failover')); i++) {
        if (i === 20) throw new Error(`never heard after the failover: ${alice.lines.slice(-5).join(' | ')}`);
        alice.send('after the failover');
        await bob.waitFor('<alice> after the failover', 1000).catch(() => undefined);
      }
      await takenOn(n1!, 'BOB');
    } finally {
      await stopAll(...procs.splice(0));
      await set.stop();
    }
  });

  it('a node SIGKILLed under chat: its sender goes on from the other node; no echoed message lost or duplicated', async () => {
    const [n1, n2] = await nodes(2);
    const ann = new LineProcess('client ann', [
      ...[CLIENT_JS, '--nick', 'ann'],
      ...['--host', `127.0.0.1:${n1!.port}`, '--host', `127.0.0.1:${n2!.port}`],
    ]);
    procs.push(ann);
    await ann.waitFor('* connected to');
    const ben = await client(n2!, 'ben');
    const rex = await client(n2!, 'rex');
    await ann.waitFor('* rex joined');
    const sent = { ann: 0, ben: 0 };
    const say = (who: 'ann' | 'ben', n: number) => {
      for (let i = 0; i < n; i++) (who === 'ann' ? ann : ben).send(`${who}-${String(++sent[who]).padStart(3, '0')}`);
    };
    // Live lines only: the history a client is shown on joining a room on the other node starts with its time, and a
    // line stored by the killed node but never posted is there, never echoed.
    const echoed = (c: LineProcess, who: string) =>
      c.lines.filter((l) => new RegExp(`^<${who}> ${who}-\\d{3}$`).test(l));
    say('ann', 30);
    say('ben', 30);
    await until(
      () => echoed(ann, 'ann').length >= 5,
      10_000,
      () => `ann saw ${echoed(ann, 'ann').length}`,
    );
    n1!.kill('SIGKILL');
    say('ben', 30);
    await ann.waitFor('* session resumed', 15_000);
    say('ann', 30);
    ann.send('ann-end');
    ben.send('ben-end');
    await rex.waitFor('<ann> ann-end', 15_000);
    await rex.waitFor('<ben> ben-end', 15_000);
    for (const who of ['ann', 'ben'] as const) {
      const own = new Set(echoed(who === 'ann' ? ann : ben, who).map((l) => l.slice(l.lastIndexOf(' ') + 1)));
      const heard = echoed(rex, who).map((l) => l.slice(l.lastIndexOf(' ') + 1));
      // Every line its sender saw stored reached rex, once.
      for (const line of own)
        expect(
          heard.filter((h) => h === line),
          `${who}: ${line}`,
        ).toHaveLength(1);
      expect(new Set(heard).size, `${who}: a line twice`).toBe(heard.length);
    }
    expect(echoed(ben, 'ben')).toHaveLength(60);
  });
});
