/**
 * The abuse suite's silent TLS connections (issue 31, item 2): 200 addresses
 * (four /24s) keep connections open to the TLS chat port that never finish a
 * handshake, half of them sending nothing, half of them half a ClientHello,
 * each opened again a second after it is closed; honest TLS logins come from
 * other addresses every 250 ms, and (chat-server) the https page every
 * second. Both servers run under `ulimit -n 4096` (2048 with --quick), so
 * that what the attacker holds (5,000 connections; 3,000) can reach the
 * limit, as 18,050 of 20,000 did in the issue. Measured:
 * the attacker's connections the server holds (its descriptors, read from
 * /proc), its descriptors at their peak, how old the oldest silent
 * connection still open is at the end, and the honest logins before and
 * during. ngircd has the same surface: Debian builds it with GnuTLS ([SSL]
 * Ports), counts connections per IP as they are accepted (MaxConnectionsIP,
 * 5 by default) and closes unregistered ones after its ping timeout (5 s + 10
 * s here, the suite's settings).
 */
import net from 'node:net';
import tls from 'node:tls';
import https from 'node:https';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { start, type Daemon } from './sh.js';
import { median } from './stats.js';
import { percentile } from '../helpers/abuse.js';
import { freePort } from '../helpers/loopback.js';
import { peersOf } from '../helpers/server-sockets.js';
import { FrameDecoder, MAX_MAX_FRAME } from '../../common/frame.js';
import { decodeServerMessage, encodeMessage, isKnownFrameType } from '../../common/protocol.js';
import type { AbuseContext } from './abuse-suite.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SERVER = join(ROOT, 'dist/server/cli.js');
const SUITE = 'abuse';
/** The servers' open-file limit (--quick: 2048, with 500 sessions planned) and the attacker's connections per address. */
const size = (quick: boolean) =>
  quick ? { fds: 2048, maxClients: 500, perAddress: 15 } : { fds: 4096, maxClients: 1000, perAddress: 25 };
const ADDRESSES = 200;
/** A TLS record header that promises a 512-byte ClientHello, and the first few bytes of it. */
const HALF_RECORD = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 1, 2, 3, 4, 5]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const attackerAddress = (i: number) => `127.37.${i % 4}.${Math.floor(i / 4) + 1}`;
const honestAddress = (i: number) => `127.38.${Math.floor(i / 250) % 256}.${(i % 250) + 1}`;

type Login = { ok: boolean; ms: number; why: string };
type Target = { name: string; port: number; pid: number; httpPort: number | null; fds: number };

/** A TLS login from `from`: a chat HELLO answered by WELCOME, or (irc) NICK and USER answered by 001. */
function tlsLogin(proto: 'chat' | 'irc', port: number, from: string, nick: string): Promise<Login> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let secured = false;
    let text = '';
    const decoder = new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType });
    const tcp = net.connect({ host: '127.0.0.1', port, localAddress: from });
    const socket = tls.connect({ socket: tcp, rejectUnauthorized: false });
    const done = (ok: boolean, why: string) => {
      clearTimeout(timer);
      resolve({ ok, ms: performance.now() - t0, why });
      socket.destroy();
    };
    const timer = setTimeout(() => done(false, secured ? 'no answer in 5 s' : 'no handshake in 5 s'), 5000);
    socket.once('secureConnect', () => {
      secured = true;
      socket.write(
        proto === 'chat'
          ? encodeMessage({ type: 'HELLO', version: 1, nick })
          : `NICK ${nick}\r\nUSER ${nick} 0 * :bench\r\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => {
      if (proto === 'irc') {
        text += chunk.toString('latin1');
        if (/^:\S+ 001 /m.test(text)) done(true, '');
        else if (text.startsWith('ERROR')) done(false, text.split('\r\n')[0]!);
        return;
      }
      const [f] = decoder.push(chunk);
      if (!f) return;
      const m = decodeServerMessage(f);
      done(m.type === 'WELCOME', m.type === 'ERROR' ? m.code : m.type);
    });
    tcp.on('error', () => undefined);
    socket.on('error', (err: NodeJS.ErrnoException) => done(false, secured ? (err.code ?? 'error') : 'refused'));
    socket.on('close', () => done(false, secured ? 'closed' : 'refused'));
  });
}

/** GET / over https from `from`: ms to the whole answer, NaN when it failed. */
function httpsGet(port: number, from: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        localAddress: from,
        rejectUnauthorized: false,
        agent: false,
        timeout: 5000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200 ? performance.now() - t0 : NaN));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(NaN));
  });
}

/** The attacker: `perAddress` silent connections from each address, each opened again a second after it closes. */
class SilentAttack {
  readonly open = new Map<net.Socket, number>();
  opened = 0;
  private stopped = false;

  constructor(
    private readonly port: number,
    private readonly maxOpens: number,
  ) {}

  async begin(perAddress: number): Promise<void> {
    for (let k = 0; k < perAddress; k++) {
      for (let i = 0; i < ADDRESSES; i++) this.connect(attackerAddress(i), (k + i) % 2 === 1);
      await sleep(50);
    }
  }

  private connect(from: string, half: boolean): void {
    if (this.stopped || this.opened >= this.maxOpens) return;
    this.opened++;
    const s = net.connect({ host: '127.0.0.1', port: this.port, localAddress: from });
    s.on('error', () => undefined);
    s.once('connect', () => {
      this.open.set(s, performance.now());
      if (half) s.write(HALF_RECORD);
    });
    s.once('close', () => {
      this.open.delete(s);
      setTimeout(() => this.connect(from, half), 1000 + Math.random() * 200).unref();
    });
  }

  /** Seconds the oldest connection still open has been open. */
  oldestSeconds(): number {
    const now = performance.now();
    return Math.max(0, ...[...this.open.values()].map((t) => (now - t) / 1000));
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.open.keys()) s.destroy();
  }
}

/** Honest logins every 250 ms (and the page every second) until `untilMs`; the attacker's hold sampled meanwhile. */
async function during(proto: 'chat' | 'irc', t: Target, attack: SilentAttack, untilMs: number) {
  const logins: Login[] = [];
  const pages: number[] = [];
  let held = 0;
  let fds = 0;
  const sample = setInterval(() => {
    held = Math.max(held, peersOf(t.pid).filter((a) => a.startsWith('127.37.')).length);
    fds = Math.max(fds, readdirSync(`/proc/${t.pid}/fd`).length);
  }, 1000);
  const page = async () => {
    for (let i = 0; t.httpPort !== null && performance.now() < untilMs; i++) {
      pages.push(await httpsGet(t.httpPort, `127.39.0.${(i % 250) + 1}`));
      await sleep(1000);
    }
  };
  const paging = page();
  for (let i = 0; performance.now() < untilMs; i++) {
    logins.push(await tlsLogin(proto, t.port, honestAddress(1000 + i), `honest${i}`));
    await sleep(250);
  }
  await paging;
  clearInterval(sample);
  return { logins, pages, held, fds, oldest: attack.oldestSeconds() };
}

async function scenario(proto: 'chat' | 'irc', t: Target, ctx: AbuseContext): Promise<void> {
  const { perAddress } = size(ctx.quick);
  const runMs = ctx.quick ? 15_000 : 75_000;
  const before: Login[] = [];
  for (let i = 0; i < 5; i++) before.push(await tlsLogin(proto, t.port, honestAddress(i), `before${i}`));
  const attack = new SilentAttack(t.port, ADDRESSES * perAddress * (runMs / 1000 + 2));
  await attack.begin(perAddress);
  const r = await during(proto, t, attack, performance.now() + runMs).finally(() => attack.stop());
  const ok = r.logins.filter((l) => l.ok);
  const whys = new Map<string, number>();
  for (const l of r.logins) if (!l.ok) whys.set(l.why, (whys.get(l.why) ?? 0) + 1);
  const name = `silent TLS, ${t.name}`;
  const total = ADDRESSES * perAddress;
  ctx.record(
    SUITE,
    `${name}: attacker's connections the server held, peak`,
    'sockets',
    [r.held],
    `${total} kept open by ${ADDRESSES} addresses, ${attack.opened} connects in ${runMs / 1000} s`,
  );
  ctx.record(SUITE, `${name}: server's descriptors, peak`, 'fds', [r.fds], `ulimit -n ${t.fds}`);
  ctx.record(SUITE, `${name}: oldest silent connection still open at the end`, 's', [r.oldest]);
  ctx.record(
    SUITE,
    `${name}: honest TLS login before`,
    'ms',
    [median(before.map((l) => l.ms))],
    `${before.filter((l) => l.ok).length} of 5 got in`,
  );
  ctx.record(
    SUITE,
    `${name}: honest TLS logins that got in during`,
    '%',
    [(100 * ok.length) / Math.max(1, r.logins.length)],
    `${ok.length} of ${r.logins.length}${whys.size ? `; the others: ${[...whys].map(([w, n]) => `${n} ${w}`).join(', ')}` : ''}`,
  );
  ctx.record(SUITE, `${name}: honest TLS login during, p50`, 'ms', [
    percentile(
      ok.map((l) => l.ms),
      50,
    ),
  ]);
  ctx.record(SUITE, `${name}: honest TLS login during, p99`, 'ms', [
    percentile(
      ok.map((l) => l.ms),
      99,
    ),
  ]);
  if (t.httpPort === null) return;
  const pages = r.pages.filter((x) => !Number.isNaN(x));
  ctx.record(
    SUITE,
    `${name}: https page during`,
    '%',
    [(100 * pages.length) / Math.max(1, r.pages.length)],
    `${pages.length} of ${r.pages.length}, p99 ${Math.round(percentile(pages, 99))} ms`,
  );
}

/** A command under `ulimit -n fds` (soft and hard), as a shell would start it. */
function limited(fds: number, cmd: string, args: string[], ready: RegExp): Promise<Daemon> {
  return start('/bin/sh', ['-c', `ulimit -n ${fds} && exec "$0" "$@"`, cmd, ...args], ready, 30_000);
}

async function chatServer(work: string, quick: boolean): Promise<{ d: Daemon; t: Target }> {
  const { fds, maxClients } = size(quick);
  const d = await limited(
    fds,
    process.execPath,
    [
      SERVER,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--workers',
      '2',
      '--max-clients',
      String(maxClients),
      '--tls',
      'auto',
      '--data',
      join(work, 'data'),
      '--files',
      join(work, 'files'),
      '--log-file',
      join(work, 'chat.log'),
    ],
    /web on https:\/\/[\d.]+:(\d+)\//,
  );
  const port = Number(/listening on tcp [\d.]+:(\d+)/.exec(d.output())![1]);
  const httpPort = Number(/web on https:\/\/[\d.]+:(\d+)\//.exec(d.output())![1]);
  return { d, t: { name: 'chat-server', port, pid: d.proc.pid!, httpPort, fds } };
}

/** ngircd with its TLS port, the certificate chat-server made; its limits at their defaults but the suite's ping times. */
async function ngircd(work: string, bin: string, quick: boolean): Promise<{ d: Daemon; t: Target }> {
  const { fds } = size(quick);
  const [plain, port] = [await freePort(), await freePort()];
  for (const f of ['cert.pem', 'key.pem']) copyFileSync(join(work, 'data', 'tls', f), join(work, f));
  const conf = join(work, 'ngircd.conf');
  const lines = {
    Global: [
      'Name = bench.local',
      'Info = bench',
      'Listen = 127.0.0.1',
      `Ports = ${plain}`,
      'ServerUID = root',
      'ServerGID = root',
      `PidFile = ${join(work, 'ngircd.pid')}`,
      'AdminInfo1 = bench',
      'AdminInfo2 = bench',
      'AdminEMail = bench@localhost',
    ],
    Limits: ['MaxNickLength = 31', 'PingTimeout = 5', 'PongTimeout = 10'],
    Options: ['DNS = no', 'Ident = no', 'PAM = no'],
    SSL: [`CertFile = ${join(work, 'cert.pem')}`, `KeyFile = ${join(work, 'key.pem')}`, `Ports = ${port}`],
  };
  writeFileSync(
    conf,
    Object.entries(lines)
      .map(([s, l]) => `[${s}]\n${l.map((x) => `\t${x}\n`).join('')}`)
      .join(''),
  );
  const d = await limited(fds, bin, ['-n', '-f', conf], /Server "bench\.local" .* ready/);
  return { d, t: { name: 'ngircd', port, pid: d.proc.pid!, httpPort: null, fds } };
}

export async function silentTls(ctx: AbuseContext): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bench-silent-tls-'));
  try {
    const ours = await chatServer(work, ctx.quick);
    try {
      await scenario('chat', ours.t, ctx);
    } finally {
      await ours.d.stop();
    }
    const bin = ['/usr/sbin/ngircd', '/usr/bin/ngircd'].find((p) => existsSync(p));
    if (!bin) return ctx.log('  abuse: silent TLS: ngircd not installed, its side skipped');
    const theirs = await ngircd(work, bin, ctx.quick);
    try {
      await scenario('irc', theirs.t, ctx);
    } finally {
      await theirs.d.stop();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
