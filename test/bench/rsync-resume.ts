/**
 * rsync's resume, to compare LFTP's with (lftp-resume-suite.ts): Debian's rsync in daemon mode on an ephemeral
 * 127.0.0.1 port, started here; a client pulls a file with --partial, is cut at 50 % (SIGTERM: rsync keeps a
 * partial only when it can catch the signal, where LFTP's cut is a SIGKILL), and is run again. The run again
 * sends the partial's block checksums up and gets only what does not match down; --stats says how many bytes
 * went each way. Without rsync, the caller is told why and skips it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { freePort } from '../helpers/loopback.js';

export interface RsyncResumed {
  missing: number;
  down: number;
  up: number;
  ms: number;
}

interface RsyncContext {
  work: string;
  /** The directory the daemon serves; it holds big.bin of `size` bytes. */
  files: string;
  size: number;
  log(line: string): void;
}

const exited = (p: ChildProcess) => new Promise<number>((r) => p.on('exit', (code) => r(code ?? -1)));

/** Waits until the daemon accepts connections (bounded). */
async function listening(port: number, daemon: ChildProcess): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (daemon.exitCode !== null) throw new Error(`rsync --daemon exited with ${daemon.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`rsync --daemon did not listen on 127.0.0.1:${port} within 5 s`);
}

/**
 * The daemon on a free port, serving `files` as the module `files` (read only, or written to with `writable`);
 * `paced` limits what it sends to 64 MiB/s.
 */
async function startDaemon(
  c: Pick<RsyncContext, 'work' | 'files'>,
  paced: boolean,
  writable = false,
): Promise<{ port: number; stop(): Promise<void> }> {
  const conf = join(c.work, 'rsyncd.conf');
  // As root the daemon would switch to nobody, who may not read the bench's private temporary folder.
  const ids = process.getuid?.() === 0 ? 'uid = 0\ngid = 0\n' : '';
  writeFileSync(conf, `use chroot = no\n${ids}[files]\npath = ${c.files}\nread only = ${writable ? 'no' : 'yes'}\n`);
  const port = await freePort();
  const args = ['--daemon', '--no-detach', `--config=${conf}`, '--address=127.0.0.1', `--port=${port}`];
  if (paced) args.push('--bwlimit=65536');
  const daemon = spawn('rsync', [...args, `--log-file=${join(c.work, 'rsyncd.log')}`], { stdio: 'ignore' });
  await listening(port, daemon);
  return {
    port,
    stop: async () => {
      daemon.kill('SIGTERM');
      await exited(daemon);
    },
  };
}

/** The count after `label` in rsync's --stats ("Total bytes sent: 1,234"). */
function stat(out: string, label: string): number {
  const m = new RegExp(`${label}: ([\\d,]+)`).exec(out);
  if (!m) throw new Error(`rsync --stats said no "${label}"`);
  return Number(m[1]!.replace(/,/g, ''));
}

/** The cut and the run again; a string says why it was not measured (no rsync). */
export async function rsyncCutAtHalf(c: RsyncContext): Promise<RsyncResumed | string> {
  if (spawnSync('rsync', ['--version']).error) return 'rsync is not installed (Debian: apt-get install rsync)';
  const here = join(c.work, 'rsync-here');
  mkdirSync(here);
  try {
    const held = await cut(c, here);
    // Unpaced for the run again: its time is comparable with LFTP's.
    const daemon = await startDaemon(c, false);
    try {
      const url = `rsync://127.0.0.1:${daemon.port}/files/big.bin`;
      const t0 = performance.now();
      const again = spawn('rsync', ['--partial', '--stats', url, here], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      again.stdout!.on('data', (d: Buffer) => (out += String(d)));
      const code = await exited(again);
      const ms = performance.now() - t0;
      if (code !== 0) throw new Error(`the resumed rsync exited with ${code}`);
      if (!readFileSync(join(here, 'big.bin')).equals(readFileSync(join(c.files, 'big.bin'))))
        throw new Error('the resumed rsync left another file than the source');
      const down = stat(out, 'Total bytes received');
      const up = stat(out, 'Total bytes sent');
      c.log(`  rsync: held ${held} of ${c.size} bytes after the cut; then ${down} bytes down, ${up} up`);
      return { missing: c.size - held, down, up, ms };
    } finally {
      await daemon.stop();
    }
  } finally {
    rmSync(here, { recursive: true, force: true });
  }
}

/**
 * The first pull, from a daemon that sends at 64 MiB/s so that the cut lands near half (unpaced, loopback
 * moves the rest before the signal is handled): SIGTERM once the partial holds half. What it kept.
 */
async function cut(c: RsyncContext, here: string): Promise<number> {
  const daemon = await startDaemon(c, true);
  try {
    const url = `rsync://127.0.0.1:${daemon.port}/files/big.bin`;
    // Its own process group: rsync's receiver is a child of the process started, and goes on writing unless told too.
    const first = spawn('rsync', ['--partial', url, here], { stdio: 'ignore', detached: true });
    const partial = () => readdirSync(here).reduce((n, f) => Math.max(n, statSync(join(here, f)).size), 0);
    for (let i = 0; partial() < c.size / 2; i++) {
      if (first.exitCode !== null || i > 30_000) throw new Error('the first rsync ended before half the file');
      await new Promise((r) => setTimeout(r, 2));
    }
    process.kill(-first.pid!, 'SIGTERM');
    await exited(first);
    return statSync(join(here, 'big.bin')).size;
  } finally {
    await daemon.stop();
  }
}

/**
 * A folder both ways through the daemon, as LFTP's folder runs go (lftp-resume-suite.ts): `rsync -r` of `src` up
 * into the module, then down into a new folder; the seconds of each, or why not measured (no rsync).
 */
export async function rsyncFolder(work: string, src: string): Promise<{ post: number; get: number } | string> {
  if (spawnSync('rsync', ['--version']).error) return 'rsync is not installed (Debian: apt-get install rsync)';
  const files = join(work, 'rsync-module');
  const back = join(work, 'rsync-back');
  mkdirSync(files);
  const daemon = await startDaemon({ work, files }, false, true);
  const timed = async (args: string[]) => {
    const t0 = performance.now();
    const code = await exited(spawn('rsync', ['-r', ...args], { stdio: 'ignore' }));
    if (code !== 0) throw new Error(`rsync -r ${args.join(' ')} exited with ${code}`);
    return (performance.now() - t0) / 1000;
  };
  try {
    const url = `rsync://127.0.0.1:${daemon.port}/files/tree/`;
    const post = await timed([`${src}/`, url]);
    const get = await timed([url, `${back}/`]);
    return { post, get };
  } finally {
    await daemon.stop();
    rmSync(files, { recursive: true, force: true });
    rmSync(back, { recursive: true, force: true });
  }
}
