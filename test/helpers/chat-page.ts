/**
 * The chat page in a real browser for end-to-end tests: Debian's chromium
 * driven by playwright-core, a page opened on a test server's web port and
 * joined with a nick, its problems (script errors, console errors, dialogs)
 * collected, and what a reader sees of the log measured.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT, CLIENT_JS, LineProcess } from './processes.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'test/artifacts');

/** `args`: more of chromium's switches (--host-resolver-rules, say). */
export async function launchChromium(args: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (bash scripts/ensure-test-packages.sh)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-sync',
      // A wheel scrolls at once, so the test sees where it ends without waiting out an animation.
      '--disable-smooth-scrolling',
      ...args,
    ],
  });
}

/** A page on the chat page (not joined yet), in a context of its own; problems it shows are collected. */
export async function openPage(browser: Browser, httpPort: number): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/WebSocket connection .* failed/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await page.goto(`http://127.0.0.1:${httpPort}/`);
  return { page, problems };
}

/** Joins from the form as nick and waits until the page says it is online. */
export async function joinAs(page: Page, nick: string): Promise<void> {
  await page.fill('#nick', nick);
  await page.click('#join');
  await page.locator('#status', { hasText: `online as ${nick}` }).waitFor();
}

export const logLine = (page: Page, text: string) => page.locator('#log li', { hasText: text });

/** What the log's scrolling looks like: where it is, and whether the newest line is in view. */
export function logScroll(page: Page): Promise<{ top: number; height: number; view: number; atBottom: boolean }> {
  return page.evaluate(() => {
    const log = document.getElementById('log')!;
    return {
      top: log.scrollTop,
      height: log.scrollHeight,
      view: log.clientHeight,
      atBottom: Math.abs(log.scrollTop + log.clientHeight - log.scrollHeight) <= 2,
    };
  });
}

/** A terminal client in the tests' usual way (plain TCP), waited for until connected. */
export async function terminal(
  port: number,
  nick: string,
  cwd: string,
  procs: LineProcess[],
  extra: string[] = [],
): Promise<LineProcess> {
  const args = [CLIENT_JS, '--host', '127.0.0.1', '--port', String(port), '--nick', nick, ...extra];
  const c = new LineProcess(`client ${nick}`, args, { cwd });
  procs.push(c);
  await c.waitFor(/^\* connected to /);
  return c;
}
