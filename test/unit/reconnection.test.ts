/** When the client tries again after a lost connection, and what it keeps meanwhile. */
import { describe, expect, it } from 'vitest';
import { MAX_HELD, MAX_RETRY_MS, Reconnection } from '../../client/reconnection.js';

describe('Reconnection', () => {
  it('waits 0.5 s, doubling to 30 s, with ±20 % jitter; starts again once back', () => {
    const mid = new Reconnection(() => 0.5);
    expect(Array.from({ length: 9 }, () => mid.nextDelay())).toEqual([
      500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
    const low = new Reconnection(() => 0);
    const high = new Reconnection(() => 0.999999);
    expect([low.nextDelay(), high.nextDelay()]).toEqual([400, 600]);
    for (let i = 0; i < 40; i++) expect(high.nextDelay()).toBeLessThanOrEqual(MAX_RETRY_MS * 1.2);
    mid.back(true, 'h:1 as a', () => []);
    expect(mid.nextDelay()).toBe(500);
  });

  it('keeps at most MAX_HELD lines, hands them over once', () => {
    const r = new Reconnection();
    for (let i = 0; i < MAX_HELD; i++) expect(r.hold({ type: 'CHAT', text: `${i}`, action: false })).toBe(true);
    expect(r.hold({ type: 'CHAT', text: 'one too many', action: false })).toBe(false);
    const rejoin = [{ type: 'JOIN', room: '#lab' } as const];
    const back = r.back(false, '127.0.0.1:7000 as alice', () => rejoin);
    expect(back.line).toBe(`* reconnected to 127.0.0.1:7000 as alice; sending the ${MAX_HELD} lines typed meanwhile`);
    expect(back.send).toHaveLength(MAX_HELD + 1);
    expect(back.send[0]).toEqual(rejoin[0]);
    // Resumed: the server kept the rooms, so nothing to rejoin, and nothing held twice.
    expect(r.back(true, '127.0.0.1:7000 as alice', () => rejoin)).toEqual({ line: '* session resumed', send: [] });
  });
});
