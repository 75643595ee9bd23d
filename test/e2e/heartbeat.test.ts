import { afterEach, describe, expect, it } from 'vitest';
import { LineProcess, startClient, startServer, stopAll } from '../helpers/processes.js';

const INTERVAL = 300;
const TIMEOUT = 1200;
const HB = ['--workers', '2', '--heartbeat-interval', `${INTERVAL}ms`, '--heartbeat-timeout', `${TIMEOUT}ms`];

let procs: Array<LineProcess | undefined> = [];
afterEach(async () => {
  for (const p of procs) if (p && p.exitCode === undefined) p.proc.kill('SIGCONT');
  await stopAll(...procs);
  procs = [];
});

/** Polls the server's /list until `nick` has an RTT: it has answered at least one heartbeat. */
async function answeredHeartbeat(server: LineProcess, nick: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const from = server.lines.length;
    server.send('/list');
    await server.waitFor(/^\d+ sessions?$/, 5000, from);
    const row = server.lines.slice(from).find((l) => l.startsWith(`${nick} `));
    const rtt = row?.split(/\s{2,}/)[4];
    if (rtt !== undefined && /^\d+(\.\d+)?ms$/.test(rtt)) return;
    if (Date.now() > deadline) throw new Error(`${nick} answered no heartbeat within 10 s: ${row ?? 'not listed'}`);
    await new Promise((r) => setTimeout(r, INTERVAL / 3));
  }
}

describe('heartbeats', () => {
  it('drops a client frozen with SIGSTOP after the timeout and before timeout + interval, and says so (its session waits to resume)', async () => {
    const server = await startServer(HB);
    const watcher = await startClient(server.port, 'watcher');
    const victim = await startClient(server.port, 'victim', ['--no-reconnect']);
    procs.push(server, watcher, victim);
    // Until the victim has answered a heartbeat (its RTT in /list), so that none is left from before it
    // answered to start the timeout's clock early.
    await answeredHeartbeat(server, 'victim');
    const stoppedAt = Date.now();
    victim.proc.kill('SIGSTOP');
    await watcher.waitFor('* victim lost connection', 10_000);
    const elapsed = Date.now() - stoppedAt;
    console.log(`SIGSTOP → "lost connection" notice after ${elapsed}ms (timeout ${TIMEOUT}ms, interval ${INTERVAL}ms)`);
    // The last heartbeat it answered may have been sent just before the stop: allow a little slack below.
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT - 100);
    expect(elapsed).toBeLessThanOrEqual(TIMEOUT + INTERVAL + 1000);
    await server.waitFor(/^\* victim lost connection \(no heartbeat answer/);
    // The frozen client, once thawed, finds its connection gone.
    victim.proc.kill('SIGCONT');
    expect(await victim.exit()).toBe(3);
    // The watcher's own line is the marker: notices and chat pass the store thread in one order, so a
    // second notice about the victim posted before this line reaches the watcher before its echo.
    watcher.send('marker');
    await watcher.waitFor('<watcher> marker');
    expect(watcher.count(/victim lost connection/)).toBe(1);
    expect(watcher.count(/victim timed out/)).toBe(0); // that comes at the end of the resume window
  });

  it('does not drop a client whose main thread is blocked longer than the timeout', async () => {
    const server = await startServer(HB);
    const watcher = await startClient(server.port, 'watcher');
    const sleeper = await startClient(server.port, 'sleeper');
    procs.push(server, watcher, sleeper);
    sleeper.send(`/sleep ${3 * TIMEOUT}ms`);
    await sleeper.waitFor('* main thread blocked');
    await sleeper.waitFor('* main thread awake again', 3 * TIMEOUT + 5000);
    sleeper.send('I was asleep');
    // A drop would have been told (lost connection, then back on resuming) before this line, in the room's order.
    await watcher.waitFor('<sleeper> I was asleep');
    await sleeper.waitFor('<sleeper> I was asleep'); // after any line of its own about a lost connection
    expect(watcher.lines.join('\n')).not.toMatch(/sleeper (lost connection|is back|timed out|left)/);
    expect(sleeper.lines.join('\n')).not.toMatch(/reconnect|connection lost/);
  });

  it('does not drop clients because a server worker was stalled longer than the timeout', async () => {
    const server = await startServer(HB);
    // The clients are told to be patient with a silent server: this test is about the server's judgement.
    const a = await startClient(server.port, 'a', ['--server-timeout', '30s']);
    const b = await startClient(server.port, 'b', ['--server-timeout', '30s']);
    procs.push(server, a, b);
    server.send(`/stall-worker 0 ${3 * TIMEOUT}ms`);
    server.send(`/stall-worker 1 ${3 * TIMEOUT}ms`);
    await server.waitFor('worker 1 stalled');
    // Said during the stall, it arrives once both workers are running again.
    a.send('after the stall');
    await b.waitFor('<a> after the stall', 3 * TIMEOUT + 10_000);
    // Heartbeats resumed and were answered: still no drops a timeout and an interval later (on purpose: a
    // wrong judgement of the stall would drop someone within that time).
    await new Promise((r) => setTimeout(r, TIMEOUT + INTERVAL));
    // The marker: a drop would have been told to the room (lost connection) before a's next line.
    a.send('still here');
    await b.waitFor('<a> still here');
    await a.waitFor('<a> still here');
    const drops = /lost connection|timed out|reconnect/;
    expect([...a.lines, ...b.lines, ...server.lines].join('\n')).not.toMatch(drops);
    server.send('/stats');
    await server.waitFor(/stall credit [1-9]\d*ms/);
  });

  it('the client reports a server that stops sending heartbeats and exits non-zero', async () => {
    const server = await startServer(HB);
    const c = await startClient(server.port, 'c', ['--no-reconnect']);
    procs.push(server, c);
    server.proc.kill('SIGSTOP');
    try {
      await c.waitFor(/^connection lost: nothing from the server for/, 10_000);
      expect(await c.exit()).toBe(3);
    } finally {
      server.proc.kill('SIGCONT');
    }
  });
});
