/** The IRC door's LazyMap (server/irc-door/lazy-map.ts): a Map only while it holds something. */
import { describe, expect, it } from 'vitest';
import { LazyMap } from '../../server/irc-door/lazy-map.js';

describe('LazyMap', () => {
  it('holds entries as a Map does, in insertion order, and lets its Map go when emptied', () => {
    const m = new LazyMap<number, string>();
    const inner = () => (m as unknown as { map: Map<number, string> | null }).map;
    expect([m.size, m.get(1), m.first(), m.entries(), m.delete(1), inner()]).toEqual([
      0,
      undefined,
      undefined,
      [],
      false,
      null,
    ]);
    m.set(2, 'b').set(1, 'a');
    expect([m.size, m.get(1), m.first(), m.entries()]).toEqual([
      2,
      'a',
      2,
      [
        [2, 'b'],
        [1, 'a'],
      ],
    ]);
    // Deleting while going through the entries is safe: they are a copy.
    for (const [k] of m.entries()) m.delete(k);
    expect([m.size, inner()]).toEqual([0, null]);
  });
});
