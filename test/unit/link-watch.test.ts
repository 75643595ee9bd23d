/** The judgement of a Redis link's watchdog (cluster/link-watch.ts), on a clock of the test's. */
import { describe, expect, it } from 'vitest';
import { LinkWatch } from '../../server/cluster/link-watch.js';

describe('LinkWatch', () => {
  it('probes a ready link, and lets one be while it connects or waits between attempts', () => {
    const w = new LinkWatch(2500);
    expect(w.tick(0, true)).toBe('probe');
    expect(w.tick(1000, false)).toBe('wait');
    expect(w.tick(60_000, false)).toBe('wait');
  });

  it('drops a connection whose handshake has no answer within the deadline, once, and not one that settled', () => {
    const w = new LinkWatch(2500);
    w.connected(10_000);
    expect(w.tick(12_499, false)).toBe('wait');
    expect(w.tick(12_500, false)).toBe('drop');
    expect(w.tick(13_500, false)).toBe('wait');
    w.connected(20_000);
    w.settled();
    expect(w.tick(30_000, false)).toBe('wait');
  });

  it('drops a link that Redis waits on nothing from, or that cannot be reached, saying so once an episode', () => {
    const w = new LinkWatch(2500);
    const first = w.judged(1000, 'silent');
    expect(first.drop).toBe(true);
    expect(first.say).toBe(
      'the Redis link is silent (no answer in 2.5s, while Redis answers a new connection): its connection is dropped and opened again',
    );
    expect(w.judged(5000, 'unreachable')).toEqual({ drop: true, say: null });
    expect(w.judged(9000, 'handshake')).toEqual({ drop: true, say: null });
    expect(w.answered(11_500)).toBe('the Redis link answers again (10.5s after it was found silent)');
    expect(w.answered(12_500)).toBeNull();
    // A new episode is said again.
    expect(w.judged(20_000, 'unreachable').say).toBe(
      'the Redis link is silent (no answer in 2.5s, nor on a new connection): its connection is dropped and opened again',
    );
  });

  it('keeps a link whose commands Redis holds (a pause, a long script): dropping it would lose them', () => {
    const w = new LinkWatch(2500);
    expect(w.judged(0, 'held')).toEqual({
      drop: false,
      say: "Redis holds this link's commands (no answer in 2.5s: paused, or busy with a script)",
    });
    expect(w.judged(3500, 'busy')).toEqual({ drop: false, say: null });
    // Found silent later in the same episode: the drop is said, once.
    expect(w.judged(7000, 'silent')).toEqual({
      drop: true,
      say: 'the Redis link is still silent: its connection is dropped and opened again',
    });
    expect(w.judged(10_500, 'silent').say).toBeNull();
    expect(w.answered(12_000)).toBe('the Redis link answers again (12.0s after it was found silent)');
  });

  it('says nothing when a link that never went silent answers', () => {
    expect(new LinkWatch().answered(5000)).toBeNull();
  });
});
