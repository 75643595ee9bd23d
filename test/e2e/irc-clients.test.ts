/**
 * Real IRC clients in the same room as a chat-client and the chat page in
 * chromium, driven as a person would drive them: WeeChat (weechat-headless,
 * over TLS, its certificate check off as for a self-signed server) through
 * its FIFO, and irssi typed at in a terminal. Each joins #lobby and sees what
 * was said before it came (history on join, with server-time), talks both
 * ways in UTF-8 with the terminal and the browser, /me both ways, direct
 * messages both ways, changes nick and sees the chat user's change, and
 * quits with a reason the chat shows.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import { joinAs, launchChromium, logLine, openPage } from '../helpers/chat-page.js';
import { Irssi, WeeChat } from '../helpers/irc-terminal-clients.js';
import { type LineProcess, startClient, startServer, stopAll, tempDir } from '../helpers/processes.js';

let procs: LineProcess[] = [];
let terms: Irssi[] = [];
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  for (const t of terms) t.kill();
  await stopAll(...procs);
  procs = [];
  terms = [];
});

/** The chat page in chromium, joined as nick on the server's web port (over TLS: its self-signed certificate taken). */
async function browserUser(httpPort: number, nick: string, tls = false): Promise<Page> {
  const page = tls
    ? await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage()
    : (await openPage(browser, httpPort)).page;
  if (tls) await page.goto(`https://127.0.0.1:${httpPort}/`);
  await joinAs(page, nick);
  return page;
}

/** Says text from the chat page. */
async function say(page: Page, text: string): Promise<void> {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
}

describe('IRC clients people use, with a chat-client and a browser page', () => {
  it('WeeChat over TLS: history on join, talk, /me, DMs, nick changes and quit, both ways', async () => {
    const server = await startServer(['--workers', '2', '--tls', 'auto']);
    procs.push(server);
    const xm = await startClient(server.port, '小明', ['--known-hosts', join(tempDir('irc-kh'), 'known_hosts')]);
    procs.push(xm);
    xm.send('said before WeeChat came');
    await xm.waitFor('<小明> said before WeeChat came');

    const web = await browserUser(server.httpPort!, 'netty', true);
    const wee = WeeChat.start(server.ircPort!, 'wee', true);
    procs.push(wee.proc);
    await wee.logged('#lobby', /\t小明\tsaid before WeeChat came$/);
    await xm.waitFor('* wee joined');

    await wee.type('#lobby', 'hello from WeeChat, 你好 Zoë');
    await xm.waitFor('<wee> hello from WeeChat, 你好 Zoë');
    await logLine(web, '<wee> hello from WeeChat, 你好 Zoë').waitFor();
    xm.send('hi WeeChat');
    await wee.logged('#lobby', /\t小明\thi WeeChat$/);

    await wee.type('#lobby', '/me waves');
    await xm.waitFor('* wee waves');
    await logLine(web, '* wee waves').waitFor();
    await say(web, 'from the page, 你好 WeeChat');
    await wee.logged('#lobby', /\tnetty\tfrom the page, 你好 WeeChat$/);
    xm.send('/me nods');
    await wee.logged('#lobby', /\t \*\t小明 nods$/);

    await wee.type('server', '/msg 小明 psst from WeeChat');
    await xm.waitFor('*wee* psst from WeeChat');
    xm.send('/msg wee psst back');
    await wee.logged('小明', /\t小明\tpsst back$/);

    await wee.type('server', '/nick wee2');
    await xm.waitFor('* wee is now wee2');
    xm.send('/nick 小红');
    await wee.logged('#lobby', /小明 is now known as 小红/);

    await wee.type('server', '/quit bye from WeeChat');
    await xm.waitFor('* wee2 left (bye from WeeChat)');
  });

  it('irssi in a terminal: history on join, talk, /me, DMs, nick changes and quit, both ways', async () => {
    const server = await startServer(['--workers', '2']);
    procs.push(server);
    const xm = await startClient(server.port, '小明');
    procs.push(xm);
    xm.send('said before irssi came');
    await xm.waitFor('<小明> said before irssi came');

    const web = await browserUser(server.httpPort!, 'netty');
    const irssi = Irssi.start(server.ircPort!, 'irs');
    terms.push(irssi);
    await irssi.logged(/< 小明> said before irssi came$/, '#lobby');
    await xm.waitFor('* irs joined');

    irssi.type('/window goto #lobby');
    irssi.type('hello from irssi, 你好 Zoë');
    await xm.waitFor('<irs> hello from irssi, 你好 Zoë');
    await logLine(web, '<irs> hello from irssi, 你好 Zoë').waitFor();
    xm.send('hi irssi');
    await irssi.logged(/< 小明> hi irssi$/, '#lobby');

    irssi.type('/me waves');
    await xm.waitFor('* irs waves');
    await logLine(web, '* irs waves').waitFor();
    await say(web, 'from the page, 你好 irssi');
    await irssi.logged(/< netty> from the page, 你好 irssi$/, '#lobby');
    xm.send('/me nods');
    await irssi.logged(/ \* 小明 nods$/, '#lobby');

    irssi.type('/msg 小明 psst from irssi');
    await xm.waitFor('*irs* psst from irssi');
    xm.send('/msg irs psst back');
    await irssi.logged(/<\s?小明> psst back$/, '小明');

    irssi.type('/nick irs2');
    await xm.waitFor('* irs is now irs2');
    xm.send('/nick 小红');
    await irssi.logged(/小明 is now known as 小红/, '#lobby');

    irssi.type('/quit bye from irssi');
    await xm.waitFor('* irs2 left (bye from irssi)');
  });
});
