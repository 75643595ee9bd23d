/**
 * TLS on the chat port (real processes, real handshakes): --tls auto makes a
 * certificate and prints its SHA-256; the client trusts it on first use,
 * connects again silently, and refuses a changed one before saying HELLO;
 * --ca with the tests' own CA; plain against TLS explains itself; --keylog
 * writes what Wireshark needs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/loopback.js';
import { LineProcess, CLIENT_JS, startServer, stopAll, tempDir, type ServerHandle } from '../helpers/processes.js';
import { testCa } from '../helpers/test-ca.js';

let procs: LineProcess[] = [];
afterEach(async () => {
  await stopAll(...procs);
  procs = [];
});

async function server(args: string[]): Promise<ServerHandle> {
  const s = await startServer(['--workers', '2', '--no-web', ...args]);
  procs.push(s);
  return s;
}

function client(port: number, nick: string, args: string[], input = ['/quit']): LineProcess {
  const c = new LineProcess(`client ${nick}`, [
    CLIENT_JS,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--nick',
    nick,
    ...args,
  ]);
  procs.push(c);
  for (const line of input) c.send(line);
  c.endInput();
  return c;
}

/** The fingerprint the server printed (its tls: line comes right after the one startServer waits for). */
const fingerprintOf = (s: ServerHandle) =>
  /SHA-256 ([0-9A-F:]{95})/.exec(s.lines.find((l) => l.startsWith('tls: ')) ?? '')?.[1];

/**
 * Sessions (trusting the server on first use) until one has landed on each of its workers, each printed as
 * joined: a worker's events reach the console in order, so whatever it printed about an earlier connection
 * is printed by then.
 */
async function sessionOnEveryWorker(s: ServerHandle, workers: number): Promise<void> {
  const seen = new Set<string>();
  for (let i = 0; seen.size < workers; i++) {
    if (i === 20) throw new Error(`20 sessions, all on worker ${[...seen].join(', ')}`);
    // Not client(): its input would end at once, and the session with it.
    const probe = new LineProcess(`probe${i}`, [
      CLIENT_JS,
      '--host',
      '127.0.0.1',
      '--port',
      String(s.port),
      '--nick',
      `probe${i}`,
      '--known-hosts',
      join(tempDir('state'), 'kh'),
    ]);
    procs.push(probe);
    await probe.waitFor(/^\* connected to /);
    await s.waitFor(`* probe${i} joined`);
    const from = s.lines.length;
    s.send('/list');
    await s.waitFor(/^\d+ sessions?$/, 5000, from);
    const row = s.lines.slice(from).find((l) => l.startsWith(`probe${i} `));
    if (row === undefined) throw new Error(`probe${i} not in /list:\n${s.lines.slice(from).join('\n')}`);
    seen.add(row.split(/\s{2,}/)[3]!);
    probe.kill();
  }
}

describe('TLS', () => {
  it('--tls auto: trusted on first use (the printed fingerprint), silently the next time, refused once the certificate changes', async () => {
    const port = await freePort();
    const knownHosts = join(tempDir('state'), 'known_hosts');
    const first = await server(['--port', String(port), '--data', tempDir('tls-a'), '--tls', 'auto']);
    expect(first.lines[0]).toMatch(/^listening on tcp 127\.0\.0\.1:\d+ \(2 workers, TLS\)$/);
    await first.waitFor(/^tls: /);
    const fingerprint = fingerprintOf(first)!;
    expect(fingerprint).toBeDefined();
    const a = client(port, 'alice', ['--known-hosts', knownHosts], ['over tls', '/quit']);
    expect(await a.exit()).toBe(0);
    expect(a.lines[0]).toBe(
      `* trusting 127.0.0.1:${port} on first use: its certificate's SHA-256 is ${fingerprint} (compare it with the one the server printed; kept in ${knownHosts})`,
    );
    expect(readFileSync(knownHosts, 'utf8')).toBe(`127.0.0.1:${port} ${fingerprint}\n`);
    const b = client(port, 'bob', ['--known-hosts', knownHosts]);
    expect(await b.exit()).toBe(0);
    expect(b.lines.some((l) => l.includes('trusting'))).toBe(false);
    expect(b.lines[0]).toMatch(/^\* connected to 127\.0\.0\.1/);

    // Another server on the same address, with another certificate: refused before any HELLO, with how to accept it.
    first.proc.kill('SIGTERM');
    await first.exited;
    const second = await server(['--port', String(port), '--data', tempDir('tls-b'), '--tls', 'auto']);
    await second.waitFor(/^tls: /);
    expect(fingerprintOf(second)).not.toBe(fingerprint);
    const m = client(port, 'mallory-victim', ['--known-hosts', knownHosts]);
    expect(await m.exit()).toBe(1);
    const warning = m.errLines.join('\n');
    expect(warning).toContain(
      `WARNING: the certificate of 127.0.0.1:${port} has changed: it was SHA-256 ${fingerprint}, it is now ${fingerprintOf(second)}`,
    );
    expect(warning).toContain(`remove the line for 127.0.0.1:${port} from ${knownHosts}`);
    // Had its HELLO arrived, the worker that took the connection would have printed its joining before it
    // prints the joining of a later session: a later session on each worker is the marker.
    await sessionOnEveryWorker(second, 2);
    expect(second.lines.some((l) => l.includes('mallory-victim'))).toBe(false);
  });

  it('--ca: a certificate the CA signed is trusted without asking; against another CA the client refuses', async () => {
    const ca = await testCa();
    const { certFile, keyFile } = await ca.issue();
    const s = await server(['--tls-cert', certFile, '--tls-key', keyFile]);
    const ok = client(s.port, 'carol', ['--ca', ca.caFile, '--known-hosts', join(tempDir('state'), 'kh')]);
    expect(await ok.exit()).toBe(0);
    expect(ok.lines[0]).toMatch(/^\* connected to /);
    const other = await testCa('another CA');
    const no = client(s.port, 'dave', ['--ca', other.caFile]);
    expect(await no.exit()).toBe(1);
    expect(no.errLines.join('\n')).toMatch(/the server's certificate is not one --ca .* vouches for/);
  });

  it('plain against TLS and TLS against plain say what to do; --keylog writes the TLS secrets for Wireshark', async () => {
    const tls = await server(['--tls', 'auto', '--data', tempDir('tls-c')]);
    const plainClient = client(tls.port, 'p', ['--no-tls']);
    expect(await plainClient.exit()).toBe(1);
    expect(plainClient.errLines.join('\n')).toContain(
      'before it answered HELLO (a server that speaks TLS, the default, does that to --no-tls clients)',
    );
    const keylog = join(tempDir('keys'), 'keys.log');
    const k = client(tls.port, 'k', ['--known-hosts', join(tempDir('state'), 'kh'), '--keylog', keylog]);
    expect(await k.exit()).toBe(0);
    expect(readFileSync(keylog, 'utf8')).toMatch(/^CLIENT_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]{64} [0-9a-f]+$/m);
    const plain = await server(['--no-tls']);
    const t = client(plain.port, 't', ['--known-hosts', join(tempDir('state'), 'kh')]);
    expect(await t.exit()).toBe(1);
    expect(t.errLines.join('\n')).toContain(
      `127.0.0.1:${plain.port} does not speak TLS (the server runs with --no-tls?): connect with --no-tls`,
    );
  });
});
