import { describe, expect, it } from 'vitest';
import { PendingPool } from '../../server/chat/pending-pool.js';

/** A pool on a clock the test moves, and what each place was told when it was evicted. */
function pool(capacity: number) {
  let t = 0;
  const told = new Map<string, string>();
  const logged: Array<Record<string, unknown>> = [];
  const p = new PendingPool(
    capacity,
    () => t,
    (detail) => logged.push(detail),
  );
  const take = (address: string, name = address) => {
    t += 10;
    return p.take(address, (why) => told.set(name, why));
  };
  return { p, told, take, logged };
}

describe('PendingPool', () => {
  it('takes places until it is full, then evicts the oldest of the busiest prefix (not the oldest overall)', () => {
    const { p, told, take } = pool(5);
    take('10.0.0.1', 'small-oldest');
    take('192.0.2.1', 'busy-1');
    take('192.0.2.77', 'busy-2');
    take('192.0.2.200', 'busy-3');
    take('10.0.0.2', 'small-2');
    expect(p.size).toBe(5);
    expect(told.size).toBe(0);
    take('198.51.100.9', 'newcomer');
    expect(p.size).toBe(5);
    expect([...told.keys()]).toEqual(['busy-1']);
    expect(told.get('busy-1')).toBe(
      "no HELLO after 40ms, and its place was needed: this worker's 5 places for connections that have not said HELLO are all taken, 3 of them from 192.0.2.0/24, the most of any network",
    );
    // 192.0.2.0/24 and 10.0.0.0/24 hold two each now: of equals, the one whose oldest is older.
    take('203.0.113.1', 'next');
    expect([...told.keys()]).toEqual(['busy-1', 'small-oldest']);
  });

  it('counts IPv6 addresses by their /64 and IPv4 clients of a dual-stack socket as IPv4', () => {
    const { p, told, take } = pool(3);
    take('2001:db8:0:1::5', 'v6-a');
    take('::ffff:192.0.2.1', 'mapped');
    take('2001:db8:0:1:ffff::9', 'v6-b');
    expect(p.victim()).toMatchObject({ prefix: '2001:db8:0:1::/64', address: '2001:db8:0:1::5' });
    take('192.0.2.2', 'v4');
    expect([...told.keys()]).toEqual(['v6-a']);
    expect(p.victim()).toMatchObject({ prefix: '192.0.2.0/24', address: '::ffff:192.0.2.1' });
  });

  it('a place given back frees it once; an evicted place given back again is nothing', () => {
    const { p, told, take } = pool(2);
    const a = take('192.0.2.1', 'a');
    take('192.0.2.2', 'b');
    p.release(a);
    p.release(a);
    expect(p.size).toBe(1);
    take('198.51.100.1', 'c');
    expect(told.size).toBe(0);
    take('198.51.100.2', 'd');
    expect([...told.keys()]).toEqual(['b']);
    expect(p.size).toBe(2);
    expect(p.places().map((x) => x.address)).toEqual(['198.51.100.1', '198.51.100.2']);
  });

  it('evictions are logged 20 a minute at most, the next line saying how many were left out', () => {
    const { take, told, logged } = pool(1);
    for (let i = 0; i < 31; i++) take(`192.0.2.${i}`, `n${i}`);
    expect(told.size).toBe(30);
    expect(logged).toHaveLength(20);
    expect(logged[0]).toEqual({ address: '192.0.2.0', prefix: '192.0.2.0/24', held: 1, suppressed: 0 });
  });

  it('a place handed to another holder is evicted through the new one', () => {
    const { p, take } = pool(1);
    const place = take('192.0.2.1');
    const evicted: string[] = [];
    place.evict = (why) => evicted.push(why);
    take('192.0.2.2');
    expect(evicted).toHaveLength(1);
    expect(p.size).toBe(1);
  });
});
