import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  LineProcess,
  CLIENT_JS,
  NO_FLOOD_LIMIT,
  startClient,
  startServer,
  stopAll,
  type ServerHandle,
} from '../helpers/processes.js';

let procs: Array<LineProcess | undefined> = [];
afterEach(async () => {
  await stopAll(...procs);
  procs = [];
});

describe('chat end to end: server with 2 workers and 3 piped clients', () => {
  it('chat, direct messages, /who, /nick, /me, operator broadcast, /kick, shutdown with bye', async () => {
    const server = await startServer(['--workers', '2']);
    procs.push(server);
    // --no-reconnect: this test is about how a client ends when the server does.
    const alice = await startClient(server.port, 'alice', ['--no-reconnect']);
    const bob = await startClient(server.port, 'bob', ['--no-reconnect']);
    const carol = await startClient(server.port, 'carol');
    procs.push(alice, bob, carol);
    await alice.waitFor('* carol joined');

    alice.send('hello everyone');
    for (const c of [alice, bob, carol]) await c.waitFor('<alice> hello everyone');

    alice.send('/msg bob psst, secret');
    await bob.waitFor('*alice* psst, secret');
    await alice.waitFor('-> *bob* psst, secret');
    alice.send('/msg nobody hi');
    await alice.waitFor(/^! NO_SUCH_NICK: no user named nobody/);

    bob.send('/me waves');
    await carol.waitFor('* bob waves');

    carol.send('/who');
    await carol.waitFor('* 3 users online:');
    await carol.waitFor(/^\*\s+alice\s+idle/);
    await carol.waitFor(/^\*\s+carol \(you\)/);

    bob.send('/nick robert');
    for (const c of [alice, bob, carol]) await c.waitFor('* bob is now robert');
    alice.send('/msg robert renamed?');
    await bob.waitFor('*alice* renamed?');
    alice.send('/nick CAROL');
    await alice.waitFor(/^! NICK_TAKEN/);

    bob.send('/bogus');
    await bob.waitFor(/^! unknown command \/bogus/);

    server.send('maintenance at noon');
    for (const c of [alice, bob, carol]) await c.waitFor('[server] maintenance at noon');

    // A marker after the direct messages: carol has seen everything sent before it.
    alice.send('marker');
    await carol.waitFor('<alice> marker');
    expect(carol.lines.join('\n')).not.toContain('psst');
    expect(carol.lines.join('\n')).not.toContain('renamed?');
    expect(carol.lines.join('\n')).not.toContain('bogus');

    server.send('/list');
    await server.waitFor('3 sessions');
    // Columns line up: every row's cells start where the header's do.
    const head = server.lines.findLastIndex((l) => l.startsWith('NICK '));
    const table = server.lines.slice(head, head + 4);
    expect(table[1]).toMatch(/^alice +tcp +127\.0\.0\.1:\d+ +[01] /);
    for (const title of ['VIA', 'ADDRESS', 'WORKER', 'RTT', 'IDLE', 'CONNECTED', 'MSGS']) {
      const col = table[0]!.indexOf(title);
      for (const row of table.slice(1)) expect(row[col - 1]).toBe(' ');
      for (const row of table.slice(1)) expect(row[col]).not.toBe(' ');
    }
    server.send('/stats');
    await server.waitFor(/^total: 3 sessions/);

    server.send('/kick carol spamming');
    await alice.waitFor('* carol was kicked (spamming)');
    await bob.waitFor('* carol was kicked (spamming)');
    await carol.waitFor('server closed the connection: kicked: spamming');
    expect(await carol.exit()).toBe(3);

    server.send('/shutdown');
    await alice.waitFor('server closed the connection: server shutting down');
    await bob.waitFor('server closed the connection: server shutting down');
    expect(await alice.exit()).toBe(3);
    expect(await bob.exit()).toBe(3);
    expect(await server.exit()).toBe(0);
    const log = readFileSync(server.logFile, 'utf8');
    expect(log).toContain('"msg":"stopped"');
    expect(log).toMatch(/"nick":"alice".*"msg":"joined"/);
  });

  it('SIGTERM shuts down gracefully: clients get bye, server exits 0 with logs flushed', async () => {
    const server = await startServer(['--workers', '2']);
    const dave = await startClient(server.port, 'dave', ['--no-reconnect']);
    procs.push(server, dave);
    server.proc.kill('SIGTERM');
    await dave.waitFor('server closed the connection: server shutting down');
    expect(await server.exit()).toBe(0);
    expect(await dave.exit()).toBe(3);
    expect(readFileSync(server.logFile, 'utf8')).toContain('received SIGTERM');
  });

  it('refuses a taken nick (case-insensitively) and an invalid nick with one clear line and exit 4', async () => {
    const server = await startServer(['--workers', '2']);
    const erin = await startClient(server.port, 'Erin');
    procs.push(server, erin);
    const dup = new LineProcess('dup', [CLIENT_JS, '--port', String(server.port), '--nick', 'erin']);
    procs.push(dup);
    expect(await dup.exit()).toBe(4);
    expect(dup.errLines).toEqual(['chat-client: nick erin is taken; choose another with --nick']);
    const bad = new LineProcess('bad', [CLIENT_JS, '--port', String(server.port), '--nick', 'no spaces']);
    procs.push(bad);
    expect(await bad.exit()).toBe(4);
    expect(bad.errLines.join('\n')).toMatch(/invalid nick "no spaces"/);
    // Erin was not disturbed.
    erin.send('still here');
    await erin.waitFor('<Erin> still here');
  });

  it('delivers 1,000 messages sent just before /quit, all of them, in order', async () => {
    const server = await startServer(['--workers', '2', ...NO_FLOOD_LIMIT]);
    const receivers = [await startClient(server.port, 'rx1'), await startClient(server.port, 'rx2')];
    const sender = await startClient(server.port, 'tx');
    procs.push(server, sender, ...receivers);
    const t0 = Date.now();
    const lines = Array.from({ length: 1000 }, (_, i) => `m${String(i).padStart(4, '0')}`);
    sender.proc.stdin.write(lines.join('\n') + '\n/quit\n');
    expect(await sender.exit(30_000)).toBe(0);
    for (const rx of receivers) {
      await rx.waitFor('* tx left', 30_000);
      const got = rx.lines.filter((l) => l.startsWith('<tx> ')).map((l) => l.slice(5));
      expect(got).toEqual(lines);
    }
    const secs = (Date.now() - t0) / 1000;
    console.log(
      `no-loss run: 1000 messages x 3 recipients in ${secs.toFixed(2)}s = ${((1000 * 3) / secs).toFixed(0)} deliveries/s`,
    );
  });
});

export type { ServerHandle };
