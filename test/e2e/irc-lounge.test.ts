/**
 * The IRC door with The Lounge, the web IRC client (npm `thelounge`), as its
 * users run it: started in private mode, a user made with `thelounge add`,
 * signed in from chromium, connected over TLS (the door's self-signed
 * certificate accepted, as the network's settings allow) to #lobby, where a
 * chat-client is. What each says reaches the other, checked on The Lounge's
 * page and in the chat-client's output: room messages, /me both ways, and
 * a /me and a reply in a private window.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchChromium } from '../helpers/chat-page.js';
import { type LineProcess, startClient, startServer, stopAll, tempDir } from '../helpers/processes.js';
import { startLounge } from '../helpers/the-lounge.js';

let browser: Browser;
const procs: LineProcess[] = [];
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await stopAll(...procs);
});

describe('The Lounge in chromium, through the IRC door, with a chat-client', () => {
  it('signs in, connects to #lobby over TLS, and talks both ways: messages, /me, a private /me and a reply', async () => {
    const server = await startServer(['--workers', '2', '--tls', 'auto']);
    procs.push(server);
    const lounge = await startLounge({
      ircPort: server.ircPort!,
      tls: true,
      nick: 'lounger',
      user: 'alice',
      password: 'lounge-pass-1',
    });
    procs.push(lounge.proc);
    const xm = await startClient(server.port, '小明', ['--known-hosts', join(tempDir('lounge-kh'), 'known_hosts')]);
    procs.push(xm);

    const page = await (await browser.newContext({ viewport: { width: 1100, height: 720 } })).newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(lounge.url);
    await page.fill('#signin-username', 'alice');
    await page.fill('#signin-password', 'lounge-pass-1');
    await page.click('button[type=submit]:has-text("Sign in")');
    // A new user has no network yet: the connect form, filled with the locked network's settings.
    await page.locator('#connect').waitFor();
    expect(await page.inputValue('#connect\\:nick')).toBe('lounger');
    await page.click('#connect button[type=submit]:has-text("Connect")');

    const lobby = page.locator('.channel-list-item[data-type=channel]', { hasText: '#lobby' });
    await lobby.waitFor({ timeout: 15_000 });
    await xm.waitFor('* lounger joined', 15_000);
    await lobby.click();
    // The chat-client is in the room's user list.
    await page.locator('.userlist .user', { hasText: '小明' }).waitFor();

    await page.fill('#input', 'hello from The Lounge, 你好');
    await page.press('#input', 'Enter');
    await xm.waitFor('<lounger> hello from The Lounge, 你好');

    xm.send('hi Lounge, 小明 here');
    const line = page.locator('#chat .msg', { hasText: 'hi Lounge, 小明 here' });
    await line.waitFor();
    expect(await line.locator('.from .user').innerText()).toBe('小明');

    // /me both ways: The Lounge's /me in #lobby is the chat's action; the chat-client's /describe (DIRECT's
    // action) is an action in a private window, where a direct message goes back.
    await page.fill('#input', '/me waves from the browser');
    await page.press('#input', 'Enter');
    await xm.waitFor('* lounger waves from the browser');
    xm.send('/describe lounger winks, privately');
    const query = page.locator('.channel-list-item[data-type=query]', { hasText: '小明' });
    await query.waitFor();
    await query.click();
    await page.locator('#chat .msg[data-type=action]', { hasText: 'winks, privately' }).waitFor();
    await page.fill('#input', 'psst, only to you');
    await page.press('#input', 'Enter');
    await xm.waitFor('*lounger* psst, only to you');

    await page.screenshot({ path: join(ARTIFACTS, 'irc-lounge.png') });
    expect(problems).toEqual([]);
    // It asked nothing of GitHub or npm (the helper's preload): it would have logged the failed fetch at start.
    expect([...lounge.proc.lines, ...lounge.proc.errLines].join('\n')).not.toMatch(/changelog|api\.github|ENOTFOUND/i);
  });
});
