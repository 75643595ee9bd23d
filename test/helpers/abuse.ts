/**
 * Abuse scenarios against a running chat-server (docs: issue "one anonymous
 * user must not take the server down"): the tests run them small, the
 * `abuse` bench suite at full size. Every loop is bounded in count and time,
 * and every peer talks to 127.0.0.1 only.
 */
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { FrameDecoder, MAX_MAX_FRAME } from '../../common/frame.js';
import { decodeServerMessage, encodeMessage, isKnownFrameType, type ServerMessage } from '../../common/protocol.js';
import { loopbackAddress } from './loopback.js';
import { until as waitUntil } from './wait.js';

/** The resident set of a process, in MiB (worker threads included: they share it). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Samples a process's RSS every 100 ms until stopped; peak and last reading. */
export class RssSampler {
  peak = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pid: number) {
    this.peak = rssMiB(pid);
    this.timer = setInterval(() => (this.peak = Math.max(this.peak, rssMiB(pid))), 100);
  }
  stop(): number {
    clearInterval(this.timer);
    return (this.peak = Math.max(this.peak, rssMiB(this.pid)));
  }
}

/** A session on a raw socket: answers heartbeats, records what arrives with its time, may stop reading. */
export class Peer {
  readonly socket: net.Socket;
  readonly errors: Array<{ code: string; message: string }> = [];
  /** Latency of this peer's own messages, from its send to its echo, in ms. */
  readonly echoMs: number[] = [];
  closed = false;
  welcomed = false;
  private readonly decoder = new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType });
  private readonly sentAt = new Map<string, number>();
  /** CHAT texts from others, counted by their prefix (the sender's nick). */
  readonly heardFrom = new Map<string, number>();

  /** This peer's messages whose echo has not come yet. */
  get awaitingEcho(): number {
    return this.sentAt.size;
  }

  private constructor(
    readonly nick: string,
    socket: net.Socket,
  ) {
    this.socket = socket;
    socket.on('data', (chunk) => {
      for (const f of this.decoder.push(chunk)) this.onMessage(decodeServerMessage(f));
    });
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closed = true));
  }

  static async join(port: number, nick: string, opts: { read?: boolean; from?: string } = {}): Promise<Peer> {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: opts.from });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const peer = new Peer(nick, socket);
    socket.write(encodeMessage({ type: 'HELLO', version: 1, nick }));
    if (opts.read === false) {
      // Reads the WELCOME only, then never again: the kernel's buffers fill, then the server's queue.
      await new Promise<void>((resolve) => {
        const check = () => (peer.welcomed || peer.closed ? resolve() : setTimeout(check, 5));
        check();
      });
      socket.pause();
    }
    return peer;
  }

  private onMessage(msg: ServerMessage): void {
    switch (msg.type) {
      case 'WELCOME':
        this.welcomed = true;
        return;
      case 'HEARTBEAT':
        this.socket.write(encodeMessage({ type: 'HEARTBEAT_ACK', seq: msg.seq, ts: msg.ts }));
        return;
      case 'ERROR':
        this.errors.push({ code: msg.code, message: msg.message });
        return;
      case 'CHAT': {
        const t = this.sentAt.get(msg.text);
        if (t !== undefined && msg.from === this.nick) {
          this.echoMs.push(performance.now() - t);
          this.sentAt.delete(msg.text);
        }
        this.heardFrom.set(msg.from, (this.heardFrom.get(msg.from) ?? 0) + 1);
        return;
      }
    }
  }

  /** Sends a CHAT whose echo is timed. */
  say(text: string): boolean {
    if (this.closed) return false;
    this.sentAt.set(text, performance.now());
    return this.socket.write(encodeMessage({ type: 'CHAT', text, action: false }));
  }

  close(): void {
    this.socket.destroy();
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Honest clients: each says one line every `everyMs`, reading all the time. */
async function chatter(peers: Peer[], everyMs: number, untilMs: number, size = 40, done = () => false): Promise<void> {
  let round = 0;
  while (performance.now() < untilMs && !done()) {
    for (const p of peers) p.say(`${p.nick} ${round} ${'h'.repeat(size)}`);
    round++;
    await sleep(everyMs);
  }
}

export interface FloodResult {
  flooderSent: number;
  /** The flooder's messages the honest clients heard (the most any one heard). */
  flooderDelivered: number;
  flooderError: string | null;
  flooderClosedAfterMs: number | null;
  honestDropped: number;
  honestP50Ms: number;
  honestP99Ms: number;
}

/**
 * One client sends `size`-byte messages as fast as its socket takes them
 * while `honest` clients chat at an ordinary pace; who is slowed, who is dropped.
 */
export async function floodScenario(
  port: number,
  o: { honest: number; size: number; durationMs: number },
): Promise<FloodResult> {
  const honest = await Promise.all(
    Array.from({ length: o.honest }, (_, i) => Peer.join(port, `honest${i}`, { from: loopbackAddress(i) })),
  );
  const flooder = await Peer.join(port, 'flooder', { from: '127.0.0.1' });
  const everyone = [...honest, flooder];
  await waitUntil(
    () => everyone.every((p) => p.welcomed || p.closed),
    10_000,
    () => `not welcomed: ${everyone.filter((p) => !p.welcomed).map((p) => p.nick)}`,
  );
  const start = performance.now();
  const until = start + o.durationMs;
  const talk = chatter(honest, 500, until);
  const msg = encodeMessage({ type: 'CHAT', text: 'f'.repeat(o.size), action: false });
  let sent = 0;
  let closedAt: number | null = null;
  while (performance.now() < until && !flooder.closed) {
    // Bounded: a batch per turn, then the event loop runs (the honest clients are in this process too).
    for (let i = 0; i < 200 && flooder.socket.writable; i++, sent++) flooder.socket.write(msg);
    await sleep(1);
  }
  if (flooder.closed) closedAt = performance.now() - start;
  await talk;
  // Until every honest client has its last line back (or was dropped, or refused): a client on the flooder's
  // worker says it after the flooder's last accepted line, through the same port to the store thread, so by
  // its echo every line of the flooder's that anyone hears has been heard.
  await waitUntil(
    () => honest.every((p) => p.awaitingEcho === 0 || p.closed || p.errors.length > 0),
    10_000,
    () => `echoes still awaited: ${honest.map((p) => p.awaitingEcho).join(', ')}`,
  );
  const result: FloodResult = {
    flooderSent: sent,
    flooderDelivered: Math.max(0, ...honest.map((p) => p.heardFrom.get('flooder') ?? 0)),
    flooderError: flooder.errors[0]?.code ?? null,
    flooderClosedAfterMs: closedAt,
    honestDropped: honest.filter((p) => p.closed || p.errors.length > 0).length,
    honestP50Ms: percentile(
      honest.flatMap((p) => p.echoMs),
      50,
    ),
    honestP99Ms: percentile(
      honest.flatMap((p) => p.echoMs),
      99,
    ),
  };
  for (const p of [...honest, flooder]) p.close();
  return result;
}

export interface MemoryResult {
  rssBeforeMiB: number;
  rssPeakMiB: number;
  /** After everyone left and the server had `settleMs` to give memory back. */
  rssAfterMiB: number;
  nonReadersDropped: number;
  dropCodes: Record<string, number>;
  sendersDropped: number;
  sendersP99Ms: number;
}

/**
 * `nonReaders` sessions stop reading after WELCOME while `senders` honest
 * clients each send `size`-byte messages at `perSecond` (within flood
 * control); the server's RSS before, at its peak, and after everyone left.
 */
export async function memoryScenario(
  port: number,
  serverPid: number,
  o: {
    nonReaders: number;
    senders: number;
    perSecond: number;
    size: number;
    durationMs: number;
    settleMs: number;
    /** With `durationMs` the least, the senders go on until this says so, or `maxDurationMs` has passed. */
    until?: { done: () => boolean; maxDurationMs: number };
  },
): Promise<MemoryResult> {
  const rssBeforeMiB = rssMiB(serverPid);
  const sampler = new RssSampler(serverPid);
  const stalled: Peer[] = [];
  for (let i = 0; i < o.nonReaders; i++)
    stalled.push(await Peer.join(port, `stalled${i}`, { read: false, from: loopbackAddress(i) }));
  const senders = await Promise.all(
    Array.from({ length: o.senders }, (_, i) =>
      Peer.join(port, `sender${i}`, { from: loopbackAddress(o.nonReaders + i) }),
    ),
  );
  const start = performance.now();
  const done = o.until ? () => performance.now() - start >= o.durationMs && o.until!.done() : () => false;
  await chatter(senders, 1000 / o.perSecond, start + (o.until?.maxDurationMs ?? o.durationMs), o.size, done);
  // The stalled peers read again: what the kernel held, then (for those the server dropped) the ERROR and the close.
  for (const p of stalled) p.socket.resume();
  const readUntil = performance.now() + 5000;
  while (performance.now() < readUntil && stalled.some((p) => !p.closed)) await sleep(50);
  const dropCodes: Record<string, number> = {};
  for (const p of stalled) for (const e of p.errors) dropCodes[e.code] = (dropCodes[e.code] ?? 0) + 1;
  const result = {
    rssBeforeMiB,
    nonReadersDropped: stalled.filter((p) => p.closed).length,
    dropCodes,
    sendersDropped: senders.filter((p) => p.closed || p.errors.length > 0).length,
    sendersP99Ms: percentile(
      senders.flatMap((p) => p.echoMs),
      99,
    ),
  };
  for (const p of [...stalled, ...senders]) p.close();
  const rssPeakMiB = sampler.stop();
  const settleUntil = performance.now() + o.settleMs;
  let rssAfterMiB = rssMiB(serverPid);
  // Memory comes back when V8 and malloc give it back, seconds after the load: watch for it, bounded.
  while (
    performance.now() < settleUntil &&
    rssAfterMiB > rssBeforeMiB + Math.max(32, (rssPeakMiB - rssBeforeMiB) / 2)
  ) {
    await sleep(500);
    rssAfterMiB = rssMiB(serverPid);
  }
  return { ...result, rssPeakMiB, rssAfterMiB };
}
