/**
 * labeled-response on the IRC door (docs/IRC.md, "labeled-response"), with
 * a raw client that asks for it: labeled PRIVMSGs (echo-message on) sent
 * together, one refused by the worker at once, one by the registry, whose
 * answers the chat gives out of order, each come back with their own label;
 * a labeled JOIN is one labeled-response batch (JOIN, topic, NAMES); WHO a
 * batch ending in 315; a refused PART, PING, TOPIC and a NICK that changes
 * nothing one line or ACK; without echo-message a PRIVMSG is ACKed. And
 * without labels, a refusal names the refused command's target, not the
 * last command's (it named #lobby before the chat's requests carried refs).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RawIrc, closeBots } from '../helpers/irc-bot.js';
import { type LineProcess, startClient, startServer, stopAll } from '../helpers/processes.js';

let procs: LineProcess[] = [];
afterEach(async () => {
  closeBots();
  await stopAll(...procs);
  procs = [];
});

/** A raw client registered with these capabilities, in #lobby (its NAMES shown). */
async function withCaps(port: number, nick: string, caps: string): Promise<RawIrc> {
  const raw = new RawIrc(port);
  raw.send('CAP LS 302');
  raw.send(`CAP REQ :${caps}`);
  await raw.line(/ CAP \S+ ACK /);
  raw.send('CAP END');
  await raw.register(nick);
  await raw.line(new RegExp(` 366 ${nick} #lobby `));
  return raw;
}

/** The lines of the labeled-response batch opened with this label: its opening line, what it holds, its end. */
async function batchOf(raw: RawIrc, label: string): Promise<string[]> {
  const open = await raw.line(new RegExp(`^@label=${label} :\\S+ BATCH \\+(\\S+) :?labeled-response$`));
  const ref = /BATCH \+(\S+)/.exec(open)![1]!;
  await raw.line(new RegExp(`^:\\S+ BATCH -${ref}$`));
  return raw.lines.filter((l) => l.includes(`batch=${ref}`));
}

describe('labeled-response on the IRC door', () => {
  it('each labeled command gets its own answer with its label', async () => {
    const server = await startServer(['--workers', '2']);
    procs.push(server);
    const xm = await startClient(server.port, 'xm');
    procs.push(xm);
    const raw = await withCaps(server.ircPort!, 'lab', 'batch echo-message labeled-response message-tags');
    expect(raw.lines.join('\n')).toMatch(/CAP \* LS :.*labeled-response/);

    // The measured case (docs/IRC.md): the worker refuses the second at once, before the first is stored and echoed.
    raw.send('@label=m1 PRIVMSG #lobby :hello');
    raw.send('@label=m2 PRIVMSG #lobby :\u200b');
    raw.send('@label=m3 PRIVMSG nobody_here :x');
    raw.send('@label=m4 PRIVMSG #lobby :second');
    await raw.line(/^@(?:\S+;)?label=m1[; ]\S* ?:lab!\S+ PRIVMSG #lobby :hello$/);
    await raw.line(/^@label=m2 :\S+ 412 lab :empty message/);
    await raw.line(/^@label=m3 :\S+ 401 lab nobody_here :no user named nobody_here$/);
    await raw.line(/^@(?:\S+;)?label=m4[; ]\S* ?:lab!\S+ PRIVMSG #lobby :second$/);
    await xm.waitFor('<lab> second');

    raw.send('@label=j1 JOIN #labels');
    const join = await batchOf(raw, 'j1');
    expect(join.map((l) => l.replace(/^@\S+ /, ''))).toEqual([
      expect.stringMatching(/^:lab!\S+ JOIN #labels$/),
      expect.stringMatching(/ 331 lab #labels :No topic is set$/),
      expect.stringMatching(/ 353 lab = #labels :lab$/),
      expect.stringMatching(/ 366 lab #labels :End of \/NAMES list$/),
    ]);

    // Refused by the store (a look-alike of #lobby): its one line, labeled; the NAMES sent with it add nothing.
    raw.send('@label=j2 JOIN #l0bby');
    await raw.line(/^@label=j2 :\S+ 403 lab #l0bby :#l0bby looks like #lobby/);

    raw.send('@label=w1 WHO #lobby');
    const who = await batchOf(raw, 'w1');
    expect(who.at(-1)).toMatch(/ 315 lab #lobby :End of WHO list$/);
    expect(who.filter((l) => / 352 /.test(l))).toHaveLength(2);

    expect(raw.lines.filter((l) => l.includes('#l0bby'))).toHaveLength(1);

    raw.send('@label=p1 PART #nowhere');
    await raw.line(/^@label=p1 :\S+ 442 lab #nowhere :/);
    raw.send('@label=g1 PING tok');
    await raw.line(/^@label=g1 :\S+ PONG \S+ :?tok$/);
    raw.send('@label=t1 TOPIC #labels');
    await raw.line(/^@label=t1 :\S+ 331 lab #labels :No topic is set$/);
    raw.send('@label=t2 TOPIC #labels :labelled');
    await raw.line(/^@label=t2 :lab!\S+ TOPIC #labels :labelled$/);
    raw.send('@label=n1 NICK lab');
    await raw.line(/^@label=n1 :\S+ ACK$/);
    raw.send('@label=n2 NICK xm');
    await raw.line(/^@label=n2 :\S+ 433 lab xm :/);
    raw.send('@label=q1 PART #labels :bye');
    await raw.line(/^@label=q1 :lab!\S+ PART #labels :bye$/);

    // Without echo-message, a message has no answer: ACK.
    const quiet = await withCaps(server.ircPort!, 'quiet', 'batch labeled-response');
    quiet.send('@label=a1 PRIVMSG #lobby :quietly');
    await quiet.line(/^@label=a1 :\S+ ACK$/);
    await xm.waitFor('<quiet> quietly');
    // A label the client did not ask labeled-response for is ignored.
    const plain = await withCaps(server.ircPort!, 'plain', 'message-tags');
    plain.send('@label=x1 PING tok');
    await plain.line(/^:\S+ PONG \S+ :?tok$/);
    expect(plain.lines.join('\n')).not.toContain('label=');
  });

  it('a refusal names the refused command, not the one sent after it', async () => {
    const server = await startServer([]);
    procs.push(server);
    const raw = new RawIrc(server.ircPort!);
    await raw.register('probe');
    await raw.line(/ 366 probe #lobby /);
    // Together: the registry answers the first after the second went to the chat.
    raw.send('PRIVMSG nobody_here :x\r\nPRIVMSG #lobby :second');
    const refusal = await raw.line(/ 401 probe /);
    expect(refusal).toMatch(/ 401 probe nobody_here :no user named nobody_here$/);
  });
});
