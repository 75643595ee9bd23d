/**
 * Resume inside the chat on a server of two workers (docs/LFTP.md, "Resume"): a /post whose chat connection is
 * cut mid-transfer (the server lives on). The client comes back on whichever worker the kernel gives its new
 * connection, resumes its session there, asks that worker for a new ticket and continues the post by itself;
 * its new SYN may reach the other worker than the cut transfer's, which then gives the partial up to it. The
 * bytes are identical, the file is announced once, and what crosses after the cut is at most the missing part
 * plus one window.
 */
import { PROTECTED_MSS } from '../../common/lftp/engine/packet.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type net from 'node:net';
import { CLIENT_JS, LineProcess, startServer, stopAll, tempDir } from '../helpers/processes.js';
import { NO_IMPAIRMENT, drained, resumedBytesBound, startRelay, type Relay } from '../relay/relay.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { LFTP_DEFAULTS } from '../../common/lftp/defaults.js';
import { until } from '../helpers/wait.js';
import { held } from '../helpers/partials.js';

const SIZE = 16 * 2 ** 20;
const MSS = PROTECTED_MSS;
const WINDOW = LFTP_DEFAULTS.receiveCapacity;
const CONTROL = 16;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let procs: Array<LineProcess | undefined> = [];
let closers: Array<Relay | TcpProxy> = [];
afterEach(async () => {
  await stopAll(...procs);
  for (const c of closers) await c.close().catch(() => undefined);
  procs = [];
  closers = [];
});

describe('resume inside the chat, two workers', () => {
  it('/post whose chat connection is cut mid-transfer goes on by itself from the partial, announced once', async () => {
    const files = tempDir('chat-workers-files');
    const server = await startServer(['--workers', '2', '--no-web', '--files', files]);
    procs.push(server);
    // The LFTP port (the chat port's number, UDP) behind a slow relay, so the cut comes mid-transfer.
    const rate = { ...NO_IMPAIRMENT, rateBps: 4e6 };
    const relay = await startRelay({
      listenHost: '127.0.0.1',
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: server.port,
      seed: 7,
      up: rate,
      down: { ...NO_IMPAIRMENT },
    });
    closers.push(relay);
    const chatSockets = new Set<net.Socket>();
    const proxy = await startTcpProxy(server.port, (client, upstream) => {
      chatSockets.add(client);
      client.on('close', () => chatSockets.delete(client));
      client.pipe(upstream);
      upstream.pipe(client);
    });
    closers.push(proxy);

    const aliceDir = tempDir('alice-workers');
    const data = randomBytes(SIZE);
    writeFileSync(join(aliceDir, 'up.bin'), data);
    const alice = new LineProcess(
      'client alice',
      [
        CLIENT_JS,
        ...['--host', '127.0.0.1', '--port', String(proxy.port), '--nick', 'alice'],
        ...['--lftp-via', `127.0.0.1:${relay.port}`],
      ],
      { cwd: aliceDir },
    );
    procs.push(alice);
    await alice.waitFor(/^\* connected to /);
    alice.send('/post up.bin');
    await until(
      () => held(files) >= 4 * 2 ** 20,
      30_000,
      () => `not 4 MiB held in ${files}`,
    );
    for (const s of chatSockets) s.destroy();
    await alice.waitFor(/^\* post up\.bin: cut by the lost connection/, 15_000);
    // What the relay still holds drains before the count after the cut begins.
    rate.rateBps = 0;
    await until(
      () => drained(relay.stats.up),
      10_000,
      () => 'the relay does not drain',
    );
    const before = relay.stats.up.bytes;
    const have = held(files);
    await alice.waitFor(/^\* post up\.bin: resuming at [\d.]+ MiB of 16\.0 MiB/, 30_000);
    await alice.waitFor(/^transfer complete: up\.bin \(16\.0 MiB, resumed at /, 60_000);
    await alice.waitFor('* alice shared up.bin (16.0 MiB)');
    expect(sha(readFileSync(join(files, 'up.bin')))).toBe(sha(data));
    expect(readdirSync(files).filter((n) => n.startsWith('.'))).toEqual([]);
    const sent = relay.stats.up.bytes - before;
    console.log(`chat post resumed on two workers: ${sent} bytes crossed for ${SIZE - have} missing`);
    expect(sent).toBeLessThanOrEqual(resumedBytesBound(SIZE - have, MSS, WINDOW + CONTROL));
    // Announced once: a later line proves no second announcement came before it.
    alice.send('/files');
    await alice.waitFor(/up\.bin/);
    expect(alice.lines.filter((l) => l === '* alice shared up.bin (16.0 MiB)').length).toBe(1);
  }, 120_000);
});
