#!/usr/bin/env node
/**
 * Chat load generator: N clients in this process, speaking the project's chat
 * protocol or IRC (for ngircd), heartbeats answered. Connects them, holds them,
 * optionally has S of them send R messages/s each, and prints one JSON line:
 * connect time, drops, deliveries/s, latency percentiles, lost / duplicated /
 * out-of-order counts.
 *
 *   node chat-load.js --proto chat|irc --port P --clients N --hold 60s
 *                     [--senders S --rate R --duration 10s] [--ramp 200]
 */
import net from 'node:net';
import { parseArgs } from 'node:util';
import { FrameDecoder } from '../../common/frame.js';
import { decodeServerMessage, encodeMessage, isKnownFrameType } from '../../common/protocol.js';
import { LatencyHistogram } from './stats.js';

const { values: v } = parseArgs({
  options: {
    proto: { type: 'string', default: 'chat' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    clients: { type: 'string', default: '100' },
    hold: { type: 'string', default: '10s' },
    senders: { type: 'string', default: '0' },
    rate: { type: 'string', default: '10' },
    duration: { type: 'string', default: '10s' },
    ramp: { type: 'string', default: '200' },
    prefix: { type: 'string', default: 'u' },
  },
});

const ms = (s: string) => (s.endsWith('ms') ? Number(s.slice(0, -2)) : s.endsWith('s') ? Number(s.slice(0, -1)) * 1000 : Number(s));
const N = Number(v.clients);
const HOLD = ms(v.hold!);
const S = Math.min(Number(v.senders), N);
const RATE = Number(v.rate);
const DURATION = ms(v.duration!);
const RAMP = Number(v.ramp);
const PORT = Number(v.port);
const IRC = v.proto === 'irc';
const now = () => performance.timeOrigin + performance.now();
/** After the senders stop: give up on the rest when nothing arrived for this long, or after this long in all. */
const DRAIN_STALL_MS = 3_000;
const DRAIN_MAX_MS = 60_000;

interface Client {
  i: number;
  nick: string;
  sock: net.Socket;
  ready: boolean;
  dropped: string | null;
  /** Per sender: last sequence number seen. */
  last: Map<number, number>;
}

const clients: Client[] = [];
let readyCount = 0;
let holding = false;
let finished = false;
const drops: string[] = [];
const latencies = new LatencyHistogram();
let delivered = 0;
let duplicates = 0;
let outOfOrder = 0;
let unexpected = 0;
let sent = 0;
/*
 * One bit per (receiver, sender, sequence number) says whether it arrived: exact
 * duplicate detection in 1.25 MB for 1,000 clients × 10 senders × 1,000
 * messages. A Set of string keys did the same with millions of strings, and
 * the generator's own garbage collection showed up in the latencies it measured.
 */
const MAX_SEQ = Math.ceil((RATE * DURATION) / 1000) + 1;
const seenBits = new Uint8Array(Math.ceil((N * S * MAX_SEQ) / 8));
let onAllReady: (() => void) | null = null;

function onMessageText(c: Client, text: string, from: string): void {
  const m = /^m (\d+) (\d+) ([\d.]+)$/.exec(text);
  if (!m || from === c.nick) return; // a sender's own echo is not a delivery
  const sender = Number(m[1]);
  const seq = Number(m[2]);
  if (sender >= S || seq >= MAX_SEQ) {
    unexpected++;
    return;
  }
  const bit = (c.i * S + sender) * MAX_SEQ + seq;
  if (seenBits[bit >> 3]! & (1 << (bit & 7))) {
    duplicates++;
    return;
  }
  seenBits[bit >> 3] = seenBits[bit >> 3]! | (1 << (bit & 7));
  delivered++;
  latencies.add(now() - Number(m[3]));
  const prev = c.last.get(sender) ?? -1;
  if (seq < prev) outOfOrder++;
  else c.last.set(sender, seq);
}

function drop(c: Client, why: string): void {
  if (c.dropped || finished) return;
  c.dropped = why;
  if (c.ready) drops.push(`${c.nick}: ${why}`);
}

function markReady(c: Client): void {
  if (c.ready) return;
  c.ready = true;
  readyCount++;
  if (readyCount === N) onAllReady?.();
}

function connectChat(c: Client): void {
  const dec = new FrameDecoder({ maxFrame: 16 << 20, isKnownType: isKnownFrameType });
  c.sock.on('connect', () => c.sock.write(encodeMessage({ type: 'HELLO', version: 1, nick: c.nick, client: 'chat-load' })));
  c.sock.on('data', (chunk: Buffer) => {
    for (const f of dec.push(chunk)) {
      const msg = decodeServerMessage(f);
      switch (msg.type) {
        case 'WELCOME':
          markReady(c);
          break;
        case 'HEARTBEAT':
          c.sock.write(encodeMessage({ type: 'HEARTBEAT_ACK', seq: msg.seq, ts: msg.ts }));
          break;
        case 'CHAT':
          onMessageText(c, msg.text, msg.from);
          break;
        case 'BYE':
          drop(c, `bye: ${msg.reason}`);
          break;
        case 'ERROR':
          if (msg.fatal) drop(c, `error ${msg.code}: ${msg.message}`);
          break;
        default:
          break;
      }
    }
  });
}

function connectIrc(c: Client): void {
  let buf = '';
  c.sock.setEncoding('utf8');
  c.sock.on('connect', () => c.sock.write(`NICK ${c.nick}\r\nUSER ${c.nick} 0 * :bench\r\n`));
  c.sock.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line.startsWith('PING ')) {
        c.sock.write(`PONG ${line.slice(5)}\r\n`);
        continue;
      }
      if (line.startsWith('ERROR')) {
        drop(c, line);
        continue;
      }
      const parts = /^:(\S+) (\S+) (.*)$/.exec(line);
      if (!parts) continue;
      const [, prefix, cmd, rest] = parts as unknown as [string, string, string, string];
      if (cmd === '001') c.sock.write('JOIN #bench\r\n');
      else if (cmd === '366') markReady(c);
      else if (cmd === 'PRIVMSG') {
        const t = /^#bench :(.*)$/.exec(rest);
        if (t) onMessageText(c, t[1]!, prefix.split('!')[0]!);
      } else if (cmd === 'KILL') drop(c, line);
    }
  });
}

function open(i: number): Client {
  const c: Client = { i, nick: `${v.prefix}${i}`, sock: net.connect({ host: v.host!, port: PORT, noDelay: true }), ready: false, dropped: null, last: new Map() };
  c.sock.on('error', (err) => drop(c, `socket error ${(err as NodeJS.ErrnoException).code}`));
  c.sock.on('close', () => drop(c, 'closed'));
  if (IRC) connectIrc(c);
  else connectChat(c);
  return c;
}

/**
 * A message carries the time it was due, not the time it left: when the
 * generator falls behind its schedule (busy reading what a server sends), the
 * delay still counts. Stamping the actual send time hid it (coordinated
 * omission) and favoured whichever server slowed the generator most.
 */
function send(c: Client, seq: number, dueAt: number): void {
  const text = `m ${c.i} ${seq} ${dueAt.toFixed(3)}`;
  if (IRC) c.sock.write(`PRIVMSG #bench :${text}\r\n`);
  else c.sock.write(encodeMessage({ type: 'CHAT', text, action: false }));
  sent++;
}

const t0 = performance.now();
const allReady = new Promise<void>((resolve) => (onAllReady = resolve));
// Connect in waves of RAMP so that the listen backlog is not the thing being measured.
for (let i = 0; i < N; i += RAMP) {
  for (let k = i; k < Math.min(N, i + RAMP); k++) clients.push(open(k));
  const target = Math.min(N, i + RAMP);
  const deadline = performance.now() + 30_000;
  while (readyCount + clients.filter((c) => c.dropped && !c.ready).length < target && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
}
const failedToConnect = clients.filter((c) => !c.ready).length;
if (failedToConnect === 0) await Promise.race([allReady, new Promise((r) => setTimeout(r, 1000))]);
const connectMs = performance.now() - t0;

holding = true;
await new Promise((r) => setTimeout(r, HOLD));
void holding;

let fanout: Record<string, number> | null = null;
if (S > 0) {
  const senders = clients.slice(0, S).filter((c) => c.ready && !c.dropped);
  const seqs = new Array<number>(senders.length).fill(0);
  const start = performance.now();
  const startWall = now();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = performance.now() - start;
      if (elapsed >= DURATION) {
        clearInterval(tick);
        resolve();
        return;
      }
      const due = Math.floor((elapsed / 1000) * RATE);
      senders.forEach((c, k) => {
        while (seqs[k]! < due) {
          const seq = seqs[k]!++;
          send(c, seq, startWall + ((seq + 1) * 1000) / RATE);
        }
      });
    }, 5);
  });
  // Let the last messages arrive. Past saturation they queue for seconds, and a message still
  // queued is late, not lost: wait while deliveries keep coming, bounded in time.
  const expected = sent * (clients.filter((c) => c.ready && !c.dropped).length - 1);
  const drainUntil = performance.now() + DRAIN_MAX_MS;
  let lastProgress = performance.now();
  for (let seen = delivered; delivered < expected && performance.now() < drainUntil && performance.now() - lastProgress < DRAIN_STALL_MS; ) {
    await new Promise((r) => setTimeout(r, 20));
    if (delivered > seen) {
      seen = delivered;
      lastProgress = performance.now();
    }
  }
  const secs = (performance.now() - start) / 1000;
  fanout = {
    senders: senders.length,
    ratePerSender: RATE,
    sent,
    expected,
    delivered,
    deliveriesPerSec: delivered / secs,
    lost: Math.max(0, expected - delivered),
    duplicates,
    outOfOrder,
    unexpected,
    p50: latencies.percentile(50),
    p99: latencies.percentile(99),
    max: latencies.max,
  };
}

finished = true;
process.stdout.write(
  JSON.stringify({
    proto: v.proto,
    clients: N,
    connected: readyCount,
    failedToConnect,
    connectMs,
    connectPerSec: readyCount / (connectMs / 1000),
    holdMs: HOLD,
    falseDrops: drops.length,
    dropSamples: drops.slice(0, 5),
    fanout,
  }) + '\n',
);
for (const c of clients) c.sock.destroy();
process.exit(0);
