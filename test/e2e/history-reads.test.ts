/**
 * Issue 31, item 3: one address asking for history over and over must not
 * stall everyone else. The room holds 200 messages of 30 KB; sixteen
 * sessions from 127.0.0.1 ask for all of it twenty times at once and then
 * keep asking, never reading what comes. Honest clients from other addresses
 * chat meanwhile: their echo latency is measured before (the baseline),
 * during and after; the requesters' reads are charged to their flood credits
 * and dropped when they leave.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { FrameDecoder, MAX_MAX_FRAME } from '../../common/frame.js';
import { decodeServerMessage, encodeMessage, isKnownFrameType } from '../../common/protocol.js';
import { SqliteHistory } from '../../server/store/sqlite-history.js';
import { closeRawSessions, rawSession, type RawSession } from '../helpers/raw-session.js';
import { LineProcess, startServer, stopAll, tempDir } from '../helpers/processes.js';
import { loopbackAddress } from '../helpers/loopback.js';
import { percentile } from '../helpers/abuse.js';
import { until } from '../helpers/wait.js';

let procs: LineProcess[] = [];
afterEach(async () => {
  closeRawSessions();
  await stopAll(...procs);
  procs = [];
});

/** An honest chatter (version 1): each line's echo latency, by when the line was sent. */
class Chatter {
  readonly echoes: Array<{ sentAt: number; ms: number }> = [];
  private readonly sent = new Map<string, number>();
  private readonly decoder = new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType });
  welcomed = false;
  constructor(
    readonly nick: string,
    readonly socket: net.Socket,
  ) {
    socket.on('data', (chunk) => {
      for (const f of this.decoder.push(chunk)) {
        const m = decodeServerMessage(f);
        if (m.type === 'WELCOME') this.welcomed = true;
        else if (m.type === 'HEARTBEAT') socket.write(encodeMessage({ type: 'HEARTBEAT_ACK', seq: m.seq, ts: m.ts }));
        else if (m.type === 'CHAT' && m.from === nick && this.sent.has(m.text)) {
          const sentAt = this.sent.get(m.text)!;
          this.sent.delete(m.text);
          this.echoes.push({ sentAt, ms: performance.now() - sentAt });
        }
      }
    });
    socket.on('error', () => undefined);
    socket.write(encodeMessage({ type: 'HELLO', version: 1, nick }));
  }
  get waiting(): number {
    return this.sent.size;
  }
  say(text: string): void {
    this.sent.set(text, performance.now());
    this.socket.write(encodeMessage({ type: 'CHAT', text, action: false }));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A data folder whose #lobby holds `n` messages of `size` characters. */
async function bigLobby(n: number, size: number): Promise<string> {
  const data = tempDir('reads');
  const { store } = await SqliteHistory.open(data);
  await store.append(
    Array.from({ length: n }, (_, i) => ({
      conv: 'room:#lobby',
      kind: 'say' as const,
      from: 'old',
      text: `${i} ${'b'.repeat(size)}`,
    })),
  );
  store.close();
  return data;
}

function p99(chatters: Chatter[], from: number, to: number): number {
  return percentile(
    chatters.flatMap((c) => c.echoes.filter((e) => e.sentAt >= from && e.sentAt < to).map((e) => e.ms)),
    99,
  );
}

describe('history reads from one address', () => {
  it('do not hold up honest echoes, and stop costing when the requesters leave', async () => {
    const server = await startServer(['--workers', '2', '--no-web', '--data', await bigLobby(200, 30_000)]);
    procs.push(server);
    const honest = Array.from(
      { length: 6 },
      (_, i) =>
        new Chatter(
          `honest${i}`,
          net.connect({ host: '127.0.0.1', port: server.port, localAddress: loopbackAddress(i) }),
        ),
    );
    await until(
      () => honest.every((c) => c.welcomed),
      10_000,
      () => 'honest clients not welcomed',
    );
    // The requesters: version 2, all from one address, reading nothing after WELCOME.
    const readers: RawSession[] = [];
    for (let i = 0; i < 16; i++) {
      const r = await rawSession(server.port, `reader${i}`, { version: 2, from: '127.0.0.1' });
      r.s.pause();
      readers.push(r);
    }
    let round = 0;
    const chat = async (ms: number) => {
      for (const end = performance.now() + ms; performance.now() < end; round++) {
        for (const c of honest) c.say(`${c.nick} ${round}`);
        await sleep(250);
      }
    };
    const t0 = performance.now();
    await chat(2000);
    const t1 = performance.now();
    let id = 0;
    const ask = (r: RawSession, n: number) =>
      r.s.write(
        Buffer.concat(
          Array.from({ length: n }, () =>
            // Before 201: the 200 big ones, whatever the honest clients have said since.
            encodeMessage({ type: 'HISTORY_REQUEST', id: ++id, room: '#lobby', before: 201, limit: 200 }),
          ),
        ),
      );
    for (const r of readers) ask(r, 20);
    const asking = setInterval(() => readers.forEach((r) => ask(r, 1)), 250);
    await chat(5000);
    clearInterval(asking);
    const t2 = performance.now();
    for (const r of readers) r.s.destroy();
    const echoed = () =>
      until(
        () => honest.every((c) => c.waiting === 0),
        30_000,
        () => `echoes still awaited: ${honest.map((c) => c.waiting)}`,
      );
    await echoed();
    const baselineP99 = p99(honest, t0, t1);
    const duringP99 = p99(honest, t1, t2);
    console.log('history reads:', JSON.stringify({ baselineP99, duringP99, requests: id }));
    // Generous (the machine is shared): before the fix the store thread read 6 MB per request for everyone in
    // turn, and honest echoes took seconds.
    const bound = Math.max(10 * baselineP99, 100);
    expect(duringP99).toBeLessThan(bound);
    // Their reads are dropped once they are gone: the store's log says so.
    const dropped = () =>
      [...readFileSync(server.logFile, 'utf8').matchAll(/"requests":(\d+)[^\n]*"msg":"history reads dropped/g)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
    await until(
      () => dropped() > 0,
      20_000,
      () => 'no history reads dropped in the log',
    );
    const t3 = performance.now();
    await chat(2000);
    const t4 = performance.now();
    await echoed();
    const afterP99 = p99(honest, t3, t4);
    console.log('history reads, once they left:', JSON.stringify({ afterP99, droppedRequests: dropped() }));
    for (const c of honest) c.socket.destroy();
    expect(afterP99).toBeLessThan(bound);
  }, 120_000);
});
