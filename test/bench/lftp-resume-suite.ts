/**
 * `npm run bench -- --suite resume`: issue 35's LFTP figures on loopback, through the fault relay (no
 * impairment; it counts what crosses). A 1 GiB get (128 MiB with --quick) cut at 50 % by SIGKILL of the
 * client, then run again: the bytes sent after the cut ÷ the bytes missing (goal ≤ 1.02), and the time from
 * the second client's start to the first new data datagram (both sides hash the held half first). Then
 * folders: 10,000 files of 4 KiB and 100 of 10 MiB (1,000 and 10 with --quick), posted and fetched with
 * `chat-client lftp` against `chat-server lftp --open`: files/s and MiB/s. And a 64 MiB get cut at 50 % both
 * ways, LFTP and rsync --partial from its daemon on an ephemeral 127.0.0.1 port (skipped, and said so, without
 * rsync): the bytes that crossed after the cut ÷ the bytes missing, and the resumed run's time. The folders
 * also go through rsync -r against its daemon (rsync-resume.ts), and are fetched from the chat server's own HTTP
 * side with curl and one folder ticket (http-folder.ts), in the same run.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readdirSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { NO_IMPAIRMENT, startRelay, type Relay } from '../relay/relay.js';
import { LFTP_DEFAULTS } from '../../common/lftp/defaults.js';
import { HEADER_BYTES } from '../../common/lftp/engine/packet.js';
import { rsyncCutAtHalf, rsyncFolder } from './rsync-resume.js';
import { CURL_PARALLEL, curlFolder, startHttpSide, type HttpSide } from './http-folder.js';

export interface LftpResumeContext {
  quick: boolean;
  work: string;
  root: string;
  record(suite: string, name: string, unit: string, values: number[], note?: string): void;
  skip(what: string, why: string): void;
  log(line: string): void;
}

const SUITE = 'resume';
const MiB = 2 ** 20;

/** Random bytes throughout: a block repeated would let rsync's rolling checksum match the missing half to the held one. */
function fill(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  for (let n = 0; n < bytes; n += 8 * MiB) writeSync(fd, randomBytes(Math.min(8 * MiB, bytes - n)));
  closeSync(fd);
}

function run(root: string, args: string[]): { done: Promise<number>; kill(): void } {
  const p = spawn(process.execPath, [join(root, 'dist/client/cli.js'), 'lftp', ...args, '--quiet'], {
    stdio: 'ignore',
  });
  return { done: new Promise((r) => p.on('exit', (code) => r(code ?? -1))), kill: () => p.kill('SIGKILL') };
}

async function server(root: string, files: string, work: string): Promise<{ port: number; stop(): void }> {
  const args = ['lftp', '--host', '127.0.0.1', '--port', '0', '--files', files, '--log-file', join(work, 'l.log')];
  const p = spawn(process.execPath, [join(root, 'dist/server/cli.js'), ...args, '--open']);
  const port = await new Promise<number>((resolve, reject) => {
    p.on('exit', () => reject(new Error('chat-server lftp exited')));
    p.stdout.on('data', (d: Buffer) => {
      const m = /udp [\d.]+:(\d+)/.exec(String(d));
      if (m) resolve(Number(m[1]));
    });
  });
  return { port, stop: () => p.kill('SIGTERM') };
}

const relayTo = (port: number): Promise<Relay> =>
  startRelay({
    listenHost: '127.0.0.1',
    listenPort: 0,
    targetHost: '127.0.0.1',
    targetPort: port,
    seed: 1,
    up: NO_IMPAIRMENT,
    down: NO_IMPAIRMENT,
  });

/** What a resumed get moved and took. */
interface Resumed {
  /** Bytes missing after the cut. */
  missing: number;
  /** Bytes that crossed after the cut: toward the receiver (data), and back (acknowledgements). */
  down: number;
  up: number;
  /** The resumed run, start to exit; and to its first new data. */
  ms: number;
  firstData: number;
  datagrams: number;
}

/** A get of big.bin (`size` bytes) cut at 50 % by SIGKILL of the client, then run again; counted at the relay. */
async function cutAtHalf(c: LftpResumeContext, port: number, size: number): Promise<Resumed> {
  const here = join(c.work, 'resume-here');
  mkdirSync(here);
  const held = () => {
    const n = readdirSync(here).find((x) => x.endsWith('.lftp-held'));
    return n ? statSync(join(here, n)).size : 0;
  };
  const dest = join(here, 'big.bin');
  const first = await relayTo(port);
  const cut = run(c.root, ['get', `127.0.0.1:${first.port}`, 'big.bin', dest]);
  while (held() < size / 2) await new Promise((r) => setTimeout(r, 2));
  cut.kill();
  await cut.done;
  await first.close();
  const missing = size - held();
  const second = await relayTo(port);
  const t0 = performance.now();
  let firstData = NaN;
  const watch = setInterval(() => {
    // The SYN-ACK and a keepalive are not data: the first few datagrams down are the handshake.
    if (Number.isNaN(firstData) && second.stats.down.forwarded > 2) firstData = performance.now() - t0;
  }, 1);
  const again = run(c.root, ['get', `127.0.0.1:${second.port}`, 'big.bin', dest]);
  const code = await again.done;
  clearInterval(watch);
  const ms = performance.now() - t0;
  const { down, up } = second.stats;
  await second.close();
  if (code !== 0) throw new Error(`the resumed get exited with ${code}`);
  rmSync(here, { recursive: true, force: true });
  return { missing, down: down.bytes, up: up.bytes, ms, firstData, datagrams: down.forwarded };
}

/**
 * The file's bytes among what went down after the cut: each datagram's UDP payload less its LFTP header (open
 * mode). Not datagrams × mss: over loopback a datagram packs up to 45 packets ("Datagram size" in docs/LFTP.md),
 * which once made this 0.0 and the count beyond the missing packets negative. The few control datagrams
 * (SYN-ACK, END, FIN) count as file bytes here, a few hundred at most.
 */
function fileBytesDown(r: Resumed): number {
  return r.down - r.datagrams * HEADER_BYTES;
}

async function cutBigGet(c: LftpResumeContext, port: number, files: string): Promise<void> {
  const size = (c.quick ? 128 : 1024) * MiB;
  fill(join(files, 'big.bin'), size);
  const r = await cutAtHalf(c, port, size);
  rmSync(join(files, 'big.bin'), { force: true });
  const label = `${size / MiB} MiB get cut at 50 %`;
  const sent = fileBytesDown(r);
  c.record(SUITE, `${label}: bytes sent after the cut ÷ bytes missing`, 'ratio', [sent / r.missing]);
  const beyond = Math.ceil(sent / LFTP_DEFAULTS.mss) - Math.ceil(r.missing / LFTP_DEFAULTS.mss);
  c.record(SUITE, `${label}: packets after the cut beyond the missing ones`, 'packets', [beyond]);
  c.record(
    SUITE,
    `${label}: client start to first new data`,
    'ms',
    [r.firstData],
    'a new process; both sides hash the held half first',
  );
  c.record(SUITE, `${label}: the resumed run`, 'ms', [r.ms]);
}

/**
 * The same cut at 64 MiB, LFTP against rsync --partial pulling from its daemon on loopback (rsync-resume.ts):
 * what was missing, the bytes that crossed after the cut beyond it (toward the receiver) and back (LFTP's
 * acknowledgements, rsync's block checksums of what it held), and the resumed run's time.
 */
async function againstRsync(c: LftpResumeContext, port: number, files: string): Promise<void> {
  const size = 64 * MiB;
  fill(join(files, 'big.bin'), size);
  const row = (tool: string, r: { missing: number; down: number; up: number; ms: number }, note: string) => {
    const label = `64 MiB get cut at 50 %, ${tool}`;
    if ('datagrams' in r) {
      const packets = Math.ceil(fileBytesDown(r as Resumed) / LFTP_DEFAULTS.mss);
      const beyond = packets - Math.ceil(r.missing / LFTP_DEFAULTS.mss);
      c.record(SUITE, `${label}: packets down beyond the missing ones (resent)`, 'packets', [beyond]);
    }
    c.record(SUITE, `${label}: missing after the cut`, 'MiB', [r.missing / MiB]);
    c.record(
      SUITE,
      `${label}: bytes down after the cut beyond the missing`,
      'KiB',
      [(r.down - r.missing) / 1024],
      note,
    );
    c.record(SUITE, `${label}: bytes up after the cut`, 'KiB', [r.up / 1024]);
    c.record(SUITE, `${label}: the resumed run`, 'ms', [r.ms]);
  };
  try {
    row(
      'LFTP',
      await cutAtHalf(c, port, size),
      `UDP payloads at the relay: a ${HEADER_BYTES}-byte LFTP header per datagram (open mode), and what was resent`,
    );
    const r = await rsyncCutAtHalf({ work: c.work, files, size, log: c.log });
    if (typeof r === 'string') return c.skip('64 MiB get cut at 50 %, rsync --partial', r);
    row('rsync --partial', r, 'rsync --stats: its protocol bytes (TCP headers not counted)');
  } finally {
    rmSync(join(files, 'big.bin'), { force: true });
  }
}

async function folder(
  c: LftpResumeContext,
  port: number,
  files: string,
  http: HttpSide | string,
  count: number,
  bytes: number,
): Promise<void> {
  const name = `f${count}x${bytes}`;
  const src = join(c.work, name);
  mkdirSync(src);
  for (let i = 0; i < count; i++) fill(join(src, `file-${i}.bin`), bytes);
  const label = `folder of ${count.toLocaleString('en')} × ${bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / 1024} KiB`}`;
  for (const op of ['post', 'get'] as const) {
    const t0 = performance.now();
    const args = op === 'post' ? [src, name] : [`${name}/`, join(c.work, `${name}-back`)];
    const code = await run(c.root, [op, `127.0.0.1:${port}`, ...args]).done;
    const s = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`${op} of ${label} exited with ${code}`);
    c.record(SUITE, `${label}, ${op}: files/s`, 'files/s', [count / s]);
    c.record(SUITE, `${label}, ${op}: MiB/s`, 'MiB/s', [(count * bytes) / MiB / s]);
  }
  await curlRows(c, http, name, label, count, bytes);
  const r = await rsyncFolder(c.work, src);
  if (typeof r === 'string') c.skip(`${label}, rsync -r`, r);
  else
    for (const op of ['post', 'get'] as const) {
      c.record(SUITE, `${label}, ${op}, rsync -r (daemon): files/s`, 'files/s', [count / r[op]]);
      c.record(SUITE, `${label}, ${op}, rsync -r (daemon): MiB/s`, 'MiB/s', [(count * bytes) / MiB / r[op]]);
    }
  rmSync(src, { recursive: true, force: true });
  rmSync(join(c.work, `${name}-back`), { recursive: true, force: true });
  rmSync(join(files, name), { recursive: true, force: true });
}

/** The folder LFTP posted, fetched from the chat server's HTTP side by curl: one connection, then --parallel. */
async function curlRows(
  c: LftpResumeContext,
  http: HttpSide | string,
  name: string,
  label: string,
  count: number,
  bytes: number,
): Promise<void> {
  if (typeof http === 'string') return c.skip(`${label}, get, HTTP (curl)`, http);
  // Not c.work itself: the folder LFTP posted from is there under the same name.
  const into = join(c.work, 'curl-back');
  mkdirSync(into, { recursive: true });
  for (const parallel of [false, true]) {
    const how = parallel ? `curl -K --parallel-max ${CURL_PARALLEL}` : 'curl -K, one connection';
    const s = await curlFolder(http, name, into, count, parallel);
    const note = 'chat-server --no-tls, one folder ticket: the manifest, then each file by its URL';
    c.record(SUITE, `${label}, get, HTTP (${how}): files/s`, 'files/s', [count / s], note);
    c.record(SUITE, `${label}, get, HTTP (${how}): MiB/s`, 'MiB/s', [(count * bytes) / MiB / s], note);
  }
}

export async function lftpResumeSuite(c: LftpResumeContext): Promise<void> {
  c.log('resume: LFTP resume and folders (loopback, through the relay for the cut)');
  const files = join(c.work, 'resume-files');
  mkdirSync(files);
  const s = await server(c.root, files, c.work);
  const http = await startHttpSide(c.root, files, c.work);
  try {
    await cutBigGet(c, s.port, files);
    await againstRsync(c, s.port, files);
    await folder(c, s.port, files, http, c.quick ? 1000 : 10_000, 4096);
    await folder(c, s.port, files, http, c.quick ? 10 : 100, 10 * MiB);
  } finally {
    s.stop();
    if (typeof http !== 'string') await http.stop();
  }
}
