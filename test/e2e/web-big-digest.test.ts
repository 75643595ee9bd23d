/**
 * A page upload over DIGEST_LIMIT (256 MiB) carries its SHA-256 too (web/src/page-upload.ts: hashed a piece at a
 * time, common/sha256.ts, never the whole file in memory), and a cut one still ends with the whole file's hash
 * checked: the server hashes as the bytes arrive and, on resume, hashes the partial it continues again
 * (resume-record.ts openHeld). A sparse file just over the limit with random bytes at both ends and in the middle,
 * chromium, a proxy that cuts the first POST; real server on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, ftruncateSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, stopAll, tempDir, type LineProcess, type ServerHandle } from '../helpers/processes.js';
import { untilNoKeepAlive } from '../helpers/tcp-proxy.js';
import { startCuttingProxy } from '../helpers/cutting-proxy.js';
import { joinAs, launchChromium, logLine, openPage } from '../helpers/chat-page.js';

/** Just over web/src/page-upload.ts's DIGEST_LIMIT (256 MiB), where the page hashes a piece at a time. */
const SIZE = 256 * 2 ** 20 + 2 ** 20 + 5;
let procs: LineProcess[] = [];
let peers: Array<{ destroy(): void }> = [];
afterEach(async () => {
  for (const p of peers) p.destroy();
  peers = [];
  await stopAll(...procs);
  procs = [];
});

/** A file's SHA-256, read as a stream (it is too big to hold). */
async function fileSha(path: string, encoding: 'hex' | 'base64' = 'hex'): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 2 ** 20 })) h.update(chunk as Buffer);
  return h.digest(encoding);
}

/** SIZE bytes, sparse but for 64 KiB of random bytes at the start, the middle and the end. */
function bigSparseFile(path: string): void {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, SIZE);
    for (const at of [0, Math.floor(SIZE / 2), SIZE - 65_536]) writeSync(fd, randomBytes(65_536), 0, 65_536, at);
  } finally {
    closeSync(fd);
  }
}

describe('a page upload over 256 MiB', () => {
  it('is sent with its SHA-256, cut, resumed, and stored only once the whole file matches it', async () => {
    const files = tempDir('page-big-files');
    const src = join(tempDir('page-big-src'), 'disk.img');
    bigSparseFile(src);
    const s = (await startServer(['--workers', '2', '--files', files])) as ServerHandle & { httpPort: number };
    procs.push(s);
    const proxy = await startCuttingProxy(s.httpPort, 64 * 2 ** 20);
    peers.push({ destroy: () => void proxy.close() });
    const browser = await launchChromium();
    peers.push({ destroy: () => void browser.close() });
    const { page, problems } = await openPage(browser, proxy.port);
    const digests: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().includes('/files/')) digests.push(r.headers()['repr-digest'] ?? 'none');
    });
    await joinAs(page, 'mover');
    // As in web-resume.test.ts: the POST must go on the fresh connection its HEAD leaves, not a kept-alive one.
    await untilNoKeepAlive(proxy);
    await page.setInputFiles('#upload', src);
    await logLine(page, '* the upload of disk.img was cut').waitFor({ timeout: 60_000 });
    await logLine(page, '* resuming the upload of disk.img at').waitFor({ timeout: 60_000 });
    await logLine(page, '* mover shared disk.img').waitFor({ timeout: 120_000 });

    const expected = `sha-256=:${await fileSha(src, 'base64')}:`;
    expect(digests.length).toBeGreaterThanOrEqual(2);
    expect(new Set(digests)).toEqual(new Set([expected])); // every try, the first and the resumed one
    expect(await fileSha(join(files, 'disk.img'))).toBe(await fileSha(src));
    // The server's hash of the whole file, the held part hashed again on resume, is the one it checked and logged.
    const stored = readFileSync(s.logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes('http upload stored, resumed at'));
    expect(stored).toContain(`"sha256":"${await fileSha(src)}"`);
    expect(readdirSync(files).filter((f) => f.startsWith('.'))).toEqual([]);
    const last = proxy.posts.at(-1)!;
    expect(last.offset).toBeGreaterThan(0);
    expect(last.crossed).toBe(SIZE - last.offset!);
    expect(problems.filter((p) => p.startsWith('page error'))).toEqual([]);
  }, 180_000);
});
