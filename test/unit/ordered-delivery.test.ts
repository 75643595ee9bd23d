/** Each conversation's messages in id order on every node (server/cluster/ordered-delivery.ts), on a fake clock. */
import { describe, expect, it } from 'vitest';
import type { BusBatch } from '../../server/cluster/bus-ops.js';
import { OrderedDelivery } from '../../server/cluster/ordered-delivery.js';

function gate(gapWaitMs = 500, known = new Map([['r', 4]])) {
  const out: string[] = [];
  let now = 0;
  let timers: Array<{ at: number; fn: () => void }> = [];
  const clock = {
    now: () => now,
    after: (ms: number, fn: () => void) => {
      const t = { at: now + ms, fn };
      timers.push(t);
      return () => (timers = timers.filter((x) => x !== t));
    },
  };
  const d = new OrderedDelivery((b) => out.push(name(b)), clock, gapWaitMs, known);
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers.filter((x) => x.at <= now)) {
      timers = timers.filter((x) => x !== t);
      t.fn();
    }
  };
  return { d, out, advance, pending: () => timers.length };
}

const batch = (node: string, ...ids: Array<[string, number]>): BusBatch => ({ node, ids, ops: [] });
const name = (b: BusBatch) => `${b.node}:${b.ids.map(([c, i]) => `${c}${i}`).join(',') || '-'}`;

describe('OrderedDelivery', () => {
  it('batches in order go at once, from where each conversation stood at the start (a new one from 1); notices pass', () => {
    const { d, out, pending } = gate();
    d.push(batch('a', ['r', 4]));
    d.push(batch('b', ['r', 5], ['r', 6]));
    d.push(batch('b'));
    d.push(batch('a', ['s', 1]));
    // Stored before the start, posted after: it goes as it comes.
    d.push(batch('c', ['r', 2]));
    expect(out).toEqual(['a:r4', 'b:r5,r6', 'b:-', 'a:s1', 'c:r2']);
    expect(pending()).toBe(0);
  });

  it('a new conversation waits for its first id, whichever node read it first', () => {
    const { d, out } = gate();
    d.push(batch('b', ['new', 2]));
    expect(out).toEqual([]);
    d.push(batch('a', ['new', 1]));
    expect(out).toEqual(['a:new1', 'b:new2']);
  });

  it("another node's id read before the one it follows waits for it, then both go in id order", () => {
    const { d, out, pending } = gate();
    d.push(batch('a', ['r', 4]));
    d.push(batch('b', ['r', 6]));
    expect(out).toEqual(['a:r4']);
    expect(d.waiting).toBe(1);
    d.push(batch('a', ['r', 5]));
    expect(out).toEqual(['a:r4', 'a:r5', 'b:r6']);
    expect(pending()).toBe(0);
    expect(d.counts).toMatchObject({ held: 1, gapsPassed: 0 });
  });

  it("one node's batches keep their order while one of them waits; other nodes' in order go ahead", () => {
    const { d, out } = gate();
    d.push(batch('a', ['r', 4]));
    d.push(batch('b', ['r', 6]));
    d.push(batch('b', ['s', 1]));
    d.push(batch('c', ['t', 1]));
    expect(out).toEqual(['a:r4', 'c:t1']);
    d.push(batch('a', ['r', 5]));
    expect(out).toEqual(['a:r4', 'c:t1', 'a:r5', 'b:r6', 'b:s1']);
  });

  it('a gap that never fills (its node died before it posted) is passed over after the wait, and counted', () => {
    const { d, out, advance } = gate(500);
    d.push(batch('a', ['r', 4]));
    d.push(batch('b', ['r', 6]));
    d.push(batch('c', ['x', 1]));
    advance(499);
    expect(out).toEqual(['a:r4', 'c:x1']);
    advance(1);
    expect(out).toEqual(['a:r4', 'c:x1', 'b:r6']);
    expect(d.counts.gapsPassed).toBe(1);
    // It goes on from there; the lost id arriving after all (late) still goes, rather than nowhere.
    d.push(batch('b', ['r', 7]));
    d.push(batch('a', ['r', 5]));
    expect(out.slice(3)).toEqual(['b:r7', 'a:r5']);
  });
});
