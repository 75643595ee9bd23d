/**
 * The chat page over https and wss in a real browser (Debian's chromium),
 * the server's certificate signed by the tests' own CA and trusted by the
 * browser for this test (chromium's --ignore-certificate-errors-spki-list
 * names exactly that certificate's key); a terminal client that checks the
 * same certificate with --ca; they chat both ways.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { CLIENT_JS, LineProcess, startServer, stopAll, tempDir } from '../helpers/processes.js';
import { testCa } from '../helpers/test-ca.js';

const CHROMIUM = '/usr/bin/chromium';
const procs: LineProcess[] = [];
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  await stopAll(...procs);
});

describe('the chat page over TLS (chromium)', () => {
  it('loads over https, talks over wss, and chats with a terminal client that checks the certificate with --ca', async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (npm test does it when run as root)`);
    const ca = await testCa();
    const { certFile, keyFile } = await ca.issue();
    const spki = createHash('sha256')
      .update(createPublicKey(readFileSync(certFile, 'utf8')).export({ type: 'spki', format: 'der' }))
      .digest('base64');
    const server = await startServer(['--workers', '2', '--tls-cert', certFile, '--tls-key', keyFile]);
    procs.push(server);
    expect(server.lines.some((l) => /^web on https:\/\//.test(l))).toBe(true);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', `--ignore-certificate-errors-spki-list=${spki}`],
    });
    const page = await (await browser.newContext()).newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`https://127.0.0.1:${server.httpPort}/`);
    await page.fill('#nick', 'secureweb');
    await page.click('#join');
    await page.locator('#status', { hasText: 'online as secureweb' }).waitFor();
    const term = new LineProcess(
      'client tom',
      [CLIENT_JS, '--host', '127.0.0.1', '--port', String(server.port), '--nick', 'tom', '--ca', ca.caFile],
      { cwd: tempDir('term') },
    );
    procs.push(term);
    await term.waitFor(/^\* connected to /);
    await page.fill('#input', 'hello over wss');
    await page.click('#send');
    await term.waitFor('<secureweb> hello over wss');
    term.send('hello over tls');
    await page.locator('#log li', { hasText: '<tom> hello over tls' }).waitFor();
    expect(await page.evaluate(() => location.protocol)).toBe('https:');
    expect(problems).toEqual([]);
    await page.screenshot({ path: join(tempDir('shots'), 'tls.png') });
  }, 60_000);

  it('a registered nick joins from the page with its password, gets what came while it was offline, changes the password; over http no password leaves the page', async () => {
    const ca = await testCa();
    const { certFile, keyFile } = await ca.issue();
    const spki = createHash('sha256')
      .update(createPublicKey(readFileSync(certFile, 'utf8')).export({ type: 'spki', format: 'der' }))
      .digest('base64');
    const server = await startServer(['--workers', '2', '--tls-cert', certFile, '--tls-key', keyFile]);
    procs.push(server);
    const terminal = (nick: string, lines: string[]) => {
      const t = new LineProcess(
        `client ${nick}`,
        [CLIENT_JS, '--host', '127.0.0.1', '--port', String(server.port), '--nick', nick, '--ca', ca.caFile],
        { cwd: tempDir('term') },
      );
      procs.push(t);
      for (const l of lines) t.send(l);
      return t;
    };
    // One argument rule for every command: a password with spaces goes in quotes (issue 33).
    const hana = terminal('hana', ['/register "correct horse battery"']);
    await hana.waitFor('* hana is registered: from now on it takes its password');
    hana.send('/quit');
    expect(await hana.exit()).toBe(0);
    const tom = terminal('tom', ['/msg hana see you tomorrow 明天见']);
    await tom.waitFor('-> *hana* see you tomorrow 明天见');

    browser ??= await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', `--ignore-certificate-errors-spki-list=${spki}`],
    });
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`https://127.0.0.1:${server.httpPort}/`);
    await page.fill('#nick', 'hana');
    await page.click('#join');
    await page.locator('#join-error', { hasText: 'NICK_REGISTERED: nick hana is registered' }).waitFor();
    await page.fill('#nick-password', 'not it at all');
    await page.click('#join');
    await page.locator('#join-error', { hasText: 'NICK_PASSWORD_WRONG: wrong password for hana' }).waitFor();
    await page.fill('#nick-password', 'correct horse battery');
    await page.click('#join');
    await page.locator('#status', { hasText: 'online as hana' }).waitFor();
    await page.locator('#log li', { hasText: '* 1 direct message came while you were offline' }).waitFor();
    await page.locator('#log li', { hasText: '*tom* see you tomorrow 明天见' }).waitFor();
    await page.fill('#input', '/password "correct horse battery" "a brand new phrase"');
    await page.click('#send');
    await page.locator('#log li', { hasText: '* the password of hana is changed' }).waitFor();
    await page.screenshot({ path: join(tempDir('shots'), 'registered-nick.png') });
    // The line with the passwords is not in the input's history (Up recalls the line before it: none).
    await page.press('#input', 'ArrowUp');
    expect(await page.inputValue('#input')).toBe('');

    const plain = await startServer(['--workers', '1', '--no-tls', '--allow-plain-passwords']);
    procs.push(plain);
    const httpPage = await context.newPage();
    const sockets: string[] = [];
    httpPage.on('websocket', (ws) => sockets.push(ws.url()));
    await httpPage.goto(`http://127.0.0.1:${plain.httpPort}/`);
    await httpPage.fill('#nick', 'hana');
    await httpPage.fill('#nick-password', 'correct horse battery');
    await httpPage.click('#join');
    await httpPage.locator('#join-error', { hasText: 'not sent: this page is not over https' }).waitFor();
    expect(sockets).toEqual([]);
  }, 60_000);
});
