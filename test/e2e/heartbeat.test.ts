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

describe('heartbeats', () => {
  it('drops a client frozen with SIGSTOP after the timeout and before timeout + interval, and says so (its session waits to resume)', async () => {
    const server = await startServer(HB);
    const watcher = await startClient(server.port, 'watcher');
    const victim = await startClient(server.port, 'victim', ['--no-reconnect']);
    procs.push(server, watcher, victim);
    // Let a few heartbeats go by so that the victim has answered some.
    await new Promise((r) => setTimeout(r, 3 * INTERVAL));
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
    await watcher.waitFor('<sleeper> I was asleep');
    expect(watcher.lines.join('\n')).not.toMatch(/sleeper (timed out|left)/);
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
    await new Promise((r) => setTimeout(r, 3 * TIMEOUT + 2 * INTERVAL));
    a.send('after the stall');
    await b.waitFor('<a> after the stall');
    // Heartbeats resumed and were answered: still no drops a few intervals later.
    await new Promise((r) => setTimeout(r, TIMEOUT + INTERVAL));
    expect([...a.lines, ...b.lines, ...server.lines].join('\n')).not.toMatch(/timed out/);
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
