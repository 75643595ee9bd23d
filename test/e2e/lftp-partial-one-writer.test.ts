/**
 * One writer per partial upload, whichever door it came in by (docs/LFTP.md, "Resume"): an HTTP resumable upload
 * writing a partial refuses an LFTP post of it (BUSY), and an LFTP post writing one refuses the HTTP upload (409
 * UPLOAD_BUSY), on a server of two workers. Then the partial goes on through the other door: an LFTP post
 * continues what an HTTP upload left. Real server, chat-client lftp post with the chat's tickets, HTTP by hand
 * and by fetch, a rate-limited relay in front of the LFTP port, all on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { sourceTag } from '../../common/lftp/node/resume-record.js';
import { WsClient, ticketAsker, type Ticket } from '../helpers/raw-client.js';
import {
  CLIENT_JS,
  LineProcess,
  runLftpClient,
  startServer,
  stopAll,
  tempDir,
  type ServerHandle,
} from '../helpers/processes.js';
import { eventually, until } from '../helpers/wait.js';
import { NO_IMPAIRMENT, startRelay, type Relay } from '../relay/relay.js';
import { held } from '../helpers/partials.js';

const SIZE = 8 * 2 ** 20;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let procs: LineProcess[] = [];
let peers: Array<{ destroy(): void }> = [];
let relays: Relay[] = [];
afterEach(async () => {
  for (const p of peers) p.destroy();
  await stopAll(...procs);
  for (const r of relays) await r.close().catch(() => undefined);
  [procs, peers, relays] = [[], [], []];
});

/** A server of two workers, alice's chat session on its WebSocket (her tickets), and a file she uploads. */
async function setup() {
  const files = tempDir('one-writer-files');
  const s = (await startServer(['--workers', '2', '--files', files])) as ServerHandle & { httpPort: number };
  procs.push(s);
  const ws = await WsClient.connect(s.httpPort);
  peers.push(ws);
  ws.send({ type: 'HELLO', version: 1, nick: 'alice' });
  await ws.waitFor((m) => m.type === 'WELCOME');
  const ask = ticketAsker(ws);
  const ticket = (): Promise<Ticket> => ask('post', 'up.bin', SIZE);
  const src = join(tempDir('one-writer-src'), 'up.bin');
  const data = randomBytes(SIZE);
  writeFileSync(src, data);
  const mtime = Math.floor(statSync(src).mtimeMs);
  // What the page would say of the file: the same source as LFTP's (resume-record.ts sourceTag).
  const source = {
    'Upload-Length': String(SIZE),
    'Upload-Mtime': String(mtime),
    'Upload-Tag': await sourceTag(src, SIZE, mtime),
  };
  const url = (t: Ticket) => `http://127.0.0.1:${s.httpPort}/files/up.bin?ticket=${t.ticket}`;
  return { s, files, src, data, source, ticket, url, origin: `http://127.0.0.1:${s.httpPort}` };
}

const lftpPost = (to: string, src: string, t: Ticket) => [
  'post',
  to,
  src,
  'up.bin',
  '--ticket',
  t.ticket,
  '--ticket-key',
  t.key,
];

describe('one writer per partial upload, LFTP and HTTP alike', () => {
  it('an HTTP upload writing the partial refuses an LFTP post of it (BUSY); once cut, LFTP continues it', async () => {
    const { s, files, src, data, source, ticket, url, origin } = await setup();
    const t1 = await ticket();
    // The HTTP upload sends 2 MiB of its body and holds the connection open: it writes the partial.
    const sock = net.connect({ host: '127.0.0.1', port: s.httpPort });
    peers.push(sock);
    sock.on('error', () => undefined);
    await new Promise<void>((resolve) => sock.once('connect', resolve));
    let answer = '';
    sock.on('data', (b: Buffer) => (answer += b.toString()));
    const head = Object.entries({ ...source, 'Upload-Offset': '0', 'Content-Length': String(SIZE), Origin: origin })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    sock.write(`POST /files/up.bin?ticket=${t1.ticket} HTTP/1.1\r\nHost: 127.0.0.1:${s.httpPort}\r\n${head}\r\n`);
    sock.write(data.subarray(0, 2 * 2 ** 20));
    await until(
      () => held(files) >= 2 * 2 ** 20,
      10_000,
      () => `the HTTP upload's partial holds ${held(files)} bytes; the server said ${JSON.stringify(answer)}`,
    );

    const t2 = await ticket();
    const refused = await runLftpClient(lftpPost(`127.0.0.1:${t2.port}`, src, t2), { timeoutMs: 30_000 });
    expect(refused.code).toBe(4);
    // The holder is an HTTP upload (on either worker): said so, and not taken over (files/writer-claim.ts).
    expect(refused.err.join('\n')).toMatch(
      /BUSY: "up\.bin" is being received already \(an HTTP upload \(the web page\)/,
    );
    expect(held(files)).toBeGreaterThanOrEqual(2 * 2 ** 20); // the partial was not touched

    // The HTTP upload is cut: its partial put away, the claim given back (HEAD answers the offset, not 409).
    sock.destroy();
    const t3 = await ticket();
    const offset = await eventually(
      async () => {
        const r = await fetch(url(t3), { method: 'HEAD', headers: source });
        if (r.status === 409) return null;
        expect(r.status).toBe(204);
        return Number(r.headers.get('upload-offset'));
      },
      10_000,
      () => 'HEAD never answered the offset',
    );
    expect(offset).toBeGreaterThanOrEqual(2 * 2 ** 20);
    const done = await runLftpClient(lftpPost(`127.0.0.1:${t3.port}`, src, t3), { timeoutMs: 60_000 });
    expect(done.code).toBe(0);
    expect(sha(readFileSync(join(files, 'up.bin')))).toBe(sha(data));
    expect(readdirSync(files).filter((n) => n.startsWith('.'))).toEqual([]);
    const log = readFileSync(s.logFile, 'utf8');
    // LFTP went on from the HTTP upload's partial (the server's log says where its transfer started).
    expect(log).toMatch(new RegExp(`"size":${SIZE},"from":${offset},.*"msg":"transfer started"`));
  }, 90_000);

  it('an LFTP post writing the partial refuses an HTTP upload of it (409 UPLOAD_BUSY), and is stored whole', async () => {
    const { files, src, data, source, ticket, url, origin } = await setup();
    const t1 = await ticket();
    const rate = { ...NO_IMPAIRMENT, rateBps: 2e6 };
    const relay = await startRelay({
      listenHost: '127.0.0.1',
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: t1.port,
      seed: 3,
      up: rate,
      down: { ...NO_IMPAIRMENT },
    });
    relays.push(relay);
    const post = new LineProcess('lftp post', [CLIENT_JS, 'lftp', ...lftpPost(`127.0.0.1:${relay.port}`, src, t1)]);
    procs.push(post);
    post.endInput();
    await until(
      () => held(files) > 0,
      60_000,
      () => `the LFTP post wrote no partial: ${[...post.lines, ...post.errLines].join(' | ')}`,
    );

    const t2 = await ticket();
    const head = await fetch(url(t2), { method: 'HEAD', headers: source });
    expect(head.status).toBe(409);
    const r = await fetch(url(t2), {
      method: 'POST',
      headers: { ...source, 'Upload-Offset': '0', Origin: origin },
      body: data,
    });
    expect(r.status).toBe(409);
    expect(await r.json()).toEqual({
      code: 'UPLOAD_BUSY',
      message: expect.stringMatching(/^"up\.bin" is being received already \(an LFTP post writes its partial\)/),
    });

    rate.rateBps = 0; // the LFTP post finishes at full speed
    expect(await post.exit(60_000)).toBe(0);
    expect(sha(readFileSync(join(files, 'up.bin')))).toBe(sha(data));
    expect(readdirSync(files).filter((n) => n.startsWith('.'))).toEqual([]);
  }, 90_000);
});
