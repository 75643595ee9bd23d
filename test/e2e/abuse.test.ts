/**
 * One anonymous user must not take the server down: each scenario of the
 * issue, small enough for CI, with its figures printed. The full-size runs
 * are `npm run bench -- --suite abuse`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { until } from '../helpers/wait.js';
import { NO_FLOOD_LIMIT, startServer, stopAll, type LineProcess, type ServerHandle } from '../helpers/processes.js';

/** Why the server closed connections, counted from its log (a client that does not read never sees its ERROR). */
function dropsInLog(server: ServerHandle): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of readFileSync(server.logFile, 'utf8').matchAll(/"code":"([A-Z_]+)"[^\n]*"msg":"closing connection/g)) counts[m[1]!] = (counts[m[1]!] ?? 0) + 1;
  return counts;
}
import { floodScenario, memoryScenario } from '../helpers/abuse.js';

let procs: LineProcess[] = [];
afterEach(async () => {
  await stopAll(...procs);
  procs = [];
});

describe('abuse by one client', () => {
  it('a flooder is throttled to the flood policy, then dropped with FLOOD; honest clients are neither slowed nor dropped', async () => {
    const server = await startServer(['--workers', '2', '--no-web']);
    procs.push(server);
    const r = await floodScenario(server.port, { honest: 20, size: 100, durationMs: 4000 });
    console.log('flood:', JSON.stringify(r));
    expect(r.flooderError).toBe('FLOOD');
    expect(r.flooderClosedAfterMs).not.toBeNull();
    // What got through is the burst and what the rate earns meanwhile (20 + 5/s), not the thousands sent.
    expect(r.flooderSent).toBeGreaterThan(200);
    expect(r.flooderDelivered).toBeLessThanOrEqual(20 + 5 * Math.ceil(r.flooderClosedAfterMs! / 1000) + 5);
    expect(r.honestDropped).toBe(0);
    // Generous: on loopback an echo takes about a millisecond; before flood control a flood made it 55-285 ms.
    expect(r.honestP99Ms).toBeLessThan(250);
  }, 30_000);

  it('clients that stop reading cost bounded memory: shared frames, a small send queue, and the memory comes back', async () => {
    // Output memory, not flood control, is under test: the senders may send as fast as a busy room would need.
    const server = await startServer(['--workers', '2', '--no-web', ...NO_FLOOD_LIMIT]);
    procs.push(server);
    // On loopback the kernel takes up to ~4 MiB for a client that does not read (the server's send buffer
    // grows to tcp_wmem's maximum) before anything waits in the server: 1.6 MB/s to each for 8 s is past that.
    const r = await memoryScenario(server.port, server.proc.pid!, { nonReaders: 100, senders: 10, perSecond: 20, size: 8000, durationMs: 8000, settleMs: 45_000 });
    console.log('memory:', JSON.stringify(r), 'dropped in the log:', JSON.stringify(dropsInLog(server)));
    // Before: each stalled client held its own copy of up to 4 MiB (1,200 of them took 3.6 GiB).
    expect(r.rssPeakMiB - r.rssBeforeMiB).toBeLessThan(200);
    expect(r.nonReadersDropped).toBe(100);
    expect(dropsInLog(server).SEND_QUEUE_FULL).toBe(100);
    expect(r.sendersDropped).toBe(0);
    expect(r.rssAfterMiB).toBeLessThan(r.rssBeforeMiB + (r.rssPeakMiB - r.rssBeforeMiB) / 2 + 1);
  }, 120_000);

  it('past the output budget the slowest readers are dropped first, never the ones that keep up', async () => {
    // Each client may queue as much as all of them together, 8 MiB: the budget is what drops them.
    const server = await startServer(['--workers', '1', '--no-web', '--max-output', '8MiB', '--max-sendq', '8MiB', ...NO_FLOOD_LIMIT]);
    procs.push(server);
    const r = await memoryScenario(server.port, server.proc.pid!, { nonReaders: 20, senders: 10, perSecond: 20, size: 8000, durationMs: 8000, settleMs: 0 });
    console.log('budget:', JSON.stringify(r), 'dropped in the log:', JSON.stringify(dropsInLog(server)));
    expect(r.nonReadersDropped).toBe(20);
    expect(r.sendersDropped).toBe(0);
    const budgetDrops = () => readFileSync(server.logFile, 'utf8').match(/"msg":"closing connection: the server's output budget \(8388608 bytes\) is spent/g)?.length ?? 0;
    // All but perhaps the last: alone, it reaches its own queue's limit (the same 8 MiB) as soon as the budget's.
    await until(() => budgetDrops() >= 19, 5000, () => `${budgetDrops()} drops for the output budget in the log, not 19 or 20`);
  }, 60_000);
});
