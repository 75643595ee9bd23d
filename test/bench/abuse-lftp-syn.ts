/**
 * The abuse suite's LFTP SYN flood (issue 31, item 6): a standalone
 * `chat-server lftp --token` takes 200 SYNs a second from 200 addresses
 * that never answer (spoofed sources, as far as the server can tell: on
 * loopback without raw sockets, UDP sockets on 127.30.x.y that only send),
 * while an honest `chat-client lftp get --token` runs again and again. What
 * is measured: the scrypt checks the flood costs (the server's own count
 * from its log, where it has one; and the flood's 'wrong token' answers,
 * each of which is one), the server's CPU during the flood, and the honest
 * gets' times before and during it, and how many were refused. ngircd has
 * nothing like it (no UDP, no key derived per request): chat-server only.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { run, start } from './sh.js';
import { procStat } from './proc.js';
import { median } from './stats.js';
import { sourceAddress } from './abuse-peer.js';
import { floodSyns, lastLogLine, SynSource } from '../helpers/lftp-syn.js';
import type { AbuseContext } from './abuse-suite.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SERVER = join(ROOT, 'dist/server/cli.js');
const CLIENT = join(ROOT, 'dist/client/cli.js');
const SUITE = 'abuse';
const NAME = 'lftp SYN flood, chat-server lftp --token';
const TOKEN = 'bench token';
const SOURCES = 200;
const RATE = 200;

interface Get {
  ok: boolean;
  ms: number;
  why: string;
}

async function honestGet(port: number, dir: string, i: number): Promise<Get> {
  const local = join(dir, `got-${i}.bin`);
  const r = await run(
    process.execPath,
    [CLIENT, 'lftp', 'get', `127.0.0.1:${port}`, 'file.bin', local, '--token', TOKEN, '--quiet'],
    { timeoutMs: 60_000 },
  );
  rmSync(local, { force: true });
  const why = /(BUSY|AUTH|HANDSHAKE_TIMEOUT|[A-Z_]{4,}):/.exec(r.stderr)?.[1] ?? (r.timedOut ? 'timed out' : '');
  return { ok: r.code === 0, ms: r.wallMs, why };
}

/** Gets one after another until `untilMs` (performance.now()); at least one. */
async function getsUntil(port: number, dir: string, untilMs: number, from: number): Promise<Get[]> {
  const out: Get[] = [];
  do out.push(await honestGet(port, dir, from + out.length));
  while (performance.now() < untilMs);
  return out;
}

export async function lftpSynFlood(ctx: AbuseContext): Promise<void> {
  const floodMs = ctx.quick ? 6000 : 20_000;
  const work = mkdtempSync(join(tmpdir(), 'bench-lftp-syn-'));
  const files = join(work, 'files');
  const logFile = join(work, 'lftp.log');
  const sources: SynSource[] = [];
  ctx.log('  abuse: LFTP SYN flood: chat-server lftp only (ngircd has no UDP transfer to flood)');
  try {
    const d = await start(
      process.execPath,
      [SERVER, 'lftp', '--host', '127.0.0.1', '--port', '0', '--files', files, '--token', TOKEN, '--log-file', logFile],
      /listening on udp [\d.]+:(\d+)/,
    );
    const port = Number(/listening on udp [\d.]+:(\d+)/.exec(d.output())![1]);
    writeFileSync(join(files, 'file.bin'), randomBytes((ctx.quick ? 4 : 16) << 20));
    try {
      const before = await getsUntil(port, work, performance.now() + (ctx.quick ? 0 : 3000), 0);
      for (let i = 0; i < SOURCES; i++) sources.push(await SynSource.bind(sourceAddress(30, i)));
      const cpu0 = procStat(d.proc.pid!).cpuSec;
      const t0 = performance.now();
      const flood = floodSyns(sources, port, RATE, 'file.bin');
      const during = await getsUntil(port, work, t0 + floodMs, before.length).finally(() => flood.stop());
      const seconds = (performance.now() - t0) / 1000;
      const cores = (procStat(d.proc.pid!).cpuSec - cpu0) / seconds;
      // The answers still on their way (a server behind on its scrypt work answers late): bounded.
      const sent = sources.reduce((n, s) => n + s.sent, 0);
      const answered = () => sources.reduce((n, s) => n + s.answers.length, 0);
      for (const end = performance.now() + 10_000; performance.now() < end && answered() < sent * 0.99; )
        await new Promise((r) => setTimeout(r, 50));
      await d.stop();
      report(ctx, { before, during, sources, sent, seconds, cores, logFile });
    } finally {
      await d.stop();
    }
  } finally {
    for (const s of sources) s.close();
    rmSync(work, { recursive: true, force: true });
  }
}

function report(
  ctx: AbuseContext,
  r: {
    before: Get[];
    during: Get[];
    sources: SynSource[];
    sent: number;
    seconds: number;
    cores: number;
    logFile: string;
  },
): void {
  const answers = r.sources.flatMap((s) => s.answers);
  const count = (f: (a: (typeof answers)[number]) => boolean) => answers.filter(f).length;
  const wrongToken = count((a) => a.kind === 'err' && a.code === 'AUTH' && a.message === 'wrong token');
  const busy = count((a) => a.kind === 'err' && a.code === 'BUSY');
  const retries = count((a) => a.kind === 'retry');
  const honest = r.before.length + r.during.filter((g) => g.ok).length;
  const logged = lastLogLine(readFileSync(r.logFile, 'utf8'), 'lftp: SYN checks')?.['scryptChecks'];
  const serverCount = typeof logged === 'number' ? logged - honest : NaN;
  ctx.record(SUITE, `${NAME}: flood SYNs sent`, 'SYNs', [r.sent], `${RATE}/s from ${SOURCES} addresses`);
  ctx.record(
    SUITE,
    `${NAME}: scrypt checks for the flood`,
    'checks',
    [Number.isNaN(serverCount) ? wrongToken : serverCount],
    `the server's count${Number.isNaN(serverCount) ? ' (none: its wrong-token answers)' : ''}; answers: ${retries} RETRY, ${wrongToken} wrong token, ${busy} BUSY, ${answers.length - retries - wrongToken - busy} other`,
  );
  ctx.record(SUITE, `${NAME}: server CPU during the flood`, 'cores', [r.cores], `over ${r.seconds.toFixed(1)} s`);
  ctx.record(SUITE, `${NAME}: honest get before`, 'ms', [median(r.before.map((g) => g.ms))]);
  const ok = r.during.filter((g) => g.ok);
  ctx.record(
    SUITE,
    `${NAME}: honest get during`,
    'ms',
    [ok.length ? median(ok.map((g) => g.ms)) : NaN],
    `${ok.length} of ${r.during.length} completed${
      ok.length < r.during.length
        ? `; refused: ${r.during
            .filter((g) => !g.ok)
            .map((g) => g.why || '?')
            .join(', ')}`
        : ''
    }`,
  );
}
