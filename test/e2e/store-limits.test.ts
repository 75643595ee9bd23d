/**
 * Issue 31, Low items: what the store keeps must not be one user's to take.
 * Retention by size drops the biggest sender's (address prefix's) oldest
 * messages first, so a flooder cannot push an honest user's older message
 * out of the history; an offline registered nick's inbox is capped
 * (conversations, bytes) with a clear refusal; registrations are limited per
 * address prefix in an hour. Attackers connect from several 127.0.x.y
 * addresses, each x its own /24.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeRawSessions, rawSession, rawSessionServers, type RawSession } from '../helpers/raw-session.js';
import { until } from '../helpers/wait.js';
import { NO_FLOOD_LIMIT, startServer, stopAll, tempDir, type LineProcess } from '../helpers/processes.js';

const server = rawSessionServers(afterEach);
let procs: LineProcess[] = [];
afterEach(async () => {
  closeRawSessions();
  await stopAll(...procs);
  procs = [];
});
const PLAIN_ALLOWED = ['--allow-plain-passwords'];
const PASSWORD = 'correct horse battery';

/** The lobby's oldest `limit` lines as they are now (one answer, in frames up to its `done`). */
async function oldestLines(s: RawSession, id: number, limit: number): Promise<string[]> {
  s.send({ type: 'HISTORY_REQUEST', id, room: '#lobby', since: 0, limit });
  await s.next('HISTORY', (h) => h.id === id && h.done, 10_000);
  return s
    .of('HISTORY')
    .filter((h) => h.id === id)
    .flatMap((h) => h.entries.map((e) => e.text));
}

describe('the store is not one sender’s', () => {
  it('a flooder cannot push an honest user’s older message out of the history through --history-max-size', async () => {
    const data = tempDir('retention-data');
    // No history on joining: a reader joins a flooded lobby, and what is under test is the history itself.
    const args = ['--workers', '1', '--no-web', '--history-max-size', '1MiB', '--history-on-join', '0', '--data', data];
    args.push(...NO_FLOOD_LIMIT);
    const first = await startServer(args);
    procs.push(first);
    const honest = await Promise.all(
      ['127.0.32.1', '127.0.33.1', '127.0.34.1'].map((from, i) => rawSession(first.port, `honest${i}`, { from })),
    );
    for (const [i, h] of honest.entries())
      for (let k = 0; k < 5; k++) h.send({ type: 'CHAT', text: `honest ${i}.${k}`, action: false });
    for (const [i, h] of honest.entries()) await h.next('CHAT', (m) => m.text === `honest ${i}.4`);
    // 3 MiB from one address, three times the bound, after every honest line.
    const flooder = await rawSession(first.port, 'flooder', { from: '127.0.31.1' });
    // Four at a time, each group's echo awaited: more in one turn would outrun every reader's --max-sendq.
    const line = (k: number) => `flood ${String(k).padStart(3, '0')} ${'x'.repeat(30_000)}`;
    for (let k = 0; k < 100; k += 4) {
      for (let j = k; j < k + 4; j++) flooder.send({ type: 'CHAT', text: line(j), action: false });
      await flooder.next('CHAT', (m) => m.text === line(k + 3), 10_000);
    }
    const reader = await rawSession(first.port, 'reader', { version: 2, from: '127.0.35.1' });
    const baseline = await oldestLines(reader, 1, 15);
    expect(baseline.every((t) => t.startsWith('honest'))).toBe(true);
    // Retention runs when the store opens: a restart makes it run now.
    first.proc.kill('SIGTERM');
    expect(await first.exit()).toBe(0);
    const second = await startServer(args);
    procs.push(second);
    const after = await rawSession(second.port, 'reader2', { version: 2, from: '127.0.35.1' });
    // Pruned once the flood's first line is gone: the oldest 20 lines then are what retention kept first.
    let texts: string[] = [];
    const deadline = Date.now() + 30_000;
    for (let id = 1; ; id++) {
      texts = await oldestLines(after, id, 20);
      if (!texts.some((t) => t.startsWith('flood 000 '))) break;
      if (Date.now() > deadline) throw new Error(`the flood's first line is still there (${texts.length} lines)`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const kept = texts.filter((t) => t.startsWith('honest'));
    // The flood's oldest line left says how many of its 100 are kept (the newest ones).
    const firstFlood = Number(texts.find((t) => t.startsWith('flood'))?.slice(6, 9) ?? 100);
    console.log(
      'retention:',
      JSON.stringify({ honestBefore: baseline.length, honestAfter: kept.length, floodKept: 100 - firstFlood }),
    );
    // Before: the oldest went first, every honest line with them (and the flood's first 70).
    expect(kept).toEqual(baseline);
    expect(100 - firstFlood).toBeGreaterThan(0);
    expect(100 - firstFlood).toBeLessThan(40);
  }, 90_000);

  it('an offline registered nick’s inbox is capped: conversations and bytes past the caps are refused with INBOX_FULL', async () => {
    const s = await server(PLAIN_ALLOWED);
    for (const nick of ['gina', 'hana']) {
      const owner = await rawSession(s.port, nick, { version: 2, from: '127.0.36.1' });
      owner.send({ type: 'ACCOUNT', op: 'register', password: PASSWORD });
      await owner.next('ACCOUNT_REPLY');
      owner.send({ type: 'BYE', reason: 'bye' });
      await owner.next('BYE');
    }
    // 101 people (one session renaming itself, from one address) write to gina while she is offline.
    const many = await rawSession(s.port, 'w0', { version: 2, from: '127.0.37.1' });
    // Each DIRECT after its NICK is done (a NICK asks the store whether the nick is registered: a DIRECT sent with
    // it would go first, under the old nick).
    for (let i = 1; i <= 101; i++) {
      many.send({ type: 'NICK', nick: `w${i}` });
      await many.next('NOTICE', (n) => n.event === 'nick' && n.newNick === `w${i}`);
      many.send({ type: 'DIRECT', to: 'gina', text: `from w${i}` });
    }
    const answered = () => many.of('DIRECT').length + many.of('ERROR').length;
    await until(
      () => answered() === 101,
      30_000,
      () => `${answered()} of 101 answers`,
    );
    expect(many.of('DIRECT')).toHaveLength(100);
    expect(many.of('ERROR')).toEqual([
      {
        type: 'ERROR',
        code: 'INBOX_FULL',
        fatal: false,
        message:
          'not sent: gina is offline and their inbox is full (messages from 100 people); try again once they have been online',
      },
    ]);
    // One sender's 30,000-byte lines into hana's: 17 fit the 512 KiB, the 18th does not.
    const big = await rawSession(s.port, 'big', { version: 2, from: '127.0.38.1' });
    for (let k = 0; k < 18; k++) big.send({ type: 'DIRECT', to: 'hana', text: `${k} ${'y'.repeat(30_000)}` });
    const err = await big.next('ERROR');
    expect(err).toMatchObject({
      code: 'INBOX_FULL',
      message: expect.stringContaining('(512.0 KiB of messages, the most an inbox holds)'),
    });
    expect(big.of('DIRECT')).toHaveLength(17);
    // Gina logs in: told of the 100 kept; from then on her inbox is empty, and a direct message reaches her live.
    const gina = await rawSession(s.port, 'gina', { version: 2, from: '127.0.36.1', nickPassword: PASSWORD });
    expect(await gina.next('ACCOUNT_REPLY')).toMatchObject({ op: 'offline', count: 100 });
    many.send({ type: 'DIRECT', to: 'gina', text: 'now you are here' });
    await gina.next('DIRECT', (d) => d.text === 'now you are here');
  }, 60_000);

  it('registrations are limited per address prefix in an hour: REGISTER_LIMIT, while another prefix registers', async () => {
    const s = await server(PLAIN_ALLOWED);
    const register = async (nick: string, from: string) => {
      const r = await rawSession(s.port, nick, { version: 2, from });
      r.send({ type: 'ACCOUNT', op: 'register', password: PASSWORD });
      await until(
        () => r.of('ACCOUNT_REPLY').length + r.of('ERROR').length > 0,
        10_000,
        () => `no answer to ${nick}'s registration`,
      );
      return r.of('ACCOUNT_REPLY')[0] ?? r.of('ERROR')[0];
    };
    // Eleven addresses of one /24, one after the other.
    const answers = [];
    for (let i = 1; i <= 11; i++) answers.push(await register(`reg${i}`, `127.0.41.${i}`));
    expect(answers.slice(0, 10).every((a) => a?.type === 'ACCOUNT_REPLY')).toBe(true);
    expect(answers[10]).toMatchObject({
      type: 'ERROR',
      code: 'REGISTER_LIMIT',
      fatal: false,
      message: expect.stringMatching(
        /^10 nicks were registered from your network \(127\.0\.41\.0\/24\) in the last hour, the most one address prefix may; try again in /,
      ),
    });
    expect(await register('other', '127.0.42.1')).toMatchObject({ type: 'ACCOUNT_REPLY', op: 'registered' });
  }, 60_000);
});
