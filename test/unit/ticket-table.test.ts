import { describe, expect, it } from 'vitest';
import { TicketTable } from '../../server/shm/ticket-table.js';
import { TICKETS_PER_SESSION, TICKET_TTL_MS } from '../../server/shm/ticket-limits.js';
import { RESUME_ACROSS_RESTART_MS } from '../../server/shm/ticket-signature.js';

describe('the ticket table', () => {
  it('a ticket works once, for its op and name only', () => {
    const t = TicketTable.create(4);
    const issued = t.issue('get', 'a.txt', 'alice', 1000, 1);
    if (typeof issued === 'string') throw new Error(issued);
    expect(t.consume(issued.ticket, 'get', 'b.txt', 1001)).toMatchObject({ ok: false });
    expect(t.consume(issued.ticket, 'get', 'a.txt', 1001)).toMatchObject({ ok: true, nick: 'alice' });
    expect(t.consume(issued.ticket, 'get', 'a.txt', 1002)).toMatchObject({
      ok: false,
      reason: 'unknown or already used ticket',
    });
  });

  it("a folder's ticket (DIR/) opens its manifest and each of its files, in turn, and nothing outside it", () => {
    const t = TicketTable.create(4);
    const issued = t.issue('post', 'trip/', 'alice', 1000, 1);
    if (typeof issued === 'string') throw new Error(issued);
    for (const other of ['trip', 'trips/x', 'other/trip/x'])
      expect(t.consume(issued.ticket, 'post', other, 1001)).toMatchObject({ ok: false });
    expect(t.consume(issued.ticket, 'get', 'trip/a', 1001)).toMatchObject({ ok: false });
    const manifest = t.consume(issued.ticket, 'post', 'trip/', 1001);
    if (!manifest.ok) throw new Error(manifest.reason);
    // A next file's SYN that overtakes the last one's end is let through.
    expect(t.consume(issued.ticket, 'post', 'trip/a b/x', 1002)).toMatchObject({ ok: true, nick: 'alice' });
    t.transferEnded(manifest.slot, 1003);
    t.transferEnded(manifest.slot, 1003);
    // Armed again, for another TICKET_TTL_MS from the end of the last transfer.
    expect(t.consume(issued.ticket, 'post', 'trip/y', 1003 + TICKET_TTL_MS - 1)).toMatchObject({ ok: true });
    t.transferEnded(manifest.slot, 2000);
    expect(t.consume(issued.ticket, 'post', 'trip/z', 2001 + TICKET_TTL_MS)).toMatchObject({
      ok: false,
      reason: 'ticket expired',
    });
    // A session that goes away takes it back like any unused ticket.
    expect(t.revoke(1)).toBe(1);
    expect(t.consume(issued.ticket, 'post', 'trip/z', 2002)).toMatchObject({ ok: false });
    // And one whose transfer runs then is not armed again when that ends.
    const running = t.issue('get', 'album/', 'bob', 3000, 2);
    if (typeof running === 'string') throw new Error(running);
    const spent = t.consume(running.ticket, 'get', 'album/', 3001);
    if (!spent.ok) throw new Error(spent.reason);
    expect(t.revoke(2)).toBe(0);
    t.transferEnded(spent.slot, 3002);
    expect(t.consume(running.ticket, 'get', 'album/x', 3003)).toMatchObject({ ok: false });
  });

  it('a folder ticket opened by transfers at once (parallel HTTP) lives until the last ends, then TICKET_TTL_MS', () => {
    const t = TicketTable.create(2);
    const issued = t.issue('get', 'album/', 'alice', 0, 1);
    if (typeof issued === 'string') throw new Error(issued);
    const a = t.consume(issued.ticket, 'get', 'album/a', 1);
    const b = t.consume(issued.ticket, 'get', 'album/b', 2);
    if (!a.ok || !b.ok) throw new Error('not let through');
    t.transferEnded(a.slot, 3);
    // b still runs, long after the ticket would have expired unused: never taken for another ticket, still open.
    const later = 10 * TICKET_TTL_MS;
    expect(typeof t.issue('get', 'x', 'bob', later, 2)).toBe('object');
    expect(t.issue('get', 'y', 'bob', later, 2)).toBe('busy');
    const c = t.consume(issued.ticket, 'get', 'album/c', later);
    if (!c.ok) throw new Error(c.reason);
    t.transferEnded(b.slot, later + 1);
    t.transferEnded(c.slot, later + 2);
    expect(t.consume(issued.ticket, 'get', 'album/d', later + 2 + TICKET_TTL_MS)).toMatchObject({ ok: true });
    t.transferEnded(c.slot, later + 3);
    expect(t.consume(issued.ticket, 'get', 'album/e', later + 4 + TICKET_TTL_MS)).toMatchObject({
      ok: false,
      reason: 'ticket expired',
    });
  });

  it(`one session holds at most ${TICKETS_PER_SESSION} unused tickets; the end of a transfer or their expiry gives room`, () => {
    const t = TicketTable.create(64);
    const mine = Array.from({ length: TICKETS_PER_SESSION }, (_, i) => t.issue('get', `f${i}`, 'mallory', 0, 7));
    expect(mine.every((x) => typeof x === 'object')).toBe(true);
    expect(t.issue('get', 'more', 'mallory', 0, 7)).toBe('limit');
    expect(typeof t.issue('get', 'yours', 'bob', 0, 8)).toBe('object'); // others are not held back
    const first = mine[0] as { ticket: string };
    const spent = t.consume(first.ticket, 'get', 'f0', 1);
    if (!spent.ok) throw new Error(spent.reason);
    expect(t.issue('get', 'more', 'mallory', 2, 7)).toBe('limit'); // its transfer runs
    t.transferEnded(spent.slot);
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

describe("a browser's resume of a download", () => {
  it('may use a get ticket whose download still runs (its cut not seen yet), with Range and If-Range only', () => {
    const t = TicketTable.create(4);
    const down = t.issue('get', 'a.bin', 'alice', 1000, 1);
    if (typeof down === 'string') throw new Error(down);
    expect(t.consume(down.ticket, 'get', 'a.bin', 1001)).toMatchObject({ ok: true });
    expect(t.consume(down.ticket, 'get', 'a.bin', 1002)).toMatchObject({ ok: false }); // a plain second use
    const resume = t.consume(down.ticket, 'get', 'a.bin', 1002, true);
    expect(resume).toMatchObject({ ok: true, nick: 'alice' });
    // The cut download ends (its ticket armed again), then the resume ends whole: the ticket is spent.
    t.transferEnded((resume as { slot: number }).slot, 1003, true);
    t.transferEnded((resume as { slot: number }).slot, 1004, false);
    expect(t.consume(down.ticket, 'get', 'a.bin', 1005, true)).toMatchObject({ ok: false });
    const up = t.issue('post', 'b.bin', 'alice', 1000, 1);
    if (typeof up === 'string') throw new Error(up);
    expect(t.consume(up.ticket, 'post', 'b.bin', 1001)).toMatchObject({ ok: true });
    expect(t.consume(up.ticket, 'post', 'b.bin', 1002, true)).toMatchObject({ ok: false }); // never an upload's
  });
});

describe('tickets and running transfers together', () => {
  it('a spent ticket counts against its session until its transfer ends, on any worker; a dead worker’s transfers end', () => {
    const supervisor = TicketTable.create(64);
    const w0 = new TicketTable(supervisor.buffer, 0);
    const w1 = new TicketTable(supervisor.buffer, 1);
    const slots: number[] = [];
    for (let i = 0; i < TICKETS_PER_SESSION; i++) {
      const t = w0.issue('get', `f${i}`, 'alice', 1000, 7);
      if (typeof t === 'string') throw new Error(t);
      const spent = (i % 2 ? w1 : w0).consume(t.ticket, 'get', `f${i}`, 1001);
      if (!spent.ok) throw new Error(spent.reason);
      slots.push(spent.slot);
    }
    // Eight transfers running, long after the tickets would have expired: still no ninth.
    expect(w0.issue('get', 'more', 'alice', 1000 + 10 * TICKET_TTL_MS, 7)).toBe('limit');
    expect(w0.issue('get', 'other', 'bob', 1000, 8)).toMatchObject({ ticket: expect.any(String) });
    w0.transferEnded(slots[0]!);
    w0.transferEnded(slots[0]!); // twice is once
    expect(typeof w0.issue('get', 'more', 'alice', 2000, 7)).toBe('object');
    expect(w0.issue('get', 'again', 'alice', 2000, 7)).toBe('limit');
    supervisor.releaseWorker(1); // worker 1 held the odd ones
    expect(w0.heldBy(7, 2000)).toBe(TICKETS_PER_SESSION - TICKETS_PER_SESSION / 2);
  });

  it('peek says whose a ticket is without spending it; a cut download gets its ticket back for TICKET_TTL_MS', () => {
    const t = TicketTable.create(4);
    const up = t.issue('post', 'a.bin', 'alice', 1000, 1);
    if (typeof up === 'string') throw new Error(up);
    expect(t.peek(up.ticket, 'post', 'a.bin', 1001)).toEqual({ ok: true, nick: 'alice' });
    expect(t.peek(up.ticket, 'get', 'a.bin', 1001)).toMatchObject({ ok: false });
    expect(t.consume(up.ticket, 'post', 'a.bin', 1002)).toMatchObject({ ok: true });
    expect(t.peek(up.ticket, 'post', 'a.bin', 1003)).toMatchObject({ ok: false });

    const down = t.issue('get', 'a.bin', 'alice', 1000, 1);
    if (typeof down === 'string') throw new Error(down);
    const spent = t.consume(down.ticket, 'get', 'a.bin', 1001);
    if (!spent.ok) throw new Error(spent.reason);
    t.transferEnded(spent.slot, 2000, true);
    const again = t.consume(down.ticket, 'get', 'a.bin', 2000 + TICKET_TTL_MS - 1);
    if (!again.ok) throw new Error(again.reason);
    t.transferEnded(again.slot, 3000); // whole this time: spent for good
    expect(t.consume(down.ticket, 'get', 'a.bin', 3001)).toMatchObject({ ok: false });
  });

  it("another session's live ticket for a name is found (one upload of a folder at a time); a given-back one is not", () => {
    const t = TicketTable.create(4);
    const a = t.issue('post', 'trip/', 'alice', 1000, 1);
    if (typeof a === 'string') throw new Error(a);
    const other = (now: number) => t.holder('post', 'trip/', now, 2);
    expect(other(1001)).toBe('alice');
    expect(t.holder('post', 'trip/', 1001, 1)).toBeNull(); // its own session may ask again
    expect(t.holder('get', 'trip/', 1001, 2)).toBeNull();
    expect(other(1000 + TICKET_TTL_MS + 1)).toBeNull(); // expired unused
    const running = t.consume(a.ticket, 'post', 'trip/', 1001);
    if (!running.ok) throw new Error(running.reason);
    expect(other(1000 + TICKET_TTL_MS + 1)).toBe('alice'); // its transfer runs
    t.revoke(1); // alice's session went away
    expect(other(1002)).toBeNull();
  });
});

describe('what is left of a ticket after a restart (ticket-signature.ts)', () => {
  it("a ticket of an earlier run proves its op and name under the same secret, for a day; this run's never", () => {
    const secret = Buffer.alloc(32, 7);
    const before = TicketTable.create(4);
    before.useSecret(secret);
    const issuedAt = Date.now() - 5000;
    const t = before.issue('get', 'film.bin', 'alice', issuedAt, 1);
    const f = before.issue('get', 'trip/', 'alice', issuedAt, 1);
    if (typeof t === 'string' || typeof f === 'string') throw new Error('not issued');
    const after = TicketTable.create(4);
    after.useSecret(secret);
    const now = Date.now();
    expect(after.issuedBeforeStart(t.ticket, 'get', ['film.bin'], now)).toBe(true);
    expect(after.issuedBeforeStart(f.ticket, 'get', ['trip/sea.bin', 'trip/'], now)).toBe(true);
    expect(after.issuedBeforeStart(t.ticket, 'get', ['other.bin'], now)).toBe(false);
    expect(after.issuedBeforeStart(t.ticket, 'post', ['film.bin'], now)).toBe(false);
    expect(after.issuedBeforeStart(t.ticket, 'get', ['film.bin'], issuedAt + RESUME_ACROSS_RESTART_MS + 1000)).toBe(
      false,
    );
    const forged = `${t.ticket.slice(0, 31)}${t.ticket.endsWith('0') ? '1' : '0'}`;
    expect(after.issuedBeforeStart(forged, 'get', ['film.bin'], now)).toBe(false);
    const elsewhere = TicketTable.create(4); // another secret: a run without a data folder
    expect(elsewhere.issuedBeforeStart(t.ticket, 'get', ['film.bin'], now)).toBe(false);
    // Issued by this run (after its table was made): the table alone rules it, spent or not.
    const mine = after.issue('get', 'film.bin', 'bob', Date.now() + 1000, 2);
    if (typeof mine === 'string') throw new Error(mine);
    expect(after.issuedBeforeStart(mine.ticket, 'get', ['film.bin'], Date.now() + 2000)).toBe(false);
  });
});
