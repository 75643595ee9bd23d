/**
 * The terminal client resuming its session (pipe mode, real processes):
 * frozen with SIGSTOP past the heartbeat timeout and thawed, it comes back
 * and prints what it missed, once and in order; three clients chatting
 * through a server restart (SIGKILL, then SIGTERM) all resume, and no
 * message any sender saw echoed is lost or printed twice at any receiver.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/loopback.js';
import { startClient, startServer, stopAll, tempDir, type LineProcess } from '../helpers/processes.js';
import { until } from '../helpers/wait.js';
import { NO_FLOOD_LIMIT } from '../helpers/processes.js';

let procs: LineProcess[] = [];
afterEach(async () => {
  for (const p of procs) if (p.exitCode === undefined) p.proc.kill('SIGCONT');
  await stopAll(...procs);
  procs = [];
});

const INTERVAL = 300;
const TIMEOUT = 1200;

describe('the client resumes its session', () => {
  it('frozen past the heartbeat timeout, then thawed: it comes back and prints what it missed, once, in order', async () => {
    const server = await startServer([
      '--workers',
      '2',
      '--no-web',
      '--heartbeat-interval',
      `${INTERVAL}ms`,
      '--heartbeat-timeout',
      `${TIMEOUT}ms`,
    ]);
    procs.push(server);
    const alice = await startClient(server.port, 'alice');
    const bob = await startClient(server.port, 'bob');
    procs.push(alice, bob);
    bob.send('/join #lab');
    await bob.waitFor(/^\* you are in #lab/);
    bob.send('/room #lobby');
    alice.proc.kill('SIGSTOP');
    bob.send('said while she was frozen');
    await bob.waitFor(/^<bob> said while she was frozen$/);
    await bob.waitFor(/^\* alice lost connection$/, 10_000);
    await server.waitFor(/^\* alice lost connection \(no heartbeat answer/);
    const missed = ['one', 'two', 'three', 'four', 'five'];
    for (const m of missed) bob.send(m);
    bob.send('/msg alice while you were away');
    await bob.waitFor(/^-> \*alice\* while you were away$/);
    alice.proc.kill('SIGCONT');
    await alice.waitFor(/^\* reconnected: \d+ missed messages?$/, 20_000);
    await bob.waitFor(/^\* alice is back$/);
    bob.send('live again');
    await alice.waitFor(/^<bob> live again$/);
    const shown = alice.lines.filter((l) => /^<bob> |^\*bob\* /.test(l));
    expect(shown).toEqual([
      '<bob> said while she was frozen',
      ...missed.map((m) => `<bob> ${m}`),
      '*bob* while you were away',
      '<bob> live again',
    ]);
    // She never left: no new login, no rooms joined again. Bob's own echo of his last line follows, in the
    // room's order, any notice of her joining or leaving.
    await bob.waitFor(/^<bob> live again$/);
    expect(alice.count(/^\* you are in #lobby/)).toBe(1);
    expect(bob.count(/alice (joined|left|timed out)/)).toBe(0);
  }, 60_000);

  it('back after the resume window: the session is gone, so it logs in anew and joins its rooms again', async () => {
    const server = await startServer([
      '--workers',
      '2',
      '--no-web',
      '--heartbeat-interval',
      `${INTERVAL}ms`,
      '--heartbeat-timeout',
      `${TIMEOUT}ms`,
      '--resume-window',
      '2s',
    ]);
    procs.push(server);
    const alice = await startClient(server.port, 'alice');
    const bob = await startClient(server.port, 'bob');
    procs.push(alice, bob);
    alice.send('/join #lab');
    await alice.waitFor(/^\* you are in #lab/);
    alice.proc.kill('SIGSTOP');
    await bob.waitFor(/^\* alice lost connection$/, 10_000);
    await bob.waitFor(/^\* alice timed out$/, 10_000);
    alice.proc.kill('SIGCONT');
    await alice.waitFor(/^\* cannot resume: no session has this token: .*; logging in again$/, 20_000);
    await alice.waitFor(/^\* reconnected to 127\.0\.0\.1:\d+ as alice$/);
    await alice.waitFor(/^\* you are in #lab/);
    await bob.waitFor(/^\* alice joined$/);
    await until(
      () => alice.count(/^\* you are in #lab/) === 2,
      10_000,
      () => alice.lines.join('\n'),
    );
  }, 60_000);

  for (const how of ['SIGKILL', 'SIGTERM'] as const) {
    it(`three clients chatting through a server restart (${how}): all resume; every echoed line reaches every receiver exactly once`, async () => {
      const port = await freePort();
      const data = tempDir('resume-data');
      // Without flood control: the lines go at the test's pace instead of queueing in the clients' pacers,
      // where the last ones would wait minutes behind the rest.
      const args = ['--workers', '2', '--no-web', '--port', String(port), '--data', data, ...NO_FLOOD_LIMIT];
      const first = await startServer(args);
      procs.push(first);
      const nicks = ['ann', 'ben', 'cat'];
      const clients: LineProcess[] = [];
      for (const n of nicks) clients.push(await startClient(port, n));
      procs.push(...clients);
      // Each says a numbered line every 20 ms (the pace of the test's traffic) while the server goes down and comes back.
      let stop = false;
      const talk = clients.map(async (c, i) => {
        for (let k = 1; !stop && k <= 5000; k++) {
          c.send(`${nicks[i]}-${k}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      });
      const echoed = (c: LineProcess, n: string) =>
        c.lines.filter((l) => l.startsWith(`<${n}> ${n}-`)).map((l) => l.slice(n.length + 3));
      const echoes = () => clients.map((c, i) => echoed(c, nicks[i]!).length);
      // Some of each one's lines are echoed before the server goes down...
      await until(
        () => echoes().every((n) => n >= 15),
        20_000,
        () => `echoes before the restart: ${echoes().join(', ')}`,
      );
      first.proc.kill(how);
      await first.exited;
      for (const c of clients) await c.waitFor(/reconnecting in \d/, 10_000);
      const second = await startServer(args);
      procs.push(second);
      for (const c of clients) await c.waitFor(/^\* reconnected: \d+ missed messages?$/, 40_000);
      // ...and more after it has come back.
      const atResume = echoes();
      await until(
        () => echoes().every((n, i) => n >= Math.max(31, atResume[i]! + 10)),
        20_000,
        () => `echoes after the restart: ${echoes().join(', ')} (${atResume.join(', ')} at the resume)`,
      );
      stop = true;
      await Promise.all(talk);
      // Quiet: each says a last line, and every client prints every sender's last line. A receiver's lines
      // from one sender come in that sender's order (one worker's requests, one store thread, one bus), so
      // once it has printed a sender's last line it has printed every earlier one it ever will, twice or not.
      for (const [i, c] of clients.entries()) c.send(`${nicks[i]}-end`);
      await until(
        () => clients.every((r) => nicks.every((n) => r.lines.includes(`<${n}> ${n}-end`))),
        20_000,
        () =>
          `last lines not printed everywhere:\n${clients.map((c) => `${c.name}: ${c.lines.slice(-5).join(' | ')}`).join('\n')}`,
      );
      for (const [i, sender] of clients.entries()) {
        const mine = echoed(sender, nicks[i]!);
        expect(mine.length, `${sender.name} saw few of its lines`).toBeGreaterThan(30);
        expect(new Set(mine).size).toBe(mine.length);
        for (const receiver of clients) {
          const got = receiver.lines
            .filter((l) => l.startsWith(`<${nicks[i]}> `))
            .map((l) => l.slice(nicks[i]!.length + 3));
          expect(new Set(got).size, `${receiver.name} printed a line of ${nicks[i]} twice`).toBe(got.length);
          const missing = mine.filter((m) => !got.includes(m));
          expect(missing, `${receiver.name} never printed these lines ${nicks[i]} saw echoed`).toEqual([]);
        }
      }
      for (const c of clients) expect(c.exitCode).toBeUndefined();
      console.log(
        `${how}: ${clients.map((c) => `${c.name} ${c.lines.find((l) => l.startsWith('* reconnected: '))}`).join('; ')}`,
      );
    }, 120_000);
  }
});
