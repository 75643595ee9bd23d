/**
 * The chat page and the dashboard in a real browser: Debian's chromium driven
 * by playwright-core, next to a terminal client and an LFTP transfer.
 * Screenshots go to test/artifacts/ for people to look at.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  CLIENT_JS,
  LineProcess,
  ROOT,
  runLftpClient,
  startServer,
  stopAll,
  tempDir,
  type ServerHandle,
} from '../helpers/processes.js';
import { WsClient } from '../helpers/raw-client.js';
import { startRelay, NO_IMPAIRMENT, type Relay } from '../relay/relay.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = join(ROOT, 'test/artifacts');
const ADMIN_TOKEN = 'browser-test-token';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let browser: Browser;
let server: ServerHandle & { httpPort: number };
let files: string;
const procs: LineProcess[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); npm test does it when run as root`,
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
  files = tempDir('browser-files');
  server = (await startServer([
    '--workers',
    '2',
    '--files',
    files,
    '--admin-token',
    ADMIN_TOKEN,
    '--heartbeat-interval',
    '500ms',
    '--heartbeat-timeout',
    '2s',
  ])) as typeof server;
  procs.push(server);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stopAll(...procs);
});

async function terminal(nick: string, cwd: string): Promise<LineProcess> {
  const c = new LineProcess(
    `client ${nick}`,
    [CLIENT_JS, '--host', '127.0.0.1', '--port', String(server.port), '--nick', nick],
    { cwd },
  );
  procs.push(c);
  await c.waitFor(/^\* connected to /);
  return c;
}

/** Opens the chat page and joins as nick; collects console errors and dialogs (an alert would mean XSS). */
async function joinInBrowser(nick: string): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 }, acceptDownloads: true });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  await page.goto(`http://127.0.0.1:${server.httpPort}/`);
  await page.fill('#nick', nick);
  await page.click('#join');
  await page.waitForSelector('#chat-view:not([hidden])');
  await page.locator('#status', { hasText: `online as ${nick}` }).waitFor();
  return { page, problems };
}

const logLine = (page: Page, text: string) => page.locator('#log li', { hasText: text });

describe('in a real browser (chromium)', () => {
  it('a browser user and a terminal user chat both ways; markup arrives as text', async () => {
    const termDir = tempDir('term');
    const { page, problems } = await joinInBrowser('webuser');
    const term = await terminal('termuser', termDir);
    await logLine(page, '* termuser joined').waitFor();

    await page.fill('#input', 'hello from chromium');
    await page.click('#send');
    await term.waitFor('<webuser> hello from chromium');

    term.send('hello from the terminal');
    await logLine(page, '<termuser> hello from the terminal').waitFor();

    const xss = '<img src=x onerror=alert(1)>';
    term.send(xss);
    const line = logLine(page, `<termuser> ${xss}`);
    await line.waitFor();
    expect(await line.innerText()).toContain(xss);
    expect(await page.locator('#log img').count()).toBe(0);

    await page.fill('#input', '/me waves');
    await page.press('#input', 'Enter');
    await term.waitFor('* webuser waves');
    await page.fill('#input', '/msg termuser a secret');
    await page.press('#input', 'Enter');
    await term.waitFor('*webuser* a secret');
    await logLine(page, '-> *termuser* a secret').waitFor();

    // Chinese both ways, so the screenshots show it (Debian's fonts-noto-cjk is installed with chromium).
    term.send('大家好，今天下午三点开会 👋');
    await logLine(page, '<termuser> 大家好，今天下午三点开会 👋').waitFor();
    await page.fill('#input', '收到，谢谢！');
    await page.press('#input', 'Enter');
    await term.waitFor('<webuser> 收到，谢谢！');

    // Both nicks in the People list, with heartbeat RTTs once measured.
    await page.locator('#who li', { hasText: 'termuser' }).waitFor();
    await page.locator('#who li', { hasText: 'webuser (you)' }).waitFor();
    await page.locator('#beat', { hasText: /heartbeat #\d+ answered/ }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'chat-page.png'), fullPage: true });

    // On a phone-sized screen the page still fits: no horizontal scrolling.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'chat-page-phone.png'), fullPage: true });

    expect(problems).toEqual([]);
    // Leaving is /quit (a closed tab leaves only when the resume window ends: web-page-session.test.ts).
    await page.fill('#input', '/quit');
    await page.press('#input', 'Enter');
    await term.waitFor('* webuser left');
    await page.context().close();
    term.send('/quit');
    expect(await term.exit()).toBe(0);
  }, 60_000);

  it("the join form and /nick apply the nick rule: a reason before sending, the server's refusal of a look-alike, a Chinese nick", async () => {
    const term = await terminal('alice', tempDir('term'));
    const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${server.httpPort}/`);
    await page.fill('#nick', '\u0430lice'); // Cyrillic а: refused by the page itself
    await page.click('#join');
    await page.locator('#join-error', { hasText: 'cannot mix Cyrillic and Latin letters' }).waitFor();
    expect(await page.locator('#join-view').isVisible()).toBe(true);
    await page.fill('#nick', 'aIice'); // capital I: only the server knows who is online
    await page.click('#join');
    await page
      .locator('#join-error', { hasText: 'NICK_TAKEN: nick aIice is taken: it looks like alice, who is online' })
      .waitFor();
    await page.fill('#nick', '王芳');
    await page.click('#join');
    await page.locator('#status', { hasText: 'online as 王芳' }).waitFor();
    await term.waitFor('* 王芳 joined');
    await page.fill('#input', '/nick bad\u200bname');
    await page.press('#input', 'Enter');
    await logLine(page, '! invalid nick: U+200B is invisible').waitFor();
    await context.close();
    term.send('/quit');
    expect(await term.exit()).toBe(0);
  }, 60_000);

  it('what a person notices: mentions, notifications and unread counts in the background, links, history and Tab, the nick remembered', async () => {
    const termDir = tempDir('term-notice');
    const { page, problems } = await joinInBrowser('mei');
    const context = page.context();
    await context.grantPermissions(['notifications'], { origin: `http://127.0.0.1:${server.httpPort}` });
    // Record what the page asks the browser to show (headless chromium has no desktop to show it on).
    await page.evaluate(() => {
      const notes: Array<{ title: string; body: string }> = [];
      (window as unknown as { __notes: typeof notes }).__notes = notes;
      const Real = window.Notification;
      class Recording extends Real {
        constructor(title: string, opts?: NotificationOptions) {
          super(title, opts);
          notes.push({ title, body: opts?.body ?? '' });
        }
      }
      Object.defineProperty(window, 'Notification', { value: Recording });
    });
    const term = await terminal('lei', termDir);
    await logLine(page, '* lei joined').waitFor();

    // A mention of mei is marked; a line that does not mention her is not.
    term.send('mei, the report is at https://example.org/report?id=7. Also javascript:alert(1) and www.example.com');
    const line = logLine(page, 'the report is at');
    await line.waitFor();
    expect(await line.getAttribute('class')).toContain('mentioned');
    expect(await line.locator('mark.mention').innerText()).toBe('mei');
    const links = line.locator('a');
    expect(await links.count()).toBe(2);
    expect(await links.nth(0).getAttribute('href')).toBe('https://example.org/report?id=7');
    expect(await links.nth(0).getAttribute('rel')).toBe('noopener noreferrer');
    expect(await links.nth(1).getAttribute('href')).toBe('https://www.example.com/');
    expect(await line.innerText()).toContain('javascript:alert(1)');
    term.send('nothing for her here');
    expect(await logLine(page, 'nothing for her here').getAttribute('class')).not.toContain('mentioned');

    // In the background: the title counts unread lines, and a mention or a direct message notifies.
    // Headless chromium keeps every page visible, so the tab's going to the background is played
    // the way the browser signals it: document.hidden and a visibilitychange event.
    const setHidden = (hidden: boolean) =>
      page.evaluate((h) => {
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
        Object.defineProperty(document, 'visibilityState', {
          configurable: true,
          get: () => (h ? 'hidden' : 'visible'),
        });
        document.dispatchEvent(new Event('visibilitychange'));
      }, hidden);
    await setHidden(true);
    term.send('one');
    term.send('two, mei');
    term.send('/msg mei a private word');
    await page.waitForFunction(() => document.title === '(3) heartbeat-chat');
    const notes = await page.evaluate(() => (window as unknown as { __notes: unknown[] }).__notes);
    expect(notes).toEqual([
      { title: 'lei in heartbeat-chat', body: 'two, mei' },
      { title: 'lei in heartbeat-chat', body: 'a private word' },
    ]);
    await setHidden(false);
    await page.waitForFunction(() => document.title === 'heartbeat-chat');

    // Up recalls what was sent; Tab completes a nick and a command.
    await page.fill('#input', 'first line');
    await page.press('#input', 'Enter');
    await term.waitFor('<mei> first line');
    await page.press('#input', 'ArrowUp');
    expect(await page.inputValue('#input')).toBe('first line');
    await page.locator('#who li', { hasText: 'lei' }).waitFor();
    await page.fill('#input', 'le');
    await page.press('#input', 'Tab');
    expect(await page.inputValue('#input')).toBe('lei: ');
    await page.fill('#input', '/wh');
    await page.press('#input', 'Tab');
    expect(await page.inputValue('#input')).toBe('/who ');
    // No maxlength: a paste over the protocol's text limit is kept and explained, not cut (web-page-details.test.ts).
    expect(await page.locator('#input').getAttribute('maxlength')).toBeNull();

    // The People list keeps measuring: lei's idle time grows without anyone asking.
    const idle = async () => (await page.locator('#who li', { hasText: 'lei' }).innerText()).match(/idle ([^,]+)/)?.[1];
    const before = await idle();
    await page.waitForFunction(
      (b) =>
        Array.from(document.querySelectorAll('#who li')).some(
          (li) => li.textContent?.includes('lei') && !li.textContent.includes(`idle ${b},`),
        ),
      before,
      { timeout: 15_000 },
    );
    await page.screenshot({ path: join(ARTIFACTS, 'chat-page-mentions.png'), fullPage: true });

    // Disconnected: nothing can be sent, and the People list is not left showing everyone.
    await page.fill('#input', '/quit');
    await page.press('#input', 'Enter');
    await page.locator('#status', { hasText: 'not connected' }).waitFor();
    expect(await page.locator('#send').isDisabled()).toBe(true);
    expect(await page.locator('#input').isDisabled()).toBe(true);
    expect(await page.locator('#who li').count()).toBe(0);

    // The nick is remembered for next time.
    const again = await context.newPage();
    await again.goto(`http://127.0.0.1:${server.httpPort}/`);
    expect(await again.inputValue('#nick')).toBe('mei');
    expect(problems).toEqual([]);
    await context.close();
    term.send('/quit');
    expect(await term.exit()).toBe(0);
  }, 60_000);

  it('rooms on the page: a list to switch, unread counts, the history on joining with its separator, /part', async () => {
    const termDir = tempDir('term-rooms');
    const { page, problems } = await joinInBrowser('ana');
    await page.locator('#rooms li.current', { hasText: '#lobby' }).waitFor();
    const term = await terminal('tom', termDir);
    term.send('/join #lab');
    await term.waitFor(/^\* you are in #lab/);
    term.send('lab line one');
    await term.waitFor(/^<tom> lab line one$/);
    await page.fill('#input', '/join #lab');
    await page.click('#send');
    await page.locator('#rooms li.current', { hasText: '#lab' }).waitFor();
    // What was said before she came, dated, then the separator.
    const old = page.locator('#log li.history', { hasText: '<tom> lab line one' });
    await old.waitFor();
    await page.locator('#log li.separator', { hasText: '#lab: earlier messages above, live from here' }).waitFor();
    expect(await page.getAttribute('#input', 'placeholder')).toContain('in #lab');
    // Back to the lobby: the lab's lines are hidden and a new one counts as unread.
    await page.locator('#rooms button', { hasText: '#lobby' }).click();
    await page.locator('#rooms li.current', { hasText: '#lobby' }).waitFor();
    expect(await old.isHidden()).toBe(true);
    term.send('lab line two');
    const badge = page.locator('#rooms li', { hasText: '#lab' }).locator('.badge');
    await expect.poll(() => badge.innerText(), { timeout: 5000 }).toBe('1');
    await page.fill('#input', 'to the lobby');
    await page.click('#send');
    await term.waitFor(/^\[#lobby\] <ana> to the lobby$/);
    await page.locator('#rooms button', { hasText: '#lab' }).click();
    expect(await badge.isHidden()).toBe(true);
    await logLine(page, 'lab line two').waitFor();
    await page.fill('#input', '/part #lab');
    await page.click('#send');
    await logLine(page, '* you left #lab').waitFor();
    expect(await page.locator('#rooms li', { hasText: '#lab' }).count()).toBe(0);
    expect(problems).toEqual([]);
    term.send('/quit');
    expect(await term.exit()).toBe(0);
    await page.context().close();
  });

  it('a browser upload is fetched byte-identical by a terminal /get; a browser download matches too', async () => {
    const termDir = tempDir('term-get');
    const { page, problems } = await joinInBrowser('sharer');
    const term = await terminal('fetcher', termDir);
    const data = randomBytes(2 * 1024 * 1024 + 99);
    const src = join(tempDir('upload-src'), 'photo.raw');
    writeFileSync(src, data);

    await page.setInputFiles('#upload', src);
    await term.waitFor('* sharer shared photo.raw (2.00 MiB)', 30_000);
    await logLine(page, '* sharer shared photo.raw').waitFor();
    await page.locator('#files li', { hasText: 'photo.raw' }).waitFor();

    term.send('/get photo.raw');
    await term.waitFor(/^transfer complete: photo\.raw /, 60_000);
    expect(sha(readFileSync(join(termDir, 'downloads', 'photo.raw')))).toBe(sha(data));

    // And back: the browser downloads it over HTTP with a ticket.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#files li', { hasText: 'photo.raw' }).locator('button').click(),
    ]);
    const saved = join(tempDir('browser-dl'), 'photo.raw');
    await download.saveAs(saved);
    expect(sha(readFileSync(saved))).toBe(sha(data));
    expect(problems).toEqual([]);
    await page.context().close();
  }, 90_000);

  it('a frozen tab loses its connection at the heartbeat timeout and, thawed, resumes with what it missed', async () => {
    const term = await terminal('observer', tempDir('term-obs'));

    // Frozen: its socket stays open but no script runs (the page's JavaScript is paused through the
    // DevTools protocol, as a hung or frozen tab would be), so no heartbeat is answered.
    const { page: frozen } = await joinInBrowser('sleeper');
    await term.waitFor('* sleeper joined');
    await frozen.locator('#beat', { hasText: /heartbeat #\d+ answered/ }).waitFor();
    const cdp = await frozen.context().newCDPSession(frozen);
    await cdp.send('Debugger.enable');
    const t0 = Date.now();
    await cdp.send('Debugger.pause');
    await term.waitFor(/^\* sleeper lost connection$/, 15_000);
    const dropMs = Date.now() - t0;
    // Timeout 2 s, interval 0.5 s: dropped between the timeout and timeout + interval (plus a tick), measured here.
    expect(dropMs).toBeGreaterThan(1_400);
    expect(dropMs).toBeLessThan(6_000);
    console.log(`frozen tab dropped ${dropMs} ms after freezing (timeout 2 s, interval 0.5 s)`);
    // Said while it was frozen and gone: the thawed page reconnects by itself and shows each line once.
    for (const line of ['missed one', 'missed two', 'missed three']) {
      term.send(line);
      await term.waitFor(`<observer> ${line}`);
    }
    await cdp.send('Debugger.resume');
    await logLine(frozen, '* reconnected: 3 missed messages').waitFor({ timeout: 20_000 });
    await term.waitFor(/^\* sleeper is back$/);
    term.send('live after');
    await logLine(frozen, '<observer> live after').waitFor();
    for (const line of ['missed one', 'missed two', 'missed three'])
      expect(await logLine(frozen, `<observer> ${line}`).count()).toBe(1);
    await frozen.locator('#status', { hasText: 'online as sleeper' }).waitFor();
    await frozen.context().close();
  }, 40_000);

  it('the dashboard shows TCP and WebSocket sessions and a running transfer’s cwnd chart', async () => {
    const term = await terminal('dash-term', tempDir('term-dash'));
    const { page: chat } = await joinInBrowser('dash-web');

    // A transfer slow enough to watch: 12 MiB through the fault relay at 3 MB/s with a short queue, so cwnd meets loss.
    const data = randomBytes(12 * 1024 * 1024);
    writeFileSync(join(files, 'big.bin'), data);
    const ticketPeer = await WsClient.connect(server.httpPort);
    ticketPeer.send({ type: 'HELLO', version: 1, nick: 'ticketer' });
    await ticketPeer.waitFor((m) => m.type === 'WELCOME');
    ticketPeer.send({ type: 'TICKET_REQUEST', id: 1, op: 'get', name: 'big.bin' });
    const t = await ticketPeer.waitFor((m) => m.type === 'TICKET');
    if (t.type !== 'TICKET' || !t.ok) throw new Error(`no ticket: ${JSON.stringify(t)}`);
    const link = { ...NO_IMPAIRMENT, delayMs: 5, rateBps: 3_000_000, queueLimit: 64 };
    const relay: Relay = await startRelay({
      listenHost: '127.0.0.1',
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: t.port,
      seed: 7,
      up: { ...NO_IMPAIRMENT, delayMs: 5 },
      down: link,
    });
    const dest = join(tempDir('dash-dl'), 'big.bin');
    const transfer = runLftpClient(
      ['get', `127.0.0.1:${relay.port}`, 'big.bin', dest, '--ticket', t.ticket, '--ticket-key', t.key],
      { timeoutMs: 90_000 },
    );

    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      httpCredentials: { username: 'operator', password: ADMIN_TOKEN },
    });
    const admin = await context.newPage();
    const problems: string[] = [];
    admin.on('pageerror', (e) => problems.push(e.message));
    await admin.goto(`http://127.0.0.1:${server.httpPort}/admin`);
    await admin.locator('#status', { hasText: 'live' }).waitFor();
    await admin.locator('#sessions tr[data-nick="dash-term"]', { hasText: 'tcp' }).waitFor();
    await admin.locator('#sessions tr[data-nick="dash-web"]', { hasText: 'ws' }).waitFor();
    const card = admin.locator('[data-transfer]', { hasText: 'get big.bin' });
    await card.waitFor({ timeout: 15_000 });
    // Let a few samples accumulate while it runs, then check the chart has drawn lines on the canvas.
    await admin.waitForFunction(
      () => {
        const head = document.querySelector('[data-transfer] .small')?.textContent ?? '';
        return /cwnd \d/.test(head) && /\((\d+)%\)/.test(head) && Number(/\((\d+)%\)/.exec(head)![1]) >= 15;
      },
      undefined,
      { timeout: 30_000 },
    );
    const inked = await card
      .locator('canvas')
      .first()
      .evaluate((c: HTMLCanvasElement) => {
        const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let blue = 0;
        for (let i = 0; i < px.length; i += 4) if (px[i + 2]! > 180 && px[i]! < 90 && px[i + 3]! > 0) blue++;
        return blue;
      });
    expect(inked).toBeGreaterThan(50); // the cwnd line (blue) is drawn
    // Beside it the sequence picture: delivered (green) and farthest sent (blue) against time; losses in red.
    const seqInk = await card.locator('canvas.seq').evaluate((c: HTMLCanvasElement) => {
      const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let green = 0;
      let blue = 0;
      for (let i = 0; i < px.length; i += 4) {
        if (px[i + 3]! === 0) continue;
        if (px[i + 1]! > 130 && px[i]! < 60 && px[i + 2]! < 110) green++;
        if (px[i + 2]! > 180 && px[i]! < 90) blue++;
      }
      return { green, blue };
    });
    expect(seqInk.green).toBeGreaterThan(30);
    expect(seqInk.blue).toBeGreaterThan(30);
    // Each session's heartbeat RTT over time, once it has two samples.
    await admin.locator('#sessions tr[data-nick="dash-term"] svg.rtt-spark path').waitFor({ timeout: 20_000 });
    expect(await card.innerText()).not.toContain('done');
    await admin.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });

    // On a phone the sessions table fits: RTT, idle and Kick are on screen without scrolling sideways
    // (they were cut off after "address"); transport, worker and address are left out there.
    const desktop = admin.viewportSize()!;
    await admin.setViewportSize({ width: 390, height: 844 });
    expect(await admin.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    const wrap = admin.locator('.table-wrap').first();
    expect(await wrap.evaluate((w) => w.scrollWidth <= w.clientWidth + 1)).toBe(true);
    const kick = admin.locator('#sessions tr[data-nick="dash-web"] button', { hasText: 'Kick' });
    const box = (await kick.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(await admin.locator('#sessions-table th', { hasText: /^RTT$/ }).isVisible()).toBe(true);
    await admin.screenshot({ path: join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true });
    await admin.setViewportSize(desktop);

    // The broadcast box reaches the terminal user.
    await admin.fill('#broadcast', 'dashboard says hi');
    await admin.click('#broadcast-send');
    await term.waitFor('[server] dashboard says hi');
    await chat.locator('#log li', { hasText: '[server] dashboard says hi' }).waitFor();

    const r = await transfer;
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(sha(readFileSync(dest))).toBe(sha(data));
    await card.locator('text=done').waitFor({ timeout: 10_000 });

    // A kick button (after the confirmation dialog) removes the browser user; everyone sees it.
    admin.once('dialog', (d) => void d.accept());
    await admin.locator('#sessions tr[data-nick="dash-web"] button', { hasText: 'Kick' }).click();
    await term.waitFor('* dash-web was kicked (by the operator)');
    await chat.locator('#log li', { hasText: 'the server said goodbye: kicked: by the operator' }).waitFor();
    await chat.locator('#status', { hasText: 'not connected' }).waitFor();
    await admin.locator('#sessions tr[data-nick="dash-web"]').waitFor({ state: 'detached' });
    expect(problems).toEqual([]);
    ticketPeer.destroy();
    await relay.close();
    await context.close();
    await chat.context().close();
  }, 120_000);
});
