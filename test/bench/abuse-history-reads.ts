/**
 * The abuse suite's history-read flood (issue 31, item 3): a room holds 200
 * messages of 32 KB (6.4 MB); 32 sessions from one address ask for all of
 * it (HISTORY_REQUEST limit 200), 608 requests over 20 s as in the issue
 * (--quick: 16 sessions, 6 s), reading what comes and throwing it away,
 * then leave. Twenty honest users from other addresses chat meanwhile, a
 * line every 500 ms each: the time from a line's send to its arrival at the
 * others, p50 and p99, before, during and after the flood (after: once the
 * requesters have left). Also what the requesters got (answers, refusals),
 * how many of their reads the server dropped when they left (its log), and
 * the server's peak RSS. ngircd keeps no history (IRC has no such command
 * in its base protocol): chat-server only.
 */
import net from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { BenchPeer, sourceAddress } from './abuse-peer.js';
import { percentile, RssSampler } from '../helpers/abuse.js';
import { FrameDecoder, MAX_MAX_FRAME } from '../../common/frame.js';
import { FrameType, decodeServerMessage, encodeMessage, isKnownFrameType } from '../../common/protocol.js';
import { SqliteHistory } from '../../server/store/sqlite-history.js';
import type { AbuseContext } from './abuse-suite.js';

const SUITE = 'abuse';
const NAME = 'history reads, chat-server';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A data folder whose #lobby holds 200 messages of 32,000 bytes (written directly, before the server starts). */
async function bigLobby(): Promise<string> {
  const data = mkdtempSync(join(tmpdir(), 'bench-reads-'));
  const { store } = await SqliteHistory.open(data);
  await store.append(
    Array.from({ length: 200 }, (_, i) => ({
      conv: 'room:#lobby',
      kind: 'say' as const,
      from: 'old',
      text: `${i} `.padEnd(32_000, 'b'),
    })),
  );
  store.close();
  return data;
}

/** A requester: version 2, from 127.0.0.1; counts what it gets without keeping it. */
class Requester {
  answers = 0;
  bytes = 0;
  readonly refusals = new Map<string, number>();
  welcomed = false;
  private readonly decoder = new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType });
  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.bytes += chunk.length;
      for (const f of this.decoder.push(chunk)) {
        // Only the small frames are decoded: a HISTORY frame's end says whether it ends an answer.
        if (f.type === FrameType.HISTORY) {
          if (f.body.subarray(-40).includes('"done":true') && f.body.subarray(0, 6).toString() === '{"id":')
            this.answers++;
          continue;
        }
        const m = decodeServerMessage(f);
        if (m.type === 'WELCOME') this.welcomed = true;
        else if (m.type === 'HEARTBEAT') socket.write(encodeMessage({ type: 'HEARTBEAT_ACK', seq: m.seq, ts: m.ts }));
        else if (m.type === 'ERROR') this.refusals.set(m.code, (this.refusals.get(m.code) ?? 0) + 1);
      }
    });
    socket.on('error', () => undefined);
  }
}

async function requesters(port: number, n: number): Promise<Requester[]> {
  const out: Requester[] = [];
  for (let i = 0; i < n; i++) {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.1' });
    const r = new Requester(socket);
    socket.write(encodeMessage({ type: 'HELLO', version: 2, nick: `reader${i}` }));
    for (const until = performance.now() + 10_000; !r.welcomed && performance.now() < until; ) await sleep(10);
    out.push(r);
  }
  return out;
}

function between(peers: BenchPeer[], from: number, to: number, p: number): number {
  return percentile(
    peers.flatMap((x) => x.latencies.filter((l) => l.at >= from && l.at < to).map((l) => l.ms)),
    p,
  );
}

export async function historyReads(ctx: AbuseContext): Promise<void> {
  const sessions = ctx.quick ? 16 : 32;
  const floodMs = ctx.quick ? 6000 : 20_000;
  const phaseMs = ctx.quick ? 3000 : 5000;
  const total = ctx.quick ? 160 : 608;
  const s = await ctx.chatServer(['--max-clients', '20000', '--no-web', '--data', await bigLobby()]);
  try {
    const honest: BenchPeer[] = [];
    for (let i = 0; i < 20; i++)
      honest.push(await BenchPeer.join('chat', s.port, `honest${i}`, { from: sourceAddress(26, i) }));
    const readers = await requesters(s.port, sessions);
    const rss = new RssSampler(s.pid);
    let talking = true;
    const talk = (async () => {
      for (let round = 0; talking; round++) {
        for (const p of honest) p.say(`${p.nick} ${round} ${'h'.repeat(40)}`);
        await sleep(500);
      }
    })();
    const t0 = performance.now();
    await sleep(phaseMs);
    const t1 = performance.now();
    // The requests spread over the flood, each session in turn.
    let sent = 0;
    const every = floodMs / total;
    while (sent < total && performance.now() < t1 + floodMs) {
      const r = readers[sent % sessions]!;
      // Before 201: the 200 big ones, whatever the honest users have said since.
      r.socket.write(encodeMessage({ type: 'HISTORY_REQUEST', id: ++sent, room: '#lobby', before: 201, limit: 200 }));
      await sleep(every);
    }
    const t2 = performance.now();
    for (const r of readers) r.socket.destroy();
    const dropped = () =>
      [...readFileSync(s.logFile, 'utf8').matchAll(/"requests":(\d+)[^\n]*"msg":"history reads dropped/g)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
    await sleep(1000);
    const t3 = performance.now();
    await sleep(phaseMs);
    const t4 = performance.now();
    talking = false;
    await talk;
    await sleep(500);
    const peak = rss.stop();
    for (const [phase, from, to] of [
      ['before', t0, t1],
      ['during', t1, t2],
      ['after', t3, t4],
    ] as const) {
      ctx.record(SUITE, `${NAME}: honest p50 ${phase}`, 'ms', [between(honest, from, to, 50)]);
      ctx.record(SUITE, `${NAME}: honest p99 ${phase}`, 'ms', [between(honest, from, to, 99)]);
    }
    const refused = new Map<string, number>();
    for (const r of readers) for (const [code, n] of r.refusals) refused.set(code, (refused.get(code) ?? 0) + n);
    ctx.record(
      SUITE,
      `${NAME}: requests answered in full`,
      'answers',
      [readers.reduce((n, r) => n + r.answers, 0)],
      `of ${sent} sent from one address by ${sessions} sessions; refused: ${JSON.stringify(Object.fromEntries(refused))}; ngircd keeps no history, so it has no such case`,
    );
    ctx.record(SUITE, `${NAME}: bytes the requesters got`, 'MB', [readers.reduce((n, r) => n + r.bytes, 0) / 1e6]);
    ctx.record(
      SUITE,
      `${NAME}: requests dropped when their sessions left`,
      'requests',
      [dropped()],
      'queued in the store; those still waiting for credits in the flood gate went with their connections',
    );
    ctx.record(SUITE, `${NAME}: honest users dropped`, 'clients', [honest.filter((p) => p.closed).length]);
    ctx.record(SUITE, `${NAME}: server peak RSS`, 'MiB', [peak]);
    for (const p of honest) p.close();
  } finally {
    await s.stop();
  }
}
