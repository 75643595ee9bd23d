/**
 * Issue 33 item 1, the server side: a session whose connection was lost
 * (away) holds its nick and rooms, but not against its owner. HELLO for a
 * registered nick with its password takes over the session holding it, away
 * or still connected (its rooms, what came meanwhile; the old connection, if
 * any, gets BYE replaced; version 1 ends it and begins anew); /identify ends
 * that session and takes the nick; a wrong password changes nothing. An unregistered nick's away session is
 * taken by its resume token only, and a stranger is told it is away and for
 * how long. The online count in WELCOME, WHO, NAMES and the dashboard count
 * the same sessions (away ones included, and marked). And the terminal
 * client killed with SIGKILL gets its nick back with --password, not alice_.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../common/protocol.js';
import { WsClient } from '../helpers/raw-client.js';
import { NO_FLOOD_LIMIT, startServer, stopAll, tempDir, type LineProcess } from '../helpers/processes.js';
import { rawSession, rawSessionServers, type RawSession } from '../helpers/raw-session.js';
import { Tmux } from '../helpers/tmux.js';

const server = rawSessionServers(afterEach);
let procs: LineProcess[] = [];
let terms: Tmux[] = [];
let feeds: WsClient[] = [];
afterEach(async () => {
  for (const t of terms) t.kill();
  for (const f of feeds) f.destroy();
  await stopAll(...procs);
  procs = [];
  terms = [];
  feeds = [];
});

const PLAIN = ['--allow-plain-passwords'];
const PASSWORD = 'correct horse battery';

type Notice = Extract<ServerMessage, { type: 'NOTICE' }>;
const about = (r: RawSession, nick: string): Notice[] => r.of('NOTICE').filter((n) => n.nick === nick);

/** alice, registered, in #lobby and #dev; bob in both; alice's connection then lost (no BYE): away. */
async function aliceAway(port: number): Promise<{ bob: RawSession; token: string }> {
  const alice = await rawSession(port, 'alice', { version: 2 });
  alice.send({ type: 'ACCOUNT', op: 'register', password: PASSWORD });
  await alice.next('ACCOUNT_REPLY', (r) => r.op === 'registered');
  const bob = await rawSession(port, 'bob', { version: 2, from: '127.0.0.2' });
  for (const r of [bob, alice]) {
    r.send({ type: 'JOIN', room: '#dev' });
    await r.next('JOINED', (j) => j.room === '#dev');
  }
  await bob.next('NOTICE', (n) => n.event === 'joined' && n.nick === 'alice' && n.room === '#dev');
  alice.s.destroy();
  await bob.next('NOTICE', (n) => n.event === 'away' && n.nick === 'alice');
  return { bob, token: alice.of('WELCOME')[0]!.resume! };
}

/** A WHO answered: the reply to this one, not an earlier one. */
async function who(r: RawSession): Promise<Extract<ServerMessage, { type: 'WHO_REPLY' }>> {
  const asked = r.of('WHO_REPLY').length;
  r.send({ type: 'WHO' });
  await r.next('WHO_REPLY', () => r.of('WHO_REPLY').length > asked);
  return r.of('WHO_REPLY')[asked]!;
}

/** bob's WHO: alice is listed, away. */
async function whoSaysAway(bob: RawSession): Promise<void> {
  const reply = await who(bob);
  expect(reply.users.find((u) => u.nick === 'alice')).toMatchObject({ nick: 'alice', away: true, rttMs: null });
}

describe("a registered nick's owner takes over the session that holds it", () => {
  it('away: a wrong password changes nothing; the right one takes it over with its rooms, what was said and the direct messages', async () => {
    const s = await server(PLAIN);
    const carol = await rawSession(s.port, 'carol', { version: 1, from: '127.0.0.4' });
    const { bob, token } = await aliceAway(s.port);
    bob.send({ type: 'CHAT', room: '#dev', text: 'said while you were away', action: false });
    await bob.next('CHAT', (c) => c.text === 'said while you were away');
    bob.send({ type: 'DIRECT', to: 'alice', text: 'a word for you' });
    await bob.next('DIRECT', (d) => d.text === 'a word for you');

    const wrong = await rawSession(s.port, 'alice', {
      version: 2,
      from: '127.0.0.3',
      nickPassword: 'not the password',
    });
    expect(wrong.of('ERROR')[0]).toMatchObject({ code: 'NICK_PASSWORD_WRONG', fatal: true });
    await whoSaysAway(bob);
    expect(about(bob, 'alice').map((n) => n.event)).toEqual(['joined', 'away']);

    const back = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.3', nickPassword: PASSWORD });
    const welcome = back.of('WELCOME')[0]!;
    expect(welcome).toMatchObject({ nick: 'alice', account: true });
    expect(welcome.resumed).toBeUndefined();
    // Her rooms, each with its history (what bob said meanwhile in it), then what came for her meanwhile.
    await back.next('JOINED', (j) => j.room === '#lobby');
    await back.next('JOINED', (j) => j.room === '#dev');
    const dev = await back.next('HISTORY', (h) => h.room === '#dev');
    expect(dev.entries.map((e) => e.text)).toContain('said while you were away');
    expect(await back.next('ACCOUNT_REPLY', (r) => r.op === 'offline')).toMatchObject({ nick: 'alice', count: 1 });
    const dm = await back.next('HISTORY', (h) => h.with === 'bob');
    expect(dm.entries.map((e) => e.text)).toEqual(['a word for you']);
    // Her rooms hear she is back; not that she left or joined.
    await bob.next('NOTICE', (n) => n.event === 'back' && n.nick === 'alice');
    bob.send({ type: 'CHAT', room: '#dev', text: 'welcome back', action: false });
    await back.next('CHAT', (c) => c.room === '#dev' && c.text === 'welcome back');
    expect(about(bob, 'alice').map((n) => n.event)).toEqual(['joined', 'away', 'back']);
    // Version 1 heard nothing of it (it never heard she was away): the marker is bob's line in #lobby, after it all.
    bob.send({ type: 'CHAT', text: 'marker', action: false });
    await carol.next('CHAT', (c) => c.text === 'marker');
    expect(about(carol, 'alice').map((n) => n.event)).toEqual(['joined']);
    // The session is hers on this connection: the lost one's token is spent.
    const stale = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.5', resume: token });
    expect(stale.of('ERROR')[0]).toMatchObject({ code: 'RESUME_FAILED', fatal: false });
    expect(back.of('WELCOME')[0]!.resume).toMatch(/^[\w-]{24}$/);
  });

  it('still connected (a dead link not noticed yet): the new login takes it over, the old connection gets BYE replaced', async () => {
    const s = await server(PLAIN);
    const first = await rawSession(s.port, 'alice', { version: 2 });
    first.send({ type: 'ACCOUNT', op: 'register', password: PASSWORD });
    await first.next('ACCOUNT_REPLY', (r) => r.op === 'registered');
    const bob = await rawSession(s.port, 'bob', { version: 2, from: '127.0.0.2' });
    const second = await rawSession(s.port, 'ALICE', { version: 2, from: '127.0.0.3', nickPassword: PASSWORD });
    expect(second.of('WELCOME')[0]).toMatchObject({ nick: 'alice', account: true });
    const bye = await first.next('BYE');
    expect(bye.reason).toMatch(/^replaced: /);
    expect(bye.resumable).toBeUndefined();
    await second.next('JOINED', (j) => j.room === '#lobby');
    bob.send({ type: 'CHAT', text: 'to the new one', action: false });
    await second.next('CHAT', (c) => c.text === 'to the new one');
    // One session all along: nobody heard it leave, go away or join.
    expect(about(bob, 'alice')).toEqual([]);
    expect((await who(bob)).users.map((u) => [u.nick, u.away ?? false])).toEqual([
      ['alice', false],
      ['bob', false],
    ]);
  });

  it('version 1, which cannot carry its rooms: the away session ends (its rooms told why) and a new one begins', async () => {
    const s = await server(PLAIN);
    const { bob } = await aliceAway(s.port);
    const v1 = await rawSession(s.port, 'alice', { version: 1, from: '127.0.0.3', nickPassword: PASSWORD });
    expect(v1.of('WELCOME')[0]).toMatchObject({ nick: 'alice', version: 1, account: true });
    const left = await bob.next('NOTICE', (n) => n.event === 'left' && n.nick === 'alice');
    expect(left.reason).toBe('alice logged in again on another connection');
    await bob.next('NOTICE', (n) => n.event === 'joined' && n.nick === 'alice' && n !== about(bob, 'alice')[0]);
    // Told once (bob shares two rooms with the session that ended), then the new one in #lobby.
    expect(about(bob, 'alice').map((n) => [n.event, n.room])).toEqual([
      ['joined', '#dev'],
      ['away', undefined],
      ['left', undefined],
      ['joined', '#lobby'],
    ]);
    v1.send({ type: 'CHAT', text: 'hello again', action: false });
    await bob.next('CHAT', (c) => c.from === 'alice' && c.text === 'hello again');
  });

  it('/identify: the away session ends (its rooms told why), the nick is the identifier’s; a wrong password changes nothing', async () => {
    const s = await server(PLAIN);
    const { bob } = await aliceAway(s.port);
    const other = await rawSession(s.port, 'alice_', { version: 2, from: '127.0.0.3' });
    other.send({ type: 'ACCOUNT', op: 'identify', nick: 'alice', password: 'not the password' });
    expect(await other.next('ERROR')).toMatchObject({ code: 'NICK_PASSWORD_WRONG', fatal: false });
    await whoSaysAway(bob);
    other.send({ type: 'ACCOUNT', op: 'identify', nick: 'alice', password: PASSWORD });
    expect(await other.next('ACCOUNT_REPLY', (r) => r.op === 'identified')).toMatchObject({ nick: 'alice' });
    const left = await bob.next('NOTICE', (n) => n.event === 'left' && n.nick === 'alice');
    expect(left.reason).toContain('alice identified on another connection');
    await bob.next('NOTICE', (n) => n.event === 'nick' && n.nick === 'alice_' && n.newNick === 'alice');
    // Told once, though bob shares two rooms with the session that ended.
    expect(about(bob, 'alice').map((n) => n.event)).toEqual(['joined', 'away', 'left']);
    const reply = await who(bob);
    expect(reply.total).toBe(2);
    expect(reply.users.map((u) => [u.nick, u.away ?? false])).toEqual([
      ['alice', false],
      ['bob', false],
    ]);
  });
});

describe("an unregistered nick's away session", () => {
  it('is not taken by a stranger, who is told it is away and for how long; its token still resumes it', async () => {
    const s = await server();
    const dave = await rawSession(s.port, 'dave', { version: 2 });
    const token = dave.of('WELCOME')[0]!.resume!;
    const bob = await rawSession(s.port, 'bob', { version: 2, from: '127.0.0.2' });
    dave.s.destroy();
    await bob.next('NOTICE', (n) => n.event === 'away' && n.nick === 'dave');
    const stranger = await rawSession(s.port, 'Dave', {
      version: 2,
      from: '127.0.0.3',
      nickPassword: 'anything at all',
    });
    const refused = stranger.of('ERROR')[0]!;
    expect(refused).toMatchObject({ code: 'NICK_TAKEN', fatal: true });
    expect(refused.message).toMatch(
      /^nick Dave is taken: its session is away \(connection lost [\d.]+m?s ago\), kept for (1m5\d|2m00)s more for its holder to resume$/,
    );
    bob.send({ type: 'NICK', nick: 'dave' });
    const renamed = await bob.next('ERROR');
    expect(renamed).toMatchObject({ code: 'NICK_TAKEN', fatal: false });
    expect(renamed.message).toMatch(/^nick dave is taken: its session is away .*, kept for (1m5\d|2m00)s more/);
    const back = await rawSession(s.port, 'x', { version: 2, from: '127.0.0.4', resume: token });
    expect(back.of('WELCOME')[0]).toMatchObject({ nick: 'dave', resumed: true });
  });
});

describe('one count of who is online', () => {
  it('WELCOME, WHO, NAMES and the dashboard count the same sessions, the away one included and marked', async () => {
    const token = 'an-admin-token-for-the-feed';
    const s = await startServer(['--workers', '2', '--admin-token', token, ...NO_FLOOD_LIMIT]);
    procs.push(s);
    const alice = await rawSession(s.port, 'alice', { version: 2 });
    const carol = await rawSession(s.port, 'carol', { version: 2, from: '127.0.0.2' });
    await rawSession(s.port, 'dave', { version: 1, from: '127.0.0.3' });
    carol.s.destroy();
    await alice.next('NOTICE', (n) => n.event === 'away' && n.nick === 'carol');
    const erin = await rawSession(s.port, 'erin', { version: 2, from: '127.0.0.4' });
    expect(erin.of('WELCOME')[0]!.users).toBe(4);
    const reply = await who(erin);
    expect(reply.total).toBe(4);
    expect(reply.users.map((u) => [u.nick, u.away ?? false])).toEqual([
      ['alice', false],
      ['carol', true],
      ['dave', false],
      ['erin', false],
    ]);
    await erin.next('JOINED');
    erin.send({ type: 'NAMES', room: '#lobby' });
    expect(await erin.next('NAMES_REPLY')).toMatchObject({ nicks: ['alice', 'carol', 'dave', 'erin'], total: 4 });
    const feed = await WsClient.connect(s.httpPort!, {
      path: '/admin/ws',
      headers: { Authorization: `Bearer ${token}` },
    });
    feeds.push(feed);
    const snapshot = await new Promise<{ sessions: Array<{ nick: string; away?: boolean }>; sessionsTotal?: number }>(
      (resolve) => feed.ws.once('message', (d: Buffer) => resolve(JSON.parse(d.toString()))),
    );
    expect(snapshot.sessions.map((r) => [r.nick, r.away ?? false])).toEqual([
      ['alice', false],
      ['carol', true],
      ['dave', false],
      ['erin', false],
    ]);
    expect(snapshot.sessionsTotal).toBe(4);
  });
});

describe('the terminal client', () => {
  it('killed with SIGKILL and started again with --password, it gets its registered nick back, not alice_', async () => {
    const s = await server(PLAIN);
    const first = await rawSession(s.port, 'alice', { version: 2 });
    first.send({ type: 'ACCOUNT', op: 'register', password: PASSWORD });
    await first.next('ACCOUNT_REPLY', (r) => r.op === 'registered');
    first.send({ type: 'BYE', reason: 'bye' });
    await first.next('BYE');
    const bob = await rawSession(s.port, 'bob', { version: 2, from: '127.0.0.2' });
    const args = ['--nick', 'alice', '--password', PASSWORD, ...PLAIN];
    const prompt = (rows: string[]) => rows.some((r) => r === '[#lobby] alice>' || r.startsWith('[#lobby] alice> '));
    const open = () => {
      const dir = tempDir('term');
      const term = Tmux.client(s.port, args, {
        width: 100,
        statusFile: join(dir, 'status'),
        env: { XDG_STATE_HOME: dir, NO_COLOR: '1' },
      });
      terms.push(term);
      return term;
    };
    const term = open();
    await term.waitFor(prompt, 'the prompt as alice');
    await bob.next('NOTICE', (n) => n.event === 'joined' && n.nick === 'alice');
    process.kill(term.programPid()!, 'SIGKILL');
    await bob.next('NOTICE', (n) => n.event === 'away' && n.nick === 'alice');
    const again = open();
    await again.waitFor(prompt, 'the prompt as alice again');
    expect(again.screen().join('\n')).not.toContain('trying alice_');
    await bob.next('NOTICE', (n) => n.event === 'back' && n.nick === 'alice');
    again.type('back as myself');
    again.keys('Enter');
    await bob.next('CHAT', (c) => c.from === 'alice' && c.text === 'back as myself');
  });
});
