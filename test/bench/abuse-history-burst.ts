/**
 * The abuse suite's history burst (issue 31, item 1): a room filled with 30
 * messages of 32,000 bytes (flood control off for the filler: at its pace
 * they take 44 s), then fresh logins all at once, each joining it and sent
 * its last 50: how many get WELCOME and the whole history, how many are
 * dropped, how long the history takes; the honest users' latency (they chat
 * in #lobby) before and during; then an honest HISTORY_REQUEST of 200 such
 * messages. ngircd sends no history on joining and has no history command:
 * it has no such surface, so it is not run.
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
import { BenchPeer, sourceAddress } from './abuse-peer.js';
import { percentile } from '../helpers/abuse.js';
import { until } from '../helpers/wait.js';
import type { AbuseContext } from './abuse-suite.js';

const SUITE = 'abuse';
const NAME = 'history burst, chat-server';
const FLOOD_OFF = ['--flood-burst', '1000000', '--flood-rate', '1000000'];
const BIG = 32_000;
/** The room of big messages (the honest users' chatter in #lobby would push them out of its last 50). */
const ROOM = '#big';
const NO_NGIRCD = 'ngircd sends no history on joining and has no history command: no such surface, not run';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A version-2 session on a raw socket: what it was sent from the history, and when; answers heartbeats. */
class HistoryPeer {
  welcomed = false;
  closed = false;
  error: string | null = null;
  readonly startedAt = performance.now();
  /** Entries of ROOM's history on joining, and when its last frame came. */
  joined = { entries: 0, doneAt: null as number | null };
  /** Entries of the answer to HISTORY_REQUEST 1, and when its last frame came. */
  answer = { entries: 0, doneAt: null as number | null };
  echoes = 0;
  private readonly decoder = new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType });

  private constructor(
    readonly nick: string,
    readonly socket: net.Socket,
  ) {
    socket.on('data', (chunk: Buffer) => {
      for (const f of this.decoder.push(chunk)) this.onMessage(decodeServerMessage(f));
    });
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closed = true));
  }

  static async connect(port: number, nick: string, from: string): Promise<HistoryPeer> {
    const peer = new HistoryPeer(nick, net.connect({ host: '127.0.0.1', port, localAddress: from }));
    peer.send({ type: 'HELLO', version: 2, nick });
    peer.send({ type: 'JOIN', room: ROOM });
    await until(
      () => peer.welcomed || peer.closed || peer.error !== null,
      10_000,
      () => `${nick}: no WELCOME`,
    ).catch(() => undefined);
    return peer;
  }

  get dropped(): boolean {
    return this.closed || this.error !== null;
  }

  send(msg: ClientMessage): void {
    if (!this.closed) this.socket.write(encodeMessage(msg));
  }

  private onMessage(m: ServerMessage): void {
    if (m.type === 'WELCOME') this.welcomed = true;
    else if (m.type === 'HEARTBEAT') this.send({ type: 'HEARTBEAT_ACK', seq: m.seq, ts: m.ts });
    else if (m.type === 'ERROR' && m.fatal) this.error ??= m.code;
    else if (m.type === 'CHAT' && m.from === this.nick) this.echoes++;
    else if (m.type === 'HISTORY' && m.room === ROOM) {
      const into = m.id === undefined ? this.joined : this.answer;
      into.entries += m.entries.length;
      if (m.done) into.doneAt = performance.now();
    }
  }
}

/** `n` more big lines from the filler, four at a time, each batch's echoes awaited (a burst of live lines past --max-sendq would drop it). */
async function fill(filler: HistoryPeer, n: number): Promise<void> {
  for (let said = 0; said < n && !filler.dropped; ) {
    const batch = Math.min(4, n - said);
    const want = filler.echoes + batch;
    for (let k = 0; k < batch; k++)
      filler.send({ type: 'CHAT', room: ROOM, text: `big ${said + k} `.padEnd(BIG, 'x'), action: false });
    said += batch;
    await until(
      () => filler.echoes >= want || filler.dropped,
      30_000,
      () => `filler: ${filler.echoes} of ${want} echoed`,
    );
  }
}

/** Honest users say a stamped line every `everyMs` until `stop()`; each peer's latency is what it hears from the others. */
function chatter(peers: BenchPeer[], everyMs: number): { stop(): Promise<void> } {
  let on = true;
  const talk = (async () => {
    for (let round = 0; on; round++) {
      for (const p of peers) p.say(`${p.nick} ${round}`);
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      on = false;
      await talk;
    },
  };
}

function p99Between(peers: BenchPeer[], from: number, to: number): number {
  return percentile(
    peers.flatMap((p) => p.latencies.filter((l) => l.at >= from && l.at < to).map((l) => l.ms)),
    99,
  );
}

/** The fresh logins' side: who got the whole history, who was dropped, how long it took. */
function recordLogins(ctx: AbuseContext, logins: HistoryPeer[], entries: number): void {
  const whole = logins.filter((l) => l.welcomed && !l.dropped && l.joined.doneAt !== null);
  const dropped = logins.filter((l) => l.dropped);
  const codes = [...new Set(dropped.map((l) => l.error ?? 'closed'))].join(', ');
  ctx.record(
    SUITE,
    `${NAME}: fresh logins with WELCOME and the whole history`,
    'logins',
    [whole.filter((l) => l.joined.entries === entries).length],
    `of ${logins.length}, each joining ${ROOM} (${entries} messages of ${BIG} bytes) after WELCOME; ${NO_NGIRCD}`,
  );
  ctx.record(
    SUITE,
    `${NAME}: fresh logins dropped`,
    'logins',
    [dropped.length],
    `of ${logins.length}${dropped.length > 0 ? `: ${codes}` : ''}`,
  );
  ctx.record(SUITE, `${NAME}: login to the whole history, p99`, 'ms', [
    percentile(
      whole.map((l) => l.joined.doneAt! - l.startedAt),
      99,
    ),
  ]);
}

/** 200 big messages in all, then one honest HISTORY_REQUEST for all of them: answered in full, and how fast. */
async function bigAnswer(ctx: AbuseContext, port: number, filler: HistoryPeer, have: number): Promise<void> {
  await fill(filler, 200 - have);
  const reader = await HistoryPeer.connect(port, 'reader', sourceAddress(33, 0));
  await until(
    () => reader.joined.doneAt !== null || reader.dropped,
    60_000,
    () => 'reader: no history on joining',
  ).catch(() => undefined);
  const asked = performance.now();
  reader.send({ type: 'HISTORY_REQUEST', id: 1, room: ROOM, limit: 200 });
  await until(
    () => reader.answer.doneAt !== null || reader.dropped,
    60_000,
    () => `reader: ${reader.answer.entries} of 200`,
  ).catch(() => undefined);
  const note = reader.dropped ? `dropped: ${reader.error ?? 'closed'}` : `${reader.answer.entries} of 200 entries`;
  ctx.record(
    SUITE,
    `${NAME}: HISTORY_REQUEST of 200 x ${BIG} bytes answered in full`,
    'answers',
    [!reader.dropped && reader.answer.entries === 200 ? 1 : 0],
    `of 1; ${note}`,
  );
  ctx.record(SUITE, `${NAME}: HISTORY_REQUEST of 200, time to the answer`, 'ms', [
    reader.answer.doneAt !== null ? reader.answer.doneAt - asked : NaN,
  ]);
  reader.socket.destroy();
}

export async function historyBurst(ctx: AbuseContext): Promise<void> {
  const n = ctx.quick ? 20 : 100;
  const phaseMs = ctx.quick ? 2000 : 5000;
  const s = await ctx.chatServer(['--max-clients', '20000', '--no-web', ...FLOOD_OFF]);
  const everyone: net.Socket[] = [];
  try {
    const honest: BenchPeer[] = [];
    for (let i = 0; i < 10; i++)
      honest.push(await BenchPeer.join('chat', s.port, `honest${i}`, { from: sourceAddress(30, i) }));
    const filler = await HistoryPeer.connect(s.port, 'filler', sourceAddress(31, 0));
    everyone.push(...honest.map((p) => p.socket), filler.socket);
    await fill(filler, 30);
    const talk = chatter(honest, 200);
    const t0 = performance.now();
    await sleep(phaseMs);
    const t1 = performance.now();
    const logins = await Promise.all(
      Array.from({ length: n }, (_, i) => HistoryPeer.connect(s.port, `fresh${i}`, sourceAddress(32, i))),
    );
    everyone.push(...logins.map((l) => l.socket));
    await until(
      () => logins.every((l) => l.joined.doneAt !== null || l.dropped),
      60_000,
      () => `${logins.filter((l) => l.joined.doneAt !== null).length} of ${n} have their history`,
    ).catch(() => undefined);
    const t2 = performance.now();
    await sleep(500);
    await talk.stop();
    recordLogins(ctx, logins, 30);
    ctx.record(SUITE, `${NAME}: honest p99 before`, 'ms', [p99Between(honest, t0, t1)]);
    ctx.record(SUITE, `${NAME}: honest p99 during the logins`, 'ms', [p99Between(honest, t1, t2 + 500)]);
    ctx.record(SUITE, `${NAME}: honest users dropped`, 'clients', [honest.filter((p) => p.closed).length], 'of 10');
    await bigAnswer(ctx, s.port, filler, 30);
  } finally {
    for (const sock of everyone) sock.destroy();
    await s.stop();
  }
}
