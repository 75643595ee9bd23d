/**
 * Real processes for end-to-end tests: chat-server and chat-client started
 * from dist/, driven through stdin pipes, their output read line by line.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SERVER_JS = join(ROOT, 'dist/server/cli.js');
export const CLIENT_JS = join(ROOT, 'dist/client/cli.js');

/** Options that choose TLS: without one of them, the tests' servers and clients speak plain TCP. */
const TLS_CHOICES = [
  '--tls',
  '--tls-cert',
  '--tls-key',
  '--ca',
  '--known-hosts',
  '--keylog',
  '--no-tls',
  '--help',
  '-h',
  '--version',
  '-v',
];

/**
 * chat-server and chat-client encrypt by default (TLS, trust on first use); most tests are about
 * something else and read frames off plain sockets, so they run both with --no-tls unless they ask.
 */
export function plainUnlessAsked(args: string[]): string[] {
  const [script, sub] = args;
  if (
    (script !== SERVER_JS && script !== CLIENT_JS) ||
    sub === 'lftp' ||
    sub === 'trace' ||
    args.some((a) => TLS_CHOICES.includes(a))
  )
    return args;
  return [...args, '--no-tls'];
}

/**
 * chat-server opens its IRC door on IRC's own port (6697, 6667 without TLS) unless --port is 0: a test that
 * gives the chat port a number gets a free IRC port instead, so that servers of tests running at once do not
 * all ask for the same one.
 */
export function ircPortUnlessAsked(args: string[]): string[] {
  const [script, sub] = args;
  if (script !== SERVER_JS || sub === 'lftp' || args.some((a) => a === '--irc-port' || a === '--no-irc')) return args;
  return [...args, '--irc-port', '0'];
}

/** Every process started by this test file, so that none outlives it (test/helpers/cleanup.ts). */
export const started = new Set<LineProcess>();

export class LineProcess {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  readonly errLines: string[] = [];
  private waiters: Array<() => void> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitCode: number | null | undefined = undefined;

  constructor(
    readonly name: string,
    args: string[],
    /** fdLimit: the open-file limit the program starts with (the shell's `ulimit -n`, soft and hard). */
    /** program: another program than node (redis-server, say), run with `args` as they are. */
    opts: { cwd?: string; env?: NodeJS.ProcessEnv; fdLimit?: number; program?: string } = {},
  ) {
    const program = opts.program ?? process.execPath;
    if (opts.program === undefined) args = ircPortUnlessAsked(plainUnlessAsked(args));
    const [file, argv] =
      opts.fdLimit === undefined
        ? [program, args]
        : ['/bin/sh', ['-c', `ulimit -n ${opts.fdLimit} && exec "$0" "$@"`, program, ...args]];
    this.proc = spawn(file, argv, { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, stdio: 'pipe' });
    started.add(this);
    this.proc.on('exit', () => started.delete(this));
    this.proc.stdin.on('error', () => undefined); // writing to a process that just exited
    collect(this.proc.stdout, this.lines, () => this.wake());
    collect(this.proc.stderr, this.errLines, () => this.wake());
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exitCode = code;
        this.wake();
        resolve({ code, signal });
      });
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(line: string): void {
    this.proc.stdin.write(line + '\n');
  }

  endInput(): void {
    this.proc.stdin.end();
  }

  /** Resolves with the first line (stdout or stderr, from index `from`) matching re. */
  async waitFor(re: RegExp | string, timeoutMs = 10_000, from = 0): Promise<string> {
    const test = (l: string) => (typeof re === 'string' ? l.includes(re) : re.test(l));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.slice(from).find(test) ?? this.errLines.find(test);
      if (hit !== undefined) return hit;
      const left = deadline - Date.now();
      if (left <= 0 || this.exitCode !== undefined) {
        throw new Error(
          `${this.name}: no line matching ${String(re)} within ${timeoutMs}ms` +
            `${this.exitCode !== undefined ? ` (exited with ${this.exitCode})` : ''}\n` +
            `stdout:\n${this.lines.join('\n')}\nstderr:\n${this.errLines.join('\n')}`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Count of stdout lines matching re. */
  count(re: RegExp): number {
    return this.lines.filter((l) => re.test(l)).length;
  }

  async exit(timeoutMs = 10_000): Promise<number | null> {
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs));
    const res = await Promise.race([this.exited, timer]);
    if (res === 'timeout')
      throw new Error(
        `${this.name} did not exit within ${timeoutMs}ms\nstdout:\n${this.lines.join('\n')}\nstderr:\n${this.errLines.join('\n')}`,
      );
    return res.code;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exitCode === undefined) this.proc.kill(signal);
  }
}

function collect(stream: NodeJS.ReadableStream, into: string[], onLine: () => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    rest += chunk;
    const parts = rest.split('\n');
    rest = parts.pop()!;
    if (parts.length) {
      into.push(...parts);
      onLine();
    }
  });
}

/** What tempDir made in this test file, removed after it (cleanup.ts): a full run made some 30 GB of them. */
const madeDirs: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  madeDirs.push(dir);
  return dir;
}

/** Removes every directory tempDir made (after the file's processes are gone); KEEP_TEST_DIRS=1 keeps them to look at. */
export async function removeTempDirs(): Promise<void> {
  const dirs = madeDirs.splice(0);
  if (process.env.KEEP_TEST_DIRS) return;
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true, maxRetries: 3 })));
}

export interface ServerHandle extends LineProcess {
  port: number;
  logFile: string;
  /** The web side's port (chat page, WebSocket, files over HTTP), or null with --no-web. */
  httpPort: number | null;
  /** The IRC door's port, or null with --no-irc. */
  ircPort: number | null;
}

/** Starts chat-server on 127.0.0.1 and an ephemeral port; resolves once it listens. */
/** For tests about something else that send faster than flood control allows (it has tests of its own). */
export const NO_FLOOD_LIMIT = ['--flood-burst', '1000000', '--flood-rate', '1000000'];

export async function startServer(
  args: string[] = [],
  opts: { fdLimit?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ServerHandle> {
  const logFile = join(tempDir('chat-log'), 'server.log');
  const filesDir = args.includes('--files') ? [] : ['--files', tempDir('chat-files')];
  // Each server its own history (one folder is one server's: a second is refused with STORE_LOCKED).
  const dataDir = args.includes('--data') || args.includes('--no-history') ? [] : ['--data', tempDir('chat-data')];
  const server = new LineProcess(
    'chat-server',
    [SERVER_JS, '--host', '127.0.0.1', '--port', '0', '--log-file', logFile, ...filesDir, ...dataDir, ...args],
    opts,
  ) as ServerHandle;
  // A bound, not a guess: a node takes 2 s here on a quiet machine, and CI saw three started at once on a loaded one
  // (a cluster's, each with its store thread and two workers) take over 15 s.
  const line = await server.waitFor(/^listening on tcp /, 30_000);
  server.port = Number(/:(\d+) /.exec(line)![1]);
  server.logFile = logFile;
  server.httpPort = args.includes('--no-web')
    ? null
    : Number(/:(\d+)\//.exec(await server.waitFor(/^web on https?:/, 5_000))![1]);
  server.ircPort = args.includes('--no-irc')
    ? null
    : Number(/:(\d+) /.exec(await server.waitFor(/^irc on tcp /, 5_000))![1]);
  return server;
}

/** Starts chat-client in pipe mode and waits for its welcome line. */
export async function startClient(port: number, nick: string, extra: string[] = []): Promise<LineProcess> {
  const client = new LineProcess(`client ${nick}`, [
    CLIENT_JS,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--nick',
    nick,
    ...extra,
  ]);
  await client.waitFor(/^\* connected to /, 10_000);
  return client;
}

export async function stopAll(...procs: Array<LineProcess | undefined>): Promise<void> {
  for (const p of procs) p?.kill('SIGKILL');
  await Promise.all(procs.flatMap((p) => (p ? [p.exited] : [])));
}

/** Starts `chat-server lftp` on 127.0.0.1 and an ephemeral port. */
export async function startLftpServer(
  filesDir: string,
  args: string[] = ['--open'],
  env: Record<string, string> = {},
): Promise<ServerHandle> {
  const logFile = join(tempDir('lftp-log'), 'lftp.log');
  const server = new LineProcess(
    'lftp-server',
    [SERVER_JS, 'lftp', '--host', '127.0.0.1', '--port', '0', '--files', filesDir, '--log-file', logFile, ...args],
    { env },
  ) as ServerHandle;
  const line = await server.waitFor(/^listening on udp /, 15_000);
  server.port = Number(/:(\d+)$/.exec(line)![1]);
  server.logFile = logFile;
  server.httpPort = null;
  server.ircPort = null;
  return server;
}

/** Runs `chat-client lftp ...` to completion; resolves with its exit code and output. */
export async function runLftpClient(
  args: string[],
  opts: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<{ code: number | null; out: string[]; err: string[] }> {
  const p = new LineProcess('lftp-client', [CLIENT_JS, 'lftp', ...args, '--quiet'], {
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.env ? { env: opts.env } : {}),
  });
  p.endInput();
  const code = await p.exit(opts.timeoutMs ?? 120_000);
  return { code, out: p.lines, err: p.errLines };
}
