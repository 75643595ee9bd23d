/**
 * The browser's own download manager resumes a download from the page's file list (docs/PROTOCOL.md, files over
 * HTTP): chromium's download is cut mid-way by a link that drops (a proxy in front of the web port closes its
 * connection), and chromium continues it by itself with a Range request against the first answer's ETag
 * (If-Range), which the server answers 206 with the rest, on the same ticket (armed again for 60 s after a cut
 * download); the saved file is byte-identical. Real server, real chromium, all on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, stopAll, tempDir, type LineProcess, type ServerHandle } from '../helpers/processes.js';
import { untilNoKeepAlive } from '../helpers/tcp-proxy.js';
import { startDownloadCutter } from '../helpers/download-cutter.js';
import { joinAs, launchChromium, openPage } from '../helpers/chat-page.js';

const SIZE = 48 * 2 ** 20;
const CUT = 16 * 2 ** 20;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let procs: LineProcess[] = [];
let peers: Array<{ destroy(): void }> = [];
afterEach(async () => {
  for (const p of peers) p.destroy();
  peers = [];
  await stopAll(...procs);
  procs = [];
});

describe("the browser's download manager resumes a cut download", () => {
  it('cut at 16 MiB, chromium goes on with a Range request, answered 206: the saved file is identical', async () => {
    const files = tempDir('browser-dl-files');
    const data = randomBytes(SIZE);
    writeFileSync(join(files, 'big.bin'), data);
    const s = (await startServer(['--workers', '2', '--files', files])) as ServerHandle & { httpPort: number };
    procs.push(s);
    const cutter = await startDownloadCutter(s.httpPort, CUT);
    peers.push({ destroy: () => void cutter.close() });
    const browser = await launchChromium();
    peers.push({ destroy: () => void browser.close() });
    const { page, problems } = await openPage(browser, cutter.port);
    await joinAs(page, 'fetcher');
    const row = page.locator('#files li', { hasText: 'big.bin' });
    await row.waitFor();
    // The download must go on a connection of its own (the one the proxy cuts), not one the page kept alive.
    await untilNoKeepAlive(cutter);
    const [download] = await Promise.all([page.waitForEvent('download'), row.locator('button').click()]);
    expect(await download.failure()).toBeNull(); // waits for its end: cut, resumed by chromium, completed
    expect(sha(readFileSync(await download.path()))).toBe(sha(data));

    const [first, second, ...more] = cutter.gets;
    expect(more).toEqual([]);
    expect(first).toMatchObject({ range: null, status: 200, crossed: CUT });
    expect(first!.etag).toMatch(/^"/); // a strong validator: what lets a browser resume at all
    const from = Number(/^bytes=(\d+)-$/.exec(second!.range ?? '')?.[1]);
    // Chromium asks from what reached its disk: at most what crossed before the cut.
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(CUT);
    expect(second).toMatchObject({ path: first!.path, ifRange: first!.etag, status: 206, crossed: SIZE - from });
    expect(problems).toEqual([]);
  }, 120_000);
});
