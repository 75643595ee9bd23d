/**
 * Resume inside the chat (docs/LFTP.md, "Resume"): a /get and a /post cut by a server killed with SIGKILL in the
 * middle. The client loses its chat connection, stops the transfer (its partial kept, here or on the server),
 * and once its session is back asks for a new ticket and continues by itself: the bytes are identical, and
 * what crosses after the restart (counted at the fault relay in front of the LFTP port) is at most the missing
 * part plus one window. A folder's /post cut the same way goes on, announced once. Then /get --no-resume of a
 * cut download starts over.
 */
import { PROTECTED_MSS } from '../../common/lftp/engine/packet.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_JS, LineProcess, startServer, stopAll, tempDir, type ServerHandle } from '../helpers/processes.js';
import { freePort } from '../helpers/loopback.js';
import { NO_IMPAIRMENT, drained, resumedBytesBound, startRelay, type Impairment, type Relay } from '../relay/relay.js';
import { LFTP_DEFAULTS } from '../../common/lftp/defaults.js';
import { until } from '../helpers/wait.js';
import { held } from '../helpers/partials.js';

const SIZE = 16 * 2 ** 20;
/** Chat transfers are protected: a protected transfer's packets (docs/LFTP.md, "Datagram"). */
const MSS = PROTECTED_MSS;
const WINDOW = LFTP_DEFAULTS.receiveCapacity;
const CONTROL = 16;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let procs: Array<LineProcess | undefined> = [];
let relays: Relay[] = [];
afterEach(async () => {
  await stopAll(...procs);
  for (const r of relays) await r.close().catch(() => undefined);
  procs = [];
  relays = [];
});

/** A chat server on a fixed port (so that its restart is the same address), and a slow relay in front of its LFTP port. */
async function setup(): Promise<{
  files: string;
  start: () => Promise<ServerHandle>;
  relay: Relay;
  rate: Impairment[];
}> {
  const port = await freePort();
  const files = tempDir('chat-resume-files');
  const data = tempDir('chat-resume-data');
  const args = ['--workers', '1', '--no-web', '--port', String(port), '--data', data, '--files', files];
  const start = async () => {
    const s = await startServer([...args, '--heartbeat-interval', '300ms', '--heartbeat-timeout', '1500ms']);
    procs.push(s);
    return s;
  };
  const up = { ...NO_IMPAIRMENT, rateBps: 4e6 };
  const down = { ...NO_IMPAIRMENT, rateBps: 4e6 };
  const relay = await startRelay({
    listenHost: '127.0.0.1',
    listenPort: 0,
    targetHost: '127.0.0.1',
    targetPort: port,
    seed: 5,
    up,
    down,
  });
  relays.push(relay);
  return { files, start, relay, rate: [up, down] };
}

async function client(port: number, nick: string, cwd: string, relay: Relay): Promise<LineProcess> {
  const c = new LineProcess(
    `client ${nick}`,
    [CLIENT_JS, '--host', '127.0.0.1', '--port', String(port), '--nick', nick, '--lftp-via', `127.0.0.1:${relay.port}`],
    { cwd },
  );
  procs.push(c);
  await c.waitFor(/^\* connected to /);
  return c;
}

/** Kills the server once `cut()` reaches `at` bytes, lifts the relay's rate limit, and waits for it to drain. */
async function killServerAt(
  server: ServerHandle,
  s: Awaited<ReturnType<typeof setup>>,
  cut: () => number,
  where: string,
  at = 4 * 2 ** 20,
): Promise<void> {
  await until(
    () => cut() >= at,
    30_000,
    () => `not ${at} bytes held in ${where}`,
  );
  server.kill('SIGKILL');
  await server.exit();
  for (const r of s.rate) r.rateBps = 0;
  // What the relay still held in its queue drains before the count after the restart begins.
  await until(
    () => drained(s.relay.stats.up) && drained(s.relay.stats.down),
    10_000,
    () => 'the relay does not drain',
  );
}

describe('resume inside the chat', () => {
  it('/get cut by a server killed mid-transfer continues by itself once the session is back', async () => {
    const s = await setup();
    writeFileSync(join(s.files, 'big.bin'), randomBytes(SIZE));
    const server = await s.start();
    const bobDir = tempDir('bob');
    const downloads = join(bobDir, 'downloads');
    const bob = await client(server.port, 'bob', bobDir, s.relay);
    bob.send('/get big.bin');
    await until(
      () => readdirSync(bobDir).includes('downloads'),
      10_000,
      () => 'no downloads folder',
    );
    await killServerAt(server, s, () => held(downloads), downloads);
    await bob.waitFor(/^\* get big\.bin: cut by the lost connection; it goes on when the session is back$/, 10_000);
    const have = held(downloads);
    const before = s.relay.stats.down.bytes;
    await s.start();
    await bob.waitFor(/^\* get big\.bin: the connection is back; continuing$/, 30_000);
    await bob.waitFor(/^\* get big\.bin: resuming at [\d.]+ MiB of 16\.0 MiB: [\d.]+ MiB to go$/, 30_000);
    await bob.waitFor(/^transfer complete: big\.bin \(16\.0 MiB, resumed at [\d.]+ MiB, .+\/s, sha256 ok\)$/, 60_000);
    expect(sha(readFileSync(join(downloads, 'big.bin')))).toBe(sha(readFileSync(join(s.files, 'big.bin'))));
    expect(readdirSync(downloads)).toEqual(['big.bin']);
    const sent = s.relay.stats.down.bytes - before;
    console.log(`chat get resumed: ${sent} bytes crossed for ${SIZE - have} missing`);
    expect(sent).toBeLessThanOrEqual(resumedBytesBound(SIZE - have, MSS, WINDOW + CONTROL));
  });

  it('/post cut by a server killed mid-transfer: the new server continues the partial, announced once', async () => {
    const s = await setup();
    const server = await s.start();
    const aliceDir = tempDir('alice');
    const data = randomBytes(SIZE);
    writeFileSync(join(aliceDir, 'up.bin'), data);
    const alice = await client(server.port, 'alice', aliceDir, s.relay);
    alice.send('/post up.bin');
    await killServerAt(server, s, () => held(s.files), s.files);
    await alice.waitFor(/^\* post up\.bin: cut by the lost connection/, 10_000);
    const have = held(s.files);
    const before = s.relay.stats.up.bytes;
    await s.start();
    await alice.waitFor(/^\* post up\.bin: resuming at [\d.]+ MiB of 16\.0 MiB/, 30_000);
    await alice.waitFor(/^transfer complete: up\.bin \(16\.0 MiB, resumed at /, 60_000);
    await alice.waitFor('* alice shared up.bin (16.0 MiB)');
    expect(sha(readFileSync(join(s.files, 'up.bin')))).toBe(sha(data));
    expect(readdirSync(s.files).filter((n) => n.startsWith('.'))).toEqual([]);
    const sent = s.relay.stats.up.bytes - before;
    console.log(`chat post resumed: ${sent} bytes crossed for ${SIZE - have} missing`);
    expect(sent).toBeLessThanOrEqual(resumedBytesBound(SIZE - have, MSS, WINDOW + CONTROL));
  });

  it('/post DIR cut by a server killed half-way: the folder goes on from what the new server holds, announced once', async () => {
    const s = await setup();
    const server = await s.start();
    const aliceDir = tempDir('alice-folder');
    const src = join(aliceDir, 'album');
    mkdirSync(join(src, 'b'), { recursive: true });
    const parts = [join(src, 'a.bin'), join(src, 'b', 'c.bin'), join(src, 'd.bin')];
    for (const path of parts) writeFileSync(path, randomBytes(6 * 2 ** 20));
    const alice = await client(server.port, 'alice', aliceDir, s.relay);
    alice.send('/post album');
    // Cut with the first file whole in the staging folder and the second under way.
    const staged = () => {
      const stage = readdirSync(s.files).find((n) => n.startsWith('.folder-'));
      if (!stage) return 0;
      let n = 0;
      for (const f of readdirSync(join(s.files, stage), { recursive: true }) as string[]) {
        const st = statSync(join(s.files, stage, f), { throwIfNoEntry: false });
        if (st?.isFile() && !f.includes('manifest')) n += st.size;
      }
      return n;
    };
    await killServerAt(server, s, staged, s.files, 9 * 2 ** 20);
    await alice.waitFor(/^\* post album\/: cut by the lost connection/, 10_000);
    const have = staged();
    const before = s.relay.stats.up.bytes;
    await s.start();
    await alice.waitFor(/^transfer complete: album\/ \(3 files, 1 folder, 18\.0 MiB, resumed at /, 60_000);
    await alice.waitFor('* alice shared album/ (18.0 MiB)');
    for (const path of parts)
      expect(sha(readFileSync(join(s.files, 'album', path.slice(src.length + 1))))).toBe(sha(readFileSync(path)));
    expect(readdirSync(s.files).filter((n) => n.startsWith('.'))).toEqual([]);
    const sent = s.relay.stats.up.bytes - before;
    console.log(`chat folder post resumed: ${sent} bytes crossed for ${18 * 2 ** 20 - have} missing`);
    // The three files and the manifest: what is missing, one window, and each one's control packets.
    expect(sent).toBeLessThanOrEqual(resumedBytesBound(18 * 2 ** 20 - have, MSS, WINDOW + 4 * CONTROL));
    alice.send('done');
    await alice.waitFor('<alice> done');
    expect(alice.lines.filter((l) => l.includes('shared'))).toEqual(['* alice shared album/ (18.0 MiB)']);
  });

  it('/get --no-resume of a download a lost connection cut starts over', async () => {
    const s = await setup();
    writeFileSync(join(s.files, 'big.bin'), randomBytes(SIZE));
    const server = await s.start();
    const bobDir = tempDir('bob-fresh');
    const downloads = join(bobDir, 'downloads');
    const bob = await client(server.port, 'bob', bobDir, s.relay);
    bob.send('/get big.bin');
    await until(
      () => readdirSync(bobDir).includes('downloads'),
      10_000,
      () => 'no downloads folder',
    );
    await killServerAt(server, s, () => held(downloads), downloads);
    // Back, the transfer continues by itself; stop it by quitting, then start over with another client.
    bob.kill('SIGKILL');
    await bob.exit();
    expect(held(downloads)).toBeGreaterThan(0);
    const second = await s.start();
    const before = s.relay.stats.down.bytes;
    const again = await client(second.port, 'bob2', bobDir, s.relay);
    again.send('/get --no-resume big.bin');
    await again.waitFor(/^transfer complete: big\.bin \(16\.0 MiB, [\d.]+ [KMG]?i?B\/s, sha256 ok\)$/, 60_000);
    // Every byte came again (in bytes: where the path takes them, datagrams carry many packets each).
    expect(s.relay.stats.down.bytes - before).toBeGreaterThanOrEqual(SIZE);
    expect(sha(readFileSync(join(downloads, 'big.bin')))).toBe(sha(readFileSync(join(s.files, 'big.bin'))));
    expect(readdirSync(downloads)).toEqual(['big.bin']);
  });
});
