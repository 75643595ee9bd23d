import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_JS, LineProcess, SERVER_JS, stopAll, tempDir } from '../helpers/processes.js';
import { until } from '../helpers/wait.js';

let procs: LineProcess[] = [];
afterEach(async () => {
  await stopAll(...procs);
  procs = [];
});

function run(name: string, args: string[]): LineProcess {
  const p = new LineProcess(name, args);
  procs.push(p);
  p.endInput();
  return p;
}

describe('chat-server command line', () => {
  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--port', 'abc'], /--port: "abc" is not a whole number/],
    [['--port', '70000'], /--port: 70000 is out of range/],
    [['--workers', '0'], /--workers: 0 is out of range/],
    [['--heartbeat-interval', '5x'], /--heartbeat-interval: "5x" is not a duration/],
    [['--heartbeat-interval', '10s', '--heartbeat-timeout', '5s'], /must be longer than --heartbeat-interval/],
    // Once read as 5 ms, silently.
    [['--heartbeat-interval', '5'], /--heartbeat-interval: "5" needs a unit: 5ms or 5s/],
    [['--heartbeat-interval', '20ms'], /--heartbeat-interval must be at least 100ms/],
    [['--max-frame', '10'], /--max-frame must be between/],
    [['--log-level', 'loud'], /--log-level must be one of/],
    [['--http-port', '-1'], /--http-port/],
    [['--no-web', '--http-port', '8080'], /--no-web turns the web side off/],
    [['--admin-token', 'short'], /admin token must be 8-256 printable/],
    [['--admin-token', 'has a space in it'], /admin token must be 8-256 printable/],
    [['--web-header-timeout', '10ms'], /--web-header-timeout must be between 1s and 10m/],
    [['--no-web', '--web-header-timeout', '5s'], /--no-web has no web side: --web-header-timeout does not apply/],
  ])('%j → one-line error, usage hint, exit 2', async (args, message) => {
    const p = run('server', [SERVER_JS, ...args]);
    expect(await p.exit()).toBe(2);
    expect(p.errLines[0]).toMatch(message);
    expect(p.errLines[1]).toBe("Try 'chat-server --help' for more information.");
    expect(p.errLines.length).toBe(2);
  });

  it('--help and --version', async () => {
    const h = run('server', [SERVER_JS, '--help']);
    expect(await h.exit()).toBe(0);
    expect(h.lines.join('\n')).toContain('--heartbeat-timeout');
    const v = run('server', [SERVER_JS, '--version']);
    expect(await v.exit()).toBe(0);
    // The version and the Node running it, then which LFTP datagram path runs (issue 36).
    expect(v.lines[0]).toMatch(/^chat-server \d+\.\d+\.\d+ \(Node v\d+\.\d+\.\d+\)$/);
    expect(v.lines[1]).toMatch(/^lftp datagrams: (native batch|dgram \+ node:crypto)/);
  });

  it('a port in use → a clear message and a non-zero exit', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen({ host: '127.0.0.1', port: 0 }, () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      // A log file that does not exist yet: its late opening once made pino throw at exit ("sonic boom is not ready yet").
      const p = run('server', [
        SERVER_JS,
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--log-file',
        join(tempDir('cli-log'), 'new', 'server.log'),
      ]);
      expect(await p.exit()).toBe(1);
      expect(p.errLines).toEqual([`chat-server: port ${port} is already in use on 127.0.0.1`]);
    } finally {
      blocker.close();
    }
  });

  it('the web port in use → a clear message naming it and the way out', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen({ host: '127.0.0.1', port: 0 }, () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const p = run('server', [
        SERVER_JS,
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--http-port',
        String(port),
        '--log-file',
        join(tempDir('cli-log'), 'server.log'),
      ]);
      expect(await p.exit()).toBe(1);
      expect(p.errLines).toHaveLength(1);
      expect(p.errLines[0]).toBe(
        `chat-server: port ${port} is already in use on 127.0.0.1 (web; choose another with --http-port or turn it off with --no-web)`,
      );
    } finally {
      blocker.close();
    }
  });

  it('keeps serving when stdin is at EOF from the start', async () => {
    const logFile = join(tempDir('cli-log'), 'server.log');
    const p = new LineProcess('server', [
      SERVER_JS,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--workers',
      '1',
      '--log-file',
      logFile,
      '--data',
      tempDir('cli-data'),
    ]);
    procs.push(p);
    p.endInput();
    await p.waitFor(/^listening on tcp 127\.0\.0\.1:\d+ \(1 worker, no TLS\)$/);
    // The console has read the EOF (it logs so), and only then is the server told to stop: had the EOF stopped
    // it, it would be gone or shutting down for another cause before our SIGINT.
    const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
    await until(
      () => log().includes('operator console closed (stdin at EOF); still serving'),
      10_000,
      () => `the console never saw the EOF; log:\n${log()}`,
    );
    expect(p.exitCode).toBeUndefined();
    p.proc.kill('SIGINT');
    expect(await p.exit()).toBe(0);
    expect(p.lines.filter((l) => l.startsWith('shutting down'))).toEqual(['shutting down (received SIGINT)']);
  });
});

describe('chat-client command line', () => {
  it('an unreachable server → one clear line, exit 1', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen({ host: '127.0.0.1', port: 0 }, () => r()));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const p = run('client', [CLIENT_JS, '--port', String(port), '--nick', 'x']);
    expect(await p.exit()).toBe(1);
    expect(p.errLines).toEqual([
      `chat-client: cannot connect to 127.0.0.1:${port}: connection refused (is chat-server running?)`,
    ]);
  });

  it('no --nick with stdin not a terminal → usage error, exit 2', async () => {
    const p = run('client', [CLIENT_JS, '--port', '9']);
    expect(await p.exit()).toBe(2);
    expect(p.errLines[0]).toBe('chat-client: --nick is required when stdin is not a terminal');
  });

  it('bad options → exit 2', async () => {
    const p = run('client', [CLIENT_JS, '--port', 'x', '--nick', 'a']);
    expect(await p.exit()).toBe(2);
    expect(p.errLines[0]).toMatch(/--port/);
  });
});
