import { describe, expect, it } from 'vitest';
import { HeartbeatTracker, LoopStallMeter } from '../../server/chat/heartbeat.js';

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

  it('does not start the answer clock while the heartbeat waits behind a backlog the peer is reading', () => {
    const hb = new HeartbeatTracker(policy, 0, 0);
    // 1 MB queued ahead of the heartbeat; the kernel takes 10 kB every 100 ms: 10 s to reach it.
    const backlog = 1_000_000;
    let seq = -1;
    let t = 1000;
    for (; t <= 20_000; t += 100) {
      const taken = Math.min(backlog, (t - 1000) * 100);
      const a = hb.poll(t, t, { accepted: backlog, taken });
      expect(a?.kind).not.toBe('timeout');
      if (a?.kind === 'send' && seq < 0) seq = a.seq;
      if (taken === backlog) break;
    }
    expect(seq).toBe(1);
    expect(t).toBe(11_000);
    // The kernel now has it: the peer gets the full timeout from the last movement, not more.
    let timedOutAt = -1;
    for (let u = t + 100; u <= t + 10_000 && timedOutAt < 0; u += 100) {
      if (hb.poll(u, u, { accepted: backlog, taken: backlog })?.kind === 'timeout') timedOutAt = u;
    }
    expect(timedOutAt).toBe(t + policy.timeoutMs);
  });

  it('times out a peer whose stream stopped moving, however much is still queued', () => {
    const hb = new HeartbeatTracker(policy, 0, 0);
    const out = { accepted: 5_000_000, taken: 200_000 };
    expect(hb.poll(1000, 1000, out)?.kind).toBe('send');
    // Frozen: its kernel buffers are full, nothing more is taken.
    for (let t = 1100; t < 4000; t += 100) expect(hb.poll(t, t, out)?.kind).not.toBe('timeout');
    expect(hb.poll(4000, 4000, out)?.kind).toBe('timeout');
  });

  it('a heartbeat already in the kernel keeps its clock while later bytes drain', () => {
    const hb = new HeartbeatTracker(policy, 0, 0);
    expect(hb.poll(1000, 1000, { accepted: 100, taken: 100 })?.kind).toBe('send');
    // Chat queued after the heartbeat keeps moving; that is no answer to it.
    for (let t = 1100; t < 4000; t += 100)
      expect(hb.poll(t, t, { accepted: 100 + t * 10, taken: 100 + (t - 100) * 10 })?.kind).not.toBe('timeout');
    expect(hb.poll(4000, 4000, { accepted: 50_000, taken: 40_000 })?.kind).toBe('timeout');
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
