/**
 * The chat's limits, as IRC clients meet them on the door (docs/IRC.md,
 * "Heartbeats", "Limits"): the chat's heartbeats as PING, a client that
 * answers PONG kept, a silent one dropped after the timeout (the others see
 * it QUIT with "Ping timeout"), and nobody dropped for the server's own
 * stall; flood control for the chat's commands and for the lines the door
 * answers alone; and the per-address limits, at accept (connections not
 * registered yet) and at registration (sessions), each said once in ERROR.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RawIrc, closeBots } from '../helpers/irc-bot.js';
import { type LineProcess, startClient, startServer, stopAll } from '../helpers/processes.js';
import { until } from '../helpers/wait.js';

const INTERVAL = 300;
const TIMEOUT = 1200;
const HB = ['--workers', '1', '--heartbeat-interval', `${INTERVAL}ms`, '--heartbeat-timeout', `${TIMEOUT}ms`];

let procs: LineProcess[] = [];
afterEach(async () => {
  closeBots();
  await stopAll(...procs);
  procs = [];
});

/** A raw client that answers every PING with its text, as every IRC client does. */
function answeringPings(raw: RawIrc): void {
  let rest = '';
  raw.socket.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split('\r\n');
    rest = parts.pop()!;
    for (const l of parts) {
      const ping = /^(?::\S+ )?PING :?(\S+)$/.exec(l);
      if (ping) raw.send(`PONG :${ping[1]}`);
    }
  });
}

/** How many of the server's heartbeat PINGs the client has had. */
const pings = (raw: RawIrc) => raw.lines.filter((l) => /^:\S+ PING :?\d+\.\d/.test(l)).length;

describe('the chat’s limits on the IRC door', () => {
  it('heartbeats: PONG keeps a client, silence drops it after the timeout, the server’s stall drops nobody', async () => {
    const server = await startServer(HB);
    procs.push(server);
    const watcher = await startClient(server.port, 'watcher', ['--server-timeout', '30s']);
    procs.push(watcher);
    const good = new RawIrc(server.ircPort!);
    answeringPings(good);
    await good.register('good');
    const silent = new RawIrc(server.ircPort!);
    await silent.register('silent');
    const started = Date.now();
    await silent.line(/^ERROR :Closing link: heartbeat timeout$/, TIMEOUT + 5 * INTERVAL + 5_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT);
    await good.line(/^:silent!\S+ QUIT :Ping timeout$/);

    // The worker stalls for three timeouts: PINGs stop, PONGs wait; nobody is blamed for it.
    const before = pings(good);
    const fromStall = good.lines.length;
    server.send(`/stall-worker 0 ${3 * TIMEOUT}ms`);
    await server.waitFor('worker 0 stalled');
    // Heartbeats came again for longer than a timeout after the stall (a wrong judgement would have dropped by then).
    const after = () => pings(good) - before;
    await until(
      () => after() >= Math.ceil((3 * TIMEOUT) / INTERVAL) + 6,
      20_000,
      () => `${after()} PINGs since the stall began`,
    );
    good.send('PRIVMSG #lobby :still here');
    await watcher.waitFor('<good> still here');
    expect(good.closed).toBe(false);
    expect(good.lines.slice(fromStall).join('\n')).not.toMatch(/ERROR :Closing link| QUIT /);
  });

  it('flood control: a burst of messages, or of PINGs the door answers alone, past the backlog is FLOOD', async () => {
    const server = await startServer(['--flood-burst', '5', '--flood-rate', '1', '--flood-backlog', '5']);
    procs.push(server);
    const calm = new RawIrc(server.ircPort!);
    await calm.register('calm');
    for (const [nick, line] of [
      ['chatty', (i: number) => `PRIVMSG #lobby :m${i}`],
      ['pinger', (i: number) => `PING :p${i}`],
    ] as const) {
      const loud = new RawIrc(server.ircPort!);
      await loud.register(nick);
      await loud.line(new RegExp(` 366 ${nick} #lobby `));
      loud.socket.write(Array.from({ length: 30 }, (_, i) => `${line(i)}\r\n`).join(''));
      await loud.line(/^ERROR :Closing link: more than 5 messages .*sending faster than 1 a second/);
      await until(
        () => loud.closed,
        10_000,
        () => `${nick}'s connection open`,
      );
      await calm.line(new RegExp(`^:${nick}!\\S+ QUIT `));
    }
    // The burst's first messages went out; what waited past the backlog did not.
    expect(calm.lines.some((l) => / PRIVMSG #lobby :m0$/.test(l))).toBe(true);
    expect(calm.lines.some((l) => / PRIVMSG #lobby :m29$/.test(l))).toBe(false);
    calm.send('PING :calm');
    await calm.line(/ PONG \S+ :calm$/);
  });

  it('per-address limits: a third connection not registered yet, and a third session, each refused with one ERROR', async () => {
    const server = await startServer(['--max-pending-per-address', '2', '--max-sessions-per-address', '2']);
    procs.push(server);
    const pending = [new RawIrc(server.ircPort!), new RawIrc(server.ircPort!)];
    for (const p of pending) {
      p.send('PING :here');
      await p.line(/ PONG \S+ :here$/);
    }
    const third = new RawIrc(server.ircPort!);
    await third.line(/^ERROR :Closing link: ADDRESS_LIMIT: 127\.0\.0\.1 already has 2 connections /);
    await until(
      () => third.closed,
      10_000,
      () => 'the third connection open',
    );
    for (const p of pending) p.close();

    for (const nick of ['one', 'two']) await new RawIrc(server.ircPort!).register(nick);
    const extra = new RawIrc(server.ircPort!);
    extra.send('NICK three');
    extra.send('USER three 0 * :three');
    await until(
      () => extra.closed,
      10_000,
      () => `the third session: ${extra.lines.join(' | ')}`,
    );
    expect(extra.lines.filter((l) => l.startsWith('ERROR '))).toEqual([
      'ERROR :Closing link: 127.0.0.1 already has 2 sessions on this server, the most one address may have',
    ]);
  });
});
