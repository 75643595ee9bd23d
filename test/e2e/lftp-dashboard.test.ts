/**
 * The standalone `chat-server lftp` shows the operator dashboard too
 * (--admin-token): a running transfer's cwnd chart and sequence picture in
 * chromium, behind the same authentication as the chat server's.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { ROOT, runLftpClient, startLftpServer, stopAll, tempDir, type LineProcess } from '../helpers/processes.js';
import { NO_IMPAIRMENT, startRelay } from '../relay/relay.js';

const CHROMIUM = '/usr/bin/chromium';
const ADMIN = 'lftp-dashboard-token';
const procs: LineProcess[] = [];
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  await stopAll(...procs);
});

describe('chat-server lftp --admin-token', () => {
  it('serves the dashboard: a running transfer with its charts; no broadcast box; the token is required', async () => {
    const files = tempDir('lftp-dash');
    writeFileSync(join(files, 'slow.bin'), randomBytes(6 * 1024 * 1024));
    const s = await startLftpServer(files, ['--open', '--admin-token', ADMIN, '--http-port', '0']);
    procs.push(s);
    const line = await s.waitFor(/^dashboard on http:\/\/127\.0\.0\.1:\d+\/admin/);
    const url = /(http:\/\/127\.0\.0\.1:\d+\/admin)/.exec(line)![1]!;
    expect((await fetch(url)).status).toBe(401);
    const relay = await startRelay({
      listenHost: '127.0.0.1',
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: s.port,
      seed: 3,
      up: NO_IMPAIRMENT,
      down: { ...NO_IMPAIRMENT, rateBps: 2_000_000, queueLimit: 64, delayMs: 3, mtu: 1500 },
    });
    try {
      const transfer = runLftpClient(
        ['get', `127.0.0.1:${relay.port}`, 'slow.bin', join(tempDir('lftp-dash-dl'), 'slow.bin')],
        { timeoutMs: 60_000 },
      );
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu'],
      });
      const page = await (
        await browser.newContext({
          viewport: { width: 1280, height: 900 },
          httpCredentials: { username: 'operator', password: ADMIN },
        })
      ).newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(url);
      await page.locator('#status', { hasText: 'live' }).waitFor();
      const card = page.locator('[data-transfer]', { hasText: 'get slow.bin' });
      await card.waitFor({ timeout: 15_000 });
      await page.waitForFunction(
        () =>
          Number(/\((\d+)%\)/.exec(document.querySelector('[data-transfer] .small')?.textContent ?? '')?.[1] ?? 0) >=
          10,
        undefined,
        { timeout: 30_000 },
      );
      const green = await card.locator('canvas.seq').evaluate((c: HTMLCanvasElement) => {
        const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < px.length; i += 4)
          if (px[i + 3]! > 0 && px[i + 1]! > 130 && px[i]! < 60 && px[i + 2]! < 110) n++;
        return n;
      });
      expect(green).toBeGreaterThan(30);
      // The default controller's phase and pacing rate, in the card's head and as the strip under its chart.
      expect(await card.locator('.small').innerText()).toMatch(
        /bbr: (startup|drain|probe_bw_(down|cruise|refill|up)|probe_rtt), pacing [\d.]+ Mbit\/s, cwnd [\d.]+, BDP \d+/,
      );
      expect(await card.locator('.legend.phases').innerText()).toContain('probe_bw_cruise');
      expect(await page.locator('#broadcast-form').isHidden()).toBe(true);
      expect(await page.locator('#server').innerText()).toMatch(/^chat-server lftp\//);
      await page.screenshot({ path: join(ROOT, 'test/artifacts/lftp-dashboard.png'), fullPage: true });
      expect(problems).toEqual([]);
      expect((await transfer).code).toBe(0);
    } finally {
      await relay.close();
    }
  }, 90_000);
});
