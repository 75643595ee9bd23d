/**
 * Folders (docs/LFTP.md, "Folders") with real processes: `chat-client lftp post DIR` and `get DIR/` against
 * `chat-server lftp`, open and --token. The tree arrives whole (nested folders, an empty one, a name with
 * spaces, CJK names), no staging folder is left and none is seen half made under the final name; a symlink
 * out of the tree is refused on either side, a path that leaves the folder by its spelling is refused, and a
 * folder cut half-way by SIGKILL continues: the files held whole do not cross again, nor the partial's bytes. Two
 * clients from two addresses (relays sending from 127.10.0.x) posting one folder at once: the second is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_JS, LineProcess, startLftpServer, stopAll, tempDir, type ServerHandle } from '../helpers/processes.js';
import { NO_IMPAIRMENT, startRelay, type Relay } from '../relay/relay.js';
import { LFTP_DEFAULTS } from '../../common/lftp/defaults.js';
import { until } from '../helpers/wait.js';
import { loopbackAddress } from '../helpers/loopback.js';
import { tree } from '../helpers/file-tree.js';

const TOKEN = 'folder token';
const MSS = LFTP_DEFAULTS.mss;
const WINDOW = LFTP_DEFAULTS.receiveCapacity;
/** Control datagrams of one transfer (handshake, END, FIN, keepalives), generously. */
const CONTROL = 16;

let open: ServerHandle;
let guarded: ServerHandle;
let openFiles: string;
let guardedFiles: string;
const relays: Relay[] = [];

beforeAll(async () => {
  openFiles = tempDir('folders-open');
  guardedFiles = tempDir('folders-token');
  open = await startLftpServer(openFiles, ['--open']);
  guarded = await startLftpServer(guardedFiles, ['--token', TOKEN]);
});
afterAll(async () => {
  for (const r of relays) await r.close().catch(() => undefined);
  await stopAll(open, guarded);
});

async function relayTo(port: number, rateBps = 0, sourceHost?: string): Promise<Relay> {
  const r = await startRelay({
    listenHost: '127.0.0.1',
    listenPort: 0,
    targetHost: '127.0.0.1',
    targetPort: port,
    seed: 3,
    up: { ...NO_IMPAIRMENT, rateBps },
    down: { ...NO_IMPAIRMENT, rateBps },
    ...(sourceHost !== undefined ? { sourceHost } : {}),
  });
  relays.push(r);
  return r;
}

function client(args: string[]): LineProcess {
  const p = new LineProcess('lftp-client', [CLIENT_JS, 'lftp', ...args, '--quiet']);
  p.endInput();
  return p;
}

async function run(args: string[]): Promise<{ code: number | null; err: string; out: string }> {
  const p = client(args);
  const code = await p.exit(120_000);
  return { code, err: p.errLines.join('\n'), out: p.lines.join('\n') };
}

/** A tree with nested folders, an empty folder, a name with spaces and CJK names; `big` bytes in each of three files. */
function makeTree(big = 200_000): string {
  const root = join(tempDir('folders-src'), 'photos');
  mkdirSync(join(root, 'a b', '深い', 'deeper'), { recursive: true });
  mkdirSync(join(root, 'empty'));
  writeFileSync(join(root, 'a b', 'name with spaces.bin'), randomBytes(big));
  writeFileSync(join(root, 'a b', '深い', '報告.txt'), 'こんにちは\n');
  writeFileSync(join(root, 'a b', '深い', 'deeper', 'z.bin'), randomBytes(big));
  writeFileSync(join(root, 'zero'), '');
  writeFileSync(join(root, 'top.bin'), randomBytes(big));
  return root;
}

const hidden = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('.'));

describe('folders: chat-client lftp against chat-server lftp', () => {
  for (const mode of ['open', '--token'] as const) {
    it(`post DIR then get DIR/ (${mode}): the tree arrives whole, empty folder and all`, async () => {
      const files = mode === 'open' ? openFiles : guardedFiles;
      const server = mode === 'open' ? open : guarded;
      const auth = mode === 'open' ? [] : ['--token', TOKEN];
      const src = makeTree();
      const name = `photos-${mode === 'open' ? 'o' : 't'}`;
      const up = await run(['post', `127.0.0.1:${server.port}`, src, name, ...auth]);
      expect(up.err).toBe('');
      expect(up.code).toBe(0);
      expect(up.out).toMatch(
        new RegExp(`^transfer complete: ${name}/ \\(5 files, 4 folders, .*sha256 ok for each file\\)$`),
      );
      expect(tree(join(files, name))).toEqual(tree(src));
      expect(hidden(files)).toEqual([]);
      const dest = tempDir('folders-dest');
      const down = await run(['get', `127.0.0.1:${server.port}`, `${name}/`, join(dest, 'copy'), ...auth, '--json']);
      expect(down.code).toBe(0);
      expect(JSON.parse(down.out)).toMatchObject({ ok: true, folder: true, files: 5, dirs: 4, resumedFrom: 0 });
      expect(tree(join(dest, 'copy'))).toEqual(tree(src));
      expect(readdirSync(dest)).toEqual(['copy']);
      // The same name again: refused (never merged into or overwritten).
      const again = await run(['post', `127.0.0.1:${server.port}`, src, name, ...auth]);
      expect(again.code).toBe(4);
      expect(again.err).toMatch(/EXISTS/);
    });
  }

  it('a symlink that leads out of the tree is refused, on the sending and on the serving side', async () => {
    const src = makeTree(10);
    symlinkSync('/etc/passwd', join(src, 'a b', 'out'));
    const up = await run(['post', `127.0.0.1:${open.port}`, src, 'linked']);
    expect(up.code).toBe(1);
    expect(up.err).toMatch(/"linked\/a b\/out" is a symlink that leads outside the folder/);
    expect(existsSync(join(openFiles, 'linked'))).toBe(false);
    const served = join(openFiles, 'served-link');
    mkdirSync(join(served, 'in'), { recursive: true });
    writeFileSync(join(served, 'ok.txt'), 'ok');
    symlinkSync(join(openFiles, 'photos-o', 'top.bin'), join(served, 'in', 'sideways'));
    const dest = tempDir('folders-link');
    const down = await run(['get', `127.0.0.1:${open.port}`, 'served-link/', join(dest, 'x')]);
    expect(down.code).toBe(4);
    expect(down.err).toMatch(/BAD_NAME: "served-link\/in\/sideways" is a symlink that leads outside the folder/);
    // A file of it asked for by path is refused too.
    const one = await run(['get', `127.0.0.1:${open.port}`, 'served-link/in/sideways', join(dest, 'y')]);
    expect(one.code).toBe(4);
    expect(one.err).toMatch(/leads outside its folder/);
    expect(readdirSync(dest).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it('a path that leaves the folder by its spelling is refused', async () => {
    const dest = tempDir('folders-traversal');
    for (const path of [
      'photos-o/../x',
      'photos-o/a b/../../x',
      '../photos-o/',
      'photos-o//top.bin',
      'photos-o/./top.bin',
      '/etc/passwd',
    ]) {
      const r = await run(['get', `127.0.0.1:${open.port}`, path, join(dest, 'x')]);
      expect(r.code, path).toBe(4);
      expect(r.err, path).toMatch(/BAD_NAME/);
    }
  });

  /** Bytes in dir's staging folders: files held whole and partials (.lftp-held), the manifest left out. */
  function staged(dir: string): number {
    let n = 0;
    for (const stage of readdirSync(dir).filter((d) => d.startsWith('.folder-'))) {
      for (const name of readdirSync(join(dir, stage), { recursive: true }) as string[]) {
        const st = statSync(join(dir, stage, name), { throwIfNoEntry: false });
        if (st?.isFile() && !name.includes('manifest')) n += st.size;
      }
    }
    return n;
  }

  it('a folder get cut half-way, a file it held whole then changed on the server: that file is fetched again', async () => {
    const BIG = 4 * 2 ** 20;
    const src = makeTree(BIG);
    expect((await run(['post', `127.0.0.1:${open.port}`, src, 'changing'])).code).toBe(0);
    const served = join(openFiles, 'changing');
    const dest = tempDir('folders-changing');
    const args = (port: number) => ['get', `127.0.0.1:${port}`, 'changing/', join(dest, 'changing')];
    const slow = await relayTo(open.port, 8e6);
    const p = client(args(slow.port));
    await until(
      () => staged(dest) >= BIG * 1.5,
      60_000,
      () => `not 1.5 files held in ${dest}`,
    );
    p.kill('SIGKILL');
    await p.exit();
    await slow.close();
    // The first file (held whole by the client) changes on the server: same size, new bytes and time.
    const first = join(served, 'a b', 'name with spaces.bin');
    writeFileSync(first, randomBytes(BIG));
    const r = await run([...args(open.port), '--json']);
    expect(r.code).toBe(0);
    expect(tree(join(dest, 'changing'))).toEqual(tree(served));
    expect(hidden(dest)).toEqual([]);
  });

  it('a folder get cut half-way and run again with --no-resume starts over', async () => {
    const BIG = 4 * 2 ** 20;
    const src = makeTree(BIG);
    expect((await run(['post', `127.0.0.1:${open.port}`, src, 'fresh'])).code).toBe(0);
    const dest = tempDir('folders-fresh');
    const args = (port: number) => ['get', `127.0.0.1:${port}`, 'fresh/', join(dest, 'fresh')];
    const slow = await relayTo(open.port, 8e6);
    const p = client(args(slow.port));
    await until(
      () => staged(dest) >= BIG * 1.5,
      60_000,
      () => `not 1.5 files held in ${dest}`,
    );
    p.kill('SIGKILL');
    await p.exit();
    await slow.close();
    const relay = await relayTo(open.port);
    const r = await run([...args(relay.port), '--no-resume', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ resumedFrom: 0 });
    // Every byte came again (in bytes: where the path takes them, datagrams carry many packets each).
    expect(relay.stats.down.bytes).toBeGreaterThanOrEqual(3 * BIG);
    expect(tree(join(dest, 'fresh'))).toEqual(tree(src));
    expect(hidden(dest)).toEqual([]);
  });

  for (const op of ['post', 'get'] as const) {
    it(`a ${op} of a folder cut half-way by SIGKILL continues: what was held does not cross again`, async () => {
      const BIG = 6 * 2 ** 20;
      const src = makeTree(BIG);
      const name = `cut-${op}`;
      let dest = '';
      if (op === 'get') {
        const seeded = await run(['post', `127.0.0.1:${open.port}`, src, name]);
        expect(seeded.code).toBe(0);
        dest = tempDir('folders-cut');
      }
      const args = (port: number) =>
        op === 'post'
          ? ['post', `127.0.0.1:${port}`, src, name]
          : ['get', `127.0.0.1:${port}`, `${name}/`, join(dest, name)];
      const receiving = op === 'post' ? openFiles : dest;
      const slow = await relayTo(open.port, 8e6);
      const p = client(args(slow.port));
      // Cut once the first file is whole and the second half there.
      await until(
        () => staged(receiving) >= BIG * 1.5,
        60_000,
        () => `not 1.5 files held in ${receiving}: ${staged(receiving)} bytes`,
      );
      p.kill('SIGKILL');
      await p.exit();
      await slow.close();
      expect(existsSync(join(receiving, name))).toBe(false);
      const relay = await relayTo(open.port);
      const r = await run([...args(relay.port), '--json']);
      expect(r.code).toBe(0);
      const result = JSON.parse(r.out) as { resumedFrom: number; size: number };
      expect(result.resumedFrom).toBeGreaterThanOrEqual(BIG);
      expect(tree(join(receiving, name))).toEqual(tree(src));
      expect(hidden(receiving)).toEqual([]);
      const missing = result.size - result.resumedFrom;
      const datagrams = op === 'post' ? relay.stats.up.forwarded : relay.stats.down.forwarded;
      console.log(`folder ${op} resumed at ${result.resumedFrom} of ${result.size}: ${datagrams} datagrams`);
      // The manifest and five files: each at most its missing part, one window and its control datagrams.
      expect(datagrams).toBeLessThanOrEqual(Math.ceil(missing / MSS) + WINDOW + 6 * CONTROL);
      expect(datagrams).toBeLessThan(Math.ceil(result.size / MSS));
    });
  }

  it('two machines posting one folder at once: the second is refused while the first runs; the first arrives whole', async () => {
    const first = makeTree(4 * 2 ** 20);
    const second = makeTree(1000);
    const name = 'shared-once';
    const a = client(['post', `127.0.0.1:${(await relayTo(open.port, 0, loopbackAddress(1))).port}`, first, name]);
    // Under way (its staging folder there), then held still so that it cannot finish meanwhile.
    await until(
      () => hidden(openFiles).some((n) => n.startsWith('.folder-')),
      30_000,
      () => 'the first upload never started',
    );
    a.kill('SIGSTOP');
    const b = await run(['post', `127.0.0.1:${(await relayTo(open.port, 0, loopbackAddress(2))).port}`, second, name]);
    a.kill('SIGCONT');
    expect(b.code).not.toBe(0);
    expect(b.err).toContain(`${name}/ is being uploaded from ${loopbackAddress(1)}`);
    expect(await a.exit(120_000)).toBe(0);
    expect(tree(join(openFiles, name))).toEqual(tree(first));
    expect(hidden(openFiles)).toEqual([]);
  });
});
