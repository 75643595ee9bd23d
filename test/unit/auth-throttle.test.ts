/** Guessing slowed per address, memory bounded, and a log budget: the pure parts, on a clock the test holds. */
import { describe, expect, it } from 'vitest';
import {
  MapRecords,
  AuthThrottle,
  FREE_FAILURES,
  LOG_PER_MINUTE,
  LogBudget,
  MAX_LOCK_MS,
} from '../../server/auth-throttle.js';

describe('AuthThrottle', () => {
  it('lets the first tries through, then locks an address out for longer each time, up to the cap', () => {
    const t = new AuthThrottle();
    let now = 1_000_000;
    for (let i = 0; i < FREE_FAILURES; i++) expect(t.failed('10.0.0.1', now)).toBe(0);
    const locks: number[] = [];
    for (let i = 0; i < 10; i++) {
      const lock = t.failed('10.0.0.1', now);
      locks.push(lock);
      expect(t.admit('10.0.0.1', now + lock - 1)).toEqual({ ok: false, retryAfterMs: 1 });
      now += lock;
      expect(t.admit('10.0.0.1', now).ok).toBe(true);
    }
    expect(locks).toEqual([1000, 2000, 4000, 8000, 16000, 32000, MAX_LOCK_MS, MAX_LOCK_MS, MAX_LOCK_MS, MAX_LOCK_MS]);
    // Others are not affected, and a success forgets the address.
    expect(t.admit('10.0.0.2', now).ok).toBe(true);
    t.succeeded('10.0.0.1');
    expect(t.failed('10.0.0.1', now)).toBe(0);
  });

  it('remembers at most its capacity of addresses', () => {
    const t = new AuthThrottle(new MapRecords(100));
    for (let i = 0; i < 1000; i++) t.failed(`10.0.${i >> 8}.${i & 255}`, i);
    expect(t.size).toBe(100);
  });
});

describe('LogBudget', () => {
  it('logs a minute’s budget, then counts what it leaves out and says so on the next line', () => {
    const b = new LogBudget();
    const logged = Array.from({ length: 1000 }, (_, i) => b.take(i)).filter((x) => x !== null);
    expect(logged).toHaveLength(LOG_PER_MINUTE);
    expect(b.take(60_000)).toEqual({ suppressed: 1000 - LOG_PER_MINUTE });
  });
});

describe('SharedThrottleRecords', () => {
  it('books an address once across the workers: five free tries in all, not five each', async () => {
    const { SharedThrottleRecords } = await import('../../server/shm/shared-throttle.js');
    const table = SharedThrottleRecords.create(64);
    const w0 = new AuthThrottle(new SharedThrottleRecords(table.buffer));
    const w1 = new AuthThrottle(new SharedThrottleRecords(table.buffer));
    const wrong = () => 'wrong' as const;
    const locks = Array.from(
      { length: FREE_FAILURES + 1 },
      (_, i) => ((i % 2 ? w1 : w0).attempt('10.0.0.9', 1000, wrong) as { lockMs: number }).lockMs,
    );
    expect(locks).toEqual([0, 0, 0, 0, 0, 1000]);
    expect(w1.attempt('::ffff:10.0.0.9', 1500, wrong)).toEqual({ outcome: 'locked', retryAfterMs: 500 });
    expect(w0.attempt('10.0.0.10', 1500, wrong)).toEqual({ outcome: 'wrong', lockMs: 0 }); // another address is not touched
    w1.succeeded('10.0.0.9');
    expect(w0.admit('10.0.0.9', 1500)).toEqual({ ok: true });
  });

  it('stays within its capacity: the record that failed longest ago goes', async () => {
    const { SharedThrottleRecords } = await import('../../server/shm/shared-throttle.js');
    const records = SharedThrottleRecords.create(64);
    const t = new AuthThrottle(records);
    for (let i = 0; i < 1000; i++) t.failed(`10.1.${i >> 8}.${i & 255}`, i);
    expect(records.size).toBeLessThanOrEqual(64);
    expect(records.get('10.1.3.231')).toMatchObject({ failures: 1, lastAt: 999 }); // the newest is kept
  });
});
