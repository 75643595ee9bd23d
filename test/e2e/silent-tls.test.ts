/**
 * Issue 31, item 2 and its Low item (real processes, real sockets on
 * 127.0.0.1, attackers on 127.x.y.z source addresses of their own):
 * - TCP connections to the TLS chat port and to the https web port that send
 *   nothing, or half a TLS record, are counted per address from their first
 *   byte (one more from that address is refused before any handshake) and
 *   closed by --tls-handshake-timeout; an honest TLS login and an https GET
 *   from another address get in meanwhile, about as fast as before.
 * - Connections that have not said HELLO fill a worker's 256 places: an
 *   honest login from another network still gets its WELCOME, and the one
 *   that made room for it is the oldest connection of the busiest network
 *   (an IPv4 /24), not an older one of a smaller network.
 */
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameDecoder, MAX_MAX_FRAME } from '../../common/frame.js';
import { decodeServerMessage, encodeMessage, isKnownFrameType, type ServerMessage } from '../../common/protocol.js';
import { until } from '../helpers/wait.js';
import { startServer, stopAll, tempDir, type LineProcess, type ServerHandle } from '../helpers/processes.js';
import { socketsFrom } from '../helpers/server-sockets.js';

let procs: LineProcess[] = [];
let sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets = [];
  await stopAll(...procs);
  procs = [];
});

const DEADLINE_MS = 3000;
/** A TLS record header that promises a 512-byte ClientHello, and the first few bytes of it. */
const HALF_RECORD = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 1, 2, 3, 4, 5]);

async function tlsServer(args: string[]): Promise<ServerHandle> {
  const s = await startServer([
    '--workers',
    '2',
    '--tls',
    'auto',
    '--data',
    tempDir('silent-tls'),
    '--tls-handshake-timeout',
    `${DEADLINE_MS}ms`,
    ...args,
  ]);
  procs.push(s);
  return s;
}

/** Connections the server has accepted from addresses starting with `prefix`. */
const heldFrom = (s: ServerHandle, prefix: string) => socketsFrom(s.proc.pid!, (a) => a.startsWith(prefix));

/** Waits until the server has accepted `n` connections from addresses starting with `prefix`: their places are taken. */
function accepted(s: ServerHandle, prefix: string, n: number): Promise<void> {
  return until(
    () => heldFrom(s, prefix) >= n,
    10_000,
    () => `the server holds ${heldFrom(s, prefix)} of the ${n} connections from ${prefix}*`,
  );
}

interface Silent {
  socket: net.Socket;
  openedAt: number;
  closedAt: number | null;
  received: number;
}

/** A TCP connection from `from` that sends nothing (or half a TLS record) and never another byte. */
async function silent(port: number, from: string, half: boolean): Promise<Silent> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: from });
  socket.on('error', () => undefined);
  sockets.push(socket);
  await once(socket, 'connect');
  const s: Silent = { socket, openedAt: performance.now(), closedAt: null, received: 0 };
  socket.on('data', (d: Buffer) => (s.received += d.length));
  socket.on('close', () => (s.closedAt = performance.now()));
  if (half) socket.write(HALF_RECORD);
  return s;
}

/** A TLS login from `from`: the first frame after HELLO (null: no handshake, or closed), and how long it took. */
function tlsLogin(
  port: number,
  from: string,
  nick: string,
): Promise<{ secured: boolean; first: ServerMessage | null; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let secured = false;
    const tcp = net.connect({ host: '127.0.0.1', port, localAddress: from });
    tcp.on('error', () => undefined);
    const socket = tls.connect({ socket: tcp, rejectUnauthorized: false });
    const decoder = new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType });
    const done = (first: ServerMessage | null) => {
      resolve({ secured, first, ms: performance.now() - t0 });
      socket.destroy();
    };
    socket.once('secureConnect', () => {
      secured = true;
      socket.write(encodeMessage({ type: 'HELLO', version: 1, nick }));
    });
    socket.on('data', (chunk: Buffer) => {
      const [f] = decoder.push(chunk);
      if (f) done(decodeServerMessage(f));
    });
    socket.on('error', () => undefined);
    socket.on('close', () => done(null));
  });
}

/** GET / over https from `from`: its status (0: no answer, the connection refused or failed) and time. */
function httpsGet(port: number, from: string): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = https.get(
      { host: '127.0.0.1', port, path: '/', localAddress: from, rejectUnauthorized: false, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
      },
    );
    req.on('error', () => resolve({ status: 0, ms: performance.now() - t0 }));
  });
}

/** Every silent connection closed: each one after the deadline (from its open), none much later. */
async function closedByDeadline(held: Silent[]): Promise<number[]> {
  await until(
    () => held.every((s) => s.closedAt !== null),
    DEADLINE_MS + 10_000,
    () => `${held.filter((s) => s.closedAt === null).length} of ${held.length} silent connections still open`,
  );
  const lived = held.map((s) => Math.round(s.closedAt! - s.openedAt));
  console.log(`silent connections closed after ${lived.join(', ')} ms (deadline ${DEADLINE_MS} ms)`);
  for (const ms of lived) {
    expect(ms).toBeGreaterThan(DEADLINE_MS - 200);
    expect(ms).toBeLessThan(DEADLINE_MS + 4000);
  }
  return lived;
}

describe('silent TLS connections (issue 31, item 2)', () => {
  it('on the chat port: counted per address before the handshake, closed by the deadline; a TLS login from elsewhere gets in meanwhile', async () => {
    const server = await tlsServer(['--no-web']);
    const before = await tlsLogin(server.port, '127.21.0.2', 'before');
    expect(before.first).toMatchObject({ type: 'WELCOME', nick: 'before' });
    // The address's 8 places (--max-pending-per-address), half silent, half with half a ClientHello.
    const held: Silent[] = [];
    for (let i = 0; i < 8; i++) held.push(await silent(server.port, '127.21.0.1', i % 2 === 1));
    // Accepted by the workers, so their places are taken by now.
    await accepted(server, '127.21.0.1', 8);
    // One more from that address, a real TLS client: refused before any handshake (before: it got its WELCOME).
    const ninth = await tlsLogin(server.port, '127.21.0.1', 'ninth');
    expect(ninth).toMatchObject({ secured: false, first: null });
    // Another address logs in while the eight are held, about as fast as before.
    const during = await tlsLogin(server.port, '127.21.0.2', 'during');
    expect(during.first).toMatchObject({ type: 'WELCOME', nick: 'during' });
    console.log(`honest TLS login: ${Math.round(before.ms)} ms before, ${Math.round(during.ms)} ms during`);
    expect(during.ms).toBeLessThan(before.ms + 1000);
    expect(held.every((s) => s.closedAt === null)).toBe(true);
    await closedByDeadline(held);
    // They never got a byte (no refusal in words: there was no TLS to put it in).
    expect(held.map((s) => s.received)).toEqual(Array(8).fill(0));
    // Their places came back with them: the address logs in again.
    expect((await tlsLogin(server.port, '127.21.0.1', 'after')).first).toMatchObject({ type: 'WELCOME' });
  }, 40_000);

  it('on the https web port: counted per address before the handshake, closed by the deadline; the page from elsewhere meanwhile', async () => {
    const server = await tlsServer(['--max-http-per-address', '4']);
    const port = server.httpPort!;
    const before = await httpsGet(port, '127.22.0.2');
    expect(before.status).toBe(200);
    const held: Silent[] = [];
    for (let i = 0; i < 4; i++) held.push(await silent(port, '127.22.0.1', i % 2 === 1));
    await accepted(server, '127.22.0.1', 4);
    // A fifth from that address: refused without a handshake, and without plain text on a TLS port.
    const fifth = await silent(port, '127.22.0.1', false);
    await until(
      () => fifth.closedAt !== null,
      DEADLINE_MS - 500,
      () => 'the fifth connection from the address was not refused',
    );
    expect(fifth.received).toBe(0);
    expect((await httpsGet(port, '127.22.0.1')).status).toBe(0);
    const during = await httpsGet(port, '127.22.0.3');
    expect(during.status).toBe(200);
    console.log(`https page: ${Math.round(before.ms)} ms before, ${Math.round(during.ms)} ms during`);
    expect(during.ms).toBeLessThan(before.ms + 1000);
    await closedByDeadline(held);
    expect((await httpsGet(port, '127.22.0.1')).status).toBe(200);
  }, 40_000);
});

/** Every frame a raw socket receives, as it arrives. */
function framesOf(s: net.Socket): ServerMessage[] {
  const decoder = new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType });
  const frames: ServerMessage[] = [];
  s.on('data', (chunk) => frames.push(...decoder.push(chunk).map(decodeServerMessage)));
  return frames;
}

type Conn = { socket: net.Socket; frames: ServerMessage[] };

async function plainConnect(port: number, from: string): Promise<Conn> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: from });
  socket.on('error', () => undefined);
  sockets.push(socket);
  const frames = framesOf(socket);
  await once(socket, 'connect');
  return { socket, frames };
}

/** HELLO on a fresh connection from `from`; the first frame back and the time to it. */
async function plainLogin(port: number, from: string, nick: string): Promise<{ first: ServerMessage; ms: number }> {
  const t0 = performance.now();
  const c = await plainConnect(port, from);
  c.socket.write(encodeMessage({ type: 'HELLO', version: 1, nick }));
  await until(
    () => c.frames.length > 0,
    5000,
    () => `no answer to ${nick}'s HELLO`,
  );
  return { first: c.frames[0]!, ms: performance.now() - t0 };
}

describe('the places of connections that have not said HELLO (issue 31, Low)', () => {
  it('when they are all taken, a newcomer from another network evicts the oldest of the busiest network instead of being refused', async () => {
    // One worker: its 256 places are the server's, and it accepts in the kernel's order.
    const server = await startServer(['--workers', '1', '--no-web']);
    procs.push(server);
    const before = await plainLogin(server.port, '127.40.0.1', 'before');
    expect(before.first).toMatchObject({ type: 'WELCOME' });
    // The oldest: 16 from a small network (two addresses, 8 each: --max-pending-per-address).
    const small: Conn[] = [];
    for (let i = 0; i < 16; i++) small.push(await plainConnect(server.port, `127.31.0.${1 + (i % 2)}`));
    // Then the busiest: 240 from 30 addresses of one /24. Together they take all 256 places.
    const busy: Conn[] = [];
    for (let i = 0; i < 240; i++) busy.push(await plainConnect(server.port, `127.30.0.${1 + (i % 30)}`));
    await accepted(server, '127.3', 256);
    // An honest login from a third network: WELCOME (before: SERVER_FULL until a HELLO timeout freed a place).
    const first = await plainLogin(server.port, '127.41.0.1', 'honest1');
    expect(first.first).toMatchObject({ type: 'WELCOME', nick: 'honest1' });
    console.log(`honest login: ${Math.round(before.ms)} ms before, ${Math.round(first.ms)} ms with every place taken`);
    expect(first.ms).toBeLessThan(before.ms + 1000);
    // honest1 is a session now: one more from the busy network takes the place it had, and all are taken again.
    busy.push(await plainConnect(server.port, '127.30.0.31'));
    // The place was the busiest network's oldest connection's: told why, then closed.
    const evicted = (k: number) =>
      until(
        () => busy[k]!.frames.length > 0,
        5000,
        () => `busy[${k}] was not evicted`,
      );
    await evicted(0);
    expect(busy[0]!.frames[0]).toMatchObject({
      type: 'ERROR',
      code: 'HELLO_TIMEOUT',
      fatal: true,
      message: expect.stringContaining('127.30.0.0/24'),
    });
    expect((await plainLogin(server.port, '127.41.0.2', 'honest2')).first).toMatchObject({ type: 'WELCOME' });
    await evicted(1);
    expect(busy[1]!.frames[0]).toMatchObject({ type: 'ERROR', code: 'HELLO_TIMEOUT' });
    // Nobody else was evicted: each of the older small network's connections, and the busy network's next
    // ones, says HELLO and its first frame is its WELCOME (an eviction would have come first on the stream).
    for (const [i, c] of [...small, ...busy.slice(2, 6)].entries()) {
      c.socket.write(encodeMessage({ type: 'HELLO', version: 1, nick: `late${i}` }));
      await until(
        () => c.frames.length > 0,
        5000,
        () => `no answer to late${i}'s HELLO`,
      );
      expect(c.frames[0]).toMatchObject({ type: 'WELCOME', nick: `late${i}` });
    }
    expect(busy.slice(6).filter((c) => c.frames.length > 0)).toHaveLength(0);
    // The log says so once per eviction here (at most 20 a minute: an attacker makes them), naming the network.
    const evictions = () =>
      readFileSync(server.logFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('the oldest of the busiest network made room'));
    await until(
      () => evictions().length === 2,
      5000,
      () => `${evictions().length} evictions in the log`,
    );
    expect(evictions().every((l) => l.includes('"prefix":"127.30.0.0/24"'))).toBe(true);
  }, 60_000);
});
