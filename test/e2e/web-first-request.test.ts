/**
 * The web port's deadline for a request's headers (--web-header-timeout, Node's headersTimeout), on real
 * chat-servers and real sockets on 127.0.0.1: a connection that sends nothing at all (a browser's unused
 * preconnect, or someone holding places) is answered 408 and closed once the time is up, plain or after its TLS
 * handshake, and its address's place is free again; one that sends its request in time is answered.
 */
import net from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../helpers/wait.js';
import { startServer, stopAll, type LineProcess } from '../helpers/processes.js';

let procs: LineProcess[] = [];
let sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets = [];
  await stopAll(...procs);
  procs = [];
});

const DEADLINE_MS = 1000;

interface Watched {
  socket: net.Socket;
  /** What the server sent. */
  text: () => string;
  /** When the server closed it, in ms from the connect call; null while open. */
  closedAfter: () => number | null;
}

function watch(socket: net.Socket, t0: number): Watched {
  let text = '';
  let closed: number | null = null;
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('close', () => (closed = performance.now() - t0));
  socket.on('error', () => undefined);
  sockets.push(socket);
  return { socket, text: () => text, closedAfter: () => closed };
}

async function plain(port: number, from = '127.0.0.1'): Promise<Watched> {
  const t0 = performance.now();
  const s = net.connect({ host: '127.0.0.1', port, localAddress: from });
  await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
  return watch(s, t0);
}

async function secure(port: number): Promise<Watched> {
  const t0 = performance.now();
  const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => s.once('secureConnect', resolve).once('error', reject));
  return watch(s, t0);
}

const GET = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

/** Sends a GET on the connection and waits for its answer's status line. */
async function answered(w: Watched, what: string): Promise<void> {
  w.socket.write(GET);
  await until(
    () => w.text().startsWith('HTTP/1.1 200 OK'),
    5000,
    () => `${what}: ${JSON.stringify(w.text().slice(0, 40))}`,
  );
}

describe('the web port closes a connection that sends no request', () => {
  it('plain: the silent one after --web-header-timeout, its place free again; one that asks in time is answered', async () => {
    const server = await startServer([
      '--no-tls',
      '--workers',
      '1',
      '--max-http-per-address',
      '2',
      '--web-header-timeout',
      `${DEADLINE_MS}ms`,
    ]);
    procs.push(server);
    const port = server.httpPort!;
    const silent = [await plain(port, '127.0.0.5'), await plain(port, '127.0.0.5')];
    // The address's two places are taken: a third is refused at once.
    const third = await plain(port, '127.0.0.5');
    await until(
      () => third.closedAfter() !== null,
      5000,
      () => 'the third connection was not refused',
    );
    expect(third.text()).toMatch(/^HTTP\/1\.1 503 /);
    // Another address asks in time and is answered (kept alive: it stays open past the silent ones' deadline).
    const asking = await plain(port, '127.0.0.6');
    await answered(asking, 'answered');
    await until(
      () => silent.every((s) => s.closedAfter() !== null),
      8000,
      () => `still open: ${silent.filter((s) => s.closedAfter() === null).length}`,
    );
    for (const s of silent) {
      expect(s.text()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(s.closedAfter()!).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
    }
    expect(asking.closedAfter()).toBeNull();
    // Their places are free: the same address is answered now.
    const again = await plain(port, '127.0.0.5');
    await answered(again, 'after the deadline');
  }, 30_000);

  it('TLS: a connection that finishes its handshake and sends nothing is closed; one that asks is answered', async () => {
    const server = await startServer(['--workers', '1', '--tls', 'auto', '--web-header-timeout', `${DEADLINE_MS}ms`]);
    procs.push(server);
    const port = server.httpPort!;
    const silent = await secure(port);
    const asking = await secure(port);
    await answered(asking, 'answered');
    await until(
      () => silent.closedAfter() !== null,
      8000,
      () => 'the silent TLS connection is still open',
    );
    expect(silent.text()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(silent.closedAfter()!).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
  }, 30_000);
});
