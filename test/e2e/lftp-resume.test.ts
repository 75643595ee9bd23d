/**
 * Resume (docs/LFTP.md, "Resume") with real processes: `chat-client lftp get|post` against `chat-server lftp`,
 * cut by SIGKILL (of the client, and of the server for a post) and run again. The bytes are identical, the
 * partial never appears under the final name, and after the restart the data that crosses (counted at the
 * relay) is at most the missing part plus one window. A changed source starts over with a line; --no-resume
 * starts over; open and --token servers; the second run through 5 % loss.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_JS, LineProcess, startLftpServer, stopAll, tempDir, type ServerHandle } from '../helpers/processes.js';
import { NO_IMPAIRMENT, startRelay, type Impairment, type Relay } from '../relay/relay.js';
import { LFTP_DEFAULTS } from '../../common/lftp/defaults.js';
import { until } from '../helpers/wait.js';
import { held } from '../helpers/partials.js';

const TOKEN = 'resume token';
const SIZE = 16 * 2 ** 20;
const MSS = LFTP_DEFAULTS.mss;
const PACKETS = Math.ceil(SIZE / MSS);
/** One window (the receiver's capacity, in packets) and the control datagrams of a transfer. */
const WINDOW = LFTP_DEFAULTS.receiveCapacity;
const CONTROL = 16;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let open: ServerHandle;
let guarded: ServerHandle;
let openFiles: string;
let guardedFiles: string;
const relays: Relay[] = [];

beforeAll(async () => {
  openFiles = tempDir('resume-open');
  guardedFiles = tempDir('resume-token');
  for (const dir of [openFiles, guardedFiles]) writeFileSync(join(dir, 'big.bin'), randomBytes(SIZE));
  open = await startLftpServer(openFiles, ['--open', '--cc', 'bbr']);
  guarded = await startLftpServer(guardedFiles, ['--token', TOKEN, '--cc', 'bbr']);
});
afterAll(async () => {
  for (const r of relays) await r.close().catch(() => undefined);
  await stopAll(open, guarded);
});

async function relayTo(port: number, up: Partial<Impairment> = {}, down: Partial<Impairment> = {}): Promise<Relay> {
  const r = await startRelay({
    listenHost: '127.0.0.1',
    listenPort: 0,
    targetHost: '127.0.0.1',
    targetPort: port,
    seed: 7,
    up: { ...NO_IMPAIRMENT, ...up },
    down: { ...NO_IMPAIRMENT, ...down },
  });
  relays.push(r);
  return r;
}

function client(args: string[]): LineProcess {
  const p = new LineProcess('lftp-client', [CLIENT_JS, 'lftp', ...args, '--quiet']);
  p.endInput();
  return p;
}

async function run(args: string[]): Promise<{ code: number | null; err: string; out: string[] }> {
  const p = client(args);
  const code = await p.exit(120_000);
  return { code, err: p.errLines.join('\n'), out: p.lines };
}

/** Starts `args` through a slow relay and SIGKILLs the client once `dir` holds 4 MiB of the partial. */
async function cutClient(port: number, args: (relay: number) => string[], dir: string, final: string) {
  const slow = await relayTo(port, { rateBps: 8e6 }, { rateBps: 8e6 });
  const p = client(args(slow.port));
  await until(
    () => held(dir) >= 4 * 2 ** 20,
    30_000,
    () => `no 4 MiB partial in ${dir}: ${readdirSync(dir).join(', ')}`,
  );
  expect(existsSync(final)).toBe(false);
  p.kill('SIGKILL');
  await p.exit();
  await slow.close();
}

const bound = (have: number) => Math.ceil((SIZE - have) / MSS) + WINDOW + CONTROL;

describe('resume: chat-client lftp against chat-server lftp', () => {
  it('get, open server: cut by SIGKILL, run again: only the missing part crosses, the SHA-256 matches', async () => {
    const dir = tempDir('resume-get');
    const dest = join(dir, 'big.bin');
    await cutClient(open.port, (p) => ['get', `127.0.0.1:${p}`, 'big.bin', dest], dir, dest);
    const have = held(dir);
    expect(have).toBeGreaterThan(0);
    const relay = await relayTo(open.port);
    const qlog = tempDir('resume-qlog');
    const r = await run(['get', `127.0.0.1:${relay.port}`, 'big.bin', dest, '--verbose', '--qlog', qlog]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/lftp: resuming at [\d.]+ MiB of 16\.0 MiB/);
    expect(r.out.at(-1)).toMatch(
      /^transfer complete: big\.bin \(16\.0 MiB, resumed at [\d.]+ MiB, .+\/s, sha256 ok\)$/,
    );
    expect(r.err).toMatch(/connection established \(mss \d+\); resuming at byte \d+ of 16777216/);
    expect(sha(readFileSync(dest))).toBe(sha(readFileSync(join(openFiles, 'big.bin'))));
    expect(readdirSync(dir)).toEqual(['big.bin']);
    // The qlog's ESTABLISHED says from where (the client's trace; the server's says the same).
    const trace = readdirSync(qlog)
      .map((n) => readFileSync(join(qlog, n), 'utf8'))
      .join('');
    expect(trace).toMatch(/"new":"ESTABLISHED","cause":"established"[^}]*"from":[1-9]\d*/);
    const sent = relay.stats.down.forwarded;
    console.log(`get resume (open): ${sent} datagrams for ${Math.ceil((SIZE - have) / MSS)} missing packets`);
    expect(sent).toBeLessThanOrEqual(bound(have));
    expect(sent).toBeLessThan(PACKETS);
  });

  it('post, --token server: the client cut by SIGKILL, run again: the server continues its partial', async () => {
    const dir = tempDir('resume-post');
    const src = join(dir, 'up.bin');
    writeFileSync(src, randomBytes(SIZE));
    const final = join(guardedFiles, 'up.bin');
    const args = (p: number) => ['post', `127.0.0.1:${p}`, src, '--token', TOKEN];
    await cutClient(guarded.port, args, guardedFiles, final);
    const have = held(guardedFiles);
    const relay = await relayTo(guarded.port);
    const r = await run(args(relay.port));
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/lftp: resuming at/);
    expect(sha(readFileSync(final))).toBe(sha(readFileSync(src)));
    expect(readdirSync(guardedFiles).filter((n) => n.startsWith('.'))).toEqual([]);
    const sent = relay.stats.up.forwarded;
    console.log(`post resume (token): ${sent} datagrams for ${Math.ceil((SIZE - have) / MSS)} missing packets`);
    expect(sent).toBeLessThanOrEqual(bound(have));
  });

  it('post, the server killed: a new server on the same folder continues the partial', async () => {
    const files = tempDir('resume-killed');
    const dir = tempDir('resume-killed-src');
    const src = join(dir, 'k.bin');
    writeFileSync(src, randomBytes(SIZE));
    const first = await startLftpServer(files, ['--open']);
    const slow = await relayTo(first.port, { rateBps: 8e6 });
    const p = client(['post', `127.0.0.1:${slow.port}`, src]);
    await until(
      () => held(files) >= 4 * 2 ** 20,
      30_000,
      () => `no partial in ${files}`,
    );
    first.kill('SIGKILL');
    await first.exit();
    p.kill('SIGKILL');
    await p.exit();
    expect(existsSync(join(files, 'k.bin'))).toBe(false);
    const have = held(files);
    const second = await startLftpServer(files, ['--open']);
    try {
      const relay = await relayTo(second.port);
      const r = await run(['post', `127.0.0.1:${relay.port}`, src]);
      expect(r.code).toBe(0);
      expect(r.err).toMatch(/lftp: resuming at/);
      expect(sha(readFileSync(join(files, 'k.bin')))).toBe(sha(readFileSync(src)));
      expect(readdirSync(files)).toEqual(['k.bin']);
      expect(relay.stats.up.forwarded).toBeLessThanOrEqual(bound(have));
    } finally {
      await stopAll(second);
    }
  });

  it('a source changed between the tries starts over from 0, and says so', async () => {
    const dir = tempDir('resume-changed');
    const dest = join(dir, 'c.bin');
    writeFileSync(join(guardedFiles, 'c.bin'), randomBytes(SIZE));
    const args = (p: number) => ['get', `127.0.0.1:${p}`, 'c.bin', dest, '--token', TOKEN];
    await cutClient(guarded.port, args, dir, dest);
    const changed = randomBytes(SIZE);
    writeFileSync(join(guardedFiles, 'c.bin'), changed);
    const relay = await relayTo(guarded.port);
    const r = await run(args(relay.port));
    expect(r.code).toBe(0);
    expect(r.err).toMatch(
      /the server's "c\.bin" changed since the partial download \(size, time or content\): starting over from 0/,
    );
    expect(sha(readFileSync(dest))).toBe(sha(changed));
    expect(relay.stats.down.bytes).toBeGreaterThanOrEqual(SIZE);
    expect(readdirSync(dir)).toEqual(['c.bin']);
  });

  it('--no-resume starts over', async () => {
    const dir = tempDir('resume-no');
    const dest = join(dir, 'big.bin');
    await cutClient(open.port, (p) => ['get', `127.0.0.1:${p}`, 'big.bin', dest], dir, dest);
    expect(held(dir)).toBeGreaterThan(0);
    const relay = await relayTo(open.port);
    const r = await run(['get', `127.0.0.1:${relay.port}`, 'big.bin', dest, '--no-resume']);
    expect(r.code).toBe(0);
    expect(r.err).not.toMatch(/resuming/);
    expect(relay.stats.down.bytes).toBeGreaterThanOrEqual(SIZE);
    expect(sha(readFileSync(dest))).toBe(sha(readFileSync(join(openFiles, 'big.bin'))));
    expect(readdirSync(dir)).toEqual(['big.bin']);
  });

  it('resumes through 5 % loss both ways (--token)', async () => {
    const dir = tempDir('resume-loss');
    const dest = join(dir, 'big.bin');
    const args = (p: number) => ['get', `127.0.0.1:${p}`, 'big.bin', dest, '--token', TOKEN];
    await cutClient(guarded.port, args, dir, dest);
    const have = held(dir);
    const relay = await relayTo(guarded.port, { loss: 0.05 }, { loss: 0.05 });
    const r = await run(args(relay.port));
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/lftp: resuming at/);
    expect(sha(readFileSync(dest))).toBe(sha(readFileSync(join(guardedFiles, 'big.bin'))));
    expect(readdirSync(dir)).toEqual(['big.bin']);
    // What the relay dropped was sent again; what crossed is still at most the missing part and a window.
    expect(relay.stats.down.forwarded).toBeLessThanOrEqual(bound(have));
  });
});
