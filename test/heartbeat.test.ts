import { describe, expect, it } from 'vitest';
import { HeartbeatTracker, LoopStallMeter } from '../server/heartbeat.js';

const policy = { intervalMs: 1000, timeoutMs: 3000 };

describe('heartbeat tracker (fake clock)', () => {
  it('sends on schedule and measures RTT from the echoed timestamp', () => {
    const hb = new HeartbeatTracker(policy, 0, 10_000);
    expect(hb.poll(999, 10_999)).toBeNull();
    expect(hb.poll(1000, 11_000)).toEqual({ kind: 'send', seq: 1, ts: 11_000 });
    expect(hb.poll(1001, 11_001)).toBeNull();
    expect(hb.answer(1, 11_000, 11_002.5)).toBe(2.5);
    expect(hb.outstanding).toBe(0);
    expect(hb.answer(1, 11_000, 11_003)).toBeNull(); // duplicate answer
    expect(hb.answer(99, 0, 11_003)).toBeNull(); // never sent
  });

  it('times out exactly when the oldest unanswered heartbeat is timeoutMs old', () => {
    const hb = new HeartbeatTracker(policy, 0, 0);
    let firstUnanswered = -1;
    for (let t = 0; t <= 10_000; t += 10) {
      const a = hb.poll(t, t);
      if (a?.kind === 'send' && firstUnanswered < 0) firstUnanswered = t;
      if (a?.kind === 'timeout') {
        expect(t).toBe(firstUnanswered + policy.timeoutMs);
        return;
      }
    }
    throw new Error('never timed out');
  });

  it('an answer to a later heartbeat also answers the earlier ones', () => {
    const hb = new HeartbeatTracker(policy, 0, 0);
    hb.poll(1000, 1000);
    hb.poll(2000, 2000);
    expect(hb.outstanding).toBe(2);
    hb.answer(2, 2000, 2001);
    expect(hb.outstanding).toBe(0);
    expect(hb.poll(3999, 3999)?.kind).toBe('send');
  });

  it('keeps answering peers alive indefinitely', () => {
    const hb = new HeartbeatTracker(policy, 0, 0);
    for (let t = 0; t < 60_000; t += 50) {
      const a = hb.poll(t, t);
      expect(a?.kind).not.toBe('timeout');
      if (a?.kind === 'send') hb.answer(a.seq, a.ts, t + 5);
    }
  });
});

describe('loop stall meter', () => {
  it('takes a stall out of awake time, ignores jitter within tolerance', () => {
    const m = new LoopStallMeter(100, 0, 20);
    expect(m.tick(110)).toBe(110); // 10ms late: jitter
    expect(m.tick(5210)).toBe(210); // 5s blocked: credited
    expect(m.totalStallMs).toBe(5000);
    expect(m.takeMaxLate()).toBe(5000);
    expect(m.takeMaxLate()).toBe(0);
  });

  it('a server stalled longer than the timeout does not time out a client whose answer was queued', () => {
    const m = new LoopStallMeter(100, 0);
    const hb = new HeartbeatTracker(policy, m.tick(0), 0);
    let t = 0;
    let pending: { seq: number; ts: number } | null = null;
    for (; t <= 1000; t += 100) {
      const a = hb.poll(m.tick(t), t);
      if (a?.kind === 'send') pending = a;
    }
    // The loop blocks for 10 s right after sending heartbeat 1; the answer sits in the socket buffer.
    t += 10_000;
    const awake = m.tick(t);
    expect(hb.poll(awake, t)).toBeNull();
    expect(hb.answer(pending!.seq, pending!.ts, t)).not.toBeNull();
  });
});
