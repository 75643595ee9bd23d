/**
 * `npm run bench -- --suite abuse`: the issue's abuse scenarios at full size,
 * against chat-server with its defaults and, where ngircd has the same
 * scenario (a flooder, one address taking every slot, clients that stop
 * reading), against ngircd with its own defaults for that protection. The
 * honest users' latency is measured before, during and after the abuse; the
 * server's RSS is sampled throughout. Every loop is bounded in count and
 * time, every socket is on loopback.
 */
import net from 'node:net';
import http from 'node:http';
import { statSync } from 'node:fs';
import { BenchPeer, sourceAddress, type Proto } from './abuse-peer.js';
import { percentile, RssSampler, rssMiB } from '../helpers/abuse.js';
import { historyBurst } from './abuse-history-burst.js';
import { encodeMessage } from '../../common/protocol.js';
import { lftpSynFlood } from './abuse-lftp-syn.js';
import { silentTls } from './abuse-silent-tls.js';
import { historyReads } from './abuse-history-reads.js';

export interface AbuseContext {
  quick: boolean;
  record(suite: string, name: string, unit: string, values: number[], note?: string): void;
  log(line: string): void;
  /** chat-server on 127.0.0.1 with these options; its TCP port, web port and pid. */
  chatServer(
    args: string[],
  ): Promise<{ port: number; httpPort: number | null; pid: number; logFile: string; stop(): Promise<void> }>;
  /** ngircd on 127.0.0.1 with these [Limits] lines (its defaults otherwise); null when ngircd is not installed. */
  ngircd(limits: string[]): Promise<{ port: number; pid: number; stop(): Promise<void> } | null>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SUITE = 'abuse';
const FLOOD_OFF = ['--flood-burst', '1000000', '--flood-rate', '1000000'];

type Server = { port: number; pid: number; name: string };

/** Honest peers say a stamped line every `everyMs` until `untilMs`. */
async function chatter(peers: BenchPeer[], everyMs: number, untilMs: number, size = 40): Promise<void> {
  for (let round = 0; performance.now() < untilMs; round++) {
    for (const p of peers) p.say(`${p.nick} ${round} ${'h'.repeat(size)}`);
    await sleep(everyMs);
  }
}

/** p99 of the honest peers' latencies recorded within [from, to). */
function p99Between(peers: BenchPeer[], from: number, to: number): number {
  return percentile(
    peers.flatMap((p) => p.latencies.filter((l) => l.at >= from && l.at < to).map((l) => l.ms)),
    99,
  );
}

async function joinAll(proto: Proto, port: number, prefix: string, n: number, net8: number): Promise<BenchPeer[]> {
  const peers: BenchPeer[] = [];
  // In batches, so that the server's accept queue is not what is measured.
  for (let i = 0; i < n; i += 50) {
    peers.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(50, n - i) }, (_, k) =>
          BenchPeer.join(proto, port, `${prefix}${i + k}`, { from: sourceAddress(net8, i + k) }),
        ),
      )),
    );
  }
  return peers;
}

/** A flooder sends 100-byte lines as fast as its socket takes them for `floodMs`, between quiet phases. */
async function flood(proto: Proto, s: Server, ctx: AbuseContext): Promise<void> {
  const phaseMs = ctx.quick ? 2000 : 5000;
  const floodMs = ctx.quick ? 4000 : 10_000;
  const honest = await joinAll(proto, s.port, 'honest', 20, 20);
  const flooder = await BenchPeer.join(proto, s.port, 'flooder', { from: '127.0.0.1' });
  // Joining costs IRC clients penalty seconds in ngircd: the quiet phase starts once that is behind them.
  await sleep(3000);
  const rss = new RssSampler(s.pid);
  const t0 = performance.now();
  const talk = chatter(honest, 500, t0 + 2 * phaseMs + floodMs);
  await sleep(phaseMs);
  const line = flooder.line('f'.repeat(100));
  let sent = 0;
  const floodEnd = performance.now() + floodMs;
  let droppedAfter: number | null = null;
  while (performance.now() < floodEnd && !flooder.closed) {
    for (let i = 0; i < 200 && flooder.socket.writable && flooder.socket.writableLength < 1 << 20; i++, sent++)
      flooder.socket.write(line);
    await sleep(1);
  }
  if (flooder.closed) droppedAfter = performance.now() - (t0 + phaseMs);
  flooder.close();
  await talk;
  await sleep(500);
  const peak = rss.stop();
  const at = (k: number) => t0 + k * phaseMs;
  const name = s.name;
  ctx.record(SUITE, `flood, ${name}: honest p99 before`, 'ms', [p99Between(honest, t0, at(1))]);
  ctx.record(SUITE, `flood, ${name}: honest p99 during`, 'ms', [p99Between(honest, at(1), at(1) + floodMs)]);
  ctx.record(SUITE, `flood, ${name}: honest p99 after`, 'ms', [p99Between(honest, at(1) + floodMs, at(2) + floodMs)]);
  ctx.record(SUITE, `flood, ${name}: flooder's lines sent`, 'msgs', [sent]);
  ctx.record(SUITE, `flood, ${name}: flooder's lines delivered (most any honest user got)`, 'msgs', [
    Math.max(0, ...honest.map((p) => p.heard.get('flooder') ?? 0)),
  ]);
  ctx.record(
    SUITE,
    `flood, ${name}: flooder dropped after`,
    'ms',
    [droppedAfter ?? NaN],
    droppedAfter === null ? 'not dropped within the flood' : `dropped: ${flooder.error ?? 'closed'}`,
  );
  ctx.record(SUITE, `flood, ${name}: honest users dropped`, 'clients', [honest.filter((p) => p.closed).length]);
  ctx.record(SUITE, `flood, ${name}: server peak RSS`, 'MiB', [peak]);
  for (const p of honest) p.close();
}

/**
 * 1,200 users stop reading after joining while 10 senders talk, 20 lines/s of 400 bytes each (IRC's
 * lines end at 512 bytes): 80 KB/s for each stalled user to hold, 800 KB each over the 10 s.
 */
async function nonReaders(proto: Proto, s: Server, ctx: AbuseContext): Promise<void> {
  const n = ctx.quick ? 200 : 1200;
  const sendMs = ctx.quick ? 4000 : 10_000;
  const before = rssMiB(s.pid);
  const rss = new RssSampler(s.pid);
  const stalled = await joinAll(proto, s.port, 'stalled', n, 21);
  for (const p of stalled) p.socket.pause();
  const senders = await joinAll(proto, s.port, 'sender', 10, 22);
  const t0 = performance.now();
  await chatter(senders, 50, t0 + sendMs, 400);
  await sleep(1000);
  const peak = rss.stop();
  const name = s.name;
  ctx.record(SUITE, `non-readers, ${name}: RSS before`, 'MiB', [before]);
  ctx.record(SUITE, `non-readers, ${name}: peak RSS`, 'MiB', [peak]);
  ctx.record(SUITE, `non-readers, ${name}: senders' p99`, 'ms', [p99Between(senders, t0, t0 + sendMs + 1000)]);
  ctx.record(SUITE, `non-readers, ${name}: senders dropped`, 'clients', [senders.filter((p) => p.closed).length]);
  for (const p of stalled) p.socket.resume();
  await sleep(2000);
  ctx.record(
    SUITE,
    `non-readers, ${name}: non-readers dropped`,
    'clients',
    [stalled.filter((p) => p.closed).length],
    `of ${n}`,
  );
  for (const p of [...stalled, ...senders]) p.close();
  // Memory comes back when the allocator gives it back: watched for, bounded.
  let after = rssMiB(s.pid);
  for (const until = performance.now() + 30_000; performance.now() < until && after > before + 64; await sleep(1000))
    after = rssMiB(s.pid);
  ctx.record(SUITE, `non-readers, ${name}: RSS once everyone left`, 'MiB', [after]);
}

/** 800 sockets from one address that never register, reconnecting as they are closed; real users from elsewhere try to join. */
async function slots(proto: Proto, s: Server, ctx: AbuseContext): Promise<void> {
  const sockets = ctx.quick ? 200 : 800;
  const runMs = ctx.quick ? 6000 : 15_000;
  const held = new Set<net.Socket>();
  const until = performance.now() + runMs;
  let opened = 0;
  const open = () => {
    if (performance.now() >= until || opened > sockets * 20) return;
    opened++;
    const sock = net.connect({ host: '127.0.0.1', port: s.port, localAddress: '127.0.0.1' });
    sock.on('error', () => undefined);
    held.add(sock);
    sock.on('close', () => {
      held.delete(sock);
      setTimeout(open, 100);
    });
  };
  const joinTime = async (i: number) => {
    const t = performance.now();
    const p = await BenchPeer.join(proto, s.port, `real${i}`, { from: sourceAddress(23, i), timeoutMs: 5000 });
    p.close();
    return { ok: p.joined, ms: performance.now() - t };
  };
  const before: number[] = [];
  for (let i = 0; i < 5; i++) before.push((await joinTime(1000 + i)).ms);
  for (let i = 0; i < sockets; i++) open();
  await sleep(1000);
  const tries: Array<{ ok: boolean; ms: number }> = [];
  for (let i = 0; performance.now() < until - 1000; i++) {
    tries.push(await joinTime(i));
    await sleep(250);
  }
  for (const sock of held) sock.destroy();
  const name = s.name;
  const ok = tries.filter((t) => t.ok);
  ctx.record(
    SUITE,
    `slots, ${name}: real users who got in`,
    '%',
    [(100 * ok.length) / Math.max(1, tries.length)],
    `${ok.length} of ${tries.length}; the attacker connected ${opened} times`,
  );
  ctx.record(SUITE, `slots, ${name}: time to join before`, 'ms', [Math.max(...before)], 'the slowest of 5');
  ctx.record(SUITE, `slots, ${name}: time to join during, p99`, 'ms', [
    percentile(
      ok.map((t) => t.ms),
      99,
    ),
  ]);
}

/** A GET of the page from an address of its own; milliseconds to the whole answer, or NaN when it failed. */
function timedGet(port: number, path: string, from: string): Promise<number> {
  const t = performance.now();
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: from }, () =>
      s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
    );
    let head = '';
    s.setTimeout(10_000, () => s.destroy());
    s.on('data', (d: Buffer) => (head ||= d.toString('latin1', 0, 12)));
    s.on('error', () => undefined);
    s.on('close', () => resolve(head.startsWith('HTTP/1.1 200') ? performance.now() - t : NaN));
  });
}

/** 611 connections from one address promise a 100 MB body to GET / and send a byte every 3 s; the page from elsewhere. */
async function slowBodies(port: number, ctx: AbuseContext): Promise<void> {
  const n = ctx.quick ? 100 : 611;
  const runMs = ctx.quick ? 8000 : 20_000;
  const baseline: number[] = [];
  for (let i = 0; i < 10; i++) baseline.push(await timedGet(port, '/', sourceAddress(24, i)));
  const attackers: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.1' }, () =>
      s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000000\r\n\r\nx'),
    );
    s.on('error', () => undefined);
    attackers.push(s);
  }
  const drip = setInterval(() => attackers.forEach((s) => s.writable && s.write('x')), 3000);
  const during: number[] = [];
  const until = performance.now() + runMs;
  for (let i = 0; performance.now() < until; i++) {
    during.push(await timedGet(port, '/', sourceAddress(25, i % 200)));
    await sleep(500);
  }
  clearInterval(drip);
  const open = attackers.filter((s) => !s.destroyed && !s.readableEnded).length;
  for (const s of attackers) s.destroy();
  const ok = during.filter((x) => !Number.isNaN(x));
  ctx.record(SUITE, 'slow bodies, chat-server: page p99 before', 'ms', [percentile(baseline, 99)]);
  ctx.record(
    SUITE,
    'slow bodies, chat-server: page p99 during',
    'ms',
    [percentile(ok, 99)],
    `${ok.length} of ${during.length} answered`,
  );
  ctx.record(
    SUITE,
    "slow bodies, chat-server: attacker's connections still open at the end",
    'sockets',
    [open],
    `of ${n}`,
  );
}

/** One session asks for 1,024 tickets, then writes 50,000 FILES requests at once; another user asks for a ticket every 200 ms. */
async function hoarder(port: number, pid: number, ctx: AbuseContext): Promise<void> {
  const requests = ctx.quick ? 5000 : 50_000;
  const rss = new RssSampler(pid);
  const bad = await BenchPeer.join('chat', port, 'hoarder', { from: '127.0.0.1' });
  const good = await BenchPeer.join('chat', port, 'other', { from: '127.0.0.2' });
  let granted = 0;
  bad.onFrame = (m) => void (m.type === 'TICKET' && m.ok && granted++);
  const asked = new Map<number, number>();
  const waits: number[] = [];
  let busy = 0;
  good.onFrame = (m) => {
    if (m.type !== 'TICKET') return;
    waits.push(performance.now() - asked.get(m.id)!);
    if (!m.ok && m.code === 'BUSY') busy++;
  };
  let droppedAt: number | null = null;
  bad.socket.once('close', () => (droppedAt = performance.now()));
  const ask = (id: number) => {
    asked.set(id, performance.now());
    good.socket.write(encodeMessage({ type: 'TICKET_REQUEST', id, op: 'get', name: 'missing.bin' }));
  };
  const t0 = performance.now();
  bad.socket.write(
    Buffer.concat(
      Array.from({ length: 1024 }, (_, id) =>
        encodeMessage({ type: 'TICKET_REQUEST', id, op: 'post', name: `h${id}.bin`, size: 10 }),
      ),
    ),
  );
  bad.socket.write(Buffer.concat(Array.from({ length: requests }, () => encodeMessage({ type: 'FILES' }))));
  // The other user's requests are for a file that is not there: each is answered (NOT_FOUND) at once when the server is well.
  for (let id = 0; id < (ctx.quick ? 10 : 25); id++) {
    ask(id);
    await sleep(200);
  }
  await sleep(1000);
  const peak = rss.stop();
  ctx.record(SUITE, 'hoarder, chat-server: tickets the hoarder got', 'tickets', [granted], 'of 1,024 asked');
  ctx.record(
    SUITE,
    'hoarder, chat-server: hoarder dropped after',
    's',
    [droppedAt === null ? NaN : (droppedAt - t0) / 1000],
    droppedAt === null ? 'not dropped' : `dropped: ${bad.error ?? 'closed'}`,
  );
  ctx.record(
    SUITE,
    "hoarder, chat-server: another user's ticket answer, p99",
    'ms',
    [percentile(waits, 99)],
    `${waits.length} of ${asked.size} answered, ${busy} of them BUSY`,
  );
  ctx.record(SUITE, 'hoarder, chat-server: server peak RSS', 'MiB', [peak]);
  bad.close();
  good.close();
}

/** Wrong admin tokens as fast as 8 keep-alive connections from one address can ask, for 10 s; what got checked, what the log took. */
async function bruteForce(port: number, logFile: string, ctx: AbuseContext): Promise<void> {
  const runMs = ctx.quick ? 3000 : 10_000;
  const logBefore = statSync(logFile).size;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8, localAddress: '127.0.0.1' });
  const statuses = new Map<number, number>();
  const until = performance.now() + runMs;
  const guess = (i: number) =>
    new Promise<void>((resolve) => {
      const auth = Buffer.from(`admin:wrong-guess-${i}`).toString('base64');
      const req = http.get(
        { host: '127.0.0.1', port, path: '/admin', agent, headers: { authorization: `Basic ${auth}` } },
        (res) => {
          statuses.set(res.statusCode ?? 0, (statuses.get(res.statusCode ?? 0) ?? 0) + 1);
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', () => resolve());
    });
  let sent = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (performance.now() < until) await guess(sent++);
    }),
  );
  agent.destroy();
  const checked = statuses.get(401) ?? 0;
  ctx.record(SUITE, 'brute force, chat-server: wrong admin tokens sent', '/s', [sent / (runMs / 1000)]);
  ctx.record(
    SUITE,
    'brute force, chat-server: tokens actually checked (401, not 429)',
    'tokens',
    [checked],
    `429: ${statuses.get(429) ?? 0}; other: ${sent - checked - (statuses.get(429) ?? 0)}`,
  );
  ctx.record(SUITE, 'brute force, chat-server: log growth', 'KiB', [(statSync(logFile).size - logBefore) / 1024]);
}

export async function abuseSuite(ctx: AbuseContext): Promise<void> {
  const ours = async (
    args: string[],
    fn: (s: Server & { httpPort: number | null; logFile: string }) => Promise<void>,
  ) => {
    const s = await ctx.chatServer(args);
    try {
      await fn({ ...s, name: 'chat-server' });
    } finally {
      await s.stop();
    }
  };
  const theirs = async (limits: string[], fn: (s: Server) => Promise<void>) => {
    const s = await ctx.ngircd(limits);
    if (!s) return ctx.log('  abuse: ngircd not installed, its side skipped');
    try {
      await fn({ ...s, name: 'ngircd' });
    } finally {
      await s.stop();
    }
  };
  // Each protection at its defaults: chat-server's flood control, ngircd's penalty (it throttles and never drops).
  await ours(['--max-clients', '20000'], (s) => flood('chat', s, ctx));
  await theirs(['MaxConnections = 0'], (s) => flood('irc', s, ctx));
  // Memory, not flood control: both take the senders' 20 lines/s (flood control and ngircd's penalty off).
  await ours(['--max-clients', '20000', ...FLOOD_OFF], (s) => nonReaders('chat', s, ctx));
  await theirs(['MaxConnections = 0', 'MaxConnectionsIP = 0', 'MaxPenaltyTime = 0'], (s) => nonReaders('irc', s, ctx));
  // History on joining and on request, far past --max-sendq: chat-server only (ngircd keeps no history).
  await historyBurst(ctx);
  // One address asking for megabytes of history again and again: chat-server only (ngircd keeps no history).
  await historyReads(ctx);
  // 50 places, one address trying to hold them all: per-address limits at their defaults (ngircd: 5 per address).
  await ours(['--max-clients', '50', '--no-web'], (s) => slots('chat', s, ctx));
  await theirs(['MaxConnections = 50'], (s) => slots('irc', s, ctx));
  await ours(['--max-clients', '20000'], (s) => slowBodies(s.httpPort!, ctx));
  // Flood control off: what is measured is the per-session caps (8 tickets, one FILES at a time), as in the issue.
  await ours(['--max-clients', '20000', '--no-web', ...FLOOD_OFF], (s) => hoarder(s.port, s.pid, ctx));
  await ours(['--max-clients', '20000', '--admin-token', 'the-real-admin-token'], (s) =>
    bruteForce(s.httpPort!, s.logFile, ctx),
  );
  // The standalone LFTP server under spoofed SYNs; ngircd has no such surface (no UDP, no key made per request).
  await lftpSynFlood(ctx);
  // Silent TLS connections (nothing, or half a ClientHello) from 200 addresses under ulimit -n 4096 (2048 quick); ngircd's TLS port beside.
  await silentTls(ctx);
}
