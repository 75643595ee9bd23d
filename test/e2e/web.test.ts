/**
 * The web side without a browser: WebSocket sessions in the same room as TCP
 * ones, files over HTTP with tickets, the dashboard's access rules, Origin and
 * payload limits. (The real-browser tests are in web-browser.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { encodeFrame } from '../../common/frame.js';
import type { ServerMessage } from '../../common/protocol.js';
import { RawClient, WsClient } from '../helpers/raw-client.js';
import {
  NO_FLOOD_LIMIT,
  startServer,
  stopAll,
  tempDir,
  type LineProcess,
  type ServerHandle,
} from '../helpers/processes.js';
import { until } from '../helpers/wait.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let procs: LineProcess[] = [];
let peers: Array<{ destroy(): void }> = [];
afterEach(async () => {
  for (const p of peers) p.destroy();
  peers = [];
  await stopAll(...procs);
  procs = [];
});

async function server(args: string[] = []): Promise<ServerHandle & { httpPort: number }> {
  const s = await startServer(['--workers', '2', ...args]);
  procs.push(s);
  return s as ServerHandle & { httpPort: number };
}

/** Says HELLO on a fresh connection of either kind and waits for WELCOME. */
async function joinAs<T extends RawClient | WsClient>(c: T, nick: string): Promise<T> {
  peers.push(c);
  c.send({ type: 'HELLO', version: 1, nick });
  await c.waitFor((m) => m.type === 'WELCOME');
  return c;
}
const wsJoin = async (port: number, nick: string) => joinAs(await WsClient.connect(port), nick);
const tcpJoin = async (port: number, nick: string) => joinAs(await RawClient.connect(port), nick);

const isChat = (from: string, text: string) => (m: ServerMessage) =>
  m.type === 'CHAT' && m.from === from && m.text === text;

function ticket(
  c: WsClient,
  id: number,
  op: 'get' | 'post',
  name: string,
  size?: number,
): Promise<Extract<ServerMessage, { type: 'TICKET' }>> {
  c.send({ type: 'TICKET_REQUEST', id, op, name, ...(size !== undefined ? { size } : {}) });
  return c.waitFor((m) => m.type === 'TICKET' && m.id === id) as Promise<Extract<ServerMessage, { type: 'TICKET' }>>;
}

describe('WebSocket sessions', () => {
  it('share the room, nick rules, directs, /who and /nick with TCP sessions', async () => {
    const s = await server();
    const web = await wsJoin(s.httpPort, 'webby');
    const term = await tcpJoin(s.port, 'termy');
    await web.waitFor((m) => m.type === 'NOTICE' && m.event === 'joined' && m.nick === 'termy');

    web.send({ type: 'CHAT', text: 'hello from the browser', action: false });
    await term.waitFor(isChat('webby', 'hello from the browser'));
    term.send({ type: 'CHAT', text: 'hello from the terminal', action: false });
    await web.waitFor(isChat('termy', 'hello from the terminal'));
    web.send({ type: 'CHAT', text: 'waves', action: true });
    await term.waitFor((m) => m.type === 'CHAT' && m.action && m.text === 'waves');

    term.send({ type: 'DIRECT', to: 'WEBBY', text: 'psst' });
    await web.waitFor((m) => m.type === 'DIRECT' && m.from === 'termy' && m.to === 'webby' && m.text === 'psst');

    // One nick space across transports, case-insensitively.
    const dup = await WsClient.connect(s.httpPort);
    peers.push(dup);
    dup.send({ type: 'HELLO', version: 1, nick: 'TERMY' });
    await dup.waitFor((m) => m.type === 'ERROR' && m.code === 'NICK_TAKEN' && m.fatal);
    expect(await dup.closedWithin(3000)).toBe(true);

    web.send({ type: 'WHO' });
    const who = await web.waitFor((m) => m.type === 'WHO_REPLY');
    expect(who.type === 'WHO_REPLY' && who.users.map((u) => u.nick).sort()).toEqual(['termy', 'webby']);

    web.send({ type: 'NICK', nick: 'webster' });
    await term.waitFor(
      (m) => m.type === 'NOTICE' && m.event === 'nick' && m.nick === 'webby' && m.newNick === 'webster',
    );

    web.send({ type: 'BYE', reason: 'done' });
    await term.waitFor((m) => m.type === 'NOTICE' && m.event === 'left' && m.nick === 'webster');
    expect(await web.closedWithin(3000)).toBe(true);
    expect(web.closeCode).toBe(1000);
    await s.waitFor(/^\* webby joined \(ws 127\.0\.0\.1:\d+, worker \d\)$/);
  });

  it('a silent WebSocket client is dropped by the heartbeat deadline, and the others see it', async () => {
    const s = await server(['--heartbeat-interval', '200ms', '--heartbeat-timeout', '1s']);
    const term = await tcpJoin(s.port, 'watcher');
    let answered = 0;
    const keepAlive = setInterval(() => {
      for (const m of term.received.slice(answered))
        if (m.type === 'HEARTBEAT') term.send({ type: 'HEARTBEAT_ACK', seq: m.seq, ts: m.ts });
      answered = term.received.length;
    }, 50);
    try {
      const frozen = await wsJoin(s.httpPort, 'frozen'); // never answers a heartbeat
      const t0 = Date.now();
      await frozen.waitFor((m) => m.type === 'BYE' && m.reason === 'heartbeat timeout', 8000);
      const dropMs = Date.now() - t0;
      // The deadline is 1 s after the first unanswered heartbeat, itself sent within one interval of joining.
      expect(dropMs).toBeGreaterThanOrEqual(900);
      expect(dropMs).toBeLessThan(5000);
      await s.waitFor(/^\* frozen timed out/);
      await term.waitFor((m) => m.type === 'NOTICE' && m.event === 'timed_out' && m.nick === 'frozen');
      expect(term.received.some((m) => m.type === 'BYE')).toBe(false); // the answering TCP client stayed
    } finally {
      clearInterval(keepAlive);
    }
  });

  it('refuses a foreign Origin, text messages, malformed frames and oversized messages', async () => {
    const s = await server(['--max-frame', '2KiB']);
    await expect(WsClient.connect(s.httpPort, { origin: 'http://evil.example' })).rejects.toMatchObject({
      status: 403,
    });
    await expect(WsClient.connect(s.httpPort, { path: '/nowhere' })).rejects.toMatchObject({ status: 404 });

    const text = await WsClient.connect(s.httpPort);
    peers.push(text);
    text.sendRaw('{"type":"HELLO"}', false);
    await text.waitFor((m) => m.type === 'ERROR' && m.code === 'BAD_FRAME' && m.fatal);
    expect(await text.closedWithin(3000)).toBe(true);

    const two = await WsClient.connect(s.httpPort);
    peers.push(two);
    const hello = encodeFrame(0x01, Buffer.from('{"version":1,"nick":"x"}'));
    two.sendRaw(Buffer.concat([hello, hello]));
    await two.waitFor((m) => m.type === 'ERROR' && m.code === 'BAD_FRAME' && /exactly one frame/.test(m.message));

    const big = await WsClient.connect(s.httpPort);
    peers.push(big);
    big.sendRaw(Buffer.alloc(3 * 1024, 0x20));
    expect(await big.closedWithin(3000)).toBe(true);
    expect(big.closeCode).toBe(1009); // message too big, enforced by maxPayload before the frame is parsed

    // The server carries on for everyone else.
    const ok = await wsJoin(s.httpPort, 'survivor');
    ok.send({ type: 'CHAT', text: 'still here', action: false });
    await ok.waitFor(isChat('survivor', 'still here'));
  });
});

describe('files over HTTP', () => {
  it('upload with a ticket, the room is told, download is byte-identical; tickets are one-time', async () => {
    const files = tempDir('web-files');
    const s = await server(['--files', files, '--max-file-size', '4MiB']);
    const web = await wsJoin(s.httpPort, 'uploader');
    const term = await tcpJoin(s.port, 'listener');
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const t = await ticket(web, 1, 'post', 'report.bin', data.length);
    expect(t.ok).toBe(true);
    if (!t.ok) return;
    const url = `http://127.0.0.1:${s.httpPort}/files/report.bin?ticket=${t.ticket}`;
    const up = await fetch(url, { method: 'POST', body: data, headers: { Origin: `http://127.0.0.1:${s.httpPort}` } });
    expect(up.status).toBe(201);
    expect(await up.json()).toEqual({ name: 'report.bin', size: data.length, sha256: sha(data) });
    await term.waitFor(
      (m) =>
        m.type === 'NOTICE' &&
        m.event === 'shared' &&
        m.nick === 'uploader' &&
        m.name === 'report.bin' &&
        m.size === data.length,
    );
    await s.waitFor(/^\* uploader shared report\.bin \(3\.00 MiB\)$/);
    expect(sha(readFileSync(join(files, 'report.bin')))).toBe(sha(data));
    expect(readdirSync(files).filter((f) => f.startsWith('.'))).toEqual([]); // no temporary file left

    const again = await fetch(url, { method: 'POST', body: data });
    expect(again.status).toBe(403);

    const g = await ticket(web, 2, 'get', 'report.bin');
    if (!g.ok) throw new Error('no get ticket');
    const down = await fetch(`http://127.0.0.1:${s.httpPort}/files/report.bin?ticket=${g.ticket}`);
    expect(down.status).toBe(200);
    expect(down.headers.get('content-disposition')).toContain('attachment');
    expect(sha(Buffer.from(await down.arrayBuffer()))).toBe(sha(data));
    expect((await fetch(`http://127.0.0.1:${s.httpPort}/files/report.bin?ticket=${g.ticket}`)).status).toBe(403);
  });

  it('a refused upload gets its answer and the connection survives the body still in flight', async () => {
    const s = await server();
    const sock = net.connect(s.httpPort, '127.0.0.1');
    peers.push(sock);
    const errors: Error[] = [];
    sock.on('error', (err) => errors.push(err));
    let received = '';
    sock.on('data', (d: Buffer) => (received += d.toString('latin1')));
    await once(sock, 'connect');
    const body = Buffer.alloc(2 * 1024 * 1024, 0x61);
    // Headers only: the server refuses (no such ticket) before any byte of the body exists.
    sock.write(`POST /files/a.bin?ticket=00 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n\r\n`);
    await until(
      () => /\r\n\r\n\{[^}]*\}/.test(received),
      10_000,
      () => `no answer: ${JSON.stringify(received)}`,
    );
    expect(received).toMatch(/^HTTP\/1\.1 403 /);
    expect(received).not.toMatch(/connection: close/i);
    // The body that a client was already sending: read and discarded, never answered with a reset.
    await new Promise<void>((resolve, reject) => sock.write(body, (err) => (err ? reject(err) : resolve())));
    received = '';
    sock.write('GET /style.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await until(
      () => /^HTTP\/1\.1 200 /.test(received),
      10_000,
      () => `second request unanswered: ${JSON.stringify(received.slice(0, 200))}`,
    );
    expect(errors).toEqual([]);
  });

  it('an upload whose body and half-close arrive before its checks are done is stored and answered, every time', async () => {
    const files = tempDir('web-files');
    const s = await server(['--files', files, ...NO_FLOOD_LIMIT]);
    const web = await wsJoin(s.httpPort, 'hasty');
    const answers: string[] = [];
    for (let i = 0; i < 30; i++) {
      const t = await ticket(web, i, 'post', `hasty${i}.txt`, 5);
      if (!t.ok) throw new Error(`no ticket: ${JSON.stringify(t)}`);
      // HTTP/1.0 style: the whole request in one write, then the client's FIN at once.
      const sock = net.connect(s.httpPort, '127.0.0.1');
      let reply = '';
      sock.on('data', (d: Buffer) => (reply += d.toString('latin1')));
      sock.on('error', () => undefined);
      await once(sock, 'connect');
      sock.end(
        `POST /files/hasty${i}.txt?ticket=${t.ticket} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello`,
      );
      await Promise.race([once(sock, 'close'), new Promise((r) => setTimeout(r, 10_000))]);
      sock.destroy();
      answers.push(reply.split('\r\n')[0] ?? '');
    }
    expect(answers).toEqual(Array(30).fill('HTTP/1.1 201 Created'));
    expect(readdirSync(files).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `hasty${i}.txt`).sort());
    for (let i = 0; i < 30; i++) expect(readFileSync(join(files, `hasty${i}.txt`), 'utf8')).toBe('hello');
  });

  it('sweeps uploads a crash left unfinished at start-up; a name of 255 bytes uploads', async () => {
    const files = tempDir('web-files');
    writeFileSync(join(files, '.report.pdf.0badc0de.lftp-part'), 'half a file');
    writeFileSync(join(files, '.upload-0123456789abcdef.lftp-part'), 'another half');
    writeFileSync(join(files, 'kept.txt'), 'x');
    const s = await server(['--files', files]);
    expect(readdirSync(files)).toEqual(['kept.txt']);
    const web = await wsJoin(s.httpPort, 'longname');
    const name = `${'é'.repeat(125)}.abcd`; // 250 + 5 = 255 bytes, the most a name may have
    expect(Buffer.byteLength(name)).toBe(255);
    const t = await ticket(web, 1, 'post', name, 5);
    if (!t.ok) throw new Error(`no ticket: ${JSON.stringify(t)}`);
    const res = await fetch(`http://127.0.0.1:${s.httpPort}/files/${encodeURIComponent(name)}?ticket=${t.ticket}`, {
      method: 'POST',
      body: 'hello',
      headers: { Origin: `http://127.0.0.1:${s.httpPort}` },
    });
    expect(res.status).toBe(201);
    expect(readFileSync(join(files, name), 'utf8')).toBe('hello');
  });

  it('names that lie are refused and hidden; the per-user quota answers 507; invisible-only text is empty', async () => {
    const files = tempDir('web-files');
    const outside = tempDir('web-outside');
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    writeFileSync(join(files, 'invoice.pdf'), 'x');
    writeFileSync(join(files, 'evil\u202etxt.exe'), 'x');
    symlinkSync(join(outside, 'secret.txt'), join(files, 'leak.txt'));
    const s = await server(['--files', files, '--max-upload-per-user', '8']);
    const web = await wsJoin(s.httpPort, 'mallory');
    const base = `http://127.0.0.1:${s.httpPort}`;
    const origin = { Origin: base };

    web.send({ type: 'FILES' });
    const listing = (await web.waitFor((m) => m.type === 'FILES_REPLY')) as Extract<
      ServerMessage,
      { type: 'FILES_REPLY' }
    >;
    expect(listing.files.map((f) => f.name)).toEqual(['invoice.pdf']);
    expect(await ticket(web, 1, 'post', 'report\u202efdp.exe', 1)).toMatchObject({
      ok: false,
      code: 'BAD_NAME',
      message: expect.stringMatching(/U\+202E/),
    });
    expect(await ticket(web, 2, 'post', 'zero\u200bwidth.txt', 1)).toMatchObject({
      ok: false,
      code: 'BAD_NAME',
      message: expect.stringMatching(/U\+200B/),
    });
    expect(await ticket(web, 3, 'post', 'Invoice.pdf', 1)).toMatchObject({
      ok: false,
      code: 'EXISTS',
      message: expect.stringMatching(/looks like "invoice.pdf"/),
    });
    expect(await ticket(web, 4, 'get', 'leak.txt')).toMatchObject({ ok: false, code: 'BAD_NAME' });

    // Two tickets fit the quota one at a time; the second upload finds the first counted.
    const a = await ticket(web, 5, 'post', 'a.txt', 5);
    const b = await ticket(web, 6, 'post', 'b.txt', 5);
    if (!a.ok || !b.ok) throw new Error(`no ticket: ${JSON.stringify([a, b])}`);
    expect(
      (await fetch(`${base}/files/a.txt?ticket=${a.ticket}`, { method: 'POST', body: 'hello', headers: origin }))
        .status,
    ).toBe(201);
    const over = await fetch(`${base}/files/b.txt?ticket=${b.ticket}`, {
      method: 'POST',
      body: 'hello',
      headers: origin,
    });
    expect(over.status).toBe(507);
    expect(await over.json()).toMatchObject({
      code: 'NO_SPACE',
      message: expect.stringMatching(/mallory has uploaded 5 B of the 8 B/),
    });
    expect(await ticket(web, 7, 'post', 'c.txt', 5)).toMatchObject({ ok: false, code: 'NO_SPACE' });
    expect(readdirSync(files).sort()).toEqual(['a.txt', 'evil\u202etxt.exe', 'invoice.pdf', 'leak.txt']);

    web.send({ type: 'CHAT', text: '\u200b\u200b\ufeff \u2060', action: false });
    expect(await web.waitFor((m) => m.type === 'ERROR')).toMatchObject({
      code: 'TEXT_INVALID',
      message: expect.stringMatching(/nothing in it shows/),
    });
    web.send({ type: 'CHAT', text: 'fine \u202ereversed\u2028', action: false });
    expect(await web.waitFor((m) => m.type === 'CHAT')).toMatchObject({ text: 'fine \ufffdreversed\ufffd' });
  });

  it('a disk that fills during an upload: 507 NO_SPACE with the reason and no path, nothing left behind, the connection answered', async (ctx) => {
    const mnt = tempDir('web-full');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      ctx.skip('cannot mount a small tmpfs here (needs root); the disk-full case is not exercised');
    }
    try {
      const s = await server(['--files', mnt, '--keep-free', '0']);
      const web = await wsJoin(s.httpPort, 'filler');
      // Two uploads of 300 KiB each pass the free-space check (512 KiB) while neither has written much; together they do not fit.
      const size = 300 * 1024;
      const uploads = await Promise.all(
        ['a.bin', 'b.bin'].map(async (name, i) => {
          const t = await ticket(web, i + 1, 'post', name, size);
          if (!t.ok) throw new Error(`no ticket: ${JSON.stringify(t)}`);
          const sock = net.connect({ host: '127.0.0.1', port: s.httpPort });
          peers.push(sock);
          let reply = '';
          sock.on('data', (d) => (reply += d));
          sock.on('error', () => undefined);
          await once(sock, 'connect');
          sock.write(
            `POST /files/${name}?ticket=${t.ticket} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${size}\r\n\r\n`,
          );
          sock.write(Buffer.alloc(1024, 1));
          return { sock, reply: () => reply };
        }),
      );
      // Both past their checks, each with its temporary file open.
      const parts = () => readdirSync(mnt).filter((n) => n.endsWith('.lftp-part'));
      await until(
        () => parts().length === 2,
        5000,
        () => `temporary files: ${parts().join(', ')}`,
      );
      for (const u of uploads) u.sock.write(Buffer.alloc(size - 1024, 2));
      await until(
        () => uploads.every((u) => /\r\n\r\n\{.*\}$/s.test(u.reply())),
        10_000,
        () => uploads.map((u) => u.reply().split('\r\n')[0]).join(' / '),
      );
      // Which of them the disk refuses depends on how their writes interleave: one, or both when each holds half.
      const stored: string[] = [];
      let refused = 0;
      for (const [i, u] of uploads.entries()) {
        const reply = u.reply();
        const status = reply.split('\r\n')[0];
        expect(['HTTP/1.1 201 Created', 'HTTP/1.1 507 Insufficient Storage']).toContain(status);
        if (status === 'HTTP/1.1 201 Created') {
          stored.push(['a.bin', 'b.bin'][i]!);
          continue;
        }
        refused++;
        const body = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as { code: string; message: string };
        expect(body).toMatchObject({
          code: 'NO_SPACE',
          message: expect.stringMatching(/^cannot write "[ab]\.bin": ENOSPC: no space left on device$/),
        });
        expect(body.message).not.toContain(mnt);
      }
      expect(refused).toBeGreaterThanOrEqual(1);
      await until(
        () => readdirSync(mnt).length === stored.length,
        5000,
        () => `left behind: ${readdirSync(mnt).join(', ')}`,
      );
      expect(readdirSync(mnt).sort()).toEqual(stored);
      if (stored.length === 0) writeFileSync(join(mnt, 'other.bin'), Buffer.alloc(300 * 1024));
      // The next ticket is refused at once for lack of room, saying so.
      expect(await ticket(web, 3, 'post', 'next.bin', 400 * 1024)).toMatchObject({
        ok: false,
        code: 'NO_SPACE',
        message: expect.stringMatching(/free for uploads/),
      });
      await stopAll(...procs);
      procs = [];
    } finally {
      execFileSync('umount', [mnt], { stdio: 'ignore' });
    }
  });

  it('refuses bad names, missing tickets, oversize and cut-short uploads, leaving nothing behind', async () => {
    const files = tempDir('web-files');
    writeFileSync(join(files, 'taken.txt'), 'x');
    const s = await server(['--files', files, '--max-file-size', '1MiB']);
    const web = await wsJoin(s.httpPort, 'mallory');
    const base = `http://127.0.0.1:${s.httpPort}`;

    expect((await fetch(`${base}/files/taken.txt`)).status).toBe(403); // no ticket
    expect((await fetch(`${base}/files/taken.txt?ticket=00`)).status).toBe(403);
    const bad = await ticket(web, 1, 'post', '../escape.txt', 10);
    expect(bad).toMatchObject({ ok: false, code: 'BAD_NAME' });
    expect(await ticket(web, 2, 'post', 'huge.bin', 2 * 1024 * 1024)).toMatchObject({ ok: false, code: 'TOO_LARGE' });
    expect(await ticket(web, 3, 'post', 'taken.txt', 1)).toMatchObject({ ok: false, code: 'EXISTS' });

    // A ticket for one name does not open another.
    const t = await ticket(web, 4, 'post', 'mine.txt', 5);
    if (!t.ok) throw new Error('no ticket');
    const wrongName = await fetch(`${base}/files/other.txt?ticket=${t.ticket}`, { method: 'POST', body: 'hello' });
    expect(wrongName.status).toBe(403);
    expect(await wrongName.json()).toMatchObject({ code: 'AUTH' });
    // Over --max-file-size is refused even with a valid ticket.
    const tooBig = await fetch(`${base}/files/mine.txt?ticket=${t.ticket}`, {
      method: 'POST',
      body: Buffer.alloc(2 * 1024 * 1024),
    });
    expect(tooBig.status).toBe(413);

    // A cut-short upload: Content-Length promises more than arrives, then the connection closes.
    const t2 = await ticket(web, 5, 'post', 'partial.bin', 1000);
    if (!t2.ok) throw new Error('no ticket');
    const net = await import('node:net');
    const sock = net.connect({ host: '127.0.0.1', port: s.httpPort });
    sock.on('error', () => undefined);
    const closed = once(sock, 'close');
    await once(sock, 'connect');
    sock.write(
      `POST /files/partial.bin?ticket=${t2.ticket} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n${'a'.repeat(400)}`,
    );
    // Cut once the upload has its temporary file, so that "nothing left behind" means it was removed.
    try {
      await until(
        () => readdirSync(files).some((f) => f.endsWith('.lftp-part')),
        5000,
        () => `no temporary file: ${readdirSync(files).join(', ')}`,
      );
    } finally {
      sock.destroy();
    }
    await closed;
    const deadline = Date.now() + 5000;
    while (readdirSync(files).some((f) => f.includes('partial') || f.endsWith('.lftp-part')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(files).sort()).toEqual(['taken.txt']);
    expect(existsSync(join(files, 'partial.bin'))).toBe(false);
    expect((await fetch(`${base}/files/x`, { method: 'DELETE' })).status).toBe(405);
  });
});

describe('pages and the dashboard', () => {
  it('serves the chat page with a CSP; /admin does not exist without --admin-token', async () => {
    const s = await server();
    const page = await fetch(`http://127.0.0.1:${s.httpPort}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'.*script-src 'self'/);
    // One server: the page connects to its own only, and lists no other node.
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self';");
    expect(await (await fetch(`http://127.0.0.1:${s.httpPort}/nodes`)).json()).toEqual({ nodes: [] });
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).toContain('<script type="module" src="/js/web/src/chat.js">');
    expect((await fetch(`http://127.0.0.1:${s.httpPort}/js/web/src/chat.js`)).status).toBe(200);
    for (const path of ['/admin', '/js/web/src/admin.js', '/js/../package.json', '/nothing']) {
      expect((await fetch(`http://127.0.0.1:${s.httpPort}${path}`)).status, path).toBe(404);
    }
    await expect(WsClient.connect(s.httpPort, { path: '/admin/ws' })).rejects.toMatchObject({ status: 404 });
    // Odd request targets get a 400, not a crash or a 500.
    const net = await import('node:net');
    for (const target of ['//%%', 'http://evil.example/', '*']) {
      const reply = await new Promise<string>((resolve) => {
        const sock = net.connect({ host: '127.0.0.1', port: s.httpPort }, () =>
          sock.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
        );
        let got = '';
        sock.on('data', (d) => (got += d));
        sock.on('close', () => resolve(got));
        sock.on('error', () => resolve(got));
      });
      expect(reply.split('\r\n')[0], target).toBe('HTTP/1.1 400 Bad Request');
    }
    expect((await fetch(`http://127.0.0.1:${s.httpPort}/`)).status).toBe(200);
  });

  it('answers only to its own names: a rebound host name gets 421 on pages, files and WebSocket; --web-host adds names', async () => {
    const s = await server(['--web-host', 'chat.lab']);
    const ask = (host: string, extra = '') =>
      new Promise<string>((resolve) => {
        const sock = net.connect({ host: '127.0.0.1', port: s.httpPort }, () =>
          sock.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${extra}\r\n`),
        );
        let got = '';
        sock.on('data', (d) => (got += d));
        sock.on('close', () => resolve(got));
        sock.on('error', () => resolve(got));
      });
    const status = async (host: string, extra = '') => (await ask(host, extra)).split('\r\n')[0];
    expect(await status(`evil.example:${s.httpPort}`)).toBe('HTTP/1.1 421 Misdirected Request');
    expect(await ask(`evil.example:${s.httpPort}`)).toContain('add names with --web-host');
    const upgrade = `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nOrigin: http://evil.example:${s.httpPort}\r\n`;
    expect((await ask(`evil.example:${s.httpPort}`, upgrade)).split('\r\n')[0]).toBe(
      'HTTP/1.1 421 Misdirected Request',
    );
    for (const ok of [
      `127.0.0.1:${s.httpPort}`,
      `localhost:${s.httpPort}`,
      `LOCALHOST.`,
      `chat.lab:${s.httpPort}`,
      `[::1]:${s.httpPort}`,
    ]) {
      expect(await status(ok), ok).toBe('HTTP/1.1 200 OK');
    }
  });

  it('--no-web: no web side at all', async () => {
    const s = await server(['--no-web']);
    await s.waitFor(/^lftp on udp /);
    // The web line would follow the LFTP line at once; a chat session proves start-up is over.
    await tcpJoin(s.port, 'probe');
    expect(s.lines.some((l) => l.startsWith('web on'))).toBe(false);
    expect(s.httpPort).toBeNull();
  });

  it('guessing the admin token is slowed per address: after 5 wrong tokens 429 with Retry-After, even for the right one, until the lock ends', async () => {
    const token = 'correct-horse-battery';
    // One worker: the throttle is kept per worker, and the test counts one worker's failures.
    const s = (await startServer(['--workers', '1', '--admin-token', token])) as ServerHandle & { httpPort: number };
    procs.push(s);
    const admin = `http://127.0.0.1:${s.httpPort}/admin`;
    const basic = (pw: string) => ({ Authorization: `Basic ${Buffer.from(`op:${pw}`).toString('base64')}` });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await fetch(admin, { headers: basic(`guess-${i}-guess`) })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401]);
    const locked = await fetch(admin, { headers: basic(token) });
    const lockedAt = Date.now();
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBe(1);
    expect(await locked.json()).toMatchObject({ code: 'TOO_MANY_FAILURES' });
    await expect(WsClient.connect(s.httpPort, { path: '/admin/ws', headers: basic(token) })).rejects.toMatchObject({
      status: 429,
    });
    let status = 429;
    for (let i = 0; i < 50 && status === 429; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await fetch(admin, { headers: basic(token) })).status;
    }
    expect(status).toBe(200);
    expect(Date.now() - lockedAt).toBeGreaterThanOrEqual(500);
    const refusals = () => readFileSync(s.logFile, 'utf8').match(/dashboard refused: wrong admin token/g)?.length ?? 0;
    // The marker: one more request, for a host name the server does not answer to, which the one worker logs
    // after every line it logged for the requests before it (one thread, one destination, in order).
    const misdirected = await new Promise<string>((resolve) => {
      const sock = net.connect({ host: '127.0.0.1', port: s.httpPort }, () =>
        sock.write('GET / HTTP/1.1\r\nHost: marker.example\r\nConnection: close\r\n\r\n'),
      );
      let got = '';
      sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
      sock.on('close', () => resolve(got));
      sock.on('error', () => resolve(got));
    });
    expect(misdirected.split('\r\n')[0]).toBe('HTTP/1.1 421 Misdirected Request');
    await until(
      () => readFileSync(s.logFile, 'utf8').includes('"host":"marker.example"'),
      5000,
      () => 'the marker request is not in the log',
    );
    expect(refusals()).toBe(6);
  });

  it('with --admin-token: 401 without or with a wrong token, the page and its feed with the right one', async () => {
    const token = 'correct-horse-battery';
    const s = await server(['--admin-token', token]);
    await s.waitFor(/dashboard at \/admin/);
    const admin = `http://127.0.0.1:${s.httpPort}/admin`;
    const basic = (pw: string) => ({ Authorization: `Basic ${Buffer.from(`op:${pw}`).toString('base64')}` });
    const none = await fetch(admin);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect((await fetch(admin, { headers: basic('wrong-token') })).status).toBe(401);
    expect((await fetch(admin, { headers: basic(token.slice(0, -1)) })).status).toBe(401);
    expect((await fetch(admin, { headers: { Authorization: `Bearer ${token}x` } })).status).toBe(401);
    await expect(WsClient.connect(s.httpPort, { path: '/admin/ws' })).rejects.toMatchObject({ status: 401 });
    await expect(
      WsClient.connect(s.httpPort, {
        path: '/admin/ws',
        headers: { Cookie: 'chat_admin=9999999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      }),
    ).rejects.toMatchObject({ status: 401 });

    const ok = await fetch(admin, { headers: basic(token) });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-security-policy')).toBeTruthy();
    const cookie = ok.headers.get('set-cookie')!.split(';')[0]!;
    expect(cookie).toMatch(/^chat_admin=\d+\./);

    // The cookie opens the live feed (what the page's script uses).
    const term = await tcpJoin(s.port, 'operated');
    const feed = await WsClient.connect(s.httpPort, { path: '/admin/ws', headers: { Cookie: cookie } });
    peers.push(feed);
    const snapshot = await new Promise<{ sessions: Array<{ nick: string; transport: string }> }>((resolve) =>
      feed.ws.once('message', (d: Buffer) => resolve(JSON.parse(d.toString()))),
    );
    expect(snapshot.sessions).toEqual([expect.objectContaining({ nick: 'operated', transport: 'tcp' })]);
    // Commands: broadcast reaches the room; kick removes a user and everyone sees it.
    feed.ws.send(JSON.stringify({ type: 'broadcast', text: 'maintenance at noon' }));
    await term.waitFor((m) => m.type === 'BROADCAST' && m.text === 'maintenance at noon');
    const other = await tcpJoin(s.port, 'bystander');
    feed.ws.send(JSON.stringify({ type: 'kick', nick: 'OPERATED', reason: 'testing' }));
    await other.waitFor((m) => m.type === 'NOTICE' && m.event === 'kicked' && m.nick === 'operated');
    expect(await term.closedWithin(3000)).toBe(true);
  });
});
