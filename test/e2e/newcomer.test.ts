/**
 * What a newcomer ran into (issue 19's list), each as it was reproduced:
 * real processes, scripted clients on pipes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  CLIENT_JS,
  LineProcess,
  ROOT,
  startClient,
  startServer,
  stopAll,
  tempDir,
  type ServerHandle,
} from '../helpers/processes.js';

let procs: LineProcess[] = [];
afterEach(async () => {
  await stopAll(...procs);
  procs = [];
});

async function server(args: string[] = []): Promise<ServerHandle> {
  const s = await startServer(['--workers', '1', ...args]);
  procs.push(s);
  return s;
}
async function client(port: number, nick: string, extra: string[] = []): Promise<LineProcess> {
  const c = await startClient(port, nick, extra);
  procs.push(c);
  return c;
}

describe('newcomer defects', () => {
  it('/quit right after /get in a pipe waits for the transfer, says so, and then quits', async () => {
    const files = tempDir('nc-files');
    const data = randomBytes(3 * 1024 * 1024);
    writeFileSync(join(files, 'big.bin'), data);
    const s = await server(['--files', files, '--no-web']);
    const downloads = tempDir('nc-dl');
    const c = await client(s.port, 'bot', ['--downloads', downloads]);
    c.send('/get big.bin');
    c.send('/quit');
    await c.waitFor('* waiting for 1 transfer to finish before quitting');
    await c.waitFor(/^transfer complete: big\.bin /, 30_000);
    expect(await c.exit()).toBe(0);
    expect(readFileSync(join(downloads, 'big.bin')).equals(data)).toBe(true);
  });

  it('/get NAME DIR saves into the directory DIR; DIR/ is created and saved into; otherwise DEST is the file name', async () => {
    const files = tempDir('nc-files');
    writeFileSync(join(files, 'a.txt'), 'alpha');
    const s = await server(['--files', files, '--no-web']);
    const downloads = tempDir('nc-dl');
    mkdirSync(join(downloads, 'existing'));
    const c = await client(s.port, 'bot', ['--downloads', downloads]);
    c.send('/get a.txt existing');
    await c.waitFor(`* saved ${join(downloads, 'existing', 'a.txt')}`, 20_000);
    c.send('/get a.txt fresh/');
    await c.waitFor(`* saved ${join(downloads, 'fresh', 'a.txt')}`, 20_000);
    c.send('/get a.txt renamed.txt');
    await c.waitFor(`* saved ${join(downloads, 'renamed.txt')}`, 20_000);
    expect(readFileSync(join(downloads, 'fresh', 'a.txt'), 'utf8')).toBe('alpha');
  });

  it('/post of a directory sends the folder (docs/LFTP.md, "Folders"); /help says how to name files with spaces', async () => {
    const s = await server(['--no-web']);
    const c = await client(s.port, 'bot');
    const dir = tempDir('nc-dir');
    c.send(`/post ${dir}`);
    await c.waitFor(`transfer complete: ${basename(dir)}/ (0 files, 0 folders, 0 B, 0 B/s, sha256 ok for each file)`);
    c.send('/help');
    await c.waitFor('Names with spaces go in double quotes: /get "my notes.txt"');
  });

  it('a /quit reason reaches the others: "* carol left (going home)"', async () => {
    const s = await server(['--no-web']);
    const alice = await client(s.port, 'alice');
    const carol = await client(s.port, 'carol');
    carol.send('/quit going home');
    await alice.waitFor(/^\* carol left \(going home\)$/);
  });

  it('pointing the client at the web port says so and where the chat port is, instead of FRAME_TOO_LARGE', async () => {
    const s = await server();
    const c = new LineProcess('client', [CLIENT_JS, '--port', String(s.httpPort), '--nick', 'lost']);
    procs.push(c);
    expect(await c.exit()).toBe(1);
    expect(c.errLines).toEqual([
      `chat-client: 127.0.0.1:${s.httpPort} is a web server (it answered in HTTP), not the chat port; the chat server's web port is its chat port + 1 by default, so try --port ${s.httpPort! - 1}`,
    ]);
  });

  it('npx chat-client prints no EBADENGINE warnings', () => {
    // The first `npm exec` of the project's own bin in a fresh clone runs its prepare script (npm run build):
    // mid-suite, that rewrote dist/ under the other tests' servers (a worker once loaded a half-written
    // module). --ignore-scripts keeps this test to what it checks.
    const out = execFileSync('npx', ['--no-install', '--ignore-scripts', 'chat-client', '--version'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out.trim()).toMatch(/^chat-client \d+\.\d+\.\d+ \(Node v\d+\.\d+\.\d+\)\nlftp datagrams: /);
    const both = execFileSync('bash', ['-c', 'npx --no-install --ignore-scripts chat-client --version 2>&1'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(both).not.toContain('EBADENGINE');
  });
});
