/**
 * The IRC door with a real IRC library: a bot written with irc-framework
 * (npm), as bots are, over TLS (the self-signed certificate accepted, as a
 * bot's owner would), in the same rooms as a chat-client. It registers its
 * nick with NickServ, logs in with SASL PLAIN, joins #lobby and gets its
 * history (a chathistory batch with server-time), talks both ways with
 * UTF-8 text and a nick in Chinese, /me both ways (CTCP ACTION), direct
 * messages both ways, topics both ways, nick changes both ways, and quits.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IrcBot, closeBots } from '../helpers/irc-bot.js';
import { type LineProcess, startClient, startServer, stopAll, tempDir } from '../helpers/processes.js';

let procs: LineProcess[] = [];
afterEach(async () => {
  closeBots();
  await stopAll(...procs);
  procs = [];
});

const PASSWORD = 'correct-horse-battery';
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('an irc-framework bot and a chat-client in one room, over TLS', () => {
  it('NickServ REGISTER, SASL, history on join, talk, /me, DMs, topics, nick changes and quit, both ways', async () => {
    const server = await startServer(['--workers', '2', '--tls', 'auto']);
    procs.push(server);
    const port = server.ircPort!;
    // Its nick registered through NickServ, as a bot's owner does once.
    const first = new IrcBot({ port, nick: 'ircbot', tls: true });
    await first.event('registered');
    expect(first.client.network.cap.enabled).toEqual(expect.arrayContaining(['server-time', 'batch', 'message-tags']));
    first.client.say('NickServ', `REGISTER ${PASSWORD}`);
    await first.line(/NOTICE ircbot :ircbot is now registered/);
    first.client.quit('registered');
    await first.gone();

    const xm = await startClient(server.port, '小明', ['--known-hosts', join(tempDir('irc-kh'), 'known_hosts')]);
    procs.push(xm);
    xm.send('said before the bot came');
    await xm.waitFor('<小明> said before the bot came');

    // SASL PLAIN: the session takes the account's nick, whatever NICK said.
    const bot = new IrcBot({ port, nick: 'guest', tls: true, account: { account: 'ircbot', password: PASSWORD } });
    expect((await bot.event('loggedin')).account).toBe('ircbot');
    expect((await bot.event('registered')).nick).toBe('ircbot');
    await bot.event('join', (e) => e.channel === '#lobby' && e.nick === 'ircbot');
    // History on join, as Ergo's autoreplay: a chathistory batch, each line with its time.
    const old = await bot.event('message', (e) => e.message === 'said before the bot came');
    expect(old).toMatchObject({ nick: '小明', target: '#lobby', type: 'privmsg' });
    expect(old.tags?.time).toMatch(ISO_TIME);
    expect(old.tags?.batch).toBeTruthy();
    // JOIN, the topic, NAMES, then the history, as Ergo sends them.
    const names = bot.lines.findIndex((l) => / 366 ircbot #lobby :End of \/NAMES list/.test(l));
    const batch = bot.lines.findIndex((l) => / BATCH \+\S+ chathistory :?#lobby$/.test(l));
    expect(names).toBeGreaterThan(0);
    expect(batch).toBeGreaterThan(names);
    await xm.waitFor('* ircbot joined');

    // Room messages both ways, UTF-8 as it is.
    bot.client.say('#lobby', 'hello from IRC, 你好 👋 Zoë');
    await xm.waitFor('<ircbot> hello from IRC, 你好 👋 Zoë');
    xm.send('hi bot, 小明 here');
    const hi = await bot.event('message', (e) => e.message === 'hi bot, 小明 here');
    expect(hi).toMatchObject({ nick: '小明', target: '#lobby', type: 'privmsg' });
    expect(hi.tags?.time).toMatch(ISO_TIME);
    expect(hi.tags?.msgid).toMatch(/^\w+\.\d+\.\w+$/);

    // /me both ways: CTCP ACTION on IRC, an action on the chat.
    bot.client.action('#lobby', 'waves at everyone');
    await xm.waitFor('* ircbot waves at everyone');
    xm.send('/me nods');
    expect(await bot.event('action', (e) => e.message === 'nods')).toMatchObject({ nick: '小明', target: '#lobby' });

    // Direct messages both ways.
    bot.client.say('小明', 'psst, from IRC');
    await xm.waitFor('*ircbot* psst, from IRC');
    xm.send('/msg ircbot psst, from the chat');
    const dm = await bot.event('privmsg', (e) => e.message === 'psst, from the chat');
    expect(dm).toMatchObject({ nick: '小明', target: 'ircbot' });
    // /me in a direct message both ways: CTCP ACTION to a nick is DIRECT's action.
    bot.client.action('小明', 'winks, privately');
    await xm.waitFor('* ircbot winks, privately (to you)');
    xm.send('/describe ircbot nods back');
    expect(await bot.event('action', (e) => e.message === 'nods back')).toMatchObject({
      nick: '小明',
      target: 'ircbot',
    });

    // Topics both ways.
    xm.send('/topic #lobby Week 3: the IRC door');
    expect(await bot.event('topic', (e) => e.topic === 'Week 3: the IRC door')).toMatchObject({
      nick: '小明',
      channel: '#lobby',
    });
    bot.client.setTopic('#lobby', 'set from IRC');
    await xm.waitFor('* ircbot set the topic of #lobby: set from IRC');

    // Nick changes both ways.
    bot.client.changeNick('ircbot2');
    await xm.waitFor('* ircbot is now ircbot2');
    await bot.event('nick', (e) => e.nick === 'ircbot' && e.new_nick === 'ircbot2');
    xm.send('/nick 小红');
    await bot.event('nick', (e) => e.nick === '小明' && e.new_nick === '小红');
    bot.client.say('#lobby', 'still here as ircbot2');
    await xm.waitFor('<ircbot2> still here as ircbot2');

    // Quit: the chat hears the reason.
    bot.client.quit('see you');
    await xm.waitFor('* ircbot2 left (see you)');
    await bot.gone();
  });
});
