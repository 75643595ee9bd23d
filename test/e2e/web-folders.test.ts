/**
 * A folder over the chat server's HTTP side with one folder ticket (docs/PROTOCOL.md, "Folders over HTTP"): its
 * manifest, then every file by one curl over one kept-alive connection and again over several at once (nested
 * folders, an empty one, a name with spaces, CJK names), ranges on a file of it, and what the ticket does not
 * open: a path out of the folder by any spelling, a symlink out of the tree, another folder, a file beside it.
 * Real server, real curl on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerMessage } from '../../common/protocol.js';
import { decodeManifest } from '../../common/lftp/node/folder-manifest.js';
import { WsClient } from '../helpers/raw-client.js';
import { startServer, stopAll, tempDir, type LineProcess, type ServerHandle } from '../helpers/processes.js';
import { tree } from '../helpers/file-tree.js';
import { curlConfig, folderUrl } from '../helpers/http-folder.js';
import { eventually } from '../helpers/wait.js';
import { joinAs, launchChromium, logLine, openPage } from '../helpers/chat-page.js';

const run = promisify(execFile);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const refusal = (body: string) => JSON.parse(body) as { code: string; message: string };
let procs: LineProcess[] = [];
let peers: Array<{ destroy(): void }> = [];
let browsers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const b of browsers) await b.close();
  browsers = [];
  for (const p of peers) p.destroy();
  peers = [];
  await stopAll(...procs);
  procs = [];
});

/** curl's answer to a GET of `url` (`--path-as-is`: sent as written, `..` included): status and body. */
async function curl(url: string, extra: string[] = []): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-sS', '--path-as-is', '-w', '\n%{http_code}', ...extra, url], {
    maxBuffer: 64 * 2 ** 20,
  });
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

function makeFolder(files: string): string {
  const trip = join(files, 'trip');
  mkdirSync(join(trip, 'day 1', '写真', '深い'), { recursive: true });
  mkdirSync(join(trip, 'empty'));
  mkdirSync(join(trip, 'day 2', 'nothing yet'), { recursive: true });
  writeFileSync(join(trip, 'day 1', 'notes about the trip.txt'), 'day one\n');
  writeFileSync(join(trip, 'day 1', '写真', '海.bin'), randomBytes(1_500_000));
  writeFileSync(join(trip, 'day 1', '写真', '深い', 'c.txt'), 'deep\n');
  writeFileSync(join(trip, 'b.bin'), randomBytes(600_000));
  writeFileSync(join(files, 'beside.txt'), 'not in the folder\n');
  return trip;
}

describe('a folder over HTTP with one folder ticket', () => {
  it('the manifest, then every file by one curl on one connection; ranges; nothing outside the folder', async () => {
    const files = tempDir('web-folder');
    const trip = makeFolder(files);
    const s = (await startServer(['--workers', '2', '--files', files])) as ServerHandle & { httpPort: number };
    procs.push(s);
    const ws = await WsClient.connect(s.httpPort);
    peers.push(ws);
    // Version 2: a resumable session, as the page's, which goes away (its tickets given back) when its link is lost.
    ws.send({ type: 'HELLO', version: 2, nick: 'webby' });
    await ws.waitFor((m) => m.type === 'WELCOME');
    ws.send({ type: 'TICKET_REQUEST', id: 1, op: 'get', name: 'trip/' });
    const t = (await ws.waitFor((m) => m.type === 'TICKET' && m.id === 1)) as Extract<
      ServerMessage,
      { type: 'TICKET' }
    >;
    if (!t.ok) throw new Error(`no ticket: ${t.code} ${t.message}`);
    const base = `http://127.0.0.1:${s.httpPort}`;
    const at = (path: string) => folderUrl(base, 'trip', path, t.ticket);

    const listing = await curl(at(''));
    expect(listing.status).toBe(200);
    const m = decodeManifest(Buffer.from(listing.body), 'trip');
    expect(m.dirs).toEqual(['day 1', 'day 1/写真', 'day 1/写真/深い', 'day 2', 'day 2/nothing yet', 'empty']);
    expect(m.files.map((f) => [f.path, f.size])).toEqual([
      ['b.bin', 600_000],
      ['day 1/notes about the trip.txt', 8],
      ['day 1/写真/海.bin', 1_500_000],
      ['day 1/写真/深い/c.txt', 5],
    ]);

    // Every file by one curl: one connection (num_connects is 1 for the first transfer, 0 for each reuse).
    const into = tempDir('web-folder-out');
    const config = join(into, 'trip.curl');
    writeFileSync(config, curlConfig(base, m, t.ticket, into));
    const { stdout } = await run('curl', ['-sS', '--fail', '-K', config, '-w', '%{num_connects}\n']);
    expect(stdout.trim().split('\n').map(Number)).toEqual([1, 0, 0, 0]);
    expect(tree(join(into, 'trip'))).toEqual(tree(trip));
    // And at once, on four connections: requests that meet on one folder ticket all pass.
    const wide = tempDir('web-folder-wide');
    writeFileSync(config, curlConfig(base, m, t.ticket, wide));
    await run('curl', ['-sS', '--fail', '--parallel', '--parallel-immediate', '--parallel-max', '4', '-K', config]);
    expect(tree(join(wide, 'trip'))).toEqual(tree(trip));

    // Ranges on a file of the folder, and curl's -C - from a partial.
    const sea = readFileSync(join(trip, 'day 1', '写真', '海.bin'));
    const part = await fetch(at('day 1/写真/海.bin'), { headers: { Range: 'bytes=1000-1999' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-disposition')).toContain(`filename*=UTF-8''${encodeURIComponent('海.bin')}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(sea.subarray(1000, 2000))).toBe(true);
    const etag = part.headers.get('etag')!;
    const rest = await fetch(at('day 1/写真/海.bin'), { headers: { Range: 'bytes=2000-', 'If-Range': etag } });
    expect(rest.status).toBe(206);
    expect(Buffer.from(await rest.arrayBuffer()).equals(sea.subarray(2000))).toBe(true);
    const local = join(tempDir('web-folder-part'), 'sea.bin');
    writeFileSync(local, sea.subarray(0, 700_001));
    await run('curl', ['-sS', '--fail', '-C', '-', '-o', local, at('day 1/写真/海.bin')]);
    expect(sha(readFileSync(local))).toBe(sha(sea));

    // Out of the folder by its spelling: refused by the name rule, 400 BAD_NAME, before anything is read.
    const path = `${base}/files/trip`;
    for (const out of [
      '/../beside.txt',
      '/%2e%2e/beside.txt',
      '/..%2fbeside.txt',
      '/day%201/..%2F..%2Fbeside.txt',
      '//etc/passwd',
      '/%2Fetc%2Fpasswd',
      '/day 1\\..\\..\\beside.txt'.replaceAll(' ', '%20'),
    ]) {
      const r = await curl(`${path}${out}?ticket=${t.ticket}`);
      expect({ out, status: r.status, code: refusal(r.body).code }).toEqual({ out, status: 400, code: 'BAD_NAME' });
    }
    // Beside the folder, or another folder whose name starts the same: not this ticket's (403 AUTH).
    mkdirSync(join(files, 'trips'));
    writeFileSync(join(files, 'trips', 'x'), 'x');
    for (const other of [`${base}/files/beside.txt`, `${base}/files/trips/x`, `${base}/files/trips/`]) {
      const r = await curl(`${other}?ticket=${t.ticket}`);
      expect(r.status).toBe(403);
      expect(JSON.parse(r.body)).toEqual({ code: 'AUTH', message: 'ticket is for get "trip/"' });
    }

    // A symlink out of the tree: the file refused, and the manifest, which would list it, too.
    const secret = join(tempDir('web-folder-secret'), 'secret.txt');
    writeFileSync(secret, 'secret\n');
    symlinkSync(secret, join(trip, 'day 1', 'escape.txt'));
    symlinkSync('/etc', join(trip, 'etc'));
    const escape = await curl(at('day 1/escape.txt'));
    expect(escape.status).toBe(400);
    expect(JSON.parse(escape.body)).toEqual({
      code: 'BAD_NAME',
      message: '"trip/day 1/escape.txt" leads outside its folder',
    });
    expect((await curl(at('etc/passwd'))).status).toBe(400);
    const refused = await curl(at(''));
    expect(refused.status).toBe(400);
    expect(refusal(refused.body).message).toMatch(/^"trip\/day 1\/escape\.txt" is a symlink that leads outside/);

    // The ticket works as long as requests come; the session that asked for it going away (its link lost) ends it.
    expect((await curl(at('b.bin'), ['-o', '/dev/null'])).status).toBe(200);
    ws.destroy();
    await eventually(
      async () => ((await curl(at('b.bin'), ['-o', '/dev/null'])).status === 403 ? true : null),
      10_000,
      () => 'the folder ticket still works after its session went away',
    );
  }, 60_000);

  it("the page's Links button (and /get DIR/) gives the folder's listing and files' addresses under one ticket", async () => {
    const files = tempDir('web-folder-page');
    const trip = makeFolder(files);
    const s = (await startServer(['--workers', '2', '--files', files])) as ServerHandle & { httpPort: number };
    procs.push(s);
    const browser = await launchChromium();
    browsers.push(browser);
    const { page, problems } = await openPage(browser, s.httpPort);
    await joinAs(page, 'pagey');
    const row = page.locator('#files li', { hasText: 'trip/' });
    await row.locator('button', { hasText: 'Links' }).click();
    const said = (await logLine(page, '* trip/ over HTTP, one ticket for all of it').textContent())!;
    const listing = /the listing .* is (\S+) and each file is (\S+),/.exec(said);
    expect(listing).not.toBeNull();
    const m = decodeManifest(Buffer.from(await (await fetch(listing![1]!)).arrayBuffer()), 'trip');
    expect(m.dirs).toContain('empty');
    const sea = m.files.find((f) => f.path.endsWith('.bin') && f.size === 1_500_000)!;
    const url = listing![2]!.replace('PATH', sea.path.split('/').map(encodeURIComponent).join('/'));
    const got = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(sha(got)).toBe(sha(readFileSync(join(trip, sea.path))));
    // Typed, the same; a folder that is not there is refused in words.
    await page.fill('#input', '/get nowhere/');
    await page.press('#input', 'Enter');
    await logLine(page, '! download of nowhere/ refused: NOT_FOUND').waitFor();
    expect(problems).toEqual([]);
  }, 60_000);
});
