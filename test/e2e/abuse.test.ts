/**
 * One anonymous user must not take the server down: each scenario of the
 * issue, small enough for CI, with its figures printed. The full-size runs
 * are `npm run bench -- --suite abuse`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { FrameDecoder, MAX_MAX_FRAME } from '../../common/frame.js';
import { decodeServerMessage, encodeMessage, isKnownFrameType, type ServerMessage } from '../../common/protocol.js';
import { until } from '../helpers/wait.js';
import {
  LineProcess,
  NO_FLOOD_LIMIT,
  SERVER_JS,
  startServer,
  stopAll,
  type ServerHandle,
} from '../helpers/processes.js';

/** Why the server closed connections, counted from its log (a client that does not read never sees its ERROR). */
function dropsInLog(server: ServerHandle): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of readFileSync(server.logFile, 'utf8').matchAll(/"code":"([A-Z_]+)"[^\n]*"msg":"closing connection/g))
    counts[m[1]!] = (counts[m[1]!] ?? 0) + 1;
  return counts;
}
import { floodScenario, memoryScenario } from '../helpers/abuse.js';

/** Whether the server's log has dropped `n` clients for SEND_QUEUE_FULL (read at most every half second). */
function everyNonReaderDropped(server: ServerHandle, n: number): () => boolean {
  let readAt = 0;
  let dropped = 0;
  return () => {
    if (performance.now() - readAt >= 500) {
      readAt = performance.now();
      dropped = dropsInLog(server).SEND_QUEUE_FULL ?? 0;
    }
    return dropped >= n;
  };
}

let procs: LineProcess[] = [];
afterEach(async () => {
  await stopAll(...procs);
  procs = [];
});

describe('abuse by one client', () => {
  it('a flooder is throttled to the flood policy, then dropped with FLOOD; honest clients are neither slowed nor dropped', async () => {
    const server = await startServer(['--workers', '2', '--no-web']);
    procs.push(server);
    const r = await floodScenario(server.port, { honest: 20, size: 100, durationMs: 4000 });
    console.log('flood:', JSON.stringify(r));
    expect(r.flooderError).toBe('FLOOD');
    expect(r.flooderClosedAfterMs).not.toBeNull();
    // What got through is the burst and what the rate earns meanwhile (20 + 5/s), not what was sent: at least
    // the first batch of 200 (a run where the server dropped it within that batch sent exactly 200).
    expect(r.flooderSent).toBeGreaterThanOrEqual(200);
    expect(r.flooderDelivered).toBeLessThanOrEqual(20 + 5 * Math.ceil(r.flooderClosedAfterMs! / 1000) + 5);
    expect(r.honestDropped).toBe(0);
    // Generous: on loopback an echo takes about a millisecond; before flood control a flood made it 55-285 ms.
    expect(r.honestP99Ms).toBeLessThan(250);
  }, 30_000);

  it('clients that stop reading cost bounded memory: shared frames, a small send queue, and the memory comes back', async () => {
    // Output memory, not flood control, is under test: the senders may send as fast as a busy room would need.
    const server = await startServer(['--workers', '2', '--no-web', ...NO_FLOOD_LIMIT]);
    procs.push(server);
    // On loopback the kernel takes up to ~4 MiB for a client that does not read (the server's send buffer
    // grows to tcp_wmem's maximum) before anything waits in the server: 1.6 MB/s to each for 8 s is past that.
    const r = await memoryScenario(server.port, server.proc.pid!, {
      nonReaders: 100,
      senders: 10,
      perSecond: 20,
      size: 8000,
      durationMs: 8000,
      settleMs: 45_000,
      // A loaded machine sends less in 8 s (CI saw 10 of 100 dropped): the senders go on until the server has
      // dropped every one that does not read (its log says so), within a bound.
      until: { done: everyNonReaderDropped(server, 100), maxDurationMs: 40_000 },
    });
    console.log('memory:', JSON.stringify(r), 'dropped in the log:', JSON.stringify(dropsInLog(server)));
    // Before: each stalled client held its own copy of up to 4 MiB (1,200 of them took 3.6 GiB).
    expect(r.rssPeakMiB - r.rssBeforeMiB).toBeLessThan(200);
    expect(r.nonReadersDropped).toBe(100);
    expect(dropsInLog(server).SEND_QUEUE_FULL).toBe(100);
    expect(r.sendersDropped).toBe(0);
    // What stays after everyone left is bounded too (before: 2,950 MiB stayed).
    expect(r.rssAfterMiB).toBeLessThan(r.rssBeforeMiB + 64);
  }, 150_000);

  it('past the output budget the slowest readers are dropped first, never the ones that keep up', async () => {
    // Each client may queue as much as all of them together, 8 MiB: the budget is what drops them.
    const server = await startServer([
      '--workers',
      '1',
      '--no-web',
      '--max-output',
      '8MiB',
      '--max-sendq',
      '8MiB',
      ...NO_FLOOD_LIMIT,
    ]);
    procs.push(server);
    const r = await memoryScenario(server.port, server.proc.pid!, {
      nonReaders: 20,
      senders: 10,
      perSecond: 20,
      size: 8000,
      durationMs: 8000,
      settleMs: 0,
    });
    console.log('budget:', JSON.stringify(r), 'dropped in the log:', JSON.stringify(dropsInLog(server)));
    // All but perhaps the last: once alone it is over the budget only when its own queue is (the same 8 MiB),
    // which the senders may not fill within the run on a loaded machine (19 in a full CI run, 20 alone).
    expect(r.nonReadersDropped).toBeGreaterThanOrEqual(19);
    expect(r.sendersDropped).toBe(0);
    const budgetDrops = () =>
      readFileSync(server.logFile, 'utf8').match(
        /"msg":"closing connection: the server's output budget \(8388608 bytes\) is spent/g,
      )?.length ?? 0;
    // All but perhaps the last: alone, it reaches its own queue's limit (the same 8 MiB) as soon as the budget's.
    await until(
      () => budgetDrops() >= 19,
      5000,
      () => `${budgetDrops()} drops for the output budget in the log, not 19 or 20`,
    );
  }, 60_000);
});

/** A TCP connection from a chosen loopback address (127.0.0.0/8 is all this machine's). */
async function connectFrom(localAddress: string, port: number): Promise<net.Socket> {
  const s = net.connect({ host: '127.0.0.1', port, localAddress });
  s.on('error', () => undefined);
  await once(s, 'connect');
  sockets.push(s);
  return s;
}
let sockets: net.Socket[] = [];
afterEach(() => {
  for (const s of sockets) s.destroy();
  sockets = [];
});

/** Reads frames from a raw socket until one matches or the socket closes. */
function firstFrame(s: net.Socket, timeoutMs = 5000): Promise<ServerMessage | null> {
  const decoder = new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType });
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    s.on('data', (chunk) => {
      const [f] = decoder.push(chunk);
      if (f) {
        clearTimeout(timer);
        resolve(decodeServerMessage(f));
      }
    });
    s.on('close', () => resolve(null));
  });
}

/** Every frame a raw socket receives, as it arrives. */
function framesOf(s: net.Socket): ServerMessage[] {
  const decoder = new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType });
  const frames: ServerMessage[] = [];
  s.on('data', (chunk) => frames.push(...decoder.push(chunk).map(decodeServerMessage)));
  return frames;
}

describe('one address cannot take every place', () => {
  it('connections that never say HELLO: one address gets 8, the next is refused, others still get in', async () => {
    const server = await startServer(['--workers', '2', '--no-web', '--max-clients', '50']);
    procs.push(server);
    const nine = [];
    for (let i = 0; i < 9; i++) nine.push(await connectFrom('127.0.0.1', server.port));
    // Which one is refused is the workers' order of accepting them (the kernel completed all nine handshakes).
    const got = nine.map((s) => framesOf(s));
    await until(
      () => got.some((g) => g.length > 0),
      5000,
      () => 'none of the nine was refused',
    );
    const refused = got.flatMap((g) => g);
    expect(refused).toEqual([
      expect.objectContaining({
        type: 'ERROR',
        code: 'ADDRESS_LIMIT',
        fatal: true,
        message: expect.stringContaining('have not said HELLO'),
      }),
    ]);
    // The ninth was refused at accept, so the other eight had their places by then.
    const silent = nine.filter((_, i) => got[i]!.length === 0);
    expect(silent).toHaveLength(8);
    // Another address is a real user: it joins at once, and so does the first address once it says HELLO.
    const real = await connectFrom('127.0.0.2', server.port);
    real.write(encodeMessage({ type: 'HELLO', version: 1, nick: 'real' }));
    expect(await firstFrame(real)).toMatchObject({ type: 'WELCOME', nick: 'real' });
    // Each of the eight says HELLO: its first frame is its WELCOME, so the server sent it nothing before (a
    // refusal would have come first on the same stream).
    for (const [i, late] of silent.entries()) {
      const k = nine.indexOf(late);
      late.write(encodeMessage({ type: 'HELLO', version: 1, nick: `late${i}` }));
      await until(
        () => got[k]!.length > 0,
        5000,
        () => `no answer to late${i}'s HELLO`,
      );
      expect(got[k]![0]).toMatchObject({ type: 'WELCOME', nick: `late${i}` });
    }
  });

  it('sessions: past --max-sessions-per-address the next is ADDRESS_LIMIT; --trusted exempts an address', async () => {
    const server = await startServer([
      '--workers',
      '2',
      '--no-web',
      '--max-sessions-per-address',
      '3',
      '--trusted',
      '127.0.0.3',
    ]);
    procs.push(server);
    const hello = async (from: string, nick: string) => {
      const s = await connectFrom(from, server.port);
      s.write(encodeMessage({ type: 'HELLO', version: 1, nick }));
      return firstFrame(s);
    };
    for (let i = 0; i < 3; i++) expect(await hello('127.0.0.1', `a${i}`)).toMatchObject({ type: 'WELCOME' });
    expect(await hello('127.0.0.1', 'a3')).toMatchObject({
      type: 'ERROR',
      code: 'ADDRESS_LIMIT',
      message: expect.stringContaining('already has 3 sessions'),
    });
    expect(await hello('127.0.0.2', 'b0')).toMatchObject({ type: 'WELCOME' });
    for (let i = 0; i < 5; i++) expect(await hello('127.0.0.3', `t${i}`)).toMatchObject({ type: 'WELCOME' });
  });

  it('the web port: a GET with a body it never finishes is answered and closed; slow requests from one address hold at most their share; the page stays up', async () => {
    const server = await startServer(['--workers', '2', '--max-http-per-address', '10']);
    procs.push(server);
    const port = server.httpPort!;
    // Content-Length: 100000000 and a byte every 3 s once held a connection for ever: now the page comes, then the close.
    const lying = await connectFrom('127.0.0.1', port);
    let answer = '';
    lying.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    lying.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000000\r\n\r\nx');
    await until(
      () => lying.destroyed || lying.readableEnded,
      8000,
      () => `the connection stayed open; got ${JSON.stringify(answer.slice(0, 80))}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);

    const replies: string[] = [];
    const slow: net.Socket[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 14; i++) {
      const s = await connectFrom('127.0.0.1', port);
      let r = '';
      s.on('data', (d: Buffer) => (r += d.toString('latin1')));
      s.on('close', () => replies.push(r.split('\r\n')[0] ?? ''));
      s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // headers that never end
      slow.push(s);
    }
    await until(
      () => replies.filter((r) => r.startsWith('HTTP/1.1 503')).length === 4,
      5000,
      () => `replies: ${JSON.stringify(replies)}`,
    );
    // Another address is not affected.
    const tPage = performance.now();
    const page = await new Promise<string>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' }, () =>
        s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
      );
      let r = '';
      s.on('data', (d: Buffer) => (r += d.toString('latin1')));
      s.on('close', () => resolve(r));
      s.on('error', () => resolve(r));
    });
    expect(page.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(performance.now() - tPage).toBeLessThan(2000);
    // The ten that were let in are cut by the header deadline: the documented 10 s (Node's default check let them live 18).
    await until(
      () => replies.length === 14,
      15_000,
      () => `still open: ${14 - replies.length}`,
    );
    const cutAfter = performance.now() - t0;
    console.log(`slow headers cut after ${Math.round(cutAfter)} ms`);
    expect(cutAfter).toBeGreaterThan(9_500);
    expect(cutAfter).toBeLessThan(12_500);
    expect(
      replies.filter((r) => r.startsWith('HTTP/1.1 400') || r.startsWith('HTTP/1.1 408') || r === ''),
    ).toHaveLength(10);
    const again = await connectFrom('127.0.0.1', port);
    let r2 = '';
    again.on('data', (d: Buffer) => (r2 += d.toString('latin1')));
    again.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    await until(
      () => r2.startsWith('HTTP/1.1 200 OK'),
      5000,
      () => `after the cut: ${JSON.stringify(r2.slice(0, 60))}`,
    );
  }, 30_000);
});

describe('the open-file limit', () => {
  it('is planned for: --max-clients lowered with a warning, sockets past the budget refused with a reason, the reserve kept for the rest', async () => {
    // 1100 descriptors: a quarter (275) kept back, 825 for sockets, 512 of them the worker's HELLO and HTTP allowances.
    // The idle web connections below are held on purpose for the whole test: a loaded machine may take longer than
    // the default 10 s a connection has to send its request.
    const server = await startServer(['--workers', '1', '--max-http-per-address', '32', '--web-header-timeout', '2m'], {
      fdLimit: 1100,
    });
    procs.push(server);
    expect(server.errLines.join('\n')).toContain(
      'the open-file limit (1100) holds 313 clients, not 10000: --max-clients lowered to 313; raise it with `ulimit -n 11024`',
    );
    const port = server.httpPort!;
    // The web port takes 313 + 256 = 569 connections; 600 idle ones from 30 addresses (20 each, under the per-address 32).
    const answers: string[] = [];
    const held: net.Socket[] = [];
    for (let i = 0; i < 600; i++) {
      const s = await connectFrom(`127.11.0.${(i % 30) + 1}`, port);
      s.on('data', (d: Buffer) => answers.push(d.toString('utf8')));
      held.push(s);
    }
    await until(
      () => answers.length >= 31,
      5000,
      () => `${answers.length} refusals`,
    );
    expect(answers).toHaveLength(31);
    expect(
      answers.every(
        (a) =>
          a.startsWith('HTTP/1.1 503 Service Unavailable\r\n') &&
          a.endsWith('\r\n\r\nthe web side is full (569 connections), try again later\n'),
      ),
    ).toBe(true);
    // 569 sockets held: 256 chat sessions fill the 825, and the next ones are refused for want of descriptors.
    const frames = await Promise.all(
      Array.from({ length: 276 }, async (_, i) => {
        const s = await connectFrom(`127.12.${Math.floor(i / 200)}.${(i % 200) + 1}`, server.port);
        held.push(s);
        s.write(encodeMessage({ type: 'HELLO', version: 1, nick: `n${i}` }));
        return firstFrame(s);
      }),
    );
    const fds = readdirSync(`/proc/${server.proc.pid}/fd`).length;
    const refused = frames.filter((f) => f?.type === 'ERROR');
    console.log(
      `descriptors: ${fds} open in the server holding 825 client sockets; ${refused.length} sessions refused`,
    );
    expect(frames.filter((f) => f?.type === 'WELCOME')).toHaveLength(256);
    expect(refused).toHaveLength(20);
    expect(
      refused.every(
        (f) =>
          f?.type === 'ERROR' &&
          f.code === 'SERVER_FULL' &&
          f.message === 'the server has no file descriptors left for another connection, try again later',
      ),
    ).toBe(true);
    expect(fds).toBeLessThan(1100 - 100);
    const log = () => readFileSync(server.logFile, 'utf8');
    await until(
      () => log().includes('refusing connections: the sockets the open-file limit allows are all in use'),
      5000,
      () => 'no warning in the log',
    );
    expect(log()).toContain('--max-clients lowered to 313');
    expect(log()).not.toContain('EMFILE');
    // Everything comes back: a chat session and the page, once the idle connections are gone.
    for (const s of held) s.destroy();
    const chat = await connectFrom('127.0.0.2', server.port);
    await until(
      () => readdirSync(`/proc/${server.proc.pid}/fd`).length < 300,
      5000,
      () => 'the sockets were not closed',
    );
    chat.write(encodeMessage({ type: 'HELLO', version: 1, nick: 'after' }));
    expect(await firstFrame(chat)).toMatchObject({ type: 'WELCOME', nick: 'after' });
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
  }, 60_000);

  it('too low to serve anyone: the server says how to raise it and exits 1', async () => {
    const p = new LineProcess(
      'chat-server',
      [SERVER_JS, '--port', '0', '--host', '127.0.0.1', '--no-web', '--workers', '2'],
      { fdLimit: 600 },
    );
    procs.push(p);
    expect(await p.exit(10_000)).toBe(1);
    expect(p.errLines.join('\n')).toMatch(
      /^chat-server: the open-file limit \(600\) leaves room for 0 clients with 2 workers: raise it with `ulimit -n 11024` before starting the server, or use fewer --workers$/m,
    );
  });
});

describe('one session cannot starve files for others', () => {
  it(`holds at most 8 unused tickets; the others still get theirs`, async () => {
    const server = await startServer(['--workers', '2', '--no-web', ...NO_FLOOD_LIMIT]);
    procs.push(server);
    const join = async (from: string, nick: string) => {
      const s = await connectFrom(from, server.port);
      const decoder = new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType });
      const got: ServerMessage[] = [];
      s.on('data', (chunk) => got.push(...decoder.push(chunk).map(decodeServerMessage)));
      s.write(encodeMessage({ type: 'HELLO', version: 1, nick }));
      await until(
        () => got.some((m) => m.type === 'WELCOME'),
        5000,
        () => 'no WELCOME',
      );
      return { s, got };
    };
    const hoarder = await join('127.0.0.1', 'hoarder');
    for (let id = 0; id < 20; id++)
      hoarder.s.write(encodeMessage({ type: 'TICKET_REQUEST', id, op: 'post', name: `h${id}.bin`, size: 10 }));
    const tickets = () =>
      hoarder.got.filter((m): m is Extract<ServerMessage, { type: 'TICKET' }> => m.type === 'TICKET');
    await until(
      () => tickets().length === 20,
      5000,
      () => `${tickets().length} answers`,
    );
    expect(tickets().filter((t) => t.ok)).toHaveLength(8);
    expect(
      tickets()
        .filter((t) => !t.ok)
        .every((t) => !t.ok && t.code === 'BUSY' && t.message.includes('8 unused tickets')),
    ).toBe(true);
    expect(tickets().map((t) => t.id)).toEqual(Array.from({ length: 20 }, (_, i) => i)); // answered in the order asked
    const other = await join('127.0.0.2', 'other');
    other.s.write(encodeMessage({ type: 'TICKET_REQUEST', id: 1, op: 'post', name: 'mine.bin', size: 10 }));
    await until(
      () => other.got.some((m) => m.type === 'TICKET'),
      5000,
      () => 'no answer',
    );
    expect(other.got.find((m) => m.type === 'TICKET')).toMatchObject({ ok: true });
  });
});

describe('logs an attacker can fill', () => {
  it('rotate by size: FILE.1 … FILE.keep, none more; every thread goes on writing to the new file', async () => {
    const server = await startServer([
      '--workers',
      '2',
      '--no-web',
      '--log-max-size',
      '4KiB',
      '--log-keep',
      '2',
      ...NO_FLOOD_LIMIT,
    ]);
    procs.push(server);
    const { existsSync, statSync } = await import('node:fs');
    const rotations = () => [1, 2, 3].filter((i) => existsSync(`${server.logFile}.${i}`));
    // Sessions that come and go log from the workers; keep going (bounded) until two rotations happened.
    for (let i = 0; i < 400 && rotations().length < 2; i++) {
      const s = await connectFrom('127.0.0.1', server.port);
      s.write(encodeMessage({ type: 'HELLO', version: 1, nick: `churn${i}` }));
      await new Promise((r) => setTimeout(r, 20));
      s.destroy();
    }
    expect(rotations()).toEqual([1, 2]);
    // A rotation renames the file, then the thread that rotated opens a new one: between the two it is not there.
    await until(
      () => existsSync(server.logFile),
      5000,
      () => 'no log file after the rotation',
    );
    const before = readFileSync(server.logFile, 'utf8').length;
    const s = await connectFrom('127.0.0.1', server.port);
    s.write(encodeMessage({ type: 'HELLO', version: 1, nick: 'after_rotation' }));
    // Between a rotation's rename and the new file there is none: read what there is.
    const current = () => (existsSync(server.logFile) ? readFileSync(server.logFile, 'utf8') : '');
    await until(
      () =>
        current().includes('after_rotation') ||
        [1, 2].some((i) => readFileSync(`${server.logFile}.${i}`, 'utf8').includes('after_rotation')),
      5000,
      () => 'the new session is in no log',
    );
    s.destroy();
    // Bounded: each old file is about the limit (what two seconds of this load add on top), and there are only `keep` of them.
    for (const i of [1, 2]) expect(statSync(`${server.logFile}.${i}`).size).toBeLessThan(256 * 1024);
    expect(before).toBeLessThan(256 * 1024);
  }, 60_000);
});
