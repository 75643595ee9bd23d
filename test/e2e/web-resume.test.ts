/**
 * Files over HTTP that survive a cut: downloads answer ranges (206, 416, If-Range against a changed file, curl's
 * -C -, a cut download's ticket armed again), and an upload cut mid-body continues where the server's partial
 * ends: only the missing bytes are sent, the stored file is identical, a changed source starts over, and the
 * partial never shows under the final name; the page does it by itself in chromium, through a link that drops.
 * Real server, real sockets on 127.0.0.1, curl, a real browser.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import type { ServerMessage } from '../../common/protocol.js';
import { sourceTag } from '../../common/lftp/node/resume-record.js';
import { WsClient } from '../helpers/raw-client.js';
import { startServer, stopAll, tempDir, type LineProcess, type ServerHandle } from '../helpers/processes.js';
import { eventually } from '../helpers/wait.js';
import { untilNoKeepAlive } from '../helpers/tcp-proxy.js';
import { startCuttingProxy } from '../helpers/cutting-proxy.js';
import { joinAs, launchChromium, logLine, openPage } from '../helpers/chat-page.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const run = promisify(execFile);
let procs: LineProcess[] = [];
let peers: Array<{ destroy(): void }> = [];
afterEach(async () => {
  for (const p of peers) p.destroy();
  peers = [];
  await stopAll(...procs);
  procs = [];
});

async function setup(files: string, extra: string[] = []) {
  const s = (await startServer(['--workers', '2', '--files', files, ...extra])) as ServerHandle & { httpPort: number };
  procs.push(s);
  const ws = await WsClient.connect(s.httpPort);
  peers.push(ws);
  ws.send({ type: 'HELLO', version: 1, nick: 'webby' });
  await ws.waitFor((m) => m.type === 'WELCOME');
  let id = 0;
  const answer = async (op: 'get' | 'post', name: string, size?: number) => {
    const n = ++id;
    ws.send({ type: 'TICKET_REQUEST', id: n, op, name, ...(size !== undefined ? { size } : {}) });
    return (await ws.waitFor((m) => m.type === 'TICKET' && m.id === n)) as Extract<ServerMessage, { type: 'TICKET' }>;
  };
  const ticket = async (op: 'get' | 'post', name: string, size?: number): Promise<string> => {
    const t = await answer(op, name, size);
    if (!t.ok) throw new Error(`no ticket: ${t.code} ${t.message}`);
    return t.ticket;
  };
  const url = (name: string, t: string) =>
    `http://127.0.0.1:${s.httpPort}/files/${encodeURIComponent(name)}?ticket=${t}`;
  return { s, ticket, answer, url, base: `http://127.0.0.1:${s.httpPort}` };
}

/** A request written by hand: headers and the first `sent` bytes of the body, then the connection destroyed. */
async function cutRequest(port: number, head: string, body: Buffer, sent: number): Promise<void> {
  const sock = net.connect({ host: '127.0.0.1', port });
  sock.on('error', () => undefined);
  await new Promise<void>((resolve) => sock.once('connect', resolve));
  await new Promise<void>((resolve) => sock.write(head, () => resolve()));
  await new Promise<void>((resolve) => sock.write(body.subarray(0, sent), () => resolve()));
  sock.destroy();
}

/** A GET written by hand, its answer read until `bytes` arrived, then the connection destroyed. */
async function cutReading(port: number, head: string, bytes: number): Promise<void> {
  const sock = net.connect({ host: '127.0.0.1', port });
  sock.on('error', () => undefined);
  let got = 0;
  await new Promise<void>((resolve) => {
    sock.on('data', (chunk: Buffer) => {
      got += chunk.length;
      if (got >= bytes) resolve();
    });
    sock.write(head);
  });
  sock.destroy();
}

describe('HTTP downloads answer ranges', () => {
  it('206 for a range, 416 past the end, If-Range against a changed file, curl -C -, a cut download resumes', async () => {
    const files = tempDir('web-ranges');
    // Big enough that the socket buffers cannot hold it all: a download cut early is cut before the server wrote it.
    const data = randomBytes(40 * 1024 * 1024 + 5);
    writeFileSync(join(files, 'film.bin'), data);
    const { ticket, url, s } = await setup(files);

    const part = await fetch(url('film.bin', await ticket('get', 'film.bin')), {
      headers: { Range: 'bytes=1000-1999' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 1000-1999/${data.length}`);
    expect(part.headers.get('accept-ranges')).toBe('bytes');
    const etag = part.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-z-]+"$/);
    expect(Buffer.from(await part.arrayBuffer()).equals(data.subarray(1000, 2000))).toBe(true);

    const tail = await fetch(url('film.bin', await ticket('get', 'film.bin')), { headers: { Range: 'bytes=-10' } });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(data.subarray(data.length - 10))).toBe(true);

    const past = await fetch(url('film.bin', await ticket('get', 'film.bin')), {
      headers: { Range: `bytes=${data.length}-` },
    });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${data.length}`);
    expect(((await past.json()) as { code: string }).code).toBe('BAD_RANGE');

    const same = await fetch(url('film.bin', await ticket('get', 'film.bin')), {
      headers: { Range: 'bytes=10-', 'If-Range': etag },
    });
    expect(same.status).toBe(206);
    expect(Buffer.from(await same.arrayBuffer()).equals(data.subarray(10))).toBe(true);

    // A cut download (the connection closed after its first bytes) keeps its ticket for the browser's own resume:
    // the same URL with Range and If-Range gets the rest.
    const t = await ticket('get', 'film.bin');
    const head = `GET /files/film.bin?ticket=${t} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    await cutReading(s.httpPort, head, 64 * 1024);
    // The server learns of the cut when its next write fails, a moment after the close: until then the ticket is spent.
    const rest = await eventually(
      async () => {
        const r = await fetch(url('film.bin', t), { headers: { Range: 'bytes=65536-', 'If-Range': etag } });
        if (r.status === 206) return r;
        await r.arrayBuffer();
        return null;
      },
      10_000,
      () => 'the cut download’s ticket never worked again',
    );
    expect(rest.headers.get('content-range')).toBe(`bytes 65536-${data.length - 1}/${data.length}`);
    expect(Buffer.from(await rest.arrayBuffer()).equals(data.subarray(65536))).toBe(true);
    // Whole this time: the ticket is spent.
    expect((await fetch(url('film.bin', t))).status).toBe(403);

    // curl resumes a partial file with Range (-C -) and gets it identical.
    const local = join(tempDir('curl-dl'), 'film.bin');
    writeFileSync(local, data.subarray(0, 1234567));
    await run('curl', ['-sS', '-f', '-C', '-', '-o', local, url('film.bin', await ticket('get', 'film.bin'))]);
    expect(sha(readFileSync(local))).toBe(sha(data));

    // Changed since the first part: If-Range with the old tag gets the whole new file, never a splice.
    const changed = randomBytes(data.length);
    writeFileSync(join(files, 'film.bin'), changed);
    const later = new Date(Date.now() + 5000);
    utimesSync(join(files, 'film.bin'), later, later);
    const whole = await fetch(url('film.bin', await ticket('get', 'film.bin')), {
      headers: { Range: 'bytes=65536-', 'If-Range': etag },
    });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('etag')).not.toBe(etag);
    expect(sha(Buffer.from(await whole.arrayBuffer()))).toBe(sha(changed));
  }, 60_000);
});

describe('a download resumes across a restart of the server', () => {
  it("a ticket of the run before resumes its file's download (If-Range naming it unchanged), and nothing else", async () => {
    const files = tempDir('web-restart');
    const data = randomBytes(3 * 1024 * 1024 + 7);
    writeFileSync(join(files, 'film.bin'), data);
    mkdirSync(join(files, 'trip'));
    writeFileSync(join(files, 'trip', 'sea.bin'), data);
    writeFileSync(join(files, 'other.bin'), data);
    // The data folder keeps the ticket secret (data/server.secrets) across the restart.
    const store = tempDir('web-restart-data');
    const first = await setup(files, ['--data', store]);
    const head = async (name: string, t: string) => {
      const r = await fetch(first.url(name, t), { headers: { Range: 'bytes=0-99999' } });
      expect(r.status).toBe(206);
      await r.arrayBuffer();
      return r.headers.get('etag')!;
    };
    const t = await first.ticket('get', 'film.bin');
    const etag = await head('film.bin', t);
    const ft = await first.ticket('get', 'trip/');
    const seaTag = await head('trip/sea.bin', ft);
    const unused = await first.ticket('get', 'film.bin');
    await stopAll(first.s);

    const second = await setup(files, ['--data', store]);
    const resume = (name: string, ticket: string, tag?: string) =>
      fetch(second.url(name, ticket), { headers: { Range: 'bytes=100000-', ...(tag ? { 'If-Range': tag } : {}) } });
    const rest = await resume('film.bin', t, etag);
    expect(rest.status).toBe(206);
    expect(Buffer.from(await rest.arrayBuffer()).equals(data.subarray(100000))).toBe(true);
    const sea = await resume('trip/sea.bin', ft, seaTag);
    expect(sea.status).toBe(206);
    expect(Buffer.from(await sea.arrayBuffer()).equals(data.subarray(100000))).toBe(true);
    // Not a plain GET, not without If-Range or with another tag, not another file, not the folder's listing.
    expect((await fetch(second.url('film.bin', unused))).status).toBe(403);
    expect((await resume('film.bin', t)).status).toBe(403);
    const other = await resume('film.bin', t, '"other"');
    expect(other.status).toBe(403);
    expect(((await other.json()) as { message: string }).message).toMatch(/from before the server restarted/);
    expect((await resume('other.bin', t, etag)).status).toBe(403);
    expect((await fetch(`http://127.0.0.1:${second.s.httpPort}/files/trip/?ticket=${ft}`)).status).toBe(403);
    // The file changed since: refused, never spliced.
    const later = new Date(Date.now() + 5000);
    utimesSync(join(files, 'film.bin'), later, later);
    expect((await resume('film.bin', t, etag)).status).toBe(403);
  }, 60_000);
});

/** What a resumable upload of `path` says of its source (the page makes the same with Web Crypto). */
async function sourceHeaders(path: string, data: Buffer): Promise<Record<string, string>> {
  const mtime = Math.floor(statMtime(path));
  return {
    'Upload-Length': String(data.length),
    'Upload-Mtime': String(mtime),
    'Upload-Tag': await sourceTag(path, data.length, mtime),
  };
}
const statMtime = (path: string) => statSync(path).mtimeMs;
const digest = (data: Buffer) => `sha-256=:${createHash('sha256').update(data).digest('base64')}:`;

describe('HTTP uploads resume', () => {
  it('a cut upload continues where the partial ends: only the missing bytes sent, an identical file', async () => {
    const files = tempDir('web-up-resume');
    const src = join(tempDir('web-up-src'), 'video.bin');
    const data = randomBytes(24 * 1024 * 1024 + 3);
    writeFileSync(src, data);
    const { s, ticket, url, base } = await setup(files);
    const id = await sourceHeaders(src, data);
    const origin = { Origin: base };

    const t1 = await ticket('post', 'video.bin', data.length);
    const lines = Object.entries({ ...id, 'Upload-Offset': '0', 'Content-Length': String(data.length) })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    await cutRequest(
      s.httpPort,
      `POST /files/video.bin?ticket=${t1} HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines}\r\n`,
      data,
      12 * 1024 * 1024,
    );

    // Asked with a fresh ticket (HEAD does not spend it): 409 while the cut upload is being put away, then the offset.
    const t2 = await ticket('post', 'video.bin', data.length);
    const offset = await eventually(
      async () => {
        const r = await fetch(url('video.bin', t2), { method: 'HEAD', headers: id });
        if (r.status === 409) return null;
        expect(r.status).toBe(204);
        return Number(r.headers.get('upload-offset'));
      },
      10_000,
      () => 'HEAD never answered the offset',
    );
    expect(offset).toBeGreaterThan(1024 * 1024);
    expect(offset).toBeLessThanOrEqual(12 * 1024 * 1024);
    // The partial is hidden: nothing under the final name, or any name the listing shows.
    expect(readdirSync(files).filter((f) => !f.startsWith('.'))).toEqual([]);

    // Past what is held: refused, and told where to go on (the ticket is spent: a fresh one for the real try).
    const over = await fetch(url('video.bin', t2), {
      method: 'POST',
      headers: { ...id, ...origin, 'Upload-Offset': String(offset + 1) },
      body: data.subarray(offset + 1),
    });
    expect(over.status).toBe(409);
    expect(over.headers.get('upload-offset')).toBe(String(offset));

    const t3 = await ticket('post', 'video.bin', data.length);
    const rest = data.subarray(offset);
    const done = await fetch(url('video.bin', t3), {
      method: 'POST',
      headers: { ...id, ...origin, 'Upload-Offset': String(offset), 'Repr-Digest': digest(data) },
      body: rest,
    });
    expect(done.status).toBe(201);
    expect(await done.json()).toEqual({ name: 'video.bin', size: data.length, sha256: sha(data), from: offset });
    expect(sha(readFileSync(join(files, 'video.bin')))).toBe(sha(data));
    expect(readdirSync(files).filter((f) => f.startsWith('.'))).toEqual([]); // the partial and its record are gone
  }, 60_000);

  it('a changed source starts over; a wrong SHA-256 is not stored; a one-shot upload still works', async () => {
    const files = tempDir('web-up-change');
    const srcDir = tempDir('web-up-src2');
    const src = join(srcDir, 'notes.bin');
    const data = randomBytes(16 * 1024 * 1024);
    writeFileSync(src, data);
    const { s, ticket, url, base } = await setup(files);
    const origin = { Origin: base };
    const id = await sourceHeaders(src, data);
    const t1 = await ticket('post', 'notes.bin', data.length);
    const lines = Object.entries({ ...id, 'Content-Length': String(data.length) })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    await cutRequest(
      s.httpPort,
      `POST /files/notes.bin?ticket=${t1} HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines}\r\n`,
      data,
      8 * 1024 * 1024,
    );
    const t2 = await ticket('post', 'notes.bin', data.length);
    const head = (headers: Record<string, string>) =>
      eventually(
        async () => {
          const r = await fetch(url('notes.bin', t2), { method: 'HEAD', headers });
          return r.status === 409 ? null : Number(r.headers.get('upload-offset'));
        },
        10_000,
        () => 'HEAD never answered',
      );
    expect(await head(id)).toBeGreaterThan(0);

    // The file changed (new bytes, new mtime): the server holds nothing of it, and a whole upload replaces the partial.
    const changed = randomBytes(data.length);
    writeFileSync(src, changed);
    const later = new Date(Date.now() + 3000);
    utimesSync(src, later, later);
    const id2 = await sourceHeaders(src, changed);
    expect(await head(id2)).toBe(0);
    const bad = await fetch(url('notes.bin', t2), {
      method: 'POST',
      headers: { ...id2, ...origin, 'Upload-Offset': '0', 'Repr-Digest': digest(data) },
      body: changed,
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('SHA256_MISMATCH');
    expect(readdirSync(files)).toEqual([]); // neither stored nor kept: the bytes it holds are not the file's
    const t3 = await ticket('post', 'notes.bin', changed.length);
    const good = await fetch(url('notes.bin', t3), {
      method: 'POST',
      headers: { ...id2, ...origin, 'Upload-Offset': '0', 'Repr-Digest': digest(changed) },
      body: changed,
    });
    expect(good.status).toBe(201);
    expect(sha(readFileSync(join(files, 'notes.bin')))).toBe(sha(changed));
    expect(readdirSync(files).filter((f) => f.startsWith('.'))).toEqual([]);

    const t4 = await ticket('post', 'plain.txt', 5);
    const plain = await fetch(url('plain.txt', t4), { method: 'POST', headers: origin, body: 'hello' });
    expect(plain.status).toBe(201);
    expect(await plain.json()).toEqual({ name: 'plain.txt', size: 5, sha256: sha(Buffer.from('hello')) });
  }, 60_000);

  it('a cut upload’s partial counts against the quota; the same file may still go on, another that does not fit may not', async () => {
    const files = tempDir('web-up-quota');
    const src = join(tempDir('web-up-quota-src'), 'big.bin');
    const data = randomBytes(16 * 1024 * 1024);
    writeFileSync(src, data);
    const { s, ticket, answer, url, base } = await setup(files, ['--max-upload-per-user', '20MiB']);
    const id = await sourceHeaders(src, data);
    const t1 = await ticket('post', 'big.bin', data.length);
    // Asked before the first try: while that one runs, or is being put away, its whole size is counted.
    const t2 = await ticket('post', 'big.bin', data.length);
    const lines = Object.entries({ ...id, 'Content-Length': String(data.length) })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    const head = `POST /files/big.bin?ticket=${t1} HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines}\r\n`;
    await cutRequest(s.httpPort, head, data, 8 * 1024 * 1024);
    const offset = await eventually(
      async () => {
        const r = await fetch(url('big.bin', t2), { method: 'HEAD', headers: id });
        return r.status === 409 ? null : Number(r.headers.get('upload-offset'));
      },
      10_000,
      () => 'HEAD never answered',
    );
    // More than the 4 MiB the quota leaves beside a whole 16 MiB: what follows tells the partial is counted.
    expect(offset).toBeGreaterThan(4 * 1024 * 1024);
    // What the partial holds is counted: another 16 MiB does not fit in 20 MiB beside it.
    const other = await answer('post', 'other.bin', data.length);
    expect(other).toMatchObject({ ok: false, code: 'NO_SPACE' });
    // The same file does (a ticket asked for now): going on adds only what is missing.
    const t3 = await ticket('post', 'big.bin', data.length);
    const done = await fetch(url('big.bin', t3), {
      method: 'POST',
      headers: { ...id, Origin: base, 'Upload-Offset': String(offset), 'Repr-Digest': digest(data) },
      body: data.subarray(offset),
    });
    expect(done.status).toBe(201);
    expect(sha(readFileSync(join(files, 'big.bin')))).toBe(sha(data));
  }, 60_000);
});

describe('the page resumes an upload', () => {
  it('cut mid-body by a link that drops, the page goes on from the server’s partial: only the rest crosses', async () => {
    const files = tempDir('page-up-resume');
    const srcDir = tempDir('page-up-src');
    const src = join(srcDir, 'holiday.mov');
    const data = randomBytes(24 * 1024 * 1024 + 11);
    writeFileSync(src, data);
    const { s } = await setup(files);
    const proxy = await startCuttingProxy(s.httpPort, 8 * 1024 * 1024);
    peers.push({ destroy: () => void proxy.close() });
    const browser = await launchChromium();
    peers.push({ destroy: () => void browser.close() });
    const { page, problems } = await openPage(browser, proxy.port);
    await joinAs(page, 'mover');

    // A browser resends by itself a request cut on a connection it had used before (the whole body again, with
    // the ticket already spent): wait until the page's keep-alive connections closed (the server's 5 s), so that
    // the upload's POST goes on the fresh one its HEAD's Connection: close leaves it.
    await untilNoKeepAlive(proxy);
    await page.setInputFiles('#upload', src);
    await logLine(page, '* the upload of holiday.mov was cut').waitFor({ timeout: 30_000 });
    await logLine(page, '* resuming the upload of holiday.mov at').waitFor({ timeout: 30_000 });
    await logLine(page, '* mover shared holiday.mov').waitFor({ timeout: 30_000 });
    expect(sha(readFileSync(join(files, 'holiday.mov')))).toBe(sha(data));
    expect(readdirSync(files).filter((f) => f.startsWith('.'))).toEqual([]);

    // The first POST was cut at 8 MiB; the one that finished started where the server's partial ended and sent
    // only the rest (a try refused while the cut one was put away sends nothing). What the server held is what it
    // had read and written when the link dropped: a busy server's socket still held unread megabytes then (the
    // partial was 1 MiB once), so anything from the first byte to the 8 MiB that crossed is right.
    const [first, ...later] = proxy.posts;
    expect(first!.crossed).toBe(8 * 1024 * 1024);
    const last = later.at(-1)!;
    expect(last.offset).toBeGreaterThan(0);
    expect(last.offset).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(last.length).toBe(data.length - last.offset!);
    expect(last.crossed).toBe(last.length);
    const resent = later.reduce((n, p) => n + p.crossed, 0);
    expect(resent).toBe(data.length - last.offset!);
    expect(problems.filter((p) => p.startsWith('page error'))).toEqual([]);
  }, 120_000);
});

describe('the page resumes an upload after the chat connection too was lost', () => {
  it('the link drops for both; the upload waits for the chat to be back, then goes on from the partial', async () => {
    const files = tempDir('page-up-both');
    const src = join(tempDir('page-up-both-src'), 'longer.mov');
    const data = randomBytes(20 * 1024 * 1024 + 7);
    writeFileSync(src, data);
    const { s } = await setup(files);
    const proxy = await startCuttingProxy(s.httpPort, 6 * 1024 * 1024, true);
    peers.push({ destroy: () => void proxy.close() });
    const browser = await launchChromium();
    peers.push({ destroy: () => void browser.close() });
    const { page } = await openPage(browser, proxy.port);
    await joinAs(page, 'patient');
    await untilNoKeepAlive(proxy);
    await page.setInputFiles('#upload', src);
    await logLine(page, '* the upload of longer.mov was cut').waitFor({ timeout: 30_000 });
    // Its next ticket cannot be asked for while the chat is down: it says so, and waits.
    await logLine(page, '* the upload of longer.mov waits for the chat connection').waitFor({ timeout: 30_000 });
    proxy.releaseChat();
    await logLine(page, '* resuming the upload of longer.mov at').waitFor({ timeout: 30_000 });
    await logLine(page, '* patient shared longer.mov').waitFor({ timeout: 30_000 });
    expect(sha(readFileSync(join(files, 'longer.mov')))).toBe(sha(data));
    const last = proxy.posts.at(-1)!;
    expect(last.offset).toBeGreaterThan(0);
    expect(proxy.posts.slice(1).reduce((n, p) => n + p.crossed, 0)).toBe(data.length - last.offset!);
  }, 120_000);
});

describe('the page without Web Crypto resumes an upload too', () => {
  it('served over plain http on a name that is not localhost: common/sha256.ts makes its tag and digest', async () => {
    const files = tempDir('page-up-plain');
    const src = join(tempDir('page-up-plain-src'), 'plain.mov');
    const data = randomBytes(12 * 1024 * 1024 + 5);
    writeFileSync(src, data);
    const { s } = await setup(files, ['--web-host', 'chat.test']);
    const proxy = await startCuttingProxy(s.httpPort, 4 * 1024 * 1024);
    peers.push({ destroy: () => void proxy.close() });
    // chat.test is this machine to the browser, and, not being localhost, not a secure context: no crypto.subtle.
    const browser = await launchChromium(['--host-resolver-rules=MAP chat.test 127.0.0.1']);
    peers.push({ destroy: () => void browser.close() });
    const { page, problems } = await openPage(browser, proxy.port);
    await page.goto(`http://chat.test:${proxy.port}/`);
    expect(await page.evaluate(() => [isSecureContext, typeof crypto.subtle])).toEqual([false, 'undefined']);
    const digests: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().includes('/files/')) digests.push(r.headers()['repr-digest'] ?? 'none');
    });
    await joinAs(page, 'plainly');
    await untilNoKeepAlive(proxy);
    await page.setInputFiles('#upload', src);
    await logLine(page, '* the upload of plain.mov was cut').waitFor({ timeout: 30_000 });
    await logLine(page, '* resuming the upload of plain.mov at').waitFor({ timeout: 30_000 });
    await logLine(page, '* plainly shared plain.mov').waitFor({ timeout: 30_000 });
    expect(sha(readFileSync(join(files, 'plain.mov')))).toBe(sha(data));
    // Every try said the whole file's SHA-256 (the server checked the stored file against it), and the last sent
    // only what the server's partial did not hold.
    const expected = `sha-256=:${createHash('sha256').update(data).digest('base64')}:`;
    expect(digests.length).toBeGreaterThanOrEqual(2);
    expect(new Set(digests)).toEqual(new Set([expected]));
    const last = proxy.posts.at(-1)!;
    expect(last.offset).toBeGreaterThan(0);
    expect(proxy.posts.slice(1).reduce((n, p) => n + p.crossed, 0)).toBe(data.length - last.offset!);
    expect(problems.filter((p) => p.startsWith('page error'))).toEqual([]);
  }, 120_000);
});
