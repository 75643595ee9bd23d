/**
 * Registered nicks over real sockets: /register claims the nick the session
 * holds, after which HELLO for it needs its password (none, or a wrong one,
 * is refused; a look-alike nick is refused too); /nick cannot take it,
 * /identify can; /password changes it; wrong passwords are rate-limited per
 * address and per nick; a password is refused over plain TCP unless the
 * operator allowed it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rawSession, rawSessionServers } from '../helpers/raw-session.js';
import { CLIENT_JS, LineProcess, startServer, stopAll, tempDir } from '../helpers/processes.js';
import { Tmux } from '../helpers/tmux.js';
import { until } from '../helpers/wait.js';

const server = rawSessionServers(afterEach);
let procs: LineProcess[] = [];
let terms: Tmux[] = [];
afterEach(async () => {
  for (const t of terms) t.kill();
  await stopAll(...procs);
  procs = [];
  terms = [];
});
const PLAIN_ALLOWED = ['--allow-plain-passwords'];
const PASSWORD = 'correct horse battery';

describe('registered nicks', () => {
  it('register, then the nick takes its password: none, wrong, right, a look-alike, /nick and /identify, /password', async () => {
    const s = await server(PLAIN_ALLOWED);
    const alice = await rawSession(s.port, 'alice', { version: 2 });
    alice.send({ type: 'ACCOUNT', op: 'register', password: 'short' });
    expect(await alice.next('ERROR')).toMatchObject({ code: 'PASSWORD_INVALID', fatal: false });
    alice.send({ type: 'ACCOUNT', op: 'register', password: PASSWORD });
    expect(await alice.next('ACCOUNT_REPLY')).toEqual({ type: 'ACCOUNT_REPLY', op: 'registered', nick: 'alice' });
    alice.send({ type: 'ACCOUNT', op: 'register', password: PASSWORD });
    expect(await alice.next('ERROR', (e) => e.code !== 'PASSWORD_INVALID')).toMatchObject({
      code: 'ACCOUNT_EXISTS',
      fatal: false,
    });
    alice.send({ type: 'BYE', reason: 'bye' });
    await alice.next('BYE');

    const none = await rawSession(s.port, 'Alice', { version: 2, from: '127.0.0.2' });
    expect(none.of('ERROR')[0]).toMatchObject({ code: 'NICK_REGISTERED', fatal: true });
    expect(none.of('ERROR')[0]!.message).toContain('nick alice is registered');
    const wrong = await rawSession(s.port, 'alice', {
      version: 2,
      from: '127.0.0.2',
      nickPassword: 'not the password',
    });
    expect(wrong.of('ERROR')[0]).toMatchObject({
      code: 'NICK_PASSWORD_WRONG',
      fatal: true,
      message: 'wrong password for alice',
    });
    // A capital I for the l: it would pass for alice.
    const lookalike = await rawSession(s.port, 'aIice', { version: 2, from: '127.0.0.2' });
    expect(lookalike.of('ERROR')[0]).toMatchObject({ code: 'NICK_TAKEN' });
    expect(lookalike.of('ERROR')[0]!.message).toContain('looks like alice, a registered nick');
    const right = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.2', nickPassword: PASSWORD });
    expect(right.of('WELCOME')[0]).toMatchObject({ nick: 'alice', account: true });
    right.send({ type: 'ACCOUNT', op: 'password', password: PASSWORD, newPassword: 'a new passphrase' });
    expect(await right.next('ACCOUNT_REPLY')).toMatchObject({ op: 'password', nick: 'alice' });
    right.send({ type: 'BYE', reason: 'bye' });
    await right.next('BYE');

    // Someone else: /nick cannot take the registered nick; /identify with the (new) password can.
    const bob = await rawSession(s.port, 'bob', { version: 2, from: '127.0.0.3' });
    expect(bob.of('WELCOME')[0]!.account).toBeUndefined();
    bob.send({ type: 'NICK', nick: 'alice' });
    expect(await bob.next('ERROR')).toMatchObject({ code: 'NICK_REGISTERED', fatal: false });
    bob.send({ type: 'ACCOUNT', op: 'identify', nick: 'alice', password: PASSWORD });
    expect(await bob.next('ERROR', (e) => e.code !== 'NICK_REGISTERED')).toMatchObject({
      code: 'NICK_PASSWORD_WRONG',
      fatal: false,
    });
    bob.send({ type: 'ACCOUNT', op: 'identify', nick: 'ALICE', password: 'a new passphrase' });
    expect(await bob.next('ACCOUNT_REPLY')).toEqual({ type: 'ACCOUNT_REPLY', op: 'identified', nick: 'alice' });
    await bob.next('NOTICE', (n) => n.event === 'nick' && n.newNick === 'alice');
    bob.send({ type: 'WHO' });
    expect((await bob.next('WHO_REPLY')).users.map((u) => u.nick)).toEqual(['alice']);

    // The operator ends the registration: the holder is told and keeps the nick; later logins need no password.
    s.send('/unregister nobody');
    await s.waitFor('no registered nick nobody');
    s.send('/unregister ALICE');
    expect(await bob.next('ACCOUNT_REPLY', (r) => r.op === 'unregistered')).toMatchObject({ nick: 'alice' });
    await s.waitFor('* ALICE is not registered any more');
    bob.send({ type: 'BYE', reason: 'bye' });
    await bob.next('BYE');
    const free = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.3' });
    expect(free.of('WELCOME')[0]).toMatchObject({ nick: 'alice' });
    expect(free.of('WELCOME')[0]!.account).toBeUndefined();
  });

  it('wrong passwords are limited per address and per nick; a resume token needs no password', async () => {
    const s = await server(PLAIN_ALLOWED);
    const carol = await rawSession(s.port, 'carol', { version: 2 });
    carol.send({ type: 'ACCOUNT', op: 'register', password: PASSWORD });
    await carol.next('ACCOUNT_REPLY');
    const token = carol.of('WELCOME')[0]!.resume!;
    carol.s.destroy();
    // Five free tries from one address; the sixth locks it (and the nick) for a second.
    for (let i = 1; i <= 6; i++) {
      const guess = await rawSession(s.port, 'carol', {
        version: 2,
        from: '127.0.0.4',
        nickPassword: `guess number ${i}`,
      });
      expect(guess.of('ERROR')[0]).toMatchObject({ code: 'NICK_PASSWORD_WRONG', fatal: true });
      if (i === 6) expect(guess.of('ERROR')[0]!.message).toBe('wrong password for carol; try again in 1.0s');
    }
    const lockedAt = Date.now();
    // Another address, the right password: the nick is locked for everyone until the lock ends.
    const other = await rawSession(s.port, 'carol', { version: 2, from: '127.0.0.5', nickPassword: PASSWORD });
    const error = other.of('ERROR')[0];
    if (Date.now() - lockedAt < 1000) {
      expect(error).toMatchObject({ code: 'LOGIN_LOCKED', fatal: true });
      expect(error!.message).toMatch(
        /^too many wrong passwords for carol from addresses it has not logged in from: try again in /,
      );
    } else expect(error?.code ?? 'WELCOME').not.toBe('NICK_PASSWORD_WRONG');
    // The session itself was only lost: its token brings it back without a password.
    const back = await rawSession(s.port, 'carol', { version: 2, from: '127.0.0.6', resume: token });
    expect(back.of('WELCOME')[0]).toMatchObject({ resumed: true, nick: 'carol' });
  });

  it('a registered nick keeps its look-alikes in every case form: a dotted İ, a capital I for l', async () => {
    const s = await server(PLAIN_ALLOWED);
    const alice = await rawSession(s.port, 'Alice', { version: 2 });
    alice.send({ type: 'ACCOUNT', op: 'register', password: PASSWORD });
    await alice.next('ACCOUNT_REPLY');
    alice.s.destroy();
    for (const twin of ['alİce', 'ALİCE', 'Aiice', 'AIice', 'a1ice']) {
      const t = await rawSession(s.port, twin, { version: 2, from: '127.0.0.2' });
      expect(t.of('ERROR')[0], twin).toMatchObject({ code: 'NICK_TAKEN', fatal: true });
      expect(t.of('ERROR')[0]!.message, twin).toMatch(/looks like Alice, a registered nick/);
    }
  });

  it('guesses from many addresses lock the nick for new addresses, never its owner where it logged in before', async () => {
    const s = await server(PLAIN_ALLOWED);
    // Each session says BYE and is gone: a lost one would be kept away, holding the nick against the next login.
    const leave = async (session: Awaited<ReturnType<typeof rawSession>>) => {
      session.send({ type: 'BYE', reason: 'done' });
      await session.next('BYE');
      session.s.destroy();
    };
    const alice = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.2' });
    alice.send({ type: 'ACCOUNT', op: 'register', password: PASSWORD });
    await alice.next('ACCOUNT_REPLY');
    await leave(alice);
    const guess = async (from: string) => {
      const g = await rawSession(s.port, 'alice', { version: 2, from, nickPassword: 'a wrong guess' });
      g.s.destroy();
      return g.of('ERROR')[0]?.code;
    };
    const owner = async () => {
      const a = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.2', nickPassword: PASSWORD });
      const welcome = a.of('WELCOME')[0];
      if (welcome) await leave(a);
      return welcome?.account === true ? 'in' : a.of('ERROR')[0]?.code;
    };
    // Twelve addresses, one guess each: none is locked itself, the nick is (1 s doubling: a minute by the twelfth).
    const codes: Array<string | undefined> = [];
    for (let i = 1; i <= 12; i++) codes.push(await guess(`127.0.1.${i}`));
    expect(codes.slice(0, 5)).toEqual(Array(5).fill('NICK_PASSWORD_WRONG'));
    expect(codes.slice(5).every((c) => c === 'NICK_PASSWORD_WRONG' || c === 'LOGIN_LOCKED')).toBe(true);
    // The lock is real: the right password from an address alice never used is refused.
    const stranger = await rawSession(s.port, 'alice', { version: 2, from: '127.0.2.1', nickPassword: PASSWORD });
    expect(stranger.of('ERROR')[0]).toMatchObject({ code: 'LOGIN_LOCKED', fatal: true });
    // Alice, where she registered, gets in every time, guesses going on between her logins.
    const logins: Array<string | undefined> = [];
    for (let i = 1; i <= 6; i++) {
      logins.push(await owner());
      await guess(`127.0.3.${i}`);
    }
    expect(logins).toEqual(Array(6).fill('in'));
  });

  it('the terminal client registers over TLS, logs in with --password or CHAT_PASSWORD, says what is missing without it', async () => {
    const s = await startServer(['--workers', '2', '--no-web', '--tls', 'auto']);
    procs.push(s);
    const kh = join(tempDir('state'), 'known_hosts');
    const run = (lines: string[], args: string[] = [], env: NodeJS.ProcessEnv = {}) => {
      const c = new LineProcess(
        'client',
        [CLIENT_JS, '--host', '127.0.0.1', '--port', String(s.port), '--nick', 'erin', '--known-hosts', kh, ...args],
        { env },
      );
      procs.push(c);
      for (const l of lines) c.send(l);
      return c;
    };
    // One argument rule for every command: a password with spaces goes in quotes (issue 33).
    const first = run([`/register "${PASSWORD}"`]);
    await first.waitFor('* erin is registered: from now on it takes its password');
    first.send('/quit');
    first.endInput();
    expect(await first.exit()).toBe(0);
    const without = run(['/quit']);
    without.endInput();
    expect(await without.exit()).toBe(4);
    expect(without.errLines.join('\n')).toContain(
      'nick erin is registered: give its password (chat-client --password, CHAT_PASSWORD, or type it when asked); or choose another nick with --nick',
    );
    const withFlag = run(['/quit'], ['--password', PASSWORD]);
    withFlag.endInput();
    expect(await withFlag.exit()).toBe(0);
    const fromEnv = run(['/quit'], [], { CHAT_PASSWORD: PASSWORD });
    fromEnv.endInput();
    expect(await fromEnv.exit()).toBe(0);
    expect(fromEnv.lines.some((l) => l.startsWith('* connected to '))).toBe(true);
    // Over --no-tls the client will not send one at all.
    const plain = new LineProcess('plain', [
      CLIENT_JS,
      '--port',
      String(s.port),
      '--nick',
      'erin',
      '--no-tls',
      '--password',
      PASSWORD,
    ]);
    procs.push(plain);
    expect(await plain.exit()).toBe(2);
    expect(plain.errLines[0]).toContain('a password over plain TCP can be read by anyone on the network');
  });

  it('direct messages to a registered nick that is offline, or away until it timed out, come at its next login, once; a resume gets them instead', async () => {
    const s = await server([...PLAIN_ALLOWED, '--resume-window', '2s']);
    const gina = await rawSession(s.port, 'gina', { version: 2 });
    gina.send({ type: 'ACCOUNT', op: 'register', password: PASSWORD });
    await gina.next('ACCOUNT_REPLY');
    gina.send({ type: 'BYE', reason: 'bye' });
    await gina.next('BYE');
    const bob = await rawSession(s.port, 'bob', { version: 2, from: '127.0.0.2' });
    bob.send(
      { type: 'DIRECT', to: 'GINA', text: 'are you there?' },
      { type: 'DIRECT', to: 'gina', text: 'call me 电话' },
      { type: 'DIRECT', to: 'nobody', text: 'hello?' },
    );
    // The sender's copies say it is stored, and for whom; a nick nobody has registered is no user.
    expect(await bob.next('ERROR')).toMatchObject({
      code: 'NO_SUCH_NICK',
      fatal: false,
      message: 'no user named nobody',
    });
    expect(bob.of('DIRECT').map((d) => [d.to, d.text])).toEqual([
      ['gina', 'are you there?'],
      ['gina', 'call me 电话'],
    ]);

    const back = await rawSession(s.port, 'gina', { version: 2, nickPassword: PASSWORD });
    expect(await back.next('ACCOUNT_REPLY')).toEqual({ type: 'ACCOUNT_REPLY', op: 'offline', nick: 'gina', count: 2 });
    const missed = await back.next('HISTORY', (h) => h.with !== undefined);
    expect(missed).toMatchObject({ with: 'bob', done: true, more: false });
    expect(missed.entries.map((e) => [e.from, e.to, e.text])).toEqual([
      ['bob', 'gina', 'are you there?'],
      ['bob', 'gina', 'call me 电话'],
    ]);
    // Online now: a direct message goes straight to her; and it answers.
    bob.send({ type: 'DIRECT', to: 'gina', text: 'live one' });
    await back.next('DIRECT', (d) => d.text === 'live one');
    const token = back.of('WELCOME')[0]!.resume!;

    // Away, then back with her token: the replay has it, and the next login does not give it again.
    back.s.destroy();
    await bob.next('NOTICE', (n) => n.event === 'away' && n.nick === 'gina');
    bob.send({ type: 'DIRECT', to: 'gina', text: 'while you were away' });
    await bob.next('DIRECT', (d) => d.text === 'while you were away');
    const resumed = await rawSession(s.port, 'gina', { version: 2, resume: token, last: [] });
    await resumed.next('RESUMED');
    expect(resumed.of('HISTORY').flatMap((h) => h.entries.map((e) => e.text))).toContain('while you were away');
    resumed.send({ type: 'BYE', reason: 'bye' });
    await resumed.next('BYE');
    const again = await rawSession(s.port, 'gina', { version: 2, nickPassword: PASSWORD });
    again.send({ type: 'WHO' });
    await again.next('WHO_REPLY');
    expect(again.of('ACCOUNT_REPLY')).toEqual([]);

    // Away until her window ends: what came meanwhile waits for the next login.
    again.s.destroy();
    await until(
      () => bob.of('NOTICE').filter((n) => n.event === 'away' && n.nick === 'gina').length === 2,
      10_000,
      () => 'the second away notice',
    );
    bob.send({ type: 'DIRECT', to: 'gina', text: 'you timed out' });
    await bob.next('DIRECT', (d) => d.text === 'you timed out');
    await bob.next('NOTICE', (n) => n.event === 'timed_out' && n.nick === 'gina', 10_000);
    const later = await rawSession(s.port, 'gina', { version: 2, nickPassword: PASSWORD });
    expect(await later.next('ACCOUNT_REPLY')).toMatchObject({ op: 'offline', count: 1 });
    expect((await later.next('HISTORY', (h) => h.with === 'bob')).entries.map((e) => e.text)).toEqual([
      'you timed out',
    ]);
  });

  it('a registered nick away across a server restart is still its account: what comes for it meanwhile waits in its inbox', async () => {
    const data = tempDir('restart-data');
    const args = ['--workers', '1', '--no-web', '--no-tls', ...PLAIN_ALLOWED, '--resume-window', '6s', '--data', data];
    const first = await startServer(args);
    procs.push(first);
    const hana = await rawSession(first.port, 'hana', { version: 2 });
    hana.send({ type: 'ACCOUNT', op: 'register', password: PASSWORD });
    await hana.next('ACCOUNT_REPLY');
    // Lost, not quit: away, and the server stops with her session kept.
    hana.s.destroy();
    await first.waitFor('* hana lost connection');
    first.proc.kill('SIGTERM');
    expect(await first.exit()).toBe(0);
    const second = await startServer(args);
    procs.push(second);
    // Brought back away (her nick held): a direct message to her is kept for her, and she is not back in time.
    const bob = await rawSession(second.port, 'bob', { version: 2, from: '127.0.0.2' });
    bob.send({ type: 'DIRECT', to: 'hana', text: 'after the restart' });
    await bob.next('DIRECT', (d) => d.text === 'after the restart');
    await second.waitFor('* hana timed out', 15_000);
    const back = await rawSession(second.port, 'hana', { version: 2, nickPassword: PASSWORD });
    expect(await back.next('ACCOUNT_REPLY')).toMatchObject({ op: 'offline', count: 1 });
    expect((await back.next('HISTORY', (h) => h.with === 'bob')).entries.map((e) => e.text)).toEqual([
      'after the restart',
    ]);
  }, 60_000);

  it('on a terminal: /register asks twice, hidden; a registered nick asks for its password, again when wrong; none of it shown or kept', async () => {
    const s = await startServer(['--workers', '1', '--no-web', '--tls', 'auto']);
    procs.push(s);
    const state = tempDir('state');
    const terminal = () => {
      const status = join(state, `status-${terms.length}`);
      const t = Tmux.client(
        s.port,
        ['--host', '127.0.0.1', '--nick', 'frank', '--known-hosts', join(state, 'known_hosts')],
        { width: 120, statusFile: status, env: { XDG_STATE_HOME: state, NO_COLOR: '1' } },
      );
      terms.push(t);
      return { t, status };
    };
    const prompt = (rows: string[]) => rows.some((r) => r === '[#lobby] frank>' || r.startsWith('[#lobby] frank> '));
    const last = (rows: string[]) => rows.filter((r) => r !== '').at(-1);
    const noPassword = (rows: string[]) => expect(rows.join('\n')).not.toMatch(/hunter|correct horse/);

    const first = terminal();
    await first.t.waitFor(prompt, 'the prompt');
    first.t.type('/register');
    first.t.keys('Enter');
    await first.t.waitFor((rows) => last(rows) === 'password for your nick:', 'the first question');
    first.t.type('hunter2 hunter2');
    first.t.keys('Enter');
    await first.t.waitFor((rows) => last(rows) === 'the same again:', 'the second question');
    first.t.type('hunter2 hunter3');
    first.t.keys('Enter');
    await first.t.waitForText('! the two passwords differ; not registered');
    first.t.type('/register');
    first.t.keys('Enter');
    await first.t.waitFor((rows) => last(rows) === 'password for your nick:', 'the first question, again');
    first.t.type(PASSWORD);
    first.t.keys('Enter');
    await first.t.waitFor((rows) => last(rows) === 'the same again:', 'the second question, again');
    first.t.type(PASSWORD);
    first.t.keys('Enter');
    await first.t.waitForText('* frank is registered');
    noPassword(first.t.screen());
    first.t.type('/quit');
    first.t.keys('Enter');
    await first.t.waitForText('[exited 0]');

    // Without --password: asked for, hidden; a wrong one is said and asked again; the right one logs in.
    const second = terminal();
    await second.t.waitFor((rows) => last(rows) === 'password for frank:', 'the password question');
    second.t.type('hunter2');
    second.t.keys('Enter');
    await second.t.waitForText('! wrong password for frank');
    await second.t.waitFor((rows) => last(rows) === 'password for frank:', 'asked again');
    second.t.type(PASSWORD);
    second.t.keys('Enter');
    await second.t.waitFor(prompt, 'logged in');
    noPassword(second.t.screen());
    second.t.type('/quit');
    second.t.keys('Enter');
    await second.t.waitForText('[exited 0]');

    // Three wrong ones and the client gives up, as ssh does (exit 4, REJECTED).
    const third = terminal();
    for (let i = 0; i < 3; i++) {
      await third.t.waitFor((rows) => last(rows) === 'password for frank:', `question ${i + 1}`);
      third.t.type(`hunter${i}`);
      third.t.keys('Enter');
      if (i < 2)
        await third.t.waitFor(
          (rows) => rows.filter((r) => r.startsWith('! wrong password for frank')).length === i + 1,
          `wrong ${i + 1}`,
        );
    }
    await third.t.waitForText('[exited 4]');
    expect(third.t.screen().join('\n')).toContain('wrong password for frank');
    noPassword(third.t.screen());
    const history = join(state, 'heartbeat-chat', 'history');
    if (existsSync(history)) expect(readFileSync(history, 'utf8')).not.toMatch(/hunter|correct horse|register/);
  });

  it('refuses passwords over plain TCP unless the operator allowed them', async () => {
    const s = await server();
    const dave = await rawSession(s.port, 'dave', { version: 2 });
    dave.send({ type: 'ACCOUNT', op: 'register', password: PASSWORD });
    const refused = await dave.next('ERROR');
    expect(refused).toMatchObject({ code: 'PLAIN_PASSWORD', fatal: false });
    expect(refused.message).toContain('connect with TLS');
  });
});
