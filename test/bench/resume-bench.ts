/**
 * Resume of a session that missed 100,000 messages (issue 21): a real
 * chat-server with its store on disk; one session's connection is cut, a
 * second session says 100,000 lines in the room meanwhile, then the first
 * comes back with its token. Measured: the time from its HELLO until it is
 * live again (RESUMED, then a live line), the replayed messages per second,
 * and the server's RSS before and during the replay. Bounded in count and
 * time; loopback only.
 */
import net from 'node:net';
import { FrameDecoder, MAX_MAX_FRAME } from '../../common/frame.js';
import {
  decodeServerMessage,
  encodeMessage,
  isKnownFrameType,
  type ClientMessage,
  type ServerMessage,
} from '../../common/protocol.js';
import { RssSampler, rssMiB } from '../helpers/abuse.js';

export interface ResumeContext {
  quick: boolean;
  record(suite: string, name: string, unit: string, values: number[], note?: string): void;
  log(line: string): void;
  chatServer(args: string[]): Promise<{ port: number; pid: number; stop(): Promise<void> }>;
}

const SUITE = 'history';
const DEADLINE_MS = 120_000;

/** A lean session: counts what it is sent instead of keeping it. */
class Peer {
  readonly s: net.Socket;
  private readonly decoder = new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType });
  private waiters: Array<{ test: (m: ServerMessage) => boolean; done: (m: ServerMessage) => void }> = [];
  onMessage: (m: ServerMessage) => void = () => undefined;

  constructor(port: number, from: string) {
    this.s = net.connect({ host: '127.0.0.1', port, localAddress: from });
    this.s.on('error', () => undefined);
    this.s.on('data', (chunk) => {
      for (const f of this.decoder.push(chunk)) {
        const m = decodeServerMessage(f);
        if (m.type === 'HEARTBEAT') this.send({ type: 'HEARTBEAT_ACK', seq: m.seq, ts: m.ts });
        this.onMessage(m);
        this.waiters = this.waiters.filter((w) => !(w.test(m) && (w.done(m), true)));
      }
    });
  }

  send(...msgs: ClientMessage[]): void {
    this.s.write(Buffer.concat(msgs.map((m) => encodeMessage(m))));
  }

  next<T extends ServerMessage['type']>(
    type: T,
    test: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`resume bench: no ${type} within ${DEADLINE_MS} ms`)),
        DEADLINE_MS,
      );
      this.waiters.push({
        test: (m) => m.type === type && test(m as never),
        done: (m) => (clearTimeout(timer), resolve(m as never)),
      });
    });
  }
}

export async function resumeBench(ctx: ResumeContext): Promise<void> {
  const runs: Array<{ liveMs: number; peak: number; before: number }> = [];
  for (let i = 0; i < (ctx.quick ? 1 : 3); i++) runs.push(await resumeOnce(ctx, ctx.quick ? 10_000 : 100_000));
  const total = ctx.quick ? 10_000 : 100_000;
  ctx.record(
    SUITE,
    `resume after ${total} missed messages: HELLO to live`,
    'ms',
    runs.map((r) => r.liveMs),
  );
  ctx.record(
    SUITE,
    'resume: replayed messages',
    'msgs/s',
    runs.map((r) => total / (r.liveMs / 1000)),
  );
  ctx.record(
    SUITE,
    'resume: server RSS peak during the replay',
    'MiB',
    runs.map((r) => r.peak),
    `before it: ${runs.map((r) => r.before.toFixed(0)).join(', ')} MiB (after ${total} messages were said)`,
  );
}

async function resumeOnce(
  ctx: ResumeContext,
  total: number,
): Promise<{ liveMs: number; peak: number; before: number }> {
  const server = await ctx.chatServer([
    '--workers',
    '2',
    '--no-web',
    '--flood-burst',
    '1000000',
    '--flood-rate',
    '1000000',
    '--max-clients',
    '100',
  ]);
  try {
    const away = new Peer(server.port, '127.0.0.2');
    away.send({ type: 'HELLO', version: 2, nick: 'away' });
    const token = (await away.next('WELCOME')).resume!;
    await away.next('JOINED');
    const talker = new Peer(server.port, '127.0.0.3');
    talker.send({ type: 'HELLO', version: 2, nick: 'talker' });
    await talker.next('JOINED');
    away.s.destroy();
    await talker.next('NOTICE', (m) => m.event === 'away');
    let echoed = 0;
    talker.onMessage = (m) => void (m.type === 'CHAT' && m.from === 'talker' && echoed++);
    const text = 'x'.repeat(80);
    const s0 = performance.now();
    // Pipelined, a window of 5,000 unanswered lines: the store batches them, nobody waits on one commit.
    for (let sent = 0; sent < total; ) {
      while (sent - echoed < 5000 && sent < total) {
        const n = Math.min(1000, total - sent);
        talker.send(
          ...Array.from({ length: n }, (_, i) => ({
            type: 'CHAT' as const,
            text: `${text} ${sent + i}`,
            action: false,
          })),
        );
        sent += n;
      }
      await new Promise((r) => setTimeout(r, 5));
      if (performance.now() - s0 > DEADLINE_MS)
        throw new Error('resume bench: the talker could not send its lines in time');
    }
    while (echoed < total && performance.now() - s0 < DEADLINE_MS) await new Promise((r) => setTimeout(r, 10));
    ctx.log(`  resume: ${total} lines stored while away in ${((performance.now() - s0) / 1000).toFixed(1)} s`);
    const before = rssMiB(server.pid);
    const rss = new RssSampler(server.pid);
    const back = new Peer(server.port, '127.0.0.2');
    let replayed = 0;
    back.onMessage = (m) => void (m.type === 'HISTORY' && m.missed && (replayed += m.entries.length));
    const t0 = performance.now();
    back.send({ type: 'HELLO', version: 2, nick: 'away', resume: token, last: [] });
    const resumed = await back.next('RESUMED');
    const liveMs = performance.now() - t0;
    const peak = rss.stop();
    talker.send({ type: 'CHAT', text: 'live again', action: false });
    await back.next('CHAT', (m) => m.text === 'live again');
    if (resumed.missed !== total || replayed !== total)
      throw new Error(`resume bench: ${replayed} replayed, RESUMED says ${resumed.missed}, ${total} were missed`);
    back.s.destroy();
    talker.s.destroy();
    return { liveMs, peak, before };
  } finally {
    await server.stop();
  }
}
