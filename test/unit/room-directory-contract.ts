/**
 * What every RoomDirectory must do (server/store/room-directory.ts), as a
 * suite any implementation runs unchanged: today's rooms.ts
 * (room-log.test.ts), a Redis one later. The factory makes an empty
 * directory under these limits, with #lobby as the default room and the
 * address prefix each slot connects from.
 */
import { describe, expect, it } from 'vitest';
import type { SessionAddress } from '../../server/bus/room-bus.js';
import type { Member, RoomDirectory } from '../../server/store/room-directory.js';
import type { RoomLimits } from '../../server/store/store-quotas.js';

export type MakeDirectory = (limits: RoomLimits, origin: (a: SessionAddress) => string | null) => RoomDirectory;

const at = (slot: number, generation = 1, node = 'n1'): SessionAddress => ({ node, slot, generation, owner: 0 });
const LIMITS: RoomLimits = { maxRooms: 100, maxRoomsPerUser: 20, maxMembersPerRoom: 100 };

export function roomDirectoryContract(name: string, make: MakeDirectory): void {
  describe(`RoomDirectory contract: ${name}`, () => {
    it('members by address and by nick (folded); rooms by name and key; join, part, leave', () => {
      const d = make(LIMITS, () => null);
      const ann = d.enter(at(1), 'Ann', 2);
      const bob = d.enter(at(2), 'bob', 2);
      expect(d.member(at(1))).toBe(ann);
      expect(d.member(at(1, 2))).toBeUndefined(); // another generation of the slot is someone else
      expect(d.byNick('ANN')).toBe(ann);
      const joined = d.join(ann, '#Tea');
      expect(joined).toMatchObject({ ok: true, already: false, room: { name: '#Tea' } });
      expect(d.join(ann, '#tea')).toMatchObject({ ok: true, already: true });
      expect(d.join(bob, '#TEA')).toMatchObject({ ok: true, room: { name: '#Tea' } });
      expect(d.room('#tea')?.members.size).toBe(2);
      expect(d.isMember(ann, '#tea')).toBe(true);
      d.renamed(ann, 'anna');
      expect(d.byNick('ann')).toBeUndefined();
      expect(d.byNick('Anna')).toBe(ann);
      expect(d.part(bob, '#tea')?.name).toBe('#Tea');
      expect(d.part(bob, '#tea')).toBeNull();
      expect(d.leave(ann)).toEqual([joined.ok ? joined.room.key : '']);
      expect(d.member(at(1))).toBeUndefined();
      expect(d.room('#tea')).toBeUndefined(); // an empty room is forgotten
      expect(d.list()).toEqual([]);
    });

    it('the same slot:generation on two nodes is two members (addresses and member keys carry the node)', () => {
      const d = make(LIMITS, () => null);
      const here = d.enter(at(1, 1, 'n1'), 'here', 2);
      const there = d.enter(at(1, 1, 'n2'), 'there', 2);
      expect(d.member(at(1, 1, 'n1'))).toBe(here);
      expect(d.member(at(1, 1, 'n2'))).toBe(there);
      expect(d.join(here, '#tea').ok).toBe(true);
      expect(d.join(there, '#tea').ok).toBe(true);
      expect(d.room('#tea')?.members.size).toBe(2);
      expect(d.isMember(there, '#tea')).toBe(true);
      d.leave(here);
      expect(d.member(at(1, 1, 'n2'))).toBe(there);
      expect(d.isMember(there, '#tea')).toBe(true);
    });

    it('the limits: rooms on the server, rooms per user, members per room, rooms made per prefix and per account', () => {
      const d = make(
        { maxRooms: 4, maxRoomsPerUser: 3, maxMembersPerRoom: 2, maxRoomsPerPrefix: 2, maxRoomsPerAccount: 1 },
        (a) => (a.slot <= 2 ? '10.0.0.0/24' : `10.0.${a.slot}.0/24`),
      );
      expect(d.limits.maxRooms).toBe(4);
      const [a, b, c, e] = [1, 2, 3, 4].map((s) => d.enter(at(s), `u${s}`, 2)) as [Member, Member, Member, Member];
      expect(d.join(a, '#lobby').ok).toBe(true); // the default room counts against nobody
      expect(d.join(a, '#a1').ok).toBe(true);
      expect(d.join(b, '#b1').ok).toBe(true);
      expect(d.join(b, '#b2')).toMatchObject({ ok: false, code: 'ROOM_LIMIT' }); // its prefix made 2
      expect(d.join(b, '#a1').ok).toBe(true); // joining is not making
      expect(d.join(c, '#a1')).toMatchObject({ ok: false, code: 'ROOM_LIMIT' }); // 2 members
      expect(d.join(c, '#lobby').ok).toBe(true);
      expect(d.join(c, '#c1').ok).toBe(true); // 4 rooms now
      expect(d.join(e, '#e1')).toMatchObject({ ok: false, code: 'ROOM_LIMIT' }); // the server's rooms
      expect(d.join(a, '#lobby')).toMatchObject({ ok: true, already: true });
      d.join(a, '#b1');
      expect(d.join(a, '#c1')).toMatchObject({ ok: false, code: 'ROOM_LIMIT' }); // in 3 rooms
      d.part(c, '#c1');
      e.account = true; // an identified nick: its account's one room
      expect(d.join(e, '#e1').ok).toBe(true);
      d.part(a, '#a1');
      d.part(b, '#a1');
      expect(d.join(e, '#e2')).toMatchObject({ ok: false, code: 'ROOM_LIMIT' });
      expect(d.list().map((r) => r.name)).toEqual(['#b1', '#lobby', '#e1']); // the fullest first
    });

    it('a new room cannot pass for an existing one (look-alike names); one back from before may', () => {
      const d = make(LIMITS, () => null);
      const m = d.enter(at(1), 'm', 2);
      expect(d.join(m, '#paypal').ok).toBe(true);
      expect(d.join(m, '#p\u0430ypal')).toMatchObject({ ok: false, code: 'ROOM_INVALID' }); // Cyrillic а
      expect(d.join(m, '#paypa1')).toMatchObject({ ok: false, code: 'ROOM_INVALID' });
      expect(d.join(m, '#p\u0430ypal', true).ok).toBe(true); // restoring: the store thread was restarted
    });

    it('members away: listed, closed out of their rooms after the grace, given them back at their new address', () => {
      const d = make({ ...LIMITS, roomGraceMs: 1000 }, () => null);
      const m = d.enter(at(1), 'm', 2);
      const n = d.enter(at(2), 'n', 2);
      d.join(m, '#one');
      d.join(m, '#shared');
      d.join(n, '#shared');
      m.awaySince = 10_000;
      expect(d.away()).toEqual([m]);
      expect(d.reclaim(10_500)).toEqual([]);
      expect(d.reclaim(11_000)).toEqual([m]);
      expect(d.room('#one')).toBeUndefined();
      expect(m.lapsed).toEqual(['#one']);
      expect(d.rekey(m, { node: 'n1', slot: 1, generation: 2, owner: 1 })).toEqual([]);
      expect(d.member(at(1, 2))).toBe(m);
      expect(d.member(at(1))).toBeUndefined();
      expect(m.rooms.sort()).toEqual(['#one', '#shared']);
      expect(d.ownedBy(1)).toEqual([m]);
    });
  });
}
