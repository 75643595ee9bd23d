/**
 * The terminal client leaving and coming back (issue 33), in a real terminal
 * (tmux) against a real server: a closed terminal (SIGHUP) and `kill` (SIGTERM)
 * leave as /quit does, so the others see "left" and the nick is free for the
 * next login at once; SIGTERM and Ctrl-C still work during /sleep; a password
 * registered in quotes logs in; a line typed while reconnecting stays on the
 * screen, marked pending.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/loopback.js';
import type { ServerMessage } from '../../common/protocol.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, stopAll, tempDir, type LineProcess, type ServerHandle } from '../helpers/processes.js';
import { Tmux } from '../helpers/tmux.js';
import { until } from '../helpers/wait.js';

let procs: LineProcess[] = [];
let terms: Tmux[] = [];
let peers: RawClient[] = [];
afterEach(async () => {
  for (const t of terms) t.kill();
  for (const p of peers) p.destroy();
  await stopAll(...procs);
  terms = [];
  peers = [];
  procs = [];
});

async function server(extra: string[] = []): Promise<ServerHandle> {
  const s = await startServer(['--workers', '1', '--no-web', ...extra]);
  procs.push(s);
  return s;
}

async function peer(port: number, nick: string): Promise<RawClient> {
  const c = await RawClient.connect(port);
  peers.push(c);
  c.send({ type: 'HELLO', version: 2, nick });
  await c.waitFor((m) => m.type === 'WELCOME');
  return c;
}

const isPrompt = (nick: string) => (row: string) => row === `[#lobby] ${nick}>` || row.startsWith(`[#lobby] ${nick}> `);

/** alice (or args' nick) in a terminal, connected and showing her prompt. */
async function terminal(
  port: number,
  args = ['--nick', 'alice'],
  nick = 'alice',
): Promise<{ term: Tmux; status: string }> {
  const dir = tempDir('term');
  const status = join(dir, 'status');
  const term = Tmux.client(port, args, { width: 100, statusFile: status, env: { XDG_STATE_HOME: dir, NO_COLOR: '1' } });
  terms.push(term);
  await term.waitFor((rows) => rows.some(isPrompt(nick)), `the prompt as ${nick}`);
  return { term, status };
}

const notice = (event: string, nick: string) => (m: ServerMessage) =>
  m.type === 'NOTICE' && m.event === event && m.nick === nick;
const chatFrom = (from: string, text: string) => (m: ServerMessage) =>
  m.type === 'CHAT' && m.from === from && m.text === text;

/** The others saw her leave (BYE), not lose her connection; a new login gets the nick itself, not alice_. */
async function leftAndFree(bob: RawClient, port: number): Promise<void> {
  await bob.waitFor(notice('left', 'alice'), 10_000);
  // NOTICEs come in order: an "away" would have come before this "left".
  expect(bob.received.filter(notice('away', 'alice'))).toEqual([]);
  const again = await terminal(port);
  expect(again.term.screen().join('\n')).not.toContain('trying alice_');
}

describe('the terminal client leaves cleanly on a signal', () => {
  it('closing the terminal (SIGHUP): the others see "left", and the nick is free for the next login', async () => {
    const s = await server();
    const bob = await peer(s.port, 'bob');
    const { term } = await terminal(s.port);
    await bob.waitFor(notice('joined', 'alice'));
    term.kill(); // the terminal goes away: the kernel hangs up its programs
    await leftAndFree(bob, s.port);
  });

  it('kill -TERM: "left", exit 0, the terminal restored, the nick free', async () => {
    const s = await server();
    const bob = await peer(s.port, 'bob');
    const { term, status } = await terminal(s.port);
    process.kill(term.programPid()!, 'SIGTERM');
    await until(
      () => existsSync(status),
      10_000,
      () => term.screen().join('\n'),
    );
    expect(readFileSync(status, 'utf8').trim()).toBe('0');
    expect(readFileSync(`${status}.stty`, 'utf8')).toMatch(/(^|\s)icanon(\s|$)/);
    await leftAndFree(bob, s.port);
  });

  it('during /sleep: SIGTERM still quits at once (a blocked main thread used to ignore it for up to 10 minutes)', async () => {
    const s = await server();
    const bob = await peer(s.port, 'bob');
    const { term, status } = await terminal(s.port);
    term.type('/sleep 5m');
    term.keys('Enter');
    await term.waitForText('main thread blocked for 5m00s');
    bob.send({ type: 'CHAT', text: 'still there?', action: false });
    await term.waitForText('<bob> still there?');
    process.kill(term.programPid()!, 'SIGTERM');
    await bob.waitFor(notice('left', 'alice'), 10_000);
    await until(
      () => existsSync(status),
      10_000,
      () => term.screen().join('\n'),
    );
    expect(readFileSync(status, 'utf8').trim()).toBe('0');
  });

  it('during /sleep: Ctrl-C wakes the main thread; what was typed meanwhile goes after it, in order', async () => {
    const s = await server();
    const bob = await peer(s.port, 'bob');
    const { term } = await terminal(s.port);
    term.type('/sleep 5m');
    term.keys('Enter');
    await term.waitForText('main thread blocked for 5m00s');
    term.type('typed while asleep');
    term.keys('Enter');
    term.keys('C-c');
    await term.waitForText('* woken by Ctrl-C: main thread awake again');
    await bob.waitFor(chatFrom('alice', 'typed while asleep'));
  });
});

describe('a password registered in quotes', () => {
  it('/register "my pass 123" registers my pass 123: the next login with it works', async () => {
    const plain = ['--allow-plain-passwords'];
    const s = await server(plain);
    const bob = await peer(s.port, 'bob');
    const first = await terminal(s.port, ['--nick', 'alice', ...plain]);
    first.term.type('/register "my pass 123"');
    first.term.keys('Enter');
    await first.term.waitForText('* alice is registered');
    first.term.type('/quit');
    first.term.keys('Enter');
    await bob.waitFor(notice('left', 'alice'));
    const again = await terminal(s.port, ['--nick', 'alice', '--password', 'my pass 123', ...plain]);
    again.term.type('back with my pass');
    again.term.keys('Enter');
    await bob.waitFor(chatFrom('alice', 'back with my pass'));
  });
});

describe('while reconnecting', () => {
  it('a line typed stays on the screen, marked pending, and is sent once back', async () => {
    const port = await freePort();
    const data = tempDir('term-data');
    const first = await server(['--port', String(port), '--data', data]);
    const { term } = await terminal(port);
    first.kill('SIGKILL');
    await first.exited;
    await term.waitFor((rows) => rows.some((r) => r.startsWith('(reconnecting) [#lobby] alice>')), 'reconnecting');
    term.type('said while away');
    term.keys('Enter');
    await term.waitForText('(pending) <alice> said while away');
    const second = await server(['--port', String(port), '--data', data]);
    const bob = await peer(second.port, 'bob');
    await bob.waitFor(chatFrom('alice', 'said while away'), 40_000);
    await term.waitFor((rows) => rows.some((r) => /^\[\d\d:\d\d\] <alice> said while away$/.test(r)), 'the echo');
  }, 60_000);
});
