/**
 * A folder's files in flight at once (docs/LFTP.md, "Folders"), with real processes: `chat-client lftp` against
 * `chat-server lftp`. The server's log shows several of one folder's transfers started before the first of them
 * completed, never more than the client's FILES_AT_ONCE, all from one source port (the folder's one socket); a
 * post's last file started alone; files of more than half of BYTES_AT_ONCE one at a time. A folder of many small
 * files cut by SIGKILL with several files in flight, run again, arrives byte-identical, and the files it held
 * whole do not cross again; a post so under --token (protected), a get open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_JS, LineProcess, startLftpServer, stopAll, tempDir, type ServerHandle } from '../helpers/processes.js';
import { NO_IMPAIRMENT, startRelay, type Relay } from '../relay/relay.js';
import { until } from '../helpers/wait.js';
import { tree } from '../helpers/file-tree.js';
import { BYTES_AT_ONCE, FILES_AT_ONCE } from '../../client/lftp-folder-files.js';

const TOKEN = 'small files token';
const SMALL = 4096;

let server: ServerHandle;
let files: string;
const relays: Relay[] = [];

beforeAll(async () => {
  files = tempDir('small-files-served');
  server = await startLftpServer(files, ['--token', TOKEN, '--log-level', 'info']);
});
afterAll(async () => {
  for (const r of relays) await r.close().catch(() => undefined);
  await stopAll(server);
});

/** A relay to the server whose every direction moves at most rateBps (0: unlimited). */
async function relayTo(rateBps: number): Promise<Relay> {
  const r = await startRelay({
    listenHost: '127.0.0.1',
    listenPort: 0,
    targetHost: '127.0.0.1',
    targetPort: server.port,
    seed: 5,
    up: { ...NO_IMPAIRMENT, rateBps },
    down: { ...NO_IMPAIRMENT, rateBps },
  });
  relays.push(r);
  return r;
}

function client(args: string[]): LineProcess {
  const p = new LineProcess('lftp-client', [CLIENT_JS, 'lftp', ...args, '--token', TOKEN, '--quiet']);
  p.endInput();
  return p;
}

/** A folder of `count` files of `size` random bytes, two levels deep. */
function makeFolder(count: number, size: number): string {
  const root = join(tempDir('small-files-src'), 'many');
  mkdirSync(join(root, 'sub'), { recursive: true });
  for (let i = 0; i < count; i++)
    writeFileSync(join(root, i % 2 ? 'sub' : '', `f${String(i).padStart(4, '0')}.bin`), randomBytes(size));
  return root;
}

/** The server's log entries about the transfers (op) of DIR's files, the manifest's not, in the order written. */
function fileEntries(dir: string, op: 'get' | 'post'): Array<{ msg: string; transfer: string; file: string }> {
  return readFileSync(server.logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes(`"op":"${op}","file":"${dir}/`) && !l.includes(`"file":"${dir}/"`))
    .map((l) => JSON.parse(l) as { msg: string; transfer: string; file: string });
}

/** The most transfers under way at once, by the log's started and complete lines. */
function mostAtOnce(log: ReturnType<typeof fileEntries>): number {
  let running = 0;
  let most = 0;
  for (const e of log) {
    if (e.msg === 'transfer started') running++;
    if (e.msg === 'transfer complete') running--;
    most = Math.max(most, running);
  }
  return most;
}

/** Files held whole in a staging folder under dir (not the manifest, not partials). */
function heldWhole(dir: string): number {
  let n = 0;
  for (const stage of readdirSync(dir).filter((d) => d.startsWith('.folder-')))
    for (const name of readdirSync(join(dir, stage), { recursive: true }) as string[])
      if (/f\d+\.bin$/.test(name) && statSync(join(dir, stage, name)).isFile()) n++;
  return n;
}

const hidden = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('.'));

describe('folders: files in flight at once', () => {
  it(`a get has up to ${FILES_AT_ONCE} of a folder's files under way at once, all on one socket`, async () => {
    const count = 2 * FILES_AT_ONCE + 1;
    const src = makeFolder(count, 512 * 1024);
    const seeded = client(['post', `127.0.0.1:${server.port}`, src, 'overlap']);
    expect(await seeded.exit(60_000)).toBe(0);
    // Slow enough (each file takes at least a quarter of a second) that no file completes before the client has
    // asked for the others.
    const slow = await relayTo(16e6);
    const dest = join(tempDir('small-files-get'), 'overlap');
    const get = client(['get', `127.0.0.1:${slow.port}`, 'overlap/', dest]);
    expect(await get.exit(60_000)).toBe(0);
    expect(tree(dest)).toEqual(tree(src));
    let log: ReturnType<typeof fileEntries> = [];
    await until(
      () => (log = fileEntries('overlap', 'get')).filter((e) => e.msg === 'transfer complete').length === count,
      10_000,
      () => `the log has ${log.length} entries about the get of overlap's files`,
    );
    expect(mostAtOnce(log)).toBe(FILES_AT_ONCE);
    // Keyed address|port|connection id: one port (the folder's socket), a connection id per file.
    expect(new Set(log.map((e) => e.transfer.split('|')[1])).size).toBe(1);
    expect(new Set(log.map((e) => e.transfer)).size).toBe(count);
  });

  it("a post's last file starts once every other file is stored", async () => {
    // In name order (the manifest's): a small file, three slower ones, a small last one, which would otherwise
    // start as soon as the first small one is done, beside the three.
    const src = join(tempDir('small-files-src'), 'last-alone');
    mkdirSync(src);
    const sizes = [SMALL, 512 * 1024, 512 * 1024, 512 * 1024, SMALL];
    sizes.forEach((size, i) => writeFileSync(join(src, `f${i}.bin`), randomBytes(size)));
    const slow = await relayTo(16e6);
    const post = client(['post', `127.0.0.1:${slow.port}`, src, 'last-alone']);
    expect(await post.exit(60_000)).toBe(0);
    expect(tree(join(files, 'last-alone'))).toEqual(tree(src));
    let log: ReturnType<typeof fileEntries> = [];
    await until(
      () => (log = fileEntries('last-alone', 'post')).filter((e) => e.msg === 'transfer complete').length === 5,
      10_000,
      () => `the log has ${log.length} entries about the post of last-alone's files`,
    );
    const transfers = [...new Set(log.map((e) => e.transfer))];
    const last = log.find((e) => e.msg === 'transfer started' && e.file === 'last-alone/f4.bin')!;
    const before = log.slice(0, log.indexOf(last));
    expect(transfers).toHaveLength(5);
    // Every other file's transfer started and completed before the last one started.
    expect(before.filter((e) => e.msg === 'transfer started')).toHaveLength(4);
    expect(before.filter((e) => e.msg === 'transfer complete')).toHaveLength(4);
  });

  it('files of more than half of BYTES_AT_ONCE go one at a time', async () => {
    const src = makeFolder(4, BYTES_AT_ONCE / 2 + 1);
    writeFileSync(join(src, 'big.bin'), randomBytes(BYTES_AT_ONCE));
    writeFileSync(join(src, 'sub', 'big2.bin'), randomBytes(BYTES_AT_ONCE));
    const post = client(['post', `127.0.0.1:${server.port}`, src, 'fewer']);
    expect(await post.exit(60_000)).toBe(0);
    expect(tree(join(files, 'fewer'))).toEqual(tree(src));
    let log: ReturnType<typeof fileEntries> = [];
    await until(
      () => (log = fileEntries('fewer', 'post')).filter((e) => e.msg === 'transfer complete').length === 6,
      10_000,
      () => `the log has ${log.length} entries about the post of fewer's files`,
    );
    // Any two of them are more than BYTES_AT_ONCE together: one file in flight at a time.
    expect(mostAtOnce(log)).toBe(1);
  });

  for (const op of ['get', 'post'] as const) {
    it(`a ${op} of ${300} small files cut by SIGKILL with files in flight continues, byte-identical`, async () => {
      const count = 300;
      const src = makeFolder(count, SMALL);
      const name = `small-${op}`;
      let dest = '';
      if (op === 'get') {
        const seeded = client(['post', `127.0.0.1:${server.port}`, src, name]);
        expect(await seeded.exit(60_000)).toBe(0);
        dest = tempDir('small-files-cut');
      }
      const receiving = op === 'post' ? files : dest;
      const args = (port: number) =>
        op === 'post'
          ? ['post', `127.0.0.1:${port}`, src, name]
          : ['get', `127.0.0.1:${port}`, `${name}/`, join(dest, name)];
      // About 250 KB/s: the cut lands with a third of the files whole and the next ones under way.
      const slow = await relayTo(2e6);
      const cut = client(args(slow.port));
      await until(
        () => heldWhole(receiving) >= count / 3,
        60_000,
        () => `${heldWhole(receiving)} files held whole in ${receiving}`,
      );
      cut.kill('SIGKILL');
      await cut.exit();
      const held = heldWhole(receiving);
      expect(held).toBeLessThan(count);
      const again = client([...args(server.port), '--json']);
      expect(await again.exit(60_000)).toBe(0);
      const result = JSON.parse(again.lines.join('\n')) as { resumedFrom: number; files: number };
      expect(result.files).toBe(count);
      expect(result.resumedFrom).toBeGreaterThanOrEqual(held * SMALL);
      expect(tree(join(receiving, name))).toEqual(tree(src));
      expect(hidden(receiving)).toEqual([]);
    });
  }
});
