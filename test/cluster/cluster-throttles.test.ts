/**
 * The wrong-password throttles across nodes (server/cluster/cluster-throttles.ts) on a real redis-server: what one
 * node books is told on the channel and written into the other node's records, so that a guesser's tries count
 * once whichever node they reach, a lock follows it, and a right password's forgetting does too.
 */
import { describe, expect, it } from 'vitest';
import { AuthThrottle, FREE_FAILURES, MapRecords } from '../../server/auth-throttle.js';
import { applyTold, publisher, throttleChannel, ToldRecords } from '../../server/cluster/cluster-throttles.js';
import { redisPerFile } from '../helpers/redis-server.js';
import { until } from '../helpers/wait.js';

const shared = redisPerFile();

/** A node: its records, its throttle over them (told to the others), and a listener writing what they tell. */
async function node(name: string, prefix: string) {
  const [link, listener] = [await shared.another(), await shared.another()];
  const local = new MapRecords();
  const told = new ToldRecords(local, 'nick', publisher(link, prefix), name);
  await listener.subscribe(throttleChannel(prefix), (m) =>
    applyTold(m, name, { nick: local, address: new MapRecords() }),
  );
  return { local, throttle: new AuthThrottle(told) };
}

describe('throttles told across nodes', () => {
  it("tries on one node count on the other; the other's next wrong try locks; a right one forgets on both", async () => {
    const [a, b] = [await node('a', 't1:'), await node('b', 't1:')];
    const now = Date.now();
    for (let i = 0; i < FREE_FAILURES; i++) expect(a.throttle.failed('gus', now)).toBe(0);
    await until(
      () => b.local.get('gus')?.failures === FREE_FAILURES,
      5000,
      () => `b has ${JSON.stringify(b.local.get('gus'))}`,
    );
    // The sixth try reaches b: it is the sixth, not b's first.
    expect(b.throttle.failed('gus', now + 1)).toBe(1000);
    await until(
      () => (a.local.get('gus')?.lockedUntil ?? 0) === now + 1 + 1000,
      5000,
      () => `a has ${JSON.stringify(a.local.get('gus'))}`,
    );
    expect(a.throttle.admit('gus', now + 2)).toMatchObject({ ok: false });
    a.throttle.succeeded('gus');
    await until(
      () => b.local.get('gus') === undefined,
      5000,
      () => `b still has ${JSON.stringify(b.local.get('gus'))}`,
    );
  });

  it('a told record older than the one a node has does not replace it; another cluster (prefix) hears nothing', async () => {
    const [a, b] = [await node('a', 't2:'), await node('b', 't2:')];
    const other = await node('c', 't3:');
    b.throttle.failed('hal', 2000);
    a.throttle.failed('hal', 1000); // older than b's: b keeps its own
    a.throttle.failed('marker', 3000);
    await until(
      () => b.local.get('marker') !== undefined,
      5000,
      () => 'marker not told',
    );
    expect(b.local.get('hal')).toMatchObject({ failures: 1, lastAt: 2000 });
    expect(other.local.get('marker')).toBeUndefined();
  });
});
