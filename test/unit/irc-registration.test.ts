import { describe, expect, it } from 'vitest';
import { offeredCapabilities } from '../../server/irc/caps.js';
import { parseLine, serialize } from '../../server/irc/message.js';
import { MAX_HELD_LINES, Registration } from '../../server/irc/registration.js';
import type { Step } from '../../server/irc/registration-effects.js';
import { CHUNK_BYTES, SaslExchange, plainCredentials } from '../../server/irc/sasl.js';

const server = { name: 'irc.chat', network: 'Heartbeat', version: 'hb-0.1.0', createdAt: 'today' };
const limits = { network: 'Heartbeat', roomsPerUser: 20, historyMax: 200, topicLen: 300, awayLen: 200 };
const counts = { users: 2, servers: 1, rooms: 1, unknown: 0, local: 2, localMax: 2, globalMax: 2 };

function fresh(): Registration {
  return new Registration({
    server,
    host: 'irc.chat',
    nickMode: 'utf8',
    limits,
    offered: offeredCapabilities({ accounts: true, history: true }),
    startedAt: 0,
  });
}

/** Lines in; every reply out as text, with the effects and commands of all the steps. */
function send(r: Registration, ...lines: string[]) {
  const all: Step = { replies: [], effects: [], commands: [] };
  for (const l of lines) {
    const s = r.line(parseLine(l));
    all.replies.push(...s.replies);
    all.effects.push(...s.effects);
    all.commands.push(...s.commands);
  }
  return { replies: all.replies.map(serialize), effects: all.effects, commands: all.commands };
}
const text = (s: Step) => s.replies.map(serialize);
const plain = (authz: string, authc: string, pass: string) =>
  Buffer.from(`${authz}\0${authc}\0${pass}`).toString('base64');

describe('registration without CAP', () => {
  it('NICK and USER make the chat HELLO; its welcome is 001-005, LUSERS, MOTD; then lines are commands', () => {
    const r = fresh();
    const out = send(r, 'NICK 小明', 'USER xm 0 * :Xiao Ming');
    expect(out.replies).toEqual([]);
    expect(out.effects).toEqual([
      {
        kind: 'hello',
        hello: { type: 'HELLO', version: 2, nick: '小明', client: 'irc' },
        user: { ident: 'xm', realname: 'Xiao Ming' },
        account: false,
      },
    ]);
    const w = text(r.helloAnswered({ ok: true, welcome: { nick: '小明', motd: null, counts } }));
    expect(w[0]).toBe(':irc.chat 001 小明 :Welcome to the Heartbeat Network, 小明!~xm@irc.chat');
    expect(w.map((l) => l.split(' ')[1])).toEqual([
      '001',
      '002',
      '003',
      '004',
      '005',
      '005',
      '251',
      '252',
      '253',
      '254',
      '255',
      '265',
      '266',
      '422',
    ]);
    expect(r.phase).toBe('registered');
    expect(send(r, 'JOIN #lobby').commands).toEqual([{ command: 'JOIN', params: ['#lobby'] }]);
  });

  it('PASS is the server password of the HELLO', () => {
    const r = fresh();
    const { effects } = send(r, 'PASS :s3cret pass', 'NICK bob', 'USER bob 0 * :Bob');
    expect(effects[0]).toMatchObject({ kind: 'hello', hello: { nick: 'bob', password: 's3cret pass' } });
  });

  it('a nick the chat refuses at the HELLO is 433 with its reason, and another NICK tries again', () => {
    const r = fresh();
    send(r, 'NICK alice', 'USER a 0 * :A');
    const refused = r.helloAnswered({ ok: false, code: 'NICK_TAKEN', message: 'nick alice is taken' });
    expect(text(refused)).toEqual([':irc.chat 433 alice alice :nick alice is taken']);
    expect(refused.effects).toEqual([]);
    expect(send(r, 'NICK alice_').effects[0]).toMatchObject({ kind: 'hello', hello: { nick: 'alice_' } });
  });

  it('a refusal of the connection is its numeric, then ERROR and close', () => {
    const r = fresh();
    send(r, 'PASS wrong', 'NICK bob', 'USER bob 0 * :Bob');
    const s = r.helloAnswered({ ok: false, code: 'PASSWORD_WRONG', message: 'wrong server password' });
    expect(text(s)).toEqual([':irc.chat 464 bob :wrong server password', 'ERROR :Closing link: wrong server password']);
    expect(s.effects).toEqual([{ kind: 'close' }]);
    expect(r.phase).toBe('closed');
    expect(send(r, 'NICK x').replies).toEqual([]);
    // A refusal that has no numeric (a full server, an address over its limit) is the ERROR alone, once.
    const full = fresh();
    send(full, 'NICK carol', 'USER c 0 * :C');
    const last = full.helloAnswered({ ok: false, code: 'ADDRESS_LIMIT', message: '127.0.0.1 already has 2 sessions' });
    expect(text(last)).toEqual(['ERROR :Closing link: 127.0.0.1 already has 2 sessions']);
    expect(last.effects).toEqual([{ kind: 'close' }]);
  });

  it('answers what comes before registration: 431, 432 with the rule, 461, 451, PING, QUIT', () => {
    const r = fresh();
    expect(send(r, 'NICK').replies).toEqual([':irc.chat 431 * :No nickname given']);
    expect(send(r, 'NICK a\\b').replies[0]).toMatch(/^:irc\.chat 432 \* a\\b :U\+005C/);
    expect(send(r, 'USER a').replies).toEqual([':irc.chat 461 * USER :Not enough parameters']);
    expect(send(r, 'JOIN #lobby').replies).toEqual([':irc.chat 451 * :You have not registered']);
    expect(send(r, 'PING :abc 123').replies).toEqual([':irc.chat PONG irc.chat :abc 123']);
    const quit = send(r, 'QUIT :bye');
    expect(quit.replies).toEqual(['ERROR :Closing link: quit']);
    expect(quit.effects).toEqual([{ kind: 'close' }]);
  });

  it('times out a client that does not register, not while the chat is answering', () => {
    const r = fresh();
    expect(r.tick(9_999).effects).toEqual([]);
    send(r, 'NICK bob', 'USER bob 0 * :Bob');
    expect(r.tick(60_000).effects).toEqual([]);
    r.helloAnswered({ ok: false, code: 'NICK_TAKEN', message: 'taken' });
    const late = r.tick(60_000);
    expect(text(late)).toEqual(['ERROR :Closing link: registration timed out']);
    expect(late.effects).toEqual([{ kind: 'close' }]);
  });

  it('after registration: 462 for PASS and USER, CAP still answers', () => {
    const r = fresh();
    send(r, 'NICK bob', 'USER bob 0 * :Bob');
    r.helloAnswered({ ok: true, welcome: { nick: 'bob', motd: ['hi'], counts } });
    expect(send(r, 'USER x 0 * :x', 'PASS y').replies).toEqual([
      ':irc.chat 462 bob :You may not reregister',
      ':irc.chat 462 bob :You may not reregister',
    ]);
    expect(send(r, 'CAP LIST').replies).toEqual([':irc.chat CAP bob LIST :']);
    expect(send(r, 'AUTHENTICATE PLAIN').replies).toEqual([
      ':irc.chat 904 bob :SASL is for registration: use /msg NickServ IDENTIFY',
    ]);
  });
});

describe('registration with CAP and SASL', () => {
  it('CAP LS holds registration until CAP END', () => {
    const r = fresh();
    const out = send(r, 'CAP LS 302', 'NICK bob', 'USER bob 0 * :Bob', 'CAP REQ :server-time echo-message');
    expect(out.effects).toEqual([]);
    expect(out.replies.at(-1)).toBe(':irc.chat CAP bob ACK :server-time echo-message');
    expect(send(r, 'CAP END').effects[0]).toMatchObject({ kind: 'hello', hello: { nick: 'bob' } });
  });

  it('SASL PLAIN: the password checked by the chat, 900 and 903, then the HELLO for the account with its password', () => {
    const r = fresh();
    send(r, 'CAP LS 302', 'NICK guest', 'USER xm 0 * :XM', 'CAP REQ sasl');
    expect(send(r, 'AUTHENTICATE PLAIN').replies).toEqual(['AUTHENTICATE +']);
    const creds = send(r, `AUTHENTICATE ${plain('', '小明', 'correct horse')}`, 'CAP END', 'PING x');
    expect(creds.effects).toEqual([{ kind: 'check-account', nick: '小明', password: 'correct horse' }]);
    expect(creds.replies).toEqual([]);
    const ok = r.accountChecked({ ok: true });
    expect(text(ok)).toEqual([
      ':irc.chat 900 guest 小明!~xm@irc.chat 小明 :You are now logged in as 小明',
      ':irc.chat 903 guest :SASL authentication successful',
    ]);
    // CAP END, held while the password was checked, ends negotiation: the HELLO goes; PING waits for its answer.
    expect(ok.effects).toEqual([
      {
        kind: 'hello',
        hello: { type: 'HELLO', version: 2, nick: '小明', client: 'irc', nickPassword: 'correct horse' },
        user: { ident: 'xm', realname: 'XM' },
        account: true,
      },
    ]);
    const welcome = r.helloAnswered({ ok: true, welcome: { nick: '小明', motd: null, counts } });
    expect(text(welcome)[0]).toBe(':irc.chat 001 小明 :Welcome to the Heartbeat Network, 小明!~xm@irc.chat');
    // Once registered, PING is the session's (its heartbeats are the worker's).
    expect(welcome.commands).toEqual([{ command: 'PING', params: ['x'] }]);
  });

  it('CAP END in the middle of a SASL exchange aborts it (906) and registration goes on', () => {
    const r = fresh();
    send(r, 'CAP LS 302', 'CAP REQ sasl', 'NICK bob', 'USER bob 0 * :Bob', 'AUTHENTICATE PLAIN');
    const end = send(r, 'CAP END');
    expect(end.replies).toEqual([':irc.chat 906 bob :SASL authentication aborted']);
    expect(end.effects[0]).toMatchObject({ kind: 'hello', hello: { nick: 'bob' }, account: false });
  });

  it('a wrong password is 904 with the chat reason, and the client may try again', () => {
    const r = fresh();
    send(r, 'CAP REQ sasl', 'AUTHENTICATE PLAIN', `AUTHENTICATE ${plain('alice', 'alice', 'nope')}`);
    const s = r.accountChecked({ ok: false, code: 'NICK_PASSWORD_WRONG', message: 'wrong password for alice' });
    expect(text(s)).toEqual([':irc.chat 904 * :wrong password for alice']);
    expect(send(r, 'AUTHENTICATE PLAIN').replies).toEqual(['AUTHENTICATE +']);
  });

  it('SASL refusals: no cap 904, unknown mechanism 908 and 904, abort 906, chunk over 400 bytes 905, bad data 904, again 907', () => {
    const r = fresh();
    expect(send(r, 'AUTHENTICATE PLAIN').replies).toEqual([':irc.chat 904 * :request the sasl capability first']);
    send(r, 'CAP REQ sasl');
    expect(send(r, 'AUTHENTICATE EXTERNAL').replies).toEqual([
      ':irc.chat 908 * PLAIN :are available SASL mechanisms',
      ':irc.chat 904 * :SASL authentication failed',
    ]);
    expect(send(r, 'AUTHENTICATE PLAIN', 'AUTHENTICATE *').replies).toEqual([
      'AUTHENTICATE +',
      ':irc.chat 906 * :SASL authentication aborted',
    ]);
    expect(send(r, 'AUTHENTICATE PLAIN', `AUTHENTICATE ${'A'.repeat(401)}`).replies[1]).toBe(
      ':irc.chat 905 * :SASL message too long',
    );
    expect(send(r, 'AUTHENTICATE PLAIN', 'AUTHENTICATE @@@@').replies[1]).toBe(
      ':irc.chat 904 * :SASL authentication failed: not base64',
    );
    expect(send(r, 'AUTHENTICATE PLAIN', `AUTHENTICATE ${plain('root', 'bob', 'pw')}`).replies[1]).toBe(
      ':irc.chat 904 * :SASL authentication failed: logging in as another account (authzid) is not supported',
    );
    send(r, 'AUTHENTICATE PLAIN', `AUTHENTICATE ${plain('', 'bob', 'pw')}`);
    r.accountChecked({ ok: true });
    expect(send(r, 'AUTHENTICATE PLAIN').replies).toEqual([
      ':irc.chat 907 * :You have already authenticated using SASL',
    ]);
  });

  it('holds at most MAX_HELD_LINES lines while the chat answers, then closes', () => {
    const r = fresh();
    send(r, 'NICK bob', 'USER bob 0 * :Bob');
    const flood = send(r, ...Array.from({ length: MAX_HELD_LINES + 1 }, () => 'PING x'));
    expect(flood.replies).toEqual(['ERROR :Closing link: too many lines before registration']);
    expect(flood.effects).toEqual([{ kind: 'close' }]);
  });
});

describe('the SASL PLAIN exchange', () => {
  it('takes base64 in chunks of 400 bytes, a chunk of exactly 400 meaning more, + an empty last one', () => {
    const password = 'p'.repeat(280);
    const b64 = plain('', 'someone_with_a_long_nick_here', password);
    expect(b64.length).toBeGreaterThan(CHUNK_BYTES);
    const s = new SaslExchange();
    expect(s.step('PLAIN')).toEqual({ kind: 'continue', prompt: true });
    expect(s.step(b64.slice(0, CHUNK_BYTES))).toEqual({ kind: 'continue', prompt: false });
    expect(s.step(b64.slice(CHUNK_BYTES))).toEqual({
      kind: 'credentials',
      nick: 'someone_with_a_long_nick_here',
      password,
    });
    const exact = Buffer.alloc(300, 0x61);
    exact.write('\0bob\0', 0);
    const b = exact.toString('base64');
    expect(b.length).toBe(CHUNK_BYTES);
    s.step('PLAIN');
    expect(s.step(b)).toEqual({ kind: 'continue', prompt: false });
    expect(s.step('+')).toMatchObject({ kind: 'credentials', nick: 'bob' });
  });

  it('refuses more than its bound in all, and data that is not PLAIN', () => {
    const s = new SaslExchange();
    s.step('PLAIN');
    for (let i = 0; i < 4; i++) s.step('A'.repeat(CHUNK_BYTES));
    expect(s.inProgress).toBe(false);
    expect(plainCredentials(Buffer.from('a\0b').toString('base64'))).toMatchObject({ kind: 'invalid' });
    expect(plainCredentials(Buffer.from('\0\0pw').toString('base64'))).toMatchObject({ kind: 'invalid' });
    expect(plainCredentials(Buffer.from([0, 0x62, 0, 0xff]).toString('base64'))).toEqual({
      kind: 'invalid',
      why: 'not UTF-8',
    });
  });
});
