/**
 * IRC users on different workers of one server (--workers 2): what the
 * chat protocol does not carry (the real name from USER, the AWAY message,
 * the registered nick one is logged in to) is known on every worker
 * (shm/irc-people-table.ts): WHOIS and WHO show it, away-notify tells an
 * AWAY and its end, account-tag marks a registered user's messages, and
 * messaging someone away answers 301. The kernel's reusePort hash decides
 * where a connection goes, so the test opens connections until it has one
 * on each worker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RawIrc, closeBots } from '../helpers/irc-bot.js';
import { type LineProcess, type ServerHandle, startServer, stopAll } from '../helpers/processes.js';

let procs: LineProcess[] = [];
afterEach(async () => {
  closeBots();
  await stopAll(...procs);
  procs = [];
});

const CAPS = 'away-notify account-tag message-tags';

/** A registered IRC client with these capabilities, in #lobby, and the worker it landed on. */
async function ircClient(
  server: ServerHandle,
  nick: string,
  realname: string,
): Promise<{ raw: RawIrc; worker: number }> {
  const raw = new RawIrc(server.ircPort!);
  raw.send('CAP LS 302');
  raw.send(`CAP REQ :${CAPS}`);
  await raw.line(/ CAP \S+ ACK /);
  raw.send('CAP END');
  raw.send(`NICK ${nick}`);
  raw.send(`USER ${nick} 0 * :${realname}`);
  await raw.line(new RegExp(` 366 ${nick} #lobby `));
  const joined = await server.waitFor(new RegExp(`^\\* ${nick} joined \\(.*worker (\\d)\\)`));
  return { raw, worker: Number(/worker (\d)\)/.exec(joined)![1]) };
}

/** Clients until one is on worker 0 and one on worker 1 (at most 24 tries); the others quit. */
async function onBothWorkers(server: ServerHandle): Promise<[RawIrc, RawIrc]> {
  const found: Array<RawIrc | undefined> = [undefined, undefined];
  for (let i = 0; i < 24 && (!found[0] || !found[1]); i++) {
    const c = await ircClient(server, `irc${i}`, `Real Name ${i}`);
    if (found[c.worker] === undefined && (c.worker === 0 || c.worker === 1)) found[c.worker] = c.raw;
    else c.raw.send('QUIT');
  }
  if (!found[0] || !found[1]) throw new Error('the kernel put 24 connections on one worker');
  return [found[0], found[1]];
}

describe('IRC users on different workers', () => {
  it('see each other’s real name, AWAY and account: WHOIS, WHO, away-notify, account-tag, 301', async () => {
    const server = await startServer(['--workers', '2', '--allow-plain-passwords']);
    procs.push(server);
    const [a, b] = await onBothWorkers(server);
    const nickOf = (raw: RawIrc) => /^:\S+ 001 (\S+) /.exec(raw.lines.find((l) => / 001 /.test(l))!)![1]!;
    const an = nickOf(a);
    const bn = nickOf(b);
    // irc<i> said USER with the real name 'Real Name <i>'.
    const real = (nick: string) => `Real Name ${nick.slice(3)}`;

    b.send(`WHOIS ${an}`);
    await b.line(new RegExp(` 311 ${bn} ${an} \\S+ \\S+ \\* :${real(an)}$`));
    b.send('WHO #lobby');
    await b.line(new RegExp(` 352 ${bn} #lobby \\S+ \\S+ \\S+ ${an} H :0 ${real(an)}$`));

    // Registering logs a in to its nick: its messages carry the account on the other worker.
    a.send('PRIVMSG NickServ :REGISTER correct-horse-battery');
    await a.line(/NOTICE \S+ :.*registered/i);
    a.send('PRIVMSG #lobby :from the other worker');
    await b.line(new RegExp(`^@(?:\\S+;)?account=${an}[; ]\\S* ?:${an}!\\S+ PRIVMSG #lobby :from the other worker$`));
    b.send(`WHOIS ${an}`);
    await b.line(new RegExp(` 330 ${bn} ${an} ${an} :is logged in as$`));

    a.send('AWAY :out to lunch');
    await a.line(/ 306 /);
    await b.line(new RegExp(`^:${an}!\\S+ AWAY :out to lunch$`));
    const from = b.lines.length;
    b.send(`WHOIS ${an}`);
    await b.line(new RegExp(` 301 ${bn} ${an} :out to lunch$`), 10_000, from);
    b.send('WHO #lobby');
    await b.line(new RegExp(` 352 ${bn} #lobby \\S+ \\S+ \\S+ ${an} G :0 ${real(an)}$`), 10_000, from);
    b.send(`PRIVMSG ${an} :are you there?`);
    await b.line(new RegExp(` 301 ${bn} ${an} :out to lunch$`), 10_000, b.lines.length);
    a.send('AWAY');
    await b.line(new RegExp(`^:${an}!\\S+ AWAY$`));
    const back = b.lines.length;
    b.send(`WHOIS ${an}`);
    await b.line(new RegExp(` 318 ${bn} ${an} :`), 10_000, back);
    expect(b.lines.slice(back).filter((l) => / 301 /.test(l))).toEqual([]);

    // The other way: a sees b's real name too.
    a.send(`WHOIS ${bn}`);
    await a.line(new RegExp(` 311 ${an} ${bn} \\S+ \\S+ \\* :${real(bn)}$`));
  });
});
