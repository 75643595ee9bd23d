/**
 * The chat page's smaller promises in a real browser (chromium): Tab
 * completes every command; People lists the current room's members; a
 * right-to-left nick is isolated from the text around it; links work in
 * history lines too; a registered nick's refusal points at the Password
 * field; a line over the server's limit is kept and explained, not cut.
 */
import { get } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, joinAs, launchChromium, logLine, openPage, terminal } from '../helpers/chat-page.js';
import { startServer, stopAll, tempDir, type LineProcess, type ServerHandle } from '../helpers/processes.js';

let browser: Browser;
let server: ServerHandle & { httpPort: number };
const procs: LineProcess[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  // One line of history on joining, so that an earlier one is left for /history.
  server = (await startServer([
    '--workers',
    '2',
    '--allow-plain-passwords',
    '--history-on-join',
    '1',
  ])) as typeof server;
  procs.push(server);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stopAll(...procs);
});

const say = async (page: Page, line: string) => {
  await page.fill('#input', line);
  await page.press('#input', 'Enter');
};
const people = async (page: Page) => (await page.locator('#who li .name').allInnerTexts()).sort();

describe('the chat page’s details (chromium)', () => {
  it('Tab completes every command', async () => {
    const { page, problems } = await openPage(browser, server.httpPort);
    await joinAs(page, 'tabber');
    const completed: string[] = [];
    for (const typed of ['/jo', '/ro', '/pa', '/na', '/to', '/hi', '/reg', '/ide', '/pas']) {
      await page.fill('#input', typed);
      await page.press('#input', 'Tab');
      completed.push(await page.inputValue('#input'));
    }
    expect(completed).toEqual([
      '/join ',
      '/room ',
      '/part ',
      '/names ',
      '/topic ',
      '/history ',
      '/register ',
      '/identify ',
      '/password ',
    ]);
    // Tab again: the next command with that start.
    await page.fill('#input', '/pa');
    await page.press('#input', 'Tab');
    await page.press('#input', 'Tab');
    expect(await page.inputValue('#input')).toBe('/password ');
    expect(problems).toEqual([]);
    await say(page, '/quit');
    await page.context().close();
  });

  it('People and nick completion are the current room’s members', async () => {
    const { page, problems } = await openPage(browser, server.httpPort);
    await joinAs(page, 'pat');
    const labber = await terminal(server.port, 'labber', tempDir('term-people'), procs);
    labber.send('/join #lab');
    await labber.waitFor(/^\* you are in #lab/);
    const lounger = await terminal(server.port, 'lounger', tempDir('term-people'), procs);
    await logLine(page, '* lounger joined').waitFor();
    await expect.poll(() => people(page), { timeout: 10_000 }).toEqual(['labber', 'lounger', 'pat (you)']);
    await say(page, '/join #lab');
    await page.locator('#rooms li.current', { hasText: '#lab' }).waitFor();
    await expect.poll(() => people(page), { timeout: 10_000 }).toEqual(['labber', 'pat (you)']);
    expect(await page.locator('#who-count').innerText()).toBe('(2)');
    await page.fill('#input', 'lo');
    await page.press('#input', 'Tab');
    expect(await page.inputValue('#input')).toBe('lo');
    await page.fill('#input', 'la');
    await page.press('#input', 'Tab');
    expect(await page.inputValue('#input')).toBe('labber: ');
    // Someone joining the room shows up in it; back in the lobby, the lobby's members.
    lounger.send('/join #lab');
    await expect.poll(() => people(page), { timeout: 10_000 }).toEqual(['labber', 'lounger', 'pat (you)']);
    labber.send('/part #lab');
    await expect.poll(() => people(page), { timeout: 10_000 }).toEqual(['lounger', 'pat (you)']);
    await page.locator('#rooms button', { hasText: '#lobby' }).click();
    await expect.poll(() => people(page), { timeout: 10_000 }).toEqual(['labber', 'lounger', 'pat (you)']);
    expect(problems).toEqual([]);
    for (const t of [labber, lounger]) {
      t.send('/quit');
      expect(await t.exit()).toBe(0);
    }
    await say(page, '/quit');
    await page.context().close();
  });

  it('links are clickable in history lines, as in live ones', async () => {
    const lib = await terminal(server.port, 'librarian', tempDir('term-links'), procs);
    lib.send('/join #docs');
    await lib.waitFor(/^\* you are in #docs/);
    lib.send('the spec is at https://example.org/spec.html, read it');
    lib.send('and the notes at www.example.org/notes');
    await lib.waitFor(/^<librarian> and the notes/);
    const { page, problems } = await openPage(browser, server.httpPort);
    await joinAs(page, 'reader');
    await say(page, '/join #docs');
    // The history sent on joining (its last line)...
    const joined = page.locator('#log li.history', { hasText: 'and the notes at' });
    await joined.waitFor();
    expect(await joined.locator('a').getAttribute('href', { timeout: 5_000 })).toBe('https://www.example.org/notes');
    // ...and an answer to /history.
    await say(page, '/history');
    const paged = page.locator('#log li.history', { hasText: 'the spec is at' });
    await paged.waitFor();
    expect(await paged.locator('a').getAttribute('href', { timeout: 5_000 })).toBe('https://example.org/spec.html');
    expect(await paged.locator('a').getAttribute('rel')).toBe('noopener noreferrer');
    expect(problems).toEqual([]);
    lib.send('/quit');
    expect(await lib.exit()).toBe(0);
    await say(page, '/quit');
    await page.context().close();
  });

  it('a right-to-left nick is isolated from the text around it', async () => {
    const ali = await terminal(server.port, 'علي', tempDir('term-bidi'), procs);
    ali.send('/join #majlis');
    await ali.waitFor(/^\* you are in #majlis/);
    ali.send('أهلا بكم all');
    await ali.waitFor(/^<علي> أهلا/);
    const { page, problems } = await openPage(browser, server.httpPort);
    await joinAs(page, 'guest');
    await say(page, '/join #majlis');
    const old = page.locator('#log li.history', { hasText: 'أهلا بكم all' });
    await old.waitFor();
    ali.send('مرحبا hello');
    const live = page.locator('#log li.msg', { hasText: 'مرحبا hello' });
    await live.waitFor();
    // The nick's own element isolates it (<bdi>, or unicode-bidi: isolate), so the line reads <nick> text.
    const isolation = (li: Element) => {
      const nick = Array.from(li.querySelectorAll('*')).find((e) => e.textContent === 'علي');
      return nick ? getComputedStyle(nick).unicodeBidi : 'no element holds the nick alone';
    };
    expect(await live.evaluate(isolation)).toMatch(/^isolate/);
    expect(await old.evaluate(isolation)).toMatch(/^isolate/);
    await page.screenshot({ path: join(ARTIFACTS, 'chat-page-bidi.png') });
    expect(problems).toEqual([]);
    ali.send('/quit');
    expect(await ali.exit()).toBe(0);
    await say(page, '/quit');
    await page.context().close();
  });

  it('a registered nick’s refusal points at the Password field, not at the terminal’s options', async () => {
    const hana = await terminal(server.port, 'hana', tempDir('term-hana'), procs, ['--allow-plain-passwords']);
    hana.send('/register correcthorse42');
    await hana.waitFor('* hana is registered');
    hana.send('/quit');
    expect(await hana.exit()).toBe(0);
    const { page, problems } = await openPage(browser, server.httpPort);
    await page.fill('#nick', 'hana');
    await page.click('#join');
    const refusal = page.locator('#join-error', { hasText: 'NICK_REGISTERED' });
    await refusal.waitFor();
    expect(await refusal.innerText()).toContain('Password field');
    expect(await refusal.innerText()).not.toMatch(/chat-client|--password|CHAT_PASSWORD/);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('nick-password');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('a line over the server’s limit is kept in the box and explained, not cut', async () => {
    const { page, problems } = await openPage(browser, server.httpPort);
    await joinAs(page, 'typist');
    const long = 'x'.repeat(40_000);
    await page.fill('#input', long);
    expect((await page.inputValue('#input')).length).toBe(40_000);
    const hint = page.locator('#input-hint');
    await hint.waitFor({ timeout: 5_000 });
    expect(await hint.innerText()).toMatch(/40,000 bytes.*32,512/);
    await page.press('#input', 'Enter');
    await logLine(page, '! message too long').waitFor();
    expect((await page.inputValue('#input')).length).toBe(40_000);
    await page.fill('#input', 'short again');
    await hint.waitFor({ state: 'hidden' });
    await page.press('#input', 'Enter');
    await logLine(page, '<typist> short again').waitFor();
    expect(problems).toEqual([]);
    await say(page, '/quit');
    await page.context().close();
  });

  it('plain http:// to the TLS web port is redirected to https://, and the browser follows', async () => {
    const secure = await startServer(['--workers', '1', '--tls', 'auto']);
    procs.push(secure);
    const port = secure.httpPort!;
    const answer = await new Promise<{ status: number; location?: string; body: string }>((resolve, reject) => {
      const req = get({ host: '127.0.0.1', port, path: '/admin?x=1', timeout: 5_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
      req.on('error', reject);
    });
    expect(answer).toMatchObject({ status: 308, location: `https://127.0.0.1:${port}/admin?x=1` });
    expect(answer.body).toContain(`https://127.0.0.1:${port}/`);
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    expect(page.url()).toBe(`https://127.0.0.1:${port}/`);
    await page.locator('#join-form').waitFor();
    await context.close();
  });
});
