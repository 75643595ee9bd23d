/**
 * IRC users on different nodes of a cluster (two chat-servers on a real
 * redis-server): what the chat protocol does not carry (the real name and
 * ident from USER, the AWAY message, the registered nick one is logged in
 * to) is known on the other node (irc-door/cluster-people.ts): WHOIS and
 * WHO show it, a prefix has the user's ident, away-notify tells an AWAY and
 * its end, account-tag marks a registered user's messages, messaging someone
 * away answers 301; a nick change is followed; a node started later finds
 * the people already there; a node killed, or a worker that dies, takes its
 * people with it (a chat user who takes the nick then is not shown as them).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RawIrc, closeBots } from '../helpers/irc-bot.js';
import { type LineProcess, type ServerHandle, startClient, startServer, stopAll } from '../helpers/processes.js';
import { startRedis, type RedisUnderTest } from '../helpers/redis-server.js';

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
  closeBots();
  await stopAll(...procs);
  procs = [];
});

/** One node of the current cluster (its own Redis database), with a short lease and resume window. */
async function node(id: string): Promise<ServerHandle> {
  const s = await startServer([
    ...['--redis', `${redis.url}/${cluster}`, '--node-id', id, '--workers', '2', '--no-web'],
    ...['--node-lease', '2s', '--resume-window', '4s', '--allow-plain-passwords'],
  ]);
  procs.push(s);
  return s;
}

const CAPS = 'away-notify account-tag message-tags';

/** A registered IRC client with these capabilities, in #lobby. */
async function ircClient(server: ServerHandle, nick: string, realname: string): Promise<RawIrc> {
  const raw = new RawIrc(server.ircPort!);
  raw.send('CAP LS 302');
  raw.send(`CAP REQ :${CAPS}`);
  await raw.line(/ CAP \S+ ACK /);
  raw.send('CAP END');
  raw.send(`NICK ${nick}`);
  raw.send(`USER ${nick}id 0 * :${realname}`);
  await raw.line(new RegExp(` 366 ${nick} #lobby `));
  return raw;
}

/** WHOIS asked again until a line matches (what another node tells arrives a moment later). */
async function whoisUntil(raw: RawIrc, me: string, nick: string, re: RegExp): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const from = raw.lines.length;
    raw.send(`WHOIS ${nick}`);
    await raw.line(new RegExp(` 318 ${me} ${nick} :`), 10_000, from);
    if (raw.lines.slice(from).some((l) => re.test(l))) return;
    if (Date.now() > deadline) throw new Error(`WHOIS ${nick} never showed ${String(re)}:\n${raw.lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('IRC users on different nodes of a cluster', () => {
  it('see each other’s real name, ident, AWAY and account: WHOIS, WHO, prefixes, away-notify, account-tag, 301', async () => {
    cluster++;
    const [n1, n2] = [await node('n1'), await node('n2')];
    const a = await ircClient(n1, 'alice', 'Alice Liddell');
    const b = await ircClient(n2, 'bob', 'Bob Dylan');

    await whoisUntil(b, 'bob', 'alice', / 311 bob alice ~aliceid \S+ \* :Alice Liddell$/);
    b.send('WHO #lobby');
    await b.line(/ 352 bob #lobby ~aliceid \S+ \S+ alice H :0 Alice Liddell$/);
    await whoisUntil(a, 'alice', 'bob', / 311 alice bob ~bobid \S+ \* :Bob Dylan$/);

    // Registering logs alice in to her nick: her messages carry the account on the other node, with her ident.
    a.send('PRIVMSG NickServ :REGISTER correct-horse-battery');
    await a.line(/NOTICE \S+ :.*registered/i);
    await whoisUntil(b, 'bob', 'alice', / 330 bob alice alice :is logged in as$/);
    a.send('PRIVMSG #lobby :from the other node');
    await b.line(/^@(?:\S+;)?account=alice[; ]\S* ?:alice!~aliceid@\S+ PRIVMSG #lobby :from the other node$/);

    // AWAY: told to the other node's room (away-notify), shown by WHOIS (301) and WHO (G), and answered to a message.
    a.send('AWAY :out to lunch');
    await a.line(/ 306 /);
    await b.line(/^:alice!~aliceid@\S+ AWAY :out to lunch$/);
    await whoisUntil(b, 'bob', 'alice', / 301 bob alice :out to lunch$/);
    const from = b.lines.length;
    b.send('WHO #lobby');
    await b.line(/ 352 bob #lobby ~aliceid \S+ \S+ alice G :0 Alice Liddell$/, 10_000, from);
    b.send('PRIVMSG alice :are you there?');
    await b.line(/ 301 bob alice :out to lunch$/, 10_000, b.lines.length);
    a.send('AWAY');
    await b.line(/^:alice!~aliceid@\S+ AWAY$/);
    const back = b.lines.length;
    b.send('WHOIS alice');
    await b.line(/ 318 bob alice :/, 10_000, back);
    expect(b.lines.slice(back).filter((l) => / 301 /.test(l))).toEqual([]);

    // A nick change is followed: the new nick has her real name there, the old one nobody's.
    b.send('NICK robert');
    await b.line(/^:bob!\S+ NICK :?robert$/);
    await whoisUntil(a, 'alice', 'robert', / 311 alice robert ~bobid \S+ \* :Bob Dylan$/);

    // A node started now finds the people already there.
    const n3 = await node('n3');
    const c = await ircClient(n3, 'carol', 'Carol Danvers');
    await whoisUntil(c, 'carol', 'alice', / 311 carol alice ~aliceid \S+ \* :Alice Liddell$/);

    // Killed with its node, robert's session ends when the cluster says so, and his person with it: a chat user
    // who takes the nick then is a chat user everywhere, not Bob Dylan.
    n2.kill('SIGKILL');
    await n2.exited;
    await whoisUntil(a, 'alice', 'robert', / 401 alice robert /);
    const chat = await startClient(n1.port, 'robert');
    procs.push(chat);
    await whoisUntil(c, 'carol', 'robert', / 311 carol robert chat \S+ \* :robert$/);
  }, 60_000);

  it('a worker that dies takes its IRC people with it, on the other nodes too', async () => {
    cluster++;
    const [n1, n2] = [await node('n1'), await node('n2')];
    await ircClient(n1, 'dave', 'Dave Bowman');
    const worker = /worker (\d)\)/.exec(await n1.waitFor(/^\* dave joined \(.*worker \d\)/))![1];
    const b = await ircClient(n2, 'bob', 'Bob Dylan');
    await whoisUntil(b, 'bob', 'dave', / 311 bob dave ~daveid \S+ \* :Dave Bowman$/);
    // No worker says goodbye for its sessions when it dies: its node's supervisor does.
    n1.send(`/kill-worker ${worker}`);
    await n1.waitFor(new RegExp(`^! worker ${worker} exited`));
    await whoisUntil(b, 'bob', 'dave', / 401 bob dave /);
    const chat = await startClient(n1.port, 'dave');
    procs.push(chat);
    await whoisUntil(b, 'bob', 'dave', / 311 bob dave chat \S+ \* :dave$/);
  }, 60_000);
});
