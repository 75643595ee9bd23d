/**
 * The chat page on a cluster (issue 34: "the page a list"): two real nodes on a real redis-server started here,
 * the page in chromium on node a. Node a lists node b's web side at /nodes and lets the page connect there;
 * node a SIGKILLed, the page goes on with node b by itself and resumes its session: what was said meanwhile
 * shown once, what it says next heard on node b.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { LineProcess, startClient, startServer, stopAll, type ServerHandle } from '../helpers/processes.js';
import { startRedis, type RedisUnderTest } from '../helpers/redis-server.js';
import { joinAs, launchChromium, logLine, openPage } from '../helpers/chat-page.js';
import { eventually } from '../helpers/wait.js';
import WebSocket from 'ws';

let redis: RedisUnderTest;
let browser: Browser;
const procs: LineProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await stopAll(...procs);
  await redis?.stop();
});

async function node(id: string): Promise<ServerHandle & { httpPort: number }> {
  const s = await startServer([
    ...['--redis', redis.url, '--node-id', id, '--advertise', '127.0.0.1', '--workers', '1'],
    ...['--node-lease', '2s', '--resume-window', '60s'],
  ]);
  procs.push(s);
  return s as ServerHandle & { httpPort: number };
}

const nodesOf = async (s: { httpPort: number }) =>
  ((await (await fetch(`http://127.0.0.1:${s.httpPort}/nodes`)).json()) as { nodes: string[] }).nodes;

describe('the chat page on a cluster', () => {
  it('lists the other nodes and allows them; its node killed, the page resumes on the other node by itself', async () => {
    const [a, b] = [await node('a'), await node('b')];
    const bOrigin = `http://127.0.0.1:${b.httpPort}`;
    // Each node says its web side with its files (every 5 s): wait until a lists b.
    await eventually(
      async () => ((await nodesOf(a)).includes(bOrigin) ? true : null),
      15_000,
      () => `node a never listed ${bOrigin}`,
    );
    const page = await fetch(`http://127.0.0.1:${a.httpPort}/`);
    expect(page.headers.get('content-security-policy')).toContain(
      `connect-src 'self' ${bOrigin} ws://127.0.0.1:${b.httpPort};`,
    );
    // b takes a WebSocket from a's page (its origin), and still refuses any other page's.
    const origin = (o: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${b.httpPort}/chat`, { origin: o });
        ws.on('open', () => (ws.close(), resolve('open')));
        ws.on('unexpected-response', (_req, res) => (res.resume(), resolve(String(res.statusCode))));
        ws.on('error', (err) => resolve(`error: ${err.message}`));
      });
    expect(await origin('http://evil.example:8080')).toBe('403');
    expect(await origin(`http://127.0.0.1:${a.httpPort}`)).toBe('open');

    const { page: tab, problems } = await openPage(browser, a.httpPort);
    await joinAs(tab, 'webby');
    const bob = await startClient(b.port, 'bob');
    procs.push(bob);
    await logLine(tab, 'bob joined').waitFor();
    bob.send('before the fall');
    await logLine(tab, 'before the fall').waitFor();

    a.kill('SIGKILL');
    await a.exited;
    bob.send('said while webby was away');
    await logLine(tab, `reconnecting to 127.0.0.1:${b.httpPort}`).first().waitFor({ timeout: 15_000 });
    await logLine(tab, 'session resumed').waitFor({ timeout: 15_000 });
    await tab.locator('#status', { hasText: 'online as webby' }).waitFor();
    await tab.fill('#input', 'back, on node b');
    await tab.press('#input', 'Enter');
    await bob.waitFor('<webby> back, on node b');
    // The page's own echo comes after what it missed: each line once.
    await logLine(tab, 'back, on node b').waitFor();
    expect(await logLine(tab, 'said while webby was away').count()).toBe(1);
    expect(await logLine(tab, 'before the fall').count()).toBe(1);
    expect(problems).toEqual([]);
  });
});
