/**
 * The per-address and per-user limits a cluster counts for all its nodes, on real nodes and a real redis-server
 * started here (docs/ARCHITECTURE.md, "Per node or cluster-wide"):
 * - sessions per address (--max-sessions-per-address): an address that holds its sessions on one node gets no
 *   more on another; a node killed, its sessions count no more once its lease is gone;
 * - tickets per session and per network: a session's tickets for another node's files count with its own, a
 *   spent one while its transfer runs on the other node; a network's sessions on two nodes share its 64; a
 *   session that goes away gives back its unused tickets, and those for the other node's files stop working;
 * - the upload quota per user (--max-upload-per-user): what a user stored on one node, and the partial of an
 *   upload cut there, count when it uploads through another; a dead node's no longer;
 * - registrations per network an hour (--max-registrations-per-prefix), whichever node registers.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../common/protocol.js';
import { sourceTag } from '../../common/lftp/node/resume-record.js';
import { closeRedis, type RedisLink } from '../../server/cluster/redis-link.js';
import { openRedis } from '../../server/cluster/open-redis.js';
import { parseRedisUrl } from '../../server/cluster/redis-url.js';
import { RawClient, WsClient, ticketAsker } from '../helpers/raw-client.js';
import {
  NO_FLOOD_LIMIT,
  runLftpClient,
  startServer,
  stopAll,
  tempDir,
  type LineProcess,
  type ServerHandle,
} from '../helpers/processes.js';
import { closeRawSessions, rawSession, type RawSession } from '../helpers/raw-session.js';
import { startRedis, type RedisUnderTest } from '../helpers/redis-server.js';
import { eventually, until } from '../helpers/wait.js';

let redis: RedisUnderTest;
let link: RedisLink;
const procs: LineProcess[] = [];
const clients: Array<{ destroy(): void }> = [];

beforeAll(async () => {
  redis = await startRedis();
  link = await openRedis(parseRedisUrl(redis.url));
});
afterAll(async () => {
  await closeRedis(link);
  await redis.stop();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  closeRawSessions();
  await stopAll(...procs.splice(0));
});

/** A node of the cluster (each test its own ids: a killed node's lease would hold its id up). */
async function node(id: string, extra: string[] = []): Promise<ServerHandle> {
  const s = await startServer([
    ...['--redis', redis.url, '--node-id', id, '--workers', '2', '--node-lease', '2s'],
    ...NO_FLOOD_LIMIT,
    ...extra,
  ]);
  procs.push(s);
  return s;
}

/** HELLO on the node's port from 127.0.0.1; the first answer (WELCOME or ERROR). */
async function hello(port: number, nick: string): Promise<ServerMessage> {
  const c = await RawClient.connect(port);
  clients.push(c);
  c.send({ type: 'HELLO', version: 1, nick });
  return c.waitFor((m) => m.type === 'WELCOME' || m.type === 'ERROR', 10_000);
}

/** What node `node` last said its sessions from 127.0.0.1 are (null until it says 2). */
const counted = (node: string, n: number) => async () =>
  Number((await link.hGet(`hc:addr:${node}`, '127.0.0.1')) ?? 0) === n ? true : null;

describe('sessions per address over a cluster', () => {
  it('an address at its limit on one node gets no more on another; the count of a dead node goes with its lease', async () => {
    const args = (id: string) => [
      ...['--redis', redis.url, '--node-id', id, '--workers', '1', '--no-web'],
      ...['--node-lease', '2s', '--max-sessions-per-address', '2'],
    ];
    const [n1, n2] = [await startServer(args('n1')), await startServer(args('n2'))];
    procs.push(n1, n2);
    expect(await hello(n1.port, 'a0')).toMatchObject({ type: 'WELCOME' });
    expect(await hello(n1.port, 'a1')).toMatchObject({ type: 'WELCOME' });
    // n1 says its counts at each renewal of its lease (every 400 ms with a lease of 2 s).
    await eventually(counted('n1', 2), 10_000, () => 'n1 never counted two sessions from 127.0.0.1');
    expect(await hello(n2.port, 'a2')).toMatchObject({
      type: 'ERROR',
      code: 'ADDRESS_LIMIT',
      message: expect.stringContaining("already has 2 sessions on this cluster's nodes"),
    });
    // Its own node still says so as it did.
    expect(await hello(n1.port, 'a3')).toMatchObject({ type: 'ERROR', code: 'ADDRESS_LIMIT' });
    n1.kill('SIGKILL');
    await n1.exited;
    // n1's lease ends (2 s) and its counts with it: the address may log in on n2 again.
    await eventually(
      async () => ((await link.exists('hc:lease:n1')) === 0 ? true : null),
      10_000,
      () => 'the lease of n1 never ended',
    );
    expect(await hello(n2.port, 'a4')).toMatchObject({ type: 'WELCOME' });
  });
});

/** The answer to a TICKET_REQUEST (ok or not), asked with a fresh id. */
let ticketId = 0;
async function askTicket(
  r: RawSession,
  name: string,
  op: 'get' | 'post' = 'get',
  size?: number,
): Promise<Extract<ServerMessage, { type: 'TICKET' }>> {
  const id = ++ticketId;
  r.send({ type: 'TICKET_REQUEST', id, op, name, ...(size !== undefined ? { size } : {}) });
  return r.next('TICKET', (m) => m.id === id, 10_000);
}

describe('tickets per session and per network over a cluster', () => {
  it("a session's tickets for another node's files count as its own, a spent one while it runs there; a network's sessions on two nodes share its 64", async () => {
    const files2 = tempDir('tk-n2-files');
    writeFileSync(join(files2, 'report.bin'), randomBytes(64 * 1024));
    const n1 = await node('tk1', ['--no-web']);
    const n2 = await node('tk2', ['--no-web', '--files', files2]);
    // alice on n1, from 127.0.52.1: n1 holds no files, so each of her tickets is for n2's (once n1 sees its listing).
    // Version 2: her session is kept for a resume when her connection is lost (its unused tickets given back).
    const alice = await rawSession(n1.port, 'alice', { from: '127.0.52.1', version: 2 });
    const first = await eventually(
      async () => {
        const t = await askTicket(alice, 'report.bin');
        return t.ok ? t : null;
      },
      20_000,
      () => "n1 never offered n2's report.bin",
    );
    if (!first.ok) throw new Error('unreachable');
    expect(first.port).toBe(n2.port);
    const held = [first];
    for (let i = 1; i < 8; i++) {
      const t = await askTicket(alice, 'report.bin');
      if (!t.ok) throw new Error(`ticket ${i + 1} refused: ${t.message}`);
      held.push(t);
    }
    // Eight, the most one session may hold, wherever the files are (before, tickets for n2's files were not counted).
    expect(await askTicket(alice, 'report.bin')).toMatchObject({
      ok: false,
      code: 'BUSY',
      message: expect.stringContaining('you already hold 8 unused tickets and running transfers together'),
    });
    // One is spent on n2: once its transfer ends, alice may hold one more.
    const work = tempDir('tk-alice');
    const t0 = held.shift()!;
    if (!t0.ok) throw new Error('unreachable');
    const got = await runLftpClient(
      [
        'get',
        `127.0.0.1:${t0.port}`,
        'report.bin',
        join(work, 'r.bin'),
        `--ticket=${t0.ticket}`,
        `--ticket-key=${t0.key}`,
      ],
      { timeoutMs: 30_000 },
    );
    expect(got.code, got.err.join('\n')).toBe(0);
    const ninth = await eventually(
      async () => {
        const t = await askTicket(alice, 'report.bin');
        return t.ok ? t : null;
      },
      10_000,
      () => 'the transfer that ended on n2 still counts against alice',
    );
    held.push(ninth);

    // Seven more sessions of alice's network on n1, eight tickets each: with alice's eight, the network's 64.
    for (let k = 2; k <= 8; k++) {
      const s = await rawSession(n1.port, `net${k}`, { from: `127.0.52.${k}` });
      for (let i = 0; i < 8; i++) expect(await askTicket(s, 'report.bin')).toMatchObject({ ok: true });
    }
    // A session of that network on n2 asks for n2's own file: refused, the network holds its 64 on n1.
    const late = await rawSession(n2.port, 'late', { from: '127.0.52.20' });
    expect(await askTicket(late, 'report.bin')).toMatchObject({
      ok: false,
      code: 'BUSY',
      message: expect.stringContaining('your network (127.0.52.0/24) holds 64 unused tickets and running transfers'),
    });
    // Another network is not held up.
    const other = await rawSession(n2.port, 'other', { from: '127.0.53.1' });
    expect(await askTicket(other, 'report.bin')).toMatchObject({ ok: true });

    // alice's connection is lost: her eight unused tickets are given back, on n2 too, and no longer work there.
    alice.s.destroy();
    await eventually(
      async () => {
        const t = await askTicket(late, 'report.bin');
        return t.ok ? t : null;
      },
      10_000,
      () => "alice's tickets still count after she went away",
    );
    const gone = held[0]!;
    if (!gone.ok) throw new Error('unreachable');
    const refused = await runLftpClient(
      [
        'get',
        `127.0.0.1:${gone.port}`,
        'report.bin',
        join(work, 'g.bin'),
        `--ticket=${gone.ticket}`,
        `--ticket-key=${gone.key}`,
      ],
      { timeoutMs: 30_000 },
    );
    expect(refused.code).toBe(4);
    expect(refused.err.join('\n')).toMatch(/AUTH: unknown or already used ticket/);
  }, 120_000);
});

describe('the upload quota over a cluster', () => {
  it('what a user stored on one node, and the partial of an upload cut there, count on another; a dead node no longer', async () => {
    const quota = ['--max-upload-per-user', '100000'];
    const [files1, files2] = [tempDir('up-n1-files'), tempDir('up-n2-files')];
    const n1 = (await node('up1', [...quota, '--files', files1])) as ServerHandle & { httpPort: number };
    const n2 = (await node('up2', [...quota, '--files', files2])) as ServerHandle & { httpPort: number };
    const login = async (s: ServerHandle & { httpPort: number }) => {
      // The nick may still be held a moment after a BYE on the other node (released at its next lease renewal).
      return eventually(
        async () => {
          const ws = await WsClient.connect(s.httpPort);
          clients.push(ws);
          ws.send({ type: 'HELLO', version: 1, nick: 'carol' });
          const m = await ws.waitFor((f) => f.type === 'WELCOME' || f.type === 'ERROR');
          if (m.type === 'WELCOME') return ws;
          ws.destroy();
          return null;
        },
        10_000,
        () => 'carol could not log in',
      );
    };
    const origin = (s: ServerHandle & { httpPort: number }) => `http://127.0.0.1:${s.httpPort}`;

    // On n1: 60,000 bytes stored over HTTP.
    const c1 = await login(n1);
    const ask1 = ticketAsker(c1);
    const t1 = await ask1('post', 'one.bin', 60_000);
    const up = await fetch(`${origin(n1)}/files/one.bin?ticket=${t1.ticket}`, {
      method: 'POST',
      body: randomBytes(60_000),
      headers: { Origin: origin(n1) },
    });
    expect(up.status).toBe(201);
    // Then a resumable upload of 30,000 bytes, cut after 20,000: its partial is kept for a resume, and counts.
    const src = join(tempDir('up-src'), 'part.bin');
    const data = randomBytes(30_000);
    writeFileSync(src, data);
    const mtime = Math.floor(statSync(src).mtimeMs);
    const t2 = await ask1('post', 'part.bin', 30_000);
    const sock = net.connect({ host: '127.0.0.1', port: n1.httpPort });
    sock.on('error', () => undefined);
    await new Promise<void>((resolve) => sock.once('connect', resolve));
    const head = Object.entries({
      'Upload-Length': '30000',
      'Upload-Mtime': String(mtime),
      'Upload-Tag': await sourceTag(src, 30_000, mtime),
      'Upload-Offset': '0',
      'Content-Length': '30000',
      Origin: origin(n1),
    })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    sock.write(`POST /files/part.bin?ticket=${t2.ticket} HTTP/1.1\r\nHost: 127.0.0.1:${n1.httpPort}\r\n${head}\r\n`);
    sock.write(data.subarray(0, 20_000));
    const partial = () => {
      const name = readdirSync(files1).find((n) => n.startsWith('.resume-') && n.endsWith('.lftp-held'));
      return name ? statSync(join(files1, name)).size : 0;
    };
    await until(
      () => partial() >= 20_000,
      10_000,
      () => `the partial holds ${partial()} bytes`,
    );
    sock.destroy();
    // The cut upload is put away, its partial kept: n1 now counts 60,000 + 20,000 of carol's (in Redis, for all).
    await eventually(
      async () => ((await link.hGet('hc:up:up1', 'carol')) === '80000' ? true : null),
      10_000,
      () => 'n1 never counted the partial of the cut upload',
    );
    c1.send({ type: 'BYE', reason: 'moving on' });

    // On n2: 80,000 of carol's 100,000 are used on n1, so 30,000 more does not fit; 20,000 does.
    const c2 = await login(n2);
    c2.send({ type: 'TICKET_REQUEST', id: 100, op: 'post', name: 'more.bin', size: 30_000 });
    expect(await c2.waitFor((m) => m.type === 'TICKET' && m.id === 100)).toMatchObject({
      ok: false,
      code: 'NO_SPACE',
      message: expect.stringMatching(/^carol has uploaded 78\.1 KiB of the 97\.7 KiB one user may; 29\.3 KiB more/),
    });
    const ask2 = ticketAsker(c2);
    const t3 = await ask2('post', 'fits.bin', 20_000);
    const up2 = await fetch(`${origin(n2)}/files/fits.bin?ticket=${t3.ticket}`, {
      method: 'POST',
      body: randomBytes(20_000),
      headers: { Origin: origin(n2) },
    });
    expect(up2.status).toBe(201);
    c2.send({ type: 'TICKET_REQUEST', id: 101, op: 'post', name: 'byte.bin', size: 1 });
    expect(await c2.waitFor((m) => m.type === 'TICKET' && m.id === 101)).toMatchObject({ ok: false, code: 'NO_SPACE' });

    // n1 dies: once its lease is gone, what it held of carol's no longer counts (its disk is out of the cluster's reach).
    n1.kill('SIGKILL');
    await n1.exited;
    let id = 200;
    const t4 = await eventually(
      async () => {
        const asked = ++id;
        c2.send({ type: 'TICKET_REQUEST', id: asked, op: 'post', name: 'after.bin', size: 80_000 });
        const m = await c2.waitFor((f) => f.type === 'TICKET' && f.id === asked);
        return m.type === 'TICKET' && m.ok ? m : null;
      },
      15_000,
      () => "n1's counts still hold after its lease",
    );
    expect(t4).toMatchObject({ ok: true, name: 'after.bin' });
  }, 120_000);
});

describe('registrations per network over a cluster', () => {
  it('a network registers at most N nicks an hour whichever node it registers through', async () => {
    const opts = ['--no-web', '--allow-plain-passwords', '--max-registrations-per-prefix', '2'];
    const [n1, n2] = [await node('rg1', opts), await node('rg2', opts)];
    const register = async (s: ServerHandle, nick: string, from: string) => {
      const r = await rawSession(s.port, nick, { version: 2, from });
      r.send({ type: 'ACCOUNT', op: 'register', password: 'correct horse battery' });
      await until(
        () => r.of('ACCOUNT_REPLY').length + r.of('ERROR').length > 0,
        10_000,
        () => `no answer to ${nick}'s registration`,
      );
      return r.of('ACCOUNT_REPLY')[0] ?? r.of('ERROR')[0];
    };
    expect(await register(n1, 'reg1', '127.0.61.1')).toMatchObject({ type: 'ACCOUNT_REPLY', op: 'registered' });
    expect(await register(n2, 'reg2', '127.0.61.2')).toMatchObject({ type: 'ACCOUNT_REPLY', op: 'registered' });
    // The third from that /24: refused on either node (before, each node allowed its own two).
    for (const [s, nick] of [
      [n1, 'reg3'],
      [n2, 'reg4'],
    ] as const)
      expect(await register(s, nick, '127.0.61.3')).toMatchObject({
        type: 'ERROR',
        code: 'REGISTER_LIMIT',
        message: expect.stringMatching(
          /^2 nicks were registered from your network \(127\.0\.61\.0\/24\) in the last hour, the most one address prefix may; try again in /,
        ),
      });
    expect(await register(n2, 'reg5', '127.0.62.1')).toMatchObject({ type: 'ACCOUNT_REPLY', op: 'registered' });
  }, 60_000);
});
