/**
 * The terminal client's smaller faults of issue 33, each seen on a real
 * terminal (tmux) against a real server: what the screen shows, or what the
 * server received.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/loopback.js';
import type { ServerMessage } from '../../common/protocol.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  startClient,
  startServer,
  stopAll,
  tempDir,
  type LineProcess,
  type ServerHandle,
} from '../helpers/processes.js';
import { Tmux } from '../helpers/tmux.js';
import { NO_IMPAIRMENT, startRelay, type Relay } from '../relay/relay.js';

let procs: LineProcess[] = [];
let terms: Tmux[] = [];
let peers: RawClient[] = [];
let relays: Relay[] = [];
afterEach(async () => {
  for (const t of terms) {
    const pid = t.programPid();
    if (pid) process.kill(pid, 'SIGCONT');
    t.kill();
  }
  for (const p of peers) p.destroy();
  for (const r of relays) await r.close();
  await stopAll(...procs);
  terms = [];
  peers = [];
  procs = [];
  relays = [];
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

const isPrompt = (row: string) => /^\[#\w+\] alice>( |$)/.test(row);
const inputLine = (t: Tmux) =>
  t
    .screen()
    .filter((r) => isPrompt(r) || r.startsWith('send '))
    .at(-1);

/** alice in a terminal, connected and showing her prompt. */
async function terminal(port: number, opts: { width?: number; args?: string[] } = {}): Promise<Tmux> {
  const dir = tempDir('term');
  const term = Tmux.client(port, opts.args ?? ['--nick', 'alice'], {
    width: opts.width ?? 100,
    statusFile: join(dir, 'status'),
    env: { XDG_STATE_HOME: dir, NO_COLOR: '1' },
  });
  terms.push(term);
  await term.waitFor((rows) => rows.some(isPrompt), 'the prompt');
  return term;
}

function enter(term: Tmux, line: string): void {
  term.type(line);
  term.keys('Enter');
}

const chatFrom = (from: string, text: string) => (m: ServerMessage) =>
  m.type === 'CHAT' && m.from === from && m.text === text;
const row = (re: RegExp) => (rows: string[]) => rows.some((r) => re.test(r));

describe('what the terminal shows', () => {
  it('a history line carries its date alone, not [HH:MM] before it too', async () => {
    const s = await server();
    const bob = await peer(s.port, 'bob');
    bob.send({ type: 'CHAT', text: 'said before alice came', action: false });
    await bob.waitFor(chatFrom('bob', 'said before alice came'));
    const term = await terminal(s.port);
    await term.waitFor(row(/^\[\d{4}-\d\d-\d\d \d\d:\d\d\] <bob> said before alice came$/), 'one date on history');
  });

  it('a join in the current room names it (not read as someone coming online)', async () => {
    const s = await server();
    const term = await terminal(s.port);
    await peer(s.port, 'carol');
    await term.waitFor(row(/^\[\d\d:\d\d\] \* carol joined #lobby$/), 'the join naming its room');
  });

  it('logging in again after a lost session: "you are in #lobby" once, the current room kept', async () => {
    const port = await freePort();
    const first = await server(['--port', String(port), '--data', tempDir('first-data')]);
    const term = await terminal(port);
    enter(term, '/join #lab');
    await term.waitForText('* you are in #lab');
    first.kill('SIGKILL');
    await first.exited;
    // Another data folder: the session is unknown there, so the client logs in anew.
    await server(['--port', String(port), '--data', tempDir('second-data')]);
    await term.waitForText('logging in again', 40_000);
    await term.waitFor(row(/^\[#lab\] alice>/), 'the prompt, still in #lab');
    enter(term, 'marker after the new login');
    // Her own line comes back after the answers to everything she sent before it.
    const rows = await term.waitFor(row(/<alice> marker after the new login$/), 'the marker');
    const after = rows.slice(rows.findIndex((r) => r.includes('* reconnected to')));
    expect(after.filter((r) => r.includes('* you are in #lobby'))).toHaveLength(1);
    expect(after.filter((r) => r.includes('* you are in #lab'))).toHaveLength(1);
    expect(after.findIndex((r) => r.includes('] <alice> marker'))).toBeGreaterThan(0);
  }, 60_000);

  it('what was missed while away comes in time order across the room and a direct message', async () => {
    const s = await server(['--heartbeat-interval', '300ms', '--heartbeat-timeout', '1200ms']);
    const term = await terminal(s.port);
    const bob = await startClient(s.port, 'bob');
    procs.push(bob);
    await term.waitForText('* bob joined #lobby');
    const pid = term.programPid()!;
    process.kill(pid, 'SIGSTOP');
    await bob.waitFor(/^\* alice lost connection$/, 10_000);
    bob.send('first, in the room');
    await bob.waitFor(/^<bob> first, in the room$/);
    bob.send('/msg alice second, to you alone');
    await bob.waitFor(/^-> \*alice\* second, to you alone$/);
    bob.send('third, in the room');
    await bob.waitFor(/^<bob> third, in the room$/);
    process.kill(pid, 'SIGCONT');
    const rows = await term.waitForText('* reconnected: 3 missed messages', 20_000);
    const missed = rows
      .filter((r) => /<bob> (first|third)|\*bob\* second/.test(r))
      .map((r) => r.replace(/^\[\d\d:\d\d\] /, ''));
    expect(missed).toEqual(['<bob> first, in the room', '*bob* second, to you alone', '<bob> third, in the room']);
  }, 60_000);

  it('a direct message to a registered nick that is offline says it waits for their next login', async () => {
    const s = await server(['--allow-plain-passwords']);
    const bob = await peer(s.port, 'bob');
    bob.send({ type: 'ACCOUNT', op: 'register', password: 'correct horse battery' });
    await bob.waitFor((m) => m.type === 'ACCOUNT_REPLY' && m.op === 'registered');
    bob.send({ type: 'BYE', reason: '' });
    await bob.closed;
    const term = await terminal(s.port);
    enter(term, '/msg bob are you there?');
    await term.waitForText('-> *bob* are you there?');
    await term.waitForText('* bob is not online: the message waits for their next login');
  });

  it('/topic in a room without a topic says "no topic", not a room listing', async () => {
    const s = await server();
    const term = await terminal(s.port);
    enter(term, '/topic');
    await term.waitForText('* #lobby has no topic (set one: /topic #lobby <text>)');
  });

  it('/get "x (a quote left open) is refused with a clear message', async () => {
    const s = await server();
    const term = await terminal(s.port);
    enter(term, '/get "x');
    await term.waitForText('! /get: a double quote is not closed');
  });

  it('/sleep without a duration gives its usage; /sleep 99h is refused, and the client does not sleep', async () => {
    const s = await server();
    const bob = await peer(s.port, 'bob');
    const term = await terminal(s.port);
    enter(term, '/sleep');
    await term.waitForText('! usage: /sleep <duration>, e.g. /sleep 30s (at most 10m)');
    enter(term, '/sleep 99h');
    await term.waitForText('! /sleep: 99h is longer than the 10m it allows; not sleeping');
    enter(term, 'not asleep');
    await bob.waitFor(chatFrom('alice', 'not asleep'));
    expect(term.screen().join('\n')).not.toContain('main thread blocked');
  });

  it('a space in a nick is called a space', async () => {
    const s = await server();
    const dir = tempDir('term');
    const term = Tmux.client(s.port, [], { width: 100, statusFile: join(dir, 'status'), env: { XDG_STATE_HOME: dir } });
    terms.push(term);
    await term.waitFor(row(/^nick:/), 'the nick prompt');
    enter(term, 'a b');
    await term.waitForText('a space (U+0020) cannot be in a nick');
  });

  it('/transfers: a header, and the bar of a running transfer fits the window', async () => {
    const files = tempDir('term-files');
    writeFileSync(join(files, 'big.bin'), Buffer.alloc(4 << 20, 7));
    const s = await server(['--files', files]);
    const slow = { ...NO_IMPAIRMENT, rateBps: 200_000 };
    const relay = await startRelay({
      listenHost: '127.0.0.1',
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: s.port,
      seed: 1,
      up: NO_IMPAIRMENT,
      down: slow,
    });
    relays.push(relay);
    const width = 60;
    const term = await terminal(s.port, {
      width,
      args: ['--nick', 'alice', '--lftp-via', `127.0.0.1:${relay.port}`, '--downloads', tempDir('term-downloads')],
    });
    enter(term, '/get big.bin');
    await term.waitFor(row(/^get big\.bin \[/), 'the progress line');
    enter(term, '/transfers');
    const rows = await term.waitForText('* 1 transfer:');
    const line = rows[rows.indexOf('* 1 transfer:') + 1]!;
    expect(line).toMatch(/^\* {3}get big\.bin \[[#-]+\] +\d+% .* ETA \S+$/);
    expect(line.length).toBeLessThan(width);
  }, 60_000);
});

describe('typing and pasting', () => {
  it('a 100,000-byte paste: the real size is said, and the text stays on the input line', async () => {
    const s = await server();
    const term = await terminal(s.port);
    term.paste('x'.repeat(100_000), { bracketed: true });
    await term.waitFor(() => (inputLine(term) ?? '').startsWith('[#lobby] alice> ‹xxxx'), 'the pasted line');
    term.keys('Enter');
    await term.waitForText('! message too long (100000 bytes, the server takes 32512)');
    await term.waitFor(() => /^\[#lobby\] alice> ‹x+$/.test(inputLine(term) ?? ''), 'the line, kept');
  });

  it('pastes of two lines are asked for, bracketed or not, the last line too; nothing of one joins the next', async () => {
    const s = await server();
    const bob = await peer(s.port, 'bob');
    const term = await terminal(s.port);
    const question = 'send 2 pasted lines as 2 messages? [y/N]';
    term.paste('one\ntwo', { bracketed: false });
    await term.waitFor(() => inputLine(term) === question, 'the question for an unbracketed paste');
    enter(term, 'y');
    await bob.waitFor(chatFrom('alice', 'two'));
    term.paste('three\nfour', { bracketed: true });
    await term.waitFor(() => inputLine(term) === question, 'the question for a bracketed paste');
    enter(term, 'y');
    await bob.waitFor(chatFrom('alice', 'four'));
    const said = bob.received.filter((m) => m.type === 'CHAT').map((m) => (m as { text: string }).text);
    expect(said).toEqual(['one', 'two', 'three', 'four']);
  });

  it('the "y" that confirms a paste is not kept in the input history', async () => {
    const s = await server();
    const bob = await peer(s.port, 'bob');
    const term = await terminal(s.port);
    enter(term, 'a real line');
    await bob.waitFor(chatFrom('alice', 'a real line'));
    term.paste('a\nb\nc\nd\n', { bracketed: true });
    await term.waitFor(() => inputLine(term) === 'send 4 pasted lines as 4 messages? [y/N]', 'the question');
    enter(term, 'y');
    await bob.waitFor(chatFrom('alice', 'd'));
    term.keys('Up');
    await term.waitFor(() => inputLine(term) === '[#lobby] alice> a real line', 'Up recalling the line, not "y"');
  });

  it('narrowing the window leaves no stale copy of the input line', async () => {
    const s = await server();
    const term = await terminal(s.port);
    const typed = 'the quick brown fox jumps over the lazy dog and keeps running far';
    term.type(typed);
    await term.waitFor(() => inputLine(term) === `[#lobby] alice> ${typed}`, 'the typed line');
    term.resize(40, 30);
    await term.waitFor(() => (inputLine(term) ?? '').startsWith('[#lobby] alice> ‹'), 'the line fitted to 40');
    expect(term.screen().filter((r) => r.includes('quick'))).toEqual([]);
  });
});
