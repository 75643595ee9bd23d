/**
 * The chat page's session in a real browser (chromium): where the log is
 * after switching rooms and when lines come while the reader is scrolled up;
 * Join again after /quit and after a kick; a reload (F5) that resumes the
 * session and its rooms, and a closed tab that leaves only after the resume
 * window; Send while the page is reconnecting. A terminal client watches
 * what the others are told.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, joinAs, launchChromium, logLine, logScroll, openPage, terminal } from '../helpers/chat-page.js';
import { startServer, stopAll, tempDir, type LineProcess, type ServerHandle } from '../helpers/processes.js';

const RESUME_WINDOW_MS = 5_000;

let browser: Browser;
let server: ServerHandle & { httpPort: number };
const procs: LineProcess[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  server = (await startServer([
    '--workers',
    '2',
    '--heartbeat-interval',
    '500ms',
    '--heartbeat-timeout',
    '2s',
    '--resume-window',
    `${RESUME_WINDOW_MS}ms`,
    '--flood-burst',
    '300',
    '--flood-rate',
    '100',
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
const current = (page: Page, room: string) => page.locator('#rooms li.current', { hasText: room }).waitFor();

describe('the chat page’s session (chromium)', () => {
  it('switching rooms shows the newest lines and sticks to them; a new-messages marker only once the reader scrolled up', async () => {
    const { page, problems } = await openPage(browser, server.httpPort);
    await joinAs(page, 'ana');
    const tom = await terminal(server.port, 'tom', tempDir('term-scroll'), procs);
    await logLine(page, '* tom joined').waitFor();
    for (let i = 1; i <= 60; i++) tom.send(`lobby line ${i}`);
    await logLine(page, '<tom> lobby line 60').waitFor();
    const filled = await logScroll(page);
    expect(filled.height).toBeGreaterThan(2 * filled.view);
    expect(filled.atBottom).toBe(true);

    // To #lab and back, by the Rooms panel and by /room: the newest lobby lines are in view each time.
    await say(page, '/join #lab');
    await current(page, '#lab');
    await page.locator('#rooms button', { hasText: '#lobby' }).click();
    await current(page, '#lobby');
    expect(await logScroll(page)).toMatchObject({ atBottom: true });
    await say(page, '/room #lab');
    await current(page, '#lab');
    await say(page, '/room #lobby');
    await current(page, '#lobby');
    expect(await logScroll(page)).toMatchObject({ atBottom: true });

    // At the bottom, a new line keeps the view there and no marker shows.
    tom.send('lobby line 61');
    await logLine(page, '<tom> lobby line 61').waitFor();
    expect(await logScroll(page)).toMatchObject({ atBottom: true });
    expect(await page.locator('#new-lines').isVisible()).toBe(false);

    // Scrolled up, the view stays where the reader put it and the marker says there is more below.
    await page.hover('#log');
    await page.mouse.wheel(0, -2000);
    await page.waitForFunction(() => {
      const log = document.getElementById('log')!;
      return log.scrollTop + log.clientHeight < log.scrollHeight - 200;
    });
    const up = await logScroll(page);
    tom.send('lobby line 62');
    await page.locator('#new-lines').waitFor({ timeout: 10_000 });
    expect((await logScroll(page)).top).toBe(up.top);
    await page.screenshot({ path: join(ARTIFACTS, 'chat-page-new-lines.png') });
    await page.click('#new-lines');
    await page.locator('#new-lines').waitFor({ state: 'hidden' });
    expect(await logScroll(page)).toMatchObject({ atBottom: true });

    // One's own line always brings the view down to it.
    await page.hover('#log');
    await page.mouse.wheel(0, -2000);
    await page.waitForFunction(() => {
      const log = document.getElementById('log')!;
      return log.scrollTop + log.clientHeight < log.scrollHeight - 200;
    });
    await say(page, 'my own line');
    await logLine(page, '<ana> my own line').waitFor();
    expect(await logScroll(page)).toMatchObject({ atBottom: true });
    expect(problems).toEqual([]);
    tom.send('/quit');
    expect(await tom.exit()).toBe(0);
    await say(page, '/quit');
    await page.context().close();
  });

  it('Join again, in view at the end of the log, logs in afresh after /quit and after a kick', async () => {
    const { page, problems } = await openPage(browser, server.httpPort);
    await joinAs(page, 'quitter');
    for (let i = 0; i < 4; i++) await say(page, '/help');
    await say(page, '/quit');
    await page.locator('#status', { hasText: 'not connected' }).waitFor();
    const again = page.locator('#log button', { hasText: 'Join again' });
    await again.waitFor();
    const [button, log] = [(await again.boundingBox())!, (await page.locator('#log').boundingBox())!];
    await again.click();
    await page.locator('#status', { hasText: 'online as quitter' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#send').isDisabled()).toBe(false);
    await say(page, 'back after quitting');
    await logLine(page, '<quitter> back after quitting').waitFor();
    // The button was wholly in view, not half below the log's edge.
    expect(button.y).toBeGreaterThanOrEqual(log.y);
    expect(button.y + button.height).toBeLessThanOrEqual(log.y + log.height);

    server.send('/kick quitter enough for now');
    await logLine(page, 'the server said goodbye: kicked: enough for now').waitFor();
    await page.locator('#status', { hasText: 'not connected' }).waitFor();
    await page.locator('#log button', { hasText: 'Join again' }).click();
    await page.locator('#status', { hasText: 'online as quitter' }).waitFor({ timeout: 10_000 });
    await say(page, 'back after the kick');
    await logLine(page, '<quitter> back after the kick').waitFor();
    expect(problems).toEqual([]);
    await say(page, '/quit');
    await page.context().close();
  });

  it('a reload (F5) resumes the session and its rooms: nobody is told it left', async () => {
    const obs = await terminal(server.port, 'obs', tempDir('term-reload'), procs);
    obs.send('/join #lab');
    await obs.waitFor(/^\* you are in #lab/);
    const { page, problems } = await openPage(browser, server.httpPort);
    await joinAs(page, '小红');
    await say(page, '/join #lab');
    await current(page, '#lab');
    await obs.waitFor(/^\* 小红 joined$/);
    await say(page, 'before the reload');
    await obs.waitFor('<小红> before the reload');

    const from = obs.lines.length;
    await page.reload();
    await page.locator('#status', { hasText: 'online as 小红' }).waitFor({ timeout: 10_000 });
    await current(page, '#lab');
    expect(await page.locator('#rooms li').allInnerTexts()).toEqual(['#lobby', '#lab']);
    // What was said before the reload is shown again, above what comes after it.
    await logLine(page, '<小红> before the reload').waitFor();
    obs.send('after the reload');
    await logLine(page, '<obs> after the reload').waitFor();
    // While the page is open its resume token is in memory only.
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    // Still in #lab: its line reaches the room; by then any notice of its leaving would have come first.
    await say(page, 'marker after the reload');
    await obs.waitFor('<小红> marker after the reload', 10_000, from);
    expect(obs.lines.slice(from).filter((l) => /小红 (left|joined|timed out|was kicked)/.test(l))).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'chat-page-reloaded.png') });
    expect(problems).toEqual([]);
    await say(page, '/quit');
    await obs.waitFor('* 小红 left', 10_000, from);
    obs.send('/quit');
    expect(await obs.exit()).toBe(0);
    await page.context().close();
  });

  it('closing the tab leaves only when the resume window ends', async () => {
    const obs = await terminal(server.port, 'watcher', tempDir('term-close'), procs);
    const { page } = await openPage(browser, server.httpPort);
    await joinAs(page, 'leaver');
    await obs.waitFor('* leaver joined');
    const from = obs.lines.length;
    const closedAt = Date.now();
    await page.close();
    await obs.waitFor(/^\* leaver lost connection$/, 10_000, from);
    await obs.waitFor(/^\* leaver timed out$/, RESUME_WINDOW_MS + 10_000, from);
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(RESUME_WINDOW_MS - 500);
    expect(obs.lines.slice(from).filter((l) => l.includes('leaver left'))).toEqual([]);
    obs.send('/quit');
    expect(await obs.exit()).toBe(0);
  }, 40_000);

  it('Send is disabled while the page reconnects (typing is not), and enabled once the session is back', async () => {
    const obs = await terminal(server.port, 'nightowl', tempDir('term-freeze'), procs);
    const { page } = await openPage(browser, server.httpPort);
    await joinAs(page, 'sleeper');
    await obs.waitFor('* sleeper joined');
    await page.locator('#beat', { hasText: /heartbeat #\d+ answered/ }).waitFor();
    // Each time the status changes, what the message box and Send are then.
    await page.evaluate(() => {
      const states: Array<{ status: string; send: boolean; input: boolean }> = [];
      (window as unknown as { __states: typeof states }).__states = states;
      const status = document.getElementById('status')!;
      new MutationObserver(() =>
        states.push({
          status: status.textContent ?? '',
          send: (document.getElementById('send') as HTMLButtonElement).disabled,
          input: (document.getElementById('input') as HTMLInputElement).disabled,
        }),
      ).observe(status, { childList: true, characterData: true, subtree: true });
    });
    // Frozen (its script paused), the tab answers no heartbeat and the server drops its connection.
    const from = obs.lines.length;
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Debugger.enable');
    await cdp.send('Debugger.pause');
    await obs.waitFor(/^\* sleeper lost connection$/, 15_000, from);
    await cdp.send('Debugger.resume');
    await obs.waitFor(/^\* sleeper is back$/, 15_000, from);
    await page.waitForFunction(() => {
      const states = (window as unknown as { __states: Array<{ status: string }> }).__states;
      return states.at(-1)?.status.startsWith('online');
    });
    const states = await page.evaluate(
      () => (window as unknown as { __states: Array<{ status: string; send: boolean; input: boolean }> }).__states,
    );
    const reconnecting = states.filter((s) => s.status.startsWith('reconnecting'));
    expect(reconnecting.length).toBeGreaterThan(0);
    expect(reconnecting.every((s) => s.send && !s.input)).toBe(true);
    expect(states.at(-1)).toMatchObject({ send: false, input: false });
    await say(page, '/quit');
    obs.send('/quit');
    expect(await obs.exit()).toBe(0);
    await page.context().close();
  });
});
