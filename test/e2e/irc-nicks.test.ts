/**
 * Nicks at registration on the IRC door, as IRC clients meet them: a nick
 * in use (by a chat-client) or registered is 433 and the connection stays for the next NICK
 * (irssi, WeeChat and irc-framework all try nick_ on the same connection;
 * the chat's fatal HELLO refusal once closed it), and a client without SASL
 * takes its registered nick with NickServ IDENTIFY, a wrong password first
 * refused by NickServ, then a chat-client sees it under its nick.
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

const PASSWORD = 'correct-horse-battery';

describe('nicks at registration on the IRC door', () => {
  it('433 for a nick in use or registered, then the next NICK on the same connection; NickServ IDENTIFY', async () => {
    const server = await startServer(['--workers', '2', '--allow-plain-passwords']);
    procs.push(server);
    const owner = new RawIrc(server.ircPort!);
    await owner.register('owner');
    owner.send(`PRIVMSG NickServ :REGISTER ${PASSWORD}`);
    await owner.line(/NOTICE owner :owner is now registered/);
    const xm = await startClient(server.port, 'xm');
    procs.push(xm);

    // Taken (by the chat-client): 433, and the same connection registers as xm_.
    const second = new RawIrc(server.ircPort!);
    second.send('NICK xm');
    second.send('USER x 0 * :x');
    await second.line(/ 433 \S+ xm :nick xm is taken/);
    second.send('NICK xm_');
    await second.line(/ 001 xm_ /);
    await xm.waitFor('* xm_ joined');

    owner.send('QUIT :later');
    await xm.waitFor('* owner left (later)');
    // Registered: 433 saying how to log in, and the connection stays for another NICK.
    const guest = new RawIrc(server.ircPort!);
    guest.send('NICK owner');
    guest.send('USER g 0 * :g');
    await guest.line(/ 433 \S+ owner :nick owner is registered: log in with SASL, .*NickServ IDENTIFY/);
    guest.send('NICK guest');
    await guest.line(/ 366 guest #lobby /);

    guest.send('PRIVMSG NickServ :IDENTIFY owner wrong-password');
    await guest.line(/^:NickServ!\S+ NOTICE guest :NICK_PASSWORD_WRONG: /);
    guest.send(`PRIVMSG NickServ :IDENTIFY owner ${PASSWORD}`);
    await guest.line(/ 900 owner \S+ owner :You are now logged in as owner$/);
    await guest.line(/^:guest!\S+ NICK :?owner$/);
    guest.send('PRIVMSG #lobby :identified');
    await xm.waitFor('<owner> identified');
    expect(second.closed || guest.closed).toBe(false);
  });
});
