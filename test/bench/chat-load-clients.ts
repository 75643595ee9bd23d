#!/usr/bin/env node
/**
 * One process of the chat load generator (started by chat-load.ts, never by
 * hand): the clients i with i % procs === index, speaking the project's chat
 * protocol or IRC, heartbeats answered.
 *
 * Talks to its coordinator in lines: it prints {"ready":…} once its clients are
 * connected, waits for "go T" on stdin (T on the shared monotonic clock, when
 * the senders start), sends and counts, prints {"result":…}, and exits on
 * "exit" or when stdin closes.
 *
 * Past about 400,000 deliveries/s this process, not the server, uses most of
 * the machine, so what it spends per delivery must not depend on the protocol.
 * Both readers therefore find the generator's own text ("m SENDER SEQ DUE") in
 * the received bytes with the least work their framing allows: a CHAT frame is
 * cut by the project's FrameDecoder and its "text" value found in the JSON
 * body; an IRC line is cut at LF and matched against " PRIVMSG #bench :".
 * Decoding every CHAT body with JSON.parse, as chat-client does, cost about
 * 0.5 µs more per delivery than the IRC line parser, and at 10×100 that made
 * the generator, not chat-server, the slower side (BENCHMARKS.md). Every other
 * frame or line (welcome, heartbeats, errors) is fully decoded.
 */
import net from 'node:net';
import tls from 'node:tls';
import { createInterface } from 'node:readline';
import { FrameDecoder } from '../../common/frame.js';
import { decodeServerMessage, encodeMessage, isKnownFrameType } from '../../common/protocol.js';
import { FrameType } from '../../common/messages.js';
import { LatencyHistogram, monotonicMs } from './stats.js';
import { loopbackAddress } from '../helpers/loopback.js';

export interface SliceConfig {
  index: number;
  procs: number;
  proto: 'chat' | 'irc';
  tls: boolean;
  host: string;
  /** Client i connects to ports[i % ports.length]. */
  ports: number[];
  /** Clients in the whole run (all processes). */
  clients: number;
  senders: number;
  rate: number;
  durationMs: number;
  /** Clients this process has between connect() and joined at most. */
  connecting: number;
  /** No client is started after this long connecting (the rest are reported as not attempted); null: no limit. */
  connectMaxMs: number | null;
  prefix: string;
}

export interface SliceReady {
  ready: true;
  connected: number;
  /** Started but never ready (refused, closed, or stalled). */
  failedToConnect: number;
  /** Never started: connectMaxMs ran out first. */
  notAttempted: number;
  connectMs: number;
}

export interface SliceResult {
  result: true;
  sent: number;
  /** Clients still connected at the end. */
  live: number;
  delivered: number;
  duplicates: number;
  outOfOrder: number;
  unexpected: number;
  latency: ReturnType<LatencyHistogram['toJSON']>;
  drops: number;
  dropSamples: string[];
  /** On the monotonic clock: when the last expected message arrived or the drain gave up. */
  endAt: number;
}

/** After the senders stop: give up on the rest when nothing arrived for this long, or after this long in all. */
const DRAIN_STALL_MS = 3_000;
const DRAIN_MAX_MS = 60_000;

/** Messages each sender sends: the same count in every process, so each knows what to expect. */
const messagesPerSender = (rate: number, durationMs: number) => Math.max(1, Math.round((rate * durationMs) / 1000));

/**
 * When sender g's message seq is due. The senders are spread evenly over one
 * interval instead of all sending at the same instant: in step, each due time
 * was a burst of S × N deliveries, and the generator's time to read a burst
 * dominated the latency it measured, for any server.
 */
const dueAt = (start: number, g: number, seq: number, senders: number, rate: number) =>
  start + ((seq + (g + 1) / senders) * 1000) / rate;

interface Client {
  /** Index in the whole run. */
  i: number;
  nick: string;
  sock: net.Socket;
  ready: boolean;
  dropped: string | null;
  /** Per sender: last sequence number seen (-1: none yet). */
  last: Int32Array;
}

const cfg = JSON.parse(process.argv[2] ?? '') as SliceConfig;
const S = Math.min(cfg.senders, cfg.clients);
const MSGS = messagesPerSender(cfg.rate, cfg.durationMs);
const IRC = cfg.proto === 'irc';
const mine: number[] = [];
for (let i = cfg.index; i < cfg.clients; i += cfg.procs) mine.push(i);

const clients: Client[] = [];
let readyCount = 0;
/** Clients that closed or failed before they were ready: with readyCount, the connects that are settled. */
let failedEarly = 0;
let onSettled: (() => void) | null = null;
let finished = false;
const drops: string[] = [];
const latencies = new LatencyHistogram();
let delivered = 0;
let duplicates = 0;
let outOfOrder = 0;
let unexpected = 0;
let sent = 0;
/*
 * One bit per (local receiver, sender, sequence number) says whether it
 * arrived: exact duplicate detection in 1.25 MB for 1,000 clients × 10 senders
 * × 1,000 messages. A Set of string keys did the same with millions of strings,
 * and the generator's own garbage collection showed up in the latencies it
 * measured.
 */
const seenBits = new Uint8Array(Math.ceil((mine.length * S * MSGS) / 8));

/** Where the message text starts: in a CHAT frame's JSON body, and in an IRC line to the channel. */
const CHAT_TEXT_KEY = Buffer.from('"text":"');
const IRC_PRIVMSG = Buffer.from(' PRIVMSG #bench :');

/** Where the cursor of the byte readers below stands (one process, one thread: no need to return it). */
let at = 0;

/** A decimal integer at b[at..end), or NaN; moves the cursor past it. */
function readUint(b: Buffer, end: number): number {
  const from = at;
  let v = 0;
  for (; at < end; at++) {
    const d = b[at]! - 0x30;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  return at > from ? v : NaN;
}

/** A decimal number with an optional fraction ("123.456") at b[at..end), or NaN. */
function readDecimal(b: Buffer, end: number): number {
  let v = readUint(b, end);
  if (at < end && b[at] === 0x2e) {
    at++;
    let scale = 1;
    let frac = 0;
    for (; at < end; at++) {
      const d = b[at]! - 0x30;
      if (d < 0 || d > 9) break;
      frac = frac * 10 + d;
      scale *= 10;
    }
    v += frac / scale;
  }
  return v;
}

/** The generator's message text "m SENDER SEQ DUE" at b[from..end), as sent by send() below; anything else is not ours. */
function onMessageText(c: Client, local: number, b: Buffer, from: number, end: number): void {
  if (b[from] !== 0x6d || b[from + 1] !== 0x20) return;
  at = from + 2;
  const sender = readUint(b, end);
  if (b[at++] !== 0x20) return;
  const seq = readUint(b, end);
  if (b[at++] !== 0x20) return;
  const due = readDecimal(b, end);
  if (at !== end || Number.isNaN(sender + seq + due)) return;
  if (sender === c.i) return; // a sender's own echo is not a delivery
  if (sender >= S || seq >= MSGS) {
    unexpected++;
    return;
  }
  const bit = (local * S + sender) * MSGS + seq;
  if (seenBits[bit >> 3]! & (1 << (bit & 7))) {
    duplicates++;
    return;
  }
  seenBits[bit >> 3] = seenBits[bit >> 3]! | (1 << (bit & 7));
  delivered++;
  latencies.add(monotonicMs() - due);
  if (seq < c.last[sender]!) outOfOrder++;
  else c.last[sender] = seq;
}

function drop(c: Client, why: string): void {
  if (c.dropped || finished) return;
  c.dropped = why;
  if (c.ready) drops.push(`${c.nick}: ${why}`);
  else {
    failedEarly++;
    onSettled?.();
  }
}

function markReady(c: Client): void {
  if (c.ready) return;
  c.ready = true;
  readyCount++;
  onSettled?.();
}

function connectChat(c: Client, local: number): void {
  const dec = new FrameDecoder({ maxFrame: 16 << 20, isKnownType: isKnownFrameType });
  c.sock.on(cfg.tls ? 'secureConnect' : 'connect', () =>
    c.sock.write(encodeMessage({ type: 'HELLO', version: 1, nick: c.nick, client: 'chat-load' })),
  );
  c.sock.on('data', (chunk: Buffer) => {
    for (const f of dec.push(chunk)) {
      if (f.type === FrameType.CHAT) {
        // JSON escapes every quote inside a string, so this key can only be the member's name.
        const key = f.body.indexOf(CHAT_TEXT_KEY);
        const end = key < 0 ? -1 : f.body.indexOf(0x22, key + CHAT_TEXT_KEY.length);
        if (end < 0) unexpected++;
        else onMessageText(c, local, f.body, key + CHAT_TEXT_KEY.length, end);
        continue;
      }
      const msg = decodeServerMessage(f);
      switch (msg.type) {
        case 'WELCOME':
          markReady(c);
          break;
        case 'HEARTBEAT':
          c.sock.write(encodeMessage({ type: 'HEARTBEAT_ACK', seq: msg.seq, ts: msg.ts }));
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

function connectIrc(c: Client, local: number): void {
  let rest: Buffer | null = null;
  c.sock.on('connect', () => c.sock.write(`NICK ${c.nick}\r\nUSER ${c.nick} 0 * :bench\r\n`));
  c.sock.on('data', (chunk: Buffer) => {
    const b = rest ? Buffer.concat([rest, chunk]) : chunk;
    let pos = 0;
    // The next " PRIVMSG #bench :" at or after pos (-1: none left in b): one search per message, not per line.
    let mark = b.indexOf(IRC_PRIVMSG);
    for (let nl = b.indexOf(0x0a); nl >= 0; nl = b.indexOf(0x0a, pos)) {
      const end = nl > pos && b[nl - 1] === 0x0d ? nl - 1 : nl;
      if (mark >= 0 && mark < pos) mark = b.indexOf(IRC_PRIVMSG, pos);
      if (mark >= pos && mark < end) onMessageText(c, local, b, mark + IRC_PRIVMSG.length, end);
      else onIrcLine(c, b.toString('latin1', pos, end));
      pos = nl + 1;
    }
    rest = pos < b.length ? b.subarray(pos) : null;
  });
}

/** Every IRC line that is not a message to the channel: registration, PING, errors. */
function onIrcLine(c: Client, line: string): void {
  // ngircd's PING has no source; chat-server's IRC door gives its name (both are IRC).
  const ping = /^(?::\S+ )?PING (.*)$/.exec(line);
  if (ping) {
    c.sock.write(`PONG ${ping[1]}\r\n`);
    return;
  }
  if (line.startsWith('ERROR')) {
    drop(c, line);
    return;
  }
  const parts = /^:\S+ (\S+) /.exec(line);
  if (!parts) return;
  const cmd = parts[1];
  if (cmd === '001') c.sock.write('JOIN #bench\r\n');
  // In #bench (chat-server's door also puts every session in its default room first).
  else if (cmd === '366' && line.includes(' #bench ')) markReady(c);
  else if (cmd === 'KILL') drop(c, line);
}

function open(i: number, local: number): Client {
  const where = {
    host: cfg.host,
    port: cfg.ports[i % cfg.ports.length]!,
    localAddress: cfg.host.startsWith('127.') ? loopbackAddress(i) : undefined,
  };
  const sock = cfg.tls
    ? tls.connect({ ...where, rejectUnauthorized: false })
    : net.connect({ ...where, noDelay: true });
  if (cfg.tls) sock.setNoDelay(true);
  const c: Client = {
    i,
    nick: `${cfg.prefix}${i}`,
    sock,
    ready: false,
    dropped: null,
    last: new Int32Array(S).fill(-1),
  };
  c.sock.on('error', (err) => drop(c, `socket error ${(err as NodeJS.ErrnoException).code}`));
  c.sock.on('close', () => drop(c, 'closed'));
  if (IRC) connectIrc(c, local);
  else connectChat(c, local);
  return c;
}

/** A message carries the time it was due, not the time it left: a generator behind schedule still counts the delay. */
function send(c: Client, seq: number, due: number): void {
  const text = `m ${c.i} ${seq} ${due.toFixed(3)}`;
  if (IRC) c.sock.write(`PRIVMSG #bench :${text}\r\n`);
  else c.sock.write(encodeMessage({ type: 'CHAT', text, action: false }));
  sent++;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

// Lines from the coordinator.
const commands: string[] = [];
let onCommand: (() => void) | null = null;
const stdinLines = createInterface({ input: process.stdin });
stdinLines.on('line', (l) => {
  commands.push(l.trim());
  onCommand?.();
});
stdinLines.on('close', () => process.exit(0));
async function nextCommand(): Promise<string> {
  while (commands.length === 0) await new Promise<void>((r) => (onCommand = r));
  return commands.shift()!;
}
const reply = (o: SliceReady | SliceResult) => process.stdout.write(JSON.stringify(o) + '\n');

/** Resolves when a connect settles (ready or failed), or after `ms` without one (false). */
function settled(ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      onSettled = null;
      resolve(false);
    }, ms);
    onSettled = () => {
      clearTimeout(timer);
      onSettled = null;
      resolve(true);
    };
  });
}

/*
 * At most cfg.connecting clients between connect() and joined at any time, and the
 * next one starts as soon as one is done. Bursts beyond a server's listen
 * backlog are measured as SYN retries seconds later, not as the server: ngircd
 * listens with a backlog of 10 (hard-coded), and connecting 200 at a time
 * took it 150 s for 1,000 clients, 5 of which never got in. Waves of 200
 * (the way before) waited for the slowest of each wave.
 */
const STALL_MS = 30_000;
const t0 = monotonicMs();
const inFlight = () => clients.length - readyCount - failedEarly;
let stalled = false;
const outOfTime = () => cfg.connectMaxMs !== null && monotonicMs() - t0 >= cfg.connectMaxMs;
for (let k = 0; k < mine.length && !stalled && !outOfTime(); k++) {
  while (inFlight() >= cfg.connecting && !stalled) stalled = !(await settled(STALL_MS));
  if (!stalled && !outOfTime()) clients.push(open(mine[k]!, k));
}
while (inFlight() > 0 && !stalled) stalled = !(await settled(STALL_MS));
// Stragglers would join mid-run and skew the fan-out counts: they are counted as failed and closed.
for (const c of clients)
  if (!c.ready && !c.dropped) {
    drop(c, `not ready after ${STALL_MS / 1000} s without progress`);
    c.sock.destroy();
  }
const connectMs = monotonicMs() - t0;
reply({
  ready: true,
  connected: readyCount,
  failedToConnect: clients.length - readyCount,
  notAttempted: mine.length - clients.length,
  connectMs,
});

const go = /^go ([\d.]+)$/.exec(await nextCommand());
if (!go) throw new Error('chat-load-clients: expected "go T"');
const start = Number(go[1]);
await sleep(start - monotonicMs());

if (S > 0) {
  const senders = clients.filter((c) => c.i < S && c.ready && !c.dropped);
  const next = new Array<number>(senders.length).fill(0);
  // Each sender's messages at their due times: one timer to the earliest next one.
  await new Promise<void>((resolve) => {
    const pump = () => {
      const now = monotonicMs();
      let earliest = Infinity;
      senders.forEach((c, k) => {
        for (
          let due = dueAt(start, c.i, next[k]!, S, cfg.rate);
          next[k]! < MSGS;
          due = dueAt(start, c.i, next[k]!, S, cfg.rate)
        ) {
          if (due > now) {
            earliest = Math.min(earliest, due);
            break;
          }
          send(c, next[k]!++, due);
        }
      });
      if (earliest === Infinity) resolve();
      else setTimeout(pump, Math.max(0, earliest - monotonicMs()));
    };
    pump();
  });
  // Let the last messages arrive. Past saturation they queue for seconds, and a message still
  // queued is late, not lost: wait while deliveries keep coming, bounded in time.
  const live = clients.filter((c) => c.ready && !c.dropped);
  const expected = S * MSGS * live.length - MSGS * live.filter((c) => c.i < S).length;
  const drainUntil = monotonicMs() + DRAIN_MAX_MS;
  let lastProgress = monotonicMs();
  for (
    let seen = delivered;
    delivered < expected && monotonicMs() < drainUntil && monotonicMs() - lastProgress < DRAIN_STALL_MS;
  ) {
    await sleep(20);
    if (delivered > seen) {
      seen = delivered;
      lastProgress = monotonicMs();
    }
  }
}

reply({
  result: true,
  sent,
  live: clients.filter((c) => c.ready && !c.dropped).length,
  delivered,
  duplicates,
  outOfOrder,
  unexpected,
  latency: latencies.toJSON(),
  drops: drops.length,
  dropSamples: drops.slice(0, 5),
  endAt: monotonicMs(),
});
// Stay connected until every process is done: leaving early would be a server event under measurement.
await nextCommand();
finished = true;
for (const c of clients) c.sock.destroy();
process.exit(0);
