/**
 * The terminal client as a person uses it: the real chat-client in a real
 * pseudo-terminal (tmux), keys typed on it, the screen read back, and the
 * other side of the chat a raw TCP peer that sees exactly which bytes arrived.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/loopback.js';
import type { ServerMessage } from '../../common/protocol.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  NO_FLOOD_LIMIT,
  SERVER_JS,
  startServer,
  stopAll,
  tempDir,
  type LineProcess,
  type ServerHandle,
} from '../helpers/processes.js';
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
  c.send({ type: 'HELLO', version: 1, nick });
  await c.waitFor((m) => m.type === 'WELCOME');
  return c;
}

/** alice in a terminal, connected and showing her prompt. */
async function terminal(
  port: number,
  opts: { width?: number; args?: string[]; state?: string } = {},
): Promise<{ term: Tmux; status: string }> {
  const dir = tempDir('term');
  const status = join(dir, 'status');
  const term = Tmux.client(port, opts.args ?? ['--nick', 'alice'], {
    width: opts.width ?? 100,
    statusFile: status,
    env: { XDG_STATE_HOME: opts.state ?? dir, NO_COLOR: '1' },
  });
  terms.push(term);
  await term.waitFor((rows) => rows.some(isPrompt), 'the prompt');
  return { term, status };
}

const chatFrom = (from: string, text: string) => (m: ServerMessage) =>
  m.type === 'CHAT' && m.from === from && m.text === text;
/** The input line (the screen's rows have their trailing spaces removed, the prompt's too). */
const isPrompt = (row: string) => row === '[#lobby] alice>' || row.startsWith('[#lobby] alice> ');
const inputLine = (t: Tmux) => t.screen().filter(isPrompt).at(-1);

describe('the terminal client', () => {
  it('Chinese text, emoji and 的 and 吃 typed on the keyboard reach the others byte for byte, and the client runs on', async () => {
    const s = await server();
    const bob = await peer(s.port, 'bob');
    const { term } = await terminal(s.port);
    // 的 is E7 9A 84 and 吃 E5 90 83: with the eighth bit stripped, 0x9A is ^Z (suspend) and 0x83 is ^C (interrupt).
    for (const text of ['hi everyone, 大家好 👋', '的', '吃饭了吗？', 'Zoë e\u0301 👨‍👩‍👧']) {
      term.type(text);
      term.keys('Enter');
      await bob.waitFor(chatFrom('alice', text));
    }
    await term.waitForText('<alice> 吃饭了吗？');
    expect(inputLine(term)).toBe('[#lobby] alice>');
    term.type('still here');
    term.keys('Enter');
    await bob.waitFor(chatFrom('alice', 'still here'));
  });

  it('asks for a nick until the rule allows it, then tries nick_ when the server says it is taken', async () => {
    const s = await server();
    await peer(s.port, '小明');
    const dir = tempDir('term');
    const term = Tmux.client(s.port, [], {
      width: 100,
      statusFile: join(dir, 'status'),
      env: { XDG_STATE_HOME: dir, NO_COLOR: '1' },
    });
    terms.push(term);
    await term.waitFor((rows) => rows.some((r) => r.startsWith('nick:')), 'the nick prompt');
    term.type('\u0430lice'); // Cyrillic а
    term.keys('Enter');
    await term.waitForText('cannot mix Cyrillic and Latin letters');
    await term.waitFor(
      (rows) => rows.findIndex((r) => r === 'nick:') > rows.findIndex((r) => r.includes('cannot mix')),
      'asked again, with an empty answer',
    );
    term.type('小明');
    term.keys('Enter');
    await term.waitForText('* nick 小明 is taken; trying 小明_');
    await term.waitFor(
      (rows) => rows.some((r) => r === '[#lobby] 小明_>' || r.startsWith('[#lobby] 小明_> ')),
      'the prompt as 小明_',
    );
  });

  it('a half-typed line survives 200 incoming messages intact, cursor where it was, and is sent whole on Enter', async () => {
    const s = await server(NO_FLOOD_LIMIT); // bob sends them as fast as a raw socket can
    const bob = await peer(s.port, 'bob');
    const { term } = await terminal(s.port);
    const typed = 'half typed 大家好 👋 line';
    term.type(typed);
    await until(
      () => inputLine(term) === `[#lobby] alice> ${typed}`,
      5000,
      () => term.screen().join('\n'),
    );
    const before = term.cursor();
    for (let i = 1; i <= 200; i++) bob.send({ type: 'CHAT', text: `message ${i} from bob`, action: false });
    await term.waitForText('<bob> message 200 from bob');
    const rows = term.screen();
    expect(rows.at(-1)).toBe(`[#lobby] alice> ${typed}`);
    expect(rows.filter((r) => r.includes(typed))).toHaveLength(1);
    expect(term.cursor()).toEqual({ x: before.x, y: rows.length - 1 });
    term.keys('Enter');
    await bob.waitFor(chatFrom('alice', typed));
  });

  it('edits with the readline keys, in CJK and emoji text too', async () => {
    const s = await server();
    const bob = await peer(s.port, 'bob');
    const { term } = await terminal(s.port);
    const send = async (expected: string) => {
      term.keys('Enter');
      await bob.waitFor(chatFrom('alice', expected));
    };
    term.type('hello world');
    term.keys('Home');
    term.type('X');
    term.keys('End');
    term.type('!');
    await send('Xhello world!');

    term.type('one two three');
    term.keys('C-w'); // deletes "three"
    term.keys('M-b'); // to "two"
    term.keys('C-k'); // kills "two "
    term.type('2 ');
    await send('one 2 ');

    term.type('abcdef');
    term.keys('Left', 'Left', 'BSpace'); // abcd|ef: deletes d
    term.keys('C-a', 'DC'); // deletes a
    term.keys('C-e', 'Right'); // at the end already
    await send('bcef');

    term.type('大家好世界');
    term.keys('Left', 'Left', 'BSpace');
    term.type('们');
    await send('大家们世界');

    term.type('a👋b🎉c');
    term.keys('Left', 'Left', 'BSpace', 'Left', 'DC');
    await send('a🎉c');

    term.type('junk');
    term.keys('C-u');
    term.type('clean');
    await send('clean');
  });

  it('history: Up recalls what was sent, across runs, and Down comes back to the line being typed', async () => {
    const s = await server();
    const bob = await peer(s.port, 'bob');
    const state = tempDir('xdg-state');
    const first = await terminal(s.port, { state });
    first.term.type('first run says 你好');
    first.term.keys('Enter');
    await bob.waitFor(chatFrom('alice', 'first run says 你好'));
    first.term.type('/quit');
    first.term.keys('Enter');
    await until(
      () => existsSync(first.status),
      10_000,
      () => first.term.screen().join('\n'),
    );
    expect(readFileSync(join(state, 'heartbeat-chat', 'history'), 'utf8')).toContain('first run says 你好');

    const second = await terminal(s.port, { state });
    second.term.type('draft');
    second.term.keys('Up');
    await until(
      () => inputLine(second.term) === '[#lobby] alice> /quit',
      5000,
      () => second.term.screen().join('\n'),
    );
    second.term.keys('Up');
    await until(
      () => inputLine(second.term) === '[#lobby] alice> first run says 你好',
      5000,
      () => second.term.screen().join('\n'),
    );
    second.term.keys('Down', 'Down');
    await until(
      () => inputLine(second.term) === '[#lobby] alice> draft',
      5000,
      () => second.term.screen().join('\n'),
    );
  });

  it('Tab completes a nick in the room and a shared file name after /get', async () => {
    const files = tempDir('term-files');
    writeFileSync(join(files, 'report 2026.pdf'), 'x');
    const s = await startServer(['--workers', '1', '--no-web', '--files', files]);
    procs.push(s);
    const bob = await peer(s.port, 'bobby');
    const { term } = await terminal(s.port);
    await peer(s.port, 'carol');
    await term.waitForText('carol joined');
    term.type('bo');
    term.keys('Tab');
    await until(
      () => inputLine(term) === '[#lobby] alice> bobby:',
      5000,
      () => term.screen().join('\n'),
    );
    term.type('hi');
    term.keys('Enter');
    await bob.waitFor(chatFrom('alice', 'bobby: hi'));
    term.type('/get rep');
    term.keys('Tab');
    await until(
      () => inputLine(term) === '[#lobby] alice> /get "report 2026.pdf"',
      5000,
      () => term.screen().join('\n'),
    );
  });

  it('lines carry [HH:MM] on a terminal', async () => {
    const s = await server();
    const bob = await peer(s.port, 'bob');
    const { term } = await terminal(s.port);
    bob.send({ type: 'CHAT', text: 'hey alice, look', action: false });
    const rows = await term.waitForText('<bob> hey alice, look');
    expect(rows.find((r) => r.includes('hey alice'))).toMatch(/^\[\d\d:\d\d\] <bob> hey alice, look$/);
  });

  it('a narrow window scrolls the input line sideways; a resize redraws it within the new width', async () => {
    const s = await server();
    const bob = await peer(s.port, 'bob');
    const { term } = await terminal(s.port, { width: 40 });
    const long = '这是一个很长的句子 with words that will not fit in forty columns at all';
    term.type(long);
    await until(
      () => (inputLine(term) ?? '').includes('‹'),
      5000,
      () => term.screen().join('\n'),
    );
    for (const r of term.screen()) expect(r.length).toBeLessThanOrEqual(40);
    term.resize(100, 30);
    await until(
      () => inputLine(term) === `[#lobby] alice> ${long}`,
      5000,
      () => term.screen().join('\n'),
    );
    term.keys('Enter');
    await bob.waitFor(chatFrom('alice', long));
  });

  it('Ctrl-C clears the line, twice quits; the terminal is restored and nothing typed is left behind', async () => {
    const s = await server();
    const { term, status } = await terminal(s.port);
    term.type('never sent');
    term.keys('C-c');
    await until(
      () => inputLine(term) === '[#lobby] alice>',
      5000,
      () => term.screen().join('\n'),
    );
    term.keys('C-c');
    await term.waitForText('Ctrl-C again to quit');
    term.keys('C-c');
    await until(
      () => existsSync(status),
      10_000,
      () => term.screen().join('\n'),
    );
    expect(readFileSync(status, 'utf8').trim()).toBe('0');
    const stty = readFileSync(`${status}.stty`, 'utf8');
    expect(stty).toMatch(/(^|\s)icanon(\s|$)/);
    expect(stty).toMatch(/(^|\s)echo(\s|$)/);
    expect(stty).toMatch(/(^|\s)isig(\s|$)/);
    // The shell's "[exited 0]" comes after everything the client wrote to the terminal: the screen is final.
    expect((await term.waitForText('[exited 0]')).join('\n')).not.toContain('never sent');
  });

  it('Ctrl-D on an empty line quits; on a line it deletes', async () => {
    const s = await server();
    const bob = await peer(s.port, 'bob');
    const { term, status } = await terminal(s.port);
    term.type('abc');
    term.keys('Home', 'C-d');
    term.keys('Enter');
    await bob.waitFor(chatFrom('alice', 'bc'));
    term.keys('C-d');
    await until(
      () => existsSync(status),
      10_000,
      () => term.screen().join('\n'),
    );
    expect(readFileSync(status, 'utf8').trim()).toBe('0');
    await bob.waitFor((m) => m.type === 'NOTICE' && m.event === 'left' && m.nick === 'alice');
  });

  it('the server vanishing with --no-reconnect: exit 3 with the reason, the terminal restored, the half-typed line gone', async () => {
    const s = await server();
    const { term, status } = await terminal(s.port, { args: ['--nick', 'alice', '--no-reconnect'] });
    term.type('typing when the server dies');
    await until(
      () => (inputLine(term) ?? '').includes('dies'),
      5000,
      () => term.screen().join('\n'),
    );
    s.kill('SIGKILL');
    await until(
      () => existsSync(status),
      20_000,
      () => term.screen().join('\n'),
    );
    expect(readFileSync(status, 'utf8').trim()).toBe('3');
    // The shell's "[exited 3]" comes after everything the client wrote to the terminal: the screen is final.
    const rows = (await term.waitForText('[exited 3]')).join('\n');
    expect(rows).toMatch(/connection (closed by the server|to the server lost)/);
    expect(rows).not.toContain('typing when the server dies');
    expect(readFileSync(`${status}.stty`, 'utf8')).toMatch(/(^|\s)icanon(\s|$)/);
  });

  it('the server restarting: the prompt says (reconnecting), the half-typed line stays, lines typed meanwhile go once it is back', async () => {
    const port = await freePort();
    const data = tempDir('term-data');
    const first = await server(['--port', String(port), '--data', data]);
    const { term } = await terminal(port);
    first.kill('SIGKILL');
    await first.exited;
    await until(
      () => term.screen().some((r) => r.startsWith('(reconnecting) [#lobby] alice>')),
      10_000,
      () => term.screen().join('\n'),
    );
    // A killed server's socket ends with a FIN or, when data was in flight, a reset (the line names it).
    expect(term.screen().join('\n')).toMatch(
      /\* connection (closed by the server|to the server lost)( \([A-Z]+\))?; reconnecting in \d/,
    );
    term.type('said while away');
    term.keys('Enter');
    // Shown as pending at once; typing goes on after it (Enter and more text in one read would be a paste).
    await term.waitForText('(pending) <alice> said while away');
    term.type('half typed');
    const second = await server(['--port', String(port), '--data', data]);
    const bob = await peer(second.port, 'bob');
    // The same data folder: the session is resumed, not a new login.
    await term.waitForText('* session resumed; sending the 1 line typed meanwhile', 40_000);
    await term.waitForText('* reconnected: 0 missed messages');
    // The line typed while away arrives once; the half-typed one is still there, under a prompt without "(reconnecting)".
    await bob.waitFor(chatFrom('alice', 'said while away'));
    await until(
      () => inputLine(term) === '[#lobby] alice> half typed',
      10_000,
      () => term.screen().join('\n'),
    );
    term.keys('Enter');
    await bob.waitFor(chatFrom('alice', 'half typed'));
    expect(bob.received.filter((m) => m.type === 'CHAT' && m.text === 'said while away')).toHaveLength(1);
  }, 60_000);

  it('a blocked main thread (/sleep) does not stop incoming lines, and the half-typed line comes back after it', async () => {
    const s = await server();
    const bob = await peer(s.port, 'bob');
    const { term } = await terminal(s.port);
    term.type('/sleep 3s');
    term.keys('Enter');
    await term.waitForText('main thread blocked for 3.0s');
    bob.send({ type: 'CHAT', text: 'while you sleep', action: false });
    const rows = await term.waitForText('<bob> while you sleep');
    expect(rows.join('\n')).not.toContain('main thread awake again');
    await term.waitForText('main thread awake again', 10_000);
    term.type('awake');
    term.keys('Enter');
    await bob.waitFor(chatFrom('alice', 'awake'));
  });

  it('a paste of many lines asks first; yes sends each line as a message, in order', async () => {
    const s = await server();
    const bob = await peer(s.port, 'bob');
    const { term } = await terminal(s.port);
    const lines = ['第一行', 'second line', 'third', 'fourth 👋', 'fifth'];
    // As a terminal delivers a paste once the program asked for bracketed paste.
    term.raw(`\x1b[200~${lines.join('\r')}\x1b[201~`);
    await term.waitForText('send 5 pasted lines as 5 messages? [y/N]');
    term.type('y');
    term.keys('Enter');
    for (const l of lines) await bob.waitFor(chatFrom('alice', l));
    const order = bob.received
      .filter((m) => m.type === 'CHAT' && m.from === 'alice')
      .map((m) => (m as { text: string }).text);
    expect(order).toEqual(lines);
    term.raw('\x1b[200~a\rb\rc\rd\x1b[201~');
    await term.waitForText('send 4 pasted lines');
    term.type('n');
    term.keys('Enter');
    await term.waitForText('* paste of 4 lines not sent');
  });

  it('the operator console uses the same line editor: completion, the half-typed line kept under events, /shutdown restores the terminal', async () => {
    const dir = tempDir('console');
    const status = join(dir, 'status');
    const term = Tmux.start(
      [
        process.execPath,
        SERVER_JS,
        '--no-tls',
        '--port',
        '0',
        '--workers',
        '1',
        '--no-web',
        '--log-file',
        join(dir, 'server.log'),
        '--data',
        join(dir, 'data'),
      ],
      {
        statusFile: status,
        env: { XDG_STATE_HOME: dir },
      },
    );
    terms.push(term);
    const rows = await term.waitFor(
      (r) => r.some((l) => l.startsWith('listening on tcp')) && r.some((l) => l.startsWith('console>')),
      'the console prompt',
    );
    const port = Number(/listening on tcp [^:]+:(\d+)/.exec(rows.join('\n'))![1]);
    term.type('/li');
    term.keys('Tab');
    await until(
      () => term.screen().includes('console> /list'),
      5000,
      () => term.screen().join('\n'),
    );
    term.keys('Enter');
    await term.waitForText('no sessions');
    term.type('half a broadcast 你好');
    await peer(port, 'dave');
    await term.waitForText('* dave joined');
    expect(
      term
        .screen()
        .filter((r) => r.startsWith('console>'))
        .at(-1),
    ).toBe('console> half a broadcast 你好');
    term.keys('C-u');
    term.type('/shutd');
    term.keys('Tab', 'Enter');
    await until(
      () => existsSync(status),
      15_000,
      () => term.screen().join('\n'),
    );
    expect(readFileSync(status, 'utf8').trim()).toBe('0');
    expect(readFileSync(`${status}.stty`, 'utf8')).toMatch(/(^|\s)icanon(\s|$)/);
  });
});
