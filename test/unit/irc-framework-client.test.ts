/**
 * irc-framework, the library the bot will use, against the IRC
 * protocol core on a loopback socket (test/helpers/irc-door-stub.ts plays
 * the worker and a tiny chat): CAP LS 302, SASL PLAIN with a UTF-8 account,
 * registration, JOIN with its topic and names, room messages with
 * server-time, /me. What a real client does, not what we think it does.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrcDoorStub } from '../helpers/irc-door-stub.js';

interface Client {
  connect(o: object): void;
  on(event: string, fn: (e: Record<string, unknown>) => void): void;
  once(event: string, fn: (e: Record<string, unknown>) => void): void;
  join(channel: string): void;
  say(target: string, text: string): void;
  action(target: string, text: string): void;
  quit(reason?: string): void;
  network: { cap: { enabled: string[] }; options: Record<string, unknown> };
}
const IRC = createRequire(import.meta.url)('irc-framework') as { Client: new () => Client };

const stub = new IrcDoorStub(new Map([['小明', 'correct horse']]));
let port = 0;
const clients: Client[] = [];

beforeAll(async () => {
  port = await stub.listen();
});
afterAll(async () => {
  for (const c of clients) c.quit('bye');
  await stub.close();
});

function event(c: Client, name: string, ms = 5000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${name} within ${ms} ms`)), ms);
    c.once(name, (e) => {
      clearTimeout(t);
      resolve(e);
    });
  });
}

function connect(nick: string, account?: { account: string; password: string }): Client {
  const c = new IRC.Client();
  clients.push(c);
  c.connect({
    host: '127.0.0.1',
    port,
    nick,
    username: 'u',
    gecos: `${nick} here`,
    auto_reconnect: false,
    ...(account ? { account } : {}),
  });
  return c;
}

describe('irc-framework against the protocol core', () => {
  it('registers with CAP LS 302 and SASL PLAIN, then talks in a room with another client', async () => {
    const xm = connect('guest', { account: '小明', password: 'correct horse' });
    const loggedIn = event(xm, 'loggedin');
    const xmRegistered = event(xm, 'registered');
    expect((await loggedIn).account).toBe('小明');
    expect((await xmRegistered).nick).toBe('小明');
    expect(xm.network.cap.enabled).toEqual(expect.arrayContaining(['sasl', 'server-time', 'message-tags', 'batch']));
    expect(xm.network.options.CHANTYPES).toEqual(['#']);
    expect(String(xm.network.options.NICKLEN)).toBe('32');

    const bob = connect('bob');
    await event(bob, 'registered');
    const joins = [event(xm, 'join'), event(bob, 'join')];
    xm.join('#lobby');
    await joins[0];
    const bobTopic = event(bob, 'topic');
    bob.join('#lobby');
    await joins[1];
    expect((await bobTopic).topic).toBe('Week 3');

    const said = event(bob, 'privmsg');
    xm.say('#lobby', '你好 bob: IRC and UTF-8');
    const m = await said;
    expect(m).toMatchObject({ nick: '小明', target: '#lobby', message: '你好 bob: IRC and UTF-8' });
    expect(typeof m.time).toBe('number');

    const acted = event(bob, 'action');
    xm.action('#lobby', 'waves');
    expect(await acted).toMatchObject({ nick: '小明', message: 'waves' });
  });

  it('a wrong SASL password is 904: the client is told and registers without the account', async () => {
    const c = connect('mallory', { account: '小明', password: 'guess' });
    const failed = event(c, 'sasl failed');
    expect((await failed).reason).toBe('fail');
    expect((await event(c, 'registered')).nick).toBe('mallory');
    expect(stub.sent).toContain(':irc.test 904 mallory :wrong password');
  });
});
