import { describe, expect, it } from 'vitest';
import { TICKETS_PER_SESSION, TICKET_TTL_MS, TicketTable } from '../../server/shm/ticket-table.js';

describe('the ticket table', () => {
  it('a ticket works once, for its op and name only', () => {
    const t = TicketTable.create(4);
    const issued = t.issue('get', 'a.txt', 'alice', 1000, 1);
    if (typeof issued === 'string') throw new Error(issued);
    expect(t.consume(issued.ticket, 'get', 'b.txt', 1001)).toMatchObject({ ok: false });
    expect(t.consume(issued.ticket, 'get', 'a.txt', 1001)).toEqual({ ok: true, nick: 'alice' });
    expect(t.consume(issued.ticket, 'get', 'a.txt', 1002)).toMatchObject({ ok: false, reason: 'unknown or already used ticket' });
  });

  it(`one session holds at most ${TICKETS_PER_SESSION} unused tickets; using one or their expiry gives room`, () => {
    const t = TicketTable.create(64);
    const mine = Array.from({ length: TICKETS_PER_SESSION }, (_, i) => t.issue('get', `f${i}`, 'mallory', 0, 7));
    expect(mine.every((x) => typeof x === 'object')).toBe(true);
    expect(t.issue('get', 'more', 'mallory', 0, 7)).toBe('limit');
    expect(typeof t.issue('get', 'yours', 'bob', 0, 8)).toBe('object'); // others are not held back
    const first = mine[0] as { ticket: string };
    expect(t.consume(first.ticket, 'get', 'f0', 1)).toMatchObject({ ok: true });
    expect(typeof t.issue('get', 'more', 'mallory', 2, 7)).toBe('object');
    expect(t.issue('get', 'again', 'mallory', 3, 7)).toBe('limit');
    expect(typeof t.issue('get', 'later', 'mallory', TICKET_TTL_MS + 10, 7)).toBe('object');
  });

  it('never takes a slot another issuer is still writing, however old its expiry (the race between two workers)', () => {
    const t = TicketTable.create(2);
    const a = t.issue('get', 'a', 'alice', 0, 1);
    if (typeof a === 'string') throw new Error(a);
    // Slot 0 as another worker leaves it between its claim and its last store: WRITING, with the old ticket's expiry.
    Atomics.store(t.i32, 0, -1);
    const now = TICKET_TTL_MS * 2; // the old expiry has passed
    const b = t.issue('get', 'b', 'bob', now, 2);
    const c = t.issue('get', 'c', 'carol', now, 3);
    expect(typeof b).toBe('object');
    expect(c).toBe('busy'); // slot 1 went to bob; slot 0 is someone else's until they finish
    expect(Atomics.load(t.i32, 0)).toBe(-1);
  });
});
