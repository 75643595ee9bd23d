/**
 * Rooms across the nodes of a cluster (server/store/replicated-rooms.ts) on a real redis-server: members, counts,
 * /names, /rooms and topics are the cluster's; a node that starts later finds them; a session that resumes on
 * another node is in its rooms there; a dead node's users are told to the other nodes' rooms as lost, then left.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LineProcess, CLIENT_JS, startClient, startServer, stopAll, type ServerHandle } from '../helpers/processes.js';
import { startRedis, type RedisUnderTest } from '../helpers/redis-server.js';
import { WsClient } from '../helpers/raw-client.js';

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
  await stopAll(...procs);
  procs = [];
});

/** One node of the current cluster (its own Redis database), with a short lease and resume window. */
async function node(id: string, web: string[] = ['--no-web']): Promise<ServerHandle> {
  const s = await startServer([
    ...['--redis', `${redis.url}/${cluster}`, '--node-id', id, '--workers', '2', ...web],
    ...['--node-lease', '2s', '--resume-window', '4s'],
  ]);
  procs.push(s);
  return s;
}

async function client(server: ServerHandle, nick: string): Promise<LineProcess> {
  const c = await startClient(server.port, nick);
  procs.push(c);
  return c;
}

describe('rooms across the nodes of a cluster', () => {
  it('members, counts, /names, /rooms and topics are the whole cluster’s, for a node that starts later too', async () => {
    cluster++;
    const [n1, n2] = [await node('n1'), await node('n2')];
    const alice = await client(n1, 'alice');
    const bob = await client(n2, 'bob');
    // The welcome's count is the cluster's (alice on n1, bob himself on n2).
    expect(bob.lines[0]).toMatch(/as bob \(2 online;/);
    alice.send('/join #Tea');
    await alice.waitFor(/^\* you are in #Tea \(1 member\)$/);
    alice.send('/topic oolong');
    await alice.waitFor(/^\* alice set the topic of #Tea: oolong$/);
    const seen = alice.lines.length;
    bob.send('/join #tea');
    // The room as alice named it on n1, her there, and its topic: n2 knows them.
    await bob.waitFor(/^\* you are in #Tea \(2 members\); topic: oolong$/);
    await alice.waitFor(/^\* bob joined$/, 10_000, seen); // her current room: no label
    bob.send('/names #tea');
    await bob.waitFor(/^\* #Tea: alice bob$/);
    // A third node, started now: what the cluster had before it came is in its directory (the snapshot).
    const n3 = await node('n3');
    const carol = await client(n3, 'carol');
    carol.send('/rooms');
    await carol.waitFor(/^\*\s+#lobby\s+3 members/);
    await carol.waitFor(/^\*\s+#Tea\s+2 members\s+oolong$/);
    carol.send('/names #lobby');
    await carol.waitFor(/^\* #lobby: alice bob carol$/);
    // Changes after it started reach it too: a part on n1, a topic from n2.
    alice.send('/part #tea');
    await alice.waitFor(/^\* you left #Tea$/);
    bob.send('/room #tea');
    bob.send('/topic sencha');
    await bob.waitFor(/^\* bob set the topic of #Tea: sencha$/);
    carol.send('/rooms');
    await carol.waitFor(/^\*\s+#Tea\s+1 member\s+sencha$/);
    // Look-alike names are refused across nodes: #Tea exists on n2, so "#Теа" (Cyrillic) is refused on n3.
    carol.send('/join #\u0422\u0435\u0430');
    await carol.waitFor(/^! ROOM_INVALID: .*looks like #Tea/);
  });

  it('a session that resumes on another node is in its rooms there, and gets what it missed once, direct messages too', async () => {
    cluster++;
    const [n1, n2] = [await node('n1'), await node('n2')];
    const alice = new LineProcess('client alice', [
      ...[CLIENT_JS, '--nick', 'alice'],
      ...['--host', `127.0.0.1:${n1.port}`, '--host', `127.0.0.1:${n2.port}`],
    ]);
    procs.push(alice);
    await alice.waitFor(`* connected to 127.0.0.1:${n1.port} as alice`);
    alice.send('/join #lab');
    await alice.waitFor(/^\* you are in #lab \(1 member\)$/);
    const bob = await client(n2, 'bob');
    await alice.waitFor(/^\* bob joined #lobby$/);
    const seen = alice.lines.length;
    bob.send('/join #lab');
    await alice.waitFor(/^\* bob joined$/, 10_000, seen);
    await bob.waitFor(/^\* you are in #lab \(2 members\)$/); // his current room from here
    bob.send('before the cut');
    await alice.waitFor(/^<bob> before the cut$/);
    n1.kill('SIGKILL');
    await alice.waitFor(/^\* connection (lost|to the server lost|closed by the server)/);
    bob.send('while alice was away');
    await bob.waitFor(/^<bob> while alice was away$/);
    bob.send('/msg alice psst, while you were away');
    await bob.waitFor(/^-> \*alice\* psst, while you were away$/);
    await alice.waitFor('* session resumed', 15_000);
    // Still in #lab on n2 (not put back in the default room only), with what she missed, once.
    bob.send('/names #lab');
    await bob.waitFor(/^\* #lab: alice bob$/);
    alice.send('/room #lab');
    alice.send('back, from n2');
    await bob.waitFor(/^<alice> back, from n2$/);
    const missed = alice.lines.filter((l) => l.endsWith('<bob> while alice was away'));
    expect(missed).toHaveLength(1);
    expect(alice.lines.filter((l) => l.endsWith('<bob> before the cut'))).toHaveLength(1);
    // The direct message too (its conversation is listed in Redis, not in the node's own store).
    expect(
      alice.lines.filter((l) => l.endsWith('*bob* psst, while you were away')),
      alice.lines.join('\n'),
    ).toHaveLength(1);
  });

  it("a dead node's users: the other nodes' rooms hear they lost their connection, then that they left", async () => {
    cluster++;
    const [n1, n2] = [await node('n1'), await node('n2')];
    const alice = await client(n1, 'alice');
    const bob = await client(n2, 'bob');
    alice.send('/join #lab');
    await alice.waitFor(/^\* you are in #lab/);
    bob.send('/join #lab');
    await bob.waitFor(/^\* you are in #lab \(2 members\)$/);
    n1.kill('SIGKILL');
    alice.kill('SIGKILL');
    await bob.waitFor('* alice lost connection', 10_000);
    await bob.waitFor('* alice left (node n1 is gone)', 15_000);
    bob.send('/names #lab');
    await bob.waitFor(/^\* #lab: bob$/);
    bob.send('/names #lobby');
    await bob.waitFor(/^\* #lobby: bob$/);
  });

  it("one node's dashboard lists every node's sessions, the others' with their node", async () => {
    cluster++;
    const token = 'an-admin-token-for-the-cluster';
    const n1 = await node('n1', ['--admin-token', token]);
    const n2 = await node('n2');
    await client(n1, 'alice');
    await client(n2, 'bob');
    const feed = await WsClient.connect(n1.httpPort!, {
      path: '/admin/ws',
      headers: { Authorization: `Bearer ${token}` },
    });
    try {
      type Row = { nick: string; node?: string };
      // A snapshot a second: the other nodes' sessions are read beside it and shown from the next one on.
      const rows = await new Promise<Row[]>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no snapshot with bob in 10 s')), 10_000);
        feed.ws.on('message', (d: Buffer) => {
          const s = JSON.parse(d.toString()) as { sessions?: Row[] };
          if (!s.sessions?.some((r) => r.nick === 'bob')) return;
          clearTimeout(timer);
          resolve(s.sessions);
        });
      });
      expect(rows.map((r) => [r.nick, r.node ?? null])).toEqual([
        ['alice', null],
        ['bob', 'n2'],
      ]);
    } finally {
      feed.ws.close();
    }
  });
});
