/**
 * Issue 31, item 1: the server's own history answers are never a reason to
 * drop a reader. A room of big messages (30 of 32,000 bytes, past
 * --max-sendq many times over) is sent whole to every fresh login and to an
 * honest HISTORY_REQUEST of 200, paced as the connection drains; a client
 * that does not read is still dropped with SEND_QUEUE_FULL, and one that
 * asks for history without reading it is dropped by the output budget.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { ServerMessage } from '../../common/protocol.js';
import { closeRawSessions, rawSession, type RawSession } from '../helpers/raw-session.js';
import {
  LineProcess,
  NO_FLOOD_LIMIT,
  startClient,
  startServer,
  stopAll,
  type ServerHandle,
} from '../helpers/processes.js';
import { loopbackAddress } from '../helpers/loopback.js';
import { WsClient } from '../helpers/raw-client.js';
import { until } from '../helpers/wait.js';

let procs: LineProcess[] = [];
afterEach(async () => {
  closeRawSessions();
  await stopAll(...procs);
  procs = [];
});

/** A room message as big as the default --max-frame allows (its text at most 32,512 bytes). */
const BIG = 32_000;
const big = (i: number) => `big ${i} `.padEnd(BIG, 'x');

async function server(args: string[] = ['--workers', '2']): Promise<ServerHandle> {
  const s = await startServer(['--no-web', ...NO_FLOOD_LIMIT, ...args]);
  procs.push(s);
  return s;
}

/** A version-2 session from an address of its own (the per-address limits are not under test). */
const v2 = (port: number, nick: string, i: number) => rawSession(port, nick, { version: 2, from: loopbackAddress(i) });

/** The writer's own lines echoed back to it (what it got is let go as it goes, see fill()). */
const echoes = (w: RawSession) => w.of('CHAT').filter((m) => m.from === 'filler').length;

/**
 * `n` big messages into the lobby from the session 'filler', four at a time, each batch's echoes awaited: a burst of live
 * traffic past --max-sendq would drop the writer itself (that limit is not what is under test).
 * What the writer received is let go as it goes (the test process would hold it all otherwise).
 */
async function fill(w: RawSession, n: number): Promise<void> {
  let said = 0;
  let echoed = 0;
  while (said < n) {
    const batch = Math.min(4, n - said);
    w.send(
      ...Array.from({ length: batch }, (_, k) => ({ type: 'CHAT' as const, text: big(said + k + 1), action: false })),
    );
    said += batch;
    await until(
      () => echoed + echoes(w) >= said,
      20_000,
      () => `${echoed + echoes(w)} of ${said} echoed; last: ${JSON.stringify(w.got.at(-1))?.slice(0, 200)}`,
    );
    echoed += echoes(w);
    w.got.length = 0;
  }
}

/** Every HISTORY entry a session got for one answer (id: a HISTORY_REQUEST's; undefined: the join's). */
function historyOf(s: RawSession, id?: number): { ids: number[]; done: boolean; frames: number } {
  const frames = s.of('HISTORY').filter((h) => h.id === id && h.missed === undefined);
  return {
    ids: frames.flatMap((h) => h.entries.map((e) => e.id)),
    done: frames.at(-1)?.done === true,
    frames: frames.length,
  };
}

const fatal = (got: ServerMessage[]) => got.filter((m) => m.type === 'ERROR' && m.fatal);

/** Why the server closed connections, from its log (a client that does not read never sees its ERROR). */
function dropsInLog(s: ServerHandle, code: string): string[] {
  return [...readFileSync(s.logFile, 'utf8').matchAll(/"code":"([A-Z_]+)"[^\n]*"msg":"(closing connection[^"]*)"/g)]
    .filter((m) => m[1] === code)
    .map((m) => m[2]!);
}

/** Says a line and waits for its echo: the session is still there, and it has read everything sent before. */
async function marker(s: RawSession, text: string): Promise<void> {
  s.send({ type: 'CHAT', text, action: false });
  await s.next('CHAT', (m) => m.text === text, 20_000);
}

describe('history answers are paced, never a reason to drop a reader', () => {
  it('10 fresh logins into a lobby of 30 messages of 32,000 bytes: each gets WELCOME and the whole history, none is dropped', async () => {
    const s = await server();
    const filler = await v2(s.port, 'filler', 0);
    await fill(filler, 30);
    const logins = await Promise.all(Array.from({ length: 10 }, (_, i) => v2(s.port, `fresh${i}`, i + 1)));
    for (const [i, l] of logins.entries()) {
      expect(l.of('WELCOME')).toHaveLength(1);
      await until(
        () => historyOf(l).done || fatal(l.got).length > 0,
        30_000,
        () => `fresh${i}: ${historyOf(l).ids.length} entries so far`,
      );
      expect(fatal(l.got)).toEqual([]);
      expect(historyOf(l).ids).toEqual(Array.from({ length: 30 }, (_, k) => k + 1));
      expect(l.of('HISTORY').flatMap((h) => h.entries.map((e) => e.text.length))).toEqual(Array(30).fill(BIG));
    }
    // Each still connected, and what came after the history came after it.
    await Promise.all(logins.map((l, i) => marker(l, `fresh${i} is still here`)));
    for (const l of logins) {
      const order = l.got.map((m) => m.type).filter((t) => t === 'JOINED' || t === 'HISTORY' || t === 'CHAT');
      expect(order.indexOf('CHAT')).toBeGreaterThan(order.lastIndexOf('HISTORY'));
      expect(fatal(l.got)).toEqual([]);
    }
    expect(dropsInLog(s, 'SEND_QUEUE_FULL')).toEqual([]);
  }, 120_000);

  it('an honest HISTORY_REQUEST for 200 messages of 32,000 bytes is answered in full, with the live lines behind it', async () => {
    const s = await server();
    const filler = await v2(s.port, 'filler', 0);
    await fill(filler, 200);
    const reader = await v2(s.port, 'reader', 1);
    // The join's 50 (1.6 MB), then the 200 (6.4 MB), and a line said meanwhile: before or after the
    // answer in the room's order (never in it: before 201), and on the wire never between its frames.
    await until(
      () => historyOf(reader).done || fatal(reader.got).length > 0,
      30_000,
      () => `${historyOf(reader).ids.length} of the join's 50 so far`,
    );
    reader.send({ type: 'HISTORY_REQUEST', id: 7, room: '#lobby', before: 201, limit: 200 });
    filler.send({ type: 'CHAT', text: 'said during the answer', action: false });
    await until(
      () => historyOf(reader, 7).done || fatal(reader.got).length > 0,
      60_000,
      () => `${historyOf(reader, 7).ids.length} of 200 so far`,
    );
    expect(fatal(reader.got)).toEqual([]);
    expect(historyOf(reader).ids).toEqual(Array.from({ length: 50 }, (_, k) => 151 + k));
    expect(historyOf(reader, 7).ids).toEqual(Array.from({ length: 200 }, (_, k) => k + 1));
    expect(reader.of('HISTORY').find((h) => h.id === 7)?.more).toBe(false);
    await marker(reader, 'the reader is still here');
    expect(reader.of('CHAT').map((m) => m.text)).toEqual(['said during the answer', 'the reader is still here']);
    const at = (test: (m: ServerMessage) => boolean) => reader.got.findIndex(test);
    const line = at((m) => m.type === 'CHAT');
    const answer = reader.got.flatMap((m, i) => (m.type === 'HISTORY' && m.id === 7 ? [i] : []));
    expect(line < answer[0]! || line > answer.at(-1)!).toBe(true);
    expect(dropsInLog(s, 'SEND_QUEUE_FULL')).toEqual([]);
  }, 180_000);

  it('a client that never reads is still dropped with SEND_QUEUE_FULL; the ones that read are not', async () => {
    const s = await server();
    const filler = await v2(s.port, 'filler', 0);
    await fill(filler, 30);
    const sleeper = await v2(s.port, 'sleeper', 1);
    sleeper.s.pause();
    const reader = await v2(s.port, 'reader', 2);
    // Live traffic until the sleeper's kernel buffers and then its queue are full (loopback holds ~4-10 MiB).
    let said = 0;
    while (dropsInLog(s, 'SEND_QUEUE_FULL').length === 0 && said < 1200) {
      await fill(filler, 20);
      said += 20;
      reader.got.length = 0;
    }
    console.log(`the sleeper dropped after ${said} more messages:`, dropsInLog(s, 'SEND_QUEUE_FULL')[0]);
    expect(dropsInLog(s, 'SEND_QUEUE_FULL')).toHaveLength(1);
    // It reads again: what the kernel held, then the ERROR that says why.
    sleeper.s.resume();
    await sleeper.next('ERROR', (m) => m.code === 'SEND_QUEUE_FULL' && m.fatal, 30_000);
    await marker(reader, 'the reader is still here');
    expect(fatal(reader.got)).toEqual([]);
    expect(dropsInLog(s, 'SEND_QUEUE_FULL')).toHaveLength(1);
  }, 180_000);

  it('a client that asks for history and never reads it is dropped by the output budget; the others are served', async () => {
    // One worker with 24 MiB for all its clients: the sleeper's ten answers (64 MB) cannot all wait.
    const s = await server(['--workers', '1', '--max-output', '24MiB']);
    const filler = await v2(s.port, 'filler', 0);
    await fill(filler, 200);
    const sleeper = await v2(s.port, 'sleeper', 1);
    sleeper.s.pause();
    for (let id = 1; id <= 10; id++) sleeper.send({ type: 'HISTORY_REQUEST', id, room: '#lobby', limit: 200 });
    await until(
      () => dropsInLog(s, 'SEND_QUEUE_FULL').length > 0,
      30_000,
      () => 'the sleeper was not dropped',
    );
    expect(dropsInLog(s, 'SEND_QUEUE_FULL')).toEqual([
      expect.stringMatching(/^closing connection: the server's output budget \(25165824 bytes\) is spent/),
    ]);
    const reader = await v2(s.port, 'reader', 2);
    reader.send({ type: 'HISTORY_REQUEST', id: 1, room: '#lobby', limit: 200 });
    await until(
      () => historyOf(reader, 1).done || fatal(reader.got).length > 0,
      60_000,
      () => `${historyOf(reader, 1).ids.length} of 200 so far`,
    );
    expect(historyOf(reader, 1).ids).toHaveLength(200);
    await marker(reader, 'the reader is still here');
    await marker(filler, 'the filler is still here');
    expect(dropsInLog(s, 'SEND_QUEUE_FULL')).toHaveLength(1);
  }, 180_000);
});

describe('the web page', () => {
  it('a WebSocket login into a lobby of 30 messages of 32,000 bytes gets the whole history and stays', async () => {
    const s = await startServer(['--workers', '2', ...NO_FLOOD_LIMIT]);
    procs.push(s);
    const filler = await v2(s.port, 'filler', 0);
    await fill(filler, 30);
    const pages = await Promise.all(Array.from({ length: 5 }, () => WsClient.connect(s.httpPort!)));
    pages.forEach((p, i) => p.send({ type: 'HELLO', version: 2, nick: `page${i}` }));
    const entries = (p: WsClient) =>
      p.received.flatMap((m) => (m.type === 'HISTORY' && m.id === undefined ? m.entries.map((e) => e.id) : []));
    // Every page has its history before any of them talks: a line said earlier would be in a later join's history.
    for (const p of pages) {
      await p.waitFor((m) => (m.type === 'HISTORY' && m.done) || (m.type === 'ERROR' && m.fatal), 30_000);
      expect(fatal(p.received)).toEqual([]);
      expect(entries(p)).toEqual(Array.from({ length: 30 }, (_, k) => k + 1));
    }
    for (const [i, p] of pages.entries()) {
      p.send({ type: 'CHAT', text: `page${i} is still here`, action: false });
      await p.waitFor((m) => m.type === 'CHAT' && m.text === `page${i} is still here`, 20_000);
    }
    expect(dropsInLog(s, 'SEND_QUEUE_FULL')).toEqual([]);
    for (const p of pages) p.destroy();
  }, 120_000);
});

describe('the terminal client', () => {
  it('joins a lobby of 200 messages of 32,000 bytes, pages back through all of them with /history and stays connected', async () => {
    const s = await server();
    const filler = await v2(s.port, 'filler', 0);
    await fill(filler, 200);
    const carol = await startClient(s.port, 'carol');
    procs.push(carol);
    await carol.waitFor(/^--- #lobby: earlier messages above, live from here ---$/, 30_000);
    carol.send('/history 150');
    await carol.waitFor(/^--- #lobby: that is the beginning ---$/, 60_000);
    carol.send('still here after the history');
    await carol.waitFor(/^<carol> still here after the history$/, 20_000);
    expect(carol.exitCode).toBeUndefined();
    const shown = carol.lines.flatMap((l) => / <filler> big (\d+) x+$/.exec(l)?.[1] ?? []).map(Number);
    expect(shown).toEqual([
      ...Array.from({ length: 50 }, (_, k) => 151 + k),
      ...Array.from({ length: 150 }, (_, k) => k + 1),
    ]);
    expect(carol.lines.filter((l) => /disconnected|SEND_QUEUE_FULL|reconnect/.test(l))).toEqual([]);
  }, 180_000);
});
