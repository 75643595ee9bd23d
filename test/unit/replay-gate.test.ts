/** The worker's side of a replay, without sockets: parts go out, live frames wait behind them, the next part is asked for as the backlog drains. */
import { describe, expect, it } from 'vitest';
import { REPLAY_STALL_MS, ReplayGate } from '../../server/chat/replay-gate.js';

function world(maxBytes = 4000) {
  const sent: string[] = [];
  const failed: string[] = [];
  let queued = 0;
  let asked = 0;
  let now = 0;
  const gate = new ReplayGate(
    {
      send: (f) => void sent.push(f.toString()),
      get queuedBytes() {
        return queued;
      },
      fail: (code) => void failed.push(code),
    },
    () => asked++,
    maxBytes,
    () => now,
  );
  return {
    gate,
    sent,
    failed,
    setQueued: (b: number) => (queued = b),
    asked: () => asked,
    advance: (ms: number) => (now += ms),
  };
}

const b = (s: string) => Buffer.from(s);

describe('ReplayGate', () => {
  it('sends live frames at once when no replay runs; during one, holds them until the last part, then sends them in order', () => {
    const w = world();
    w.gate.deliver(b('before'));
    w.gate.begin();
    w.gate.deliver(b('live1'));
    w.gate.part([b('missed1'), b('missed2')], false);
    w.gate.deliver(b('live2'));
    w.gate.part([b('missed3'), b('RESUMED')], true);
    w.gate.deliver(b('after'));
    expect(w.sent).toEqual(['before', 'missed1', 'missed2', 'missed3', 'RESUMED', 'live1', 'live2', 'after']);
    expect(w.gate.active).toBe(false);
  });

  it('asks for the next part only once less than a quarter of the bound waits', () => {
    const w = world(4000);
    w.gate.begin();
    w.setQueued(3000);
    w.gate.part([b('p1')], false);
    expect(w.asked()).toBe(0);
    w.gate.drained(1500);
    expect(w.asked()).toBe(0);
    w.gate.drained(900);
    expect(w.asked()).toBe(1);
    w.gate.drained(0); // asked already: once per part
    expect(w.asked()).toBe(1);
    w.setQueued(0);
    w.gate.part([b('p2')], false);
    expect(w.asked()).toBe(2);
  });

  it('drops the client when live frames held during a replay outgrow the bound, and says when a part stopped coming', () => {
    const w = world(10);
    w.gate.begin();
    w.gate.deliver(b('12345678901'));
    expect(w.failed).toEqual(['SEND_QUEUE_FULL']);
    const s = world();
    s.gate.begin();
    s.advance(REPLAY_STALL_MS);
    expect(s.gate.stalled()).toBe(false);
    s.advance(1);
    expect(s.gate.stalled()).toBe(true);
    s.gate.part([], true);
    expect(s.gate.stalled()).toBe(false);
  });
});
