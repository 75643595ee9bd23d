/**
 * Who is in which room, as the store thread (the one sequencer) sees it:
 * rooms by key (their case-folded name), their members and topics, and the
 * limits. Pure state, no I/O: the sequencer applies each request in the order
 * it arrived and posts what follows from it, so membership changes take their
 * place in the room's one order. Empty rooms are forgotten, as IRC forgets
 * empty channels; their history and topic stay in the store. A room whose
 * members are all away is closed after a grace (reclaim); they get it back
 * when they resume (rekey), made again if need be.
 *
 * A room counts against whoever made it while it exists: a registered nick
 * (identified) against its account, anyone else against its address prefix
 * (/24, /64), so that many sessions from a few addresses cannot take every
 * room the server keeps.
 */
import { lookAlikeKey } from '../../common/unicode/confusables.js';
import { roomKey } from '../../common/unicode/room-rule.js';
import type { SessionAddress } from '../bus/room-bus.js';
import { sessionKey, type SessionKeyParts } from '../bus/node-id.js';
import type { JoinResult, Member, Room, RoomDirectory } from './room-directory.js';
import { foldCase } from '../../common/unicode/text-policy.js';
import {
  DEFAULT_ROOM_LIMITS,
  RegistrationWindow,
  roomsMadeText,
  type RegistrationQuota,
  type RoomLimits,
} from './store-quotas.js';

export { DEFAULT_ROOM_LIMITS, type RoomLimits };
export type { JoinResult, Member, Room };

/** Whom what a member makes counts against: its account when it is a registered nick's, else its address prefix. */
export function holderOf(m: Member): { key: string; account: boolean } | null {
  if (m.account) return { key: `account ${foldCase(m.nick)}`, account: true };
  return m.origin !== null ? { key: `prefix ${m.origin}`, account: false } : null;
}

/** A session's identity across threads and nodes: its node, its slot and that slot's generation (node-id.ts). */
export function memberKey(a: SessionKeyParts): string {
  return sessionKey(a);
}

/** The first RoomDirectory: in memory, in the store thread. */
export class Rooms implements RoomDirectory {
  private readonly rooms = new Map<string, Room>();
  private readonly members = new Map<string, Member>();
  /** Folded nick → member: direct messages go to the session as the sequencer knows it. */
  private readonly nicks = new Map<string, Member>();
  /** Look-alike skeleton → room key, so a new room cannot pass for an existing one. */
  private readonly lookAlikes = new Map<string, string>();
  /** Rooms that exist, by whom they count against (holderOf). */
  private readonly owned = new Map<string, number>();
  readonly limits: Required<RoomLimits>;
  /** Registrations per address prefix (account-requests.ts). */
  readonly registrations: RegistrationQuota;

  constructor(
    limits: RoomLimits,
    /** Topics kept from before (the store), by room key. */
    private readonly savedTopic: (key: string) => string = () => '',
    private readonly where: {
      /** The server's default room: it counts against nobody. */
      defaultRoom?: string;
      /** A session's address prefix, as the session table has it now (null: unknown). */
      origin?: (a: SessionAddress) => string | null;
      /** A room was made or closed: how many there are now (shm/node-counts.ts, for LUSERS). */
      counted?: (rooms: number) => void;
      /** Where registrations per prefix are counted, at most `max` an hour (default: in memory, RegistrationWindow). */
      registrations?: (max: number) => RegistrationQuota;
    } = {},
  ) {
    this.limits = { ...DEFAULT_ROOM_LIMITS, ...limits };
    const max = this.limits.maxRegistrationsPerPrefix;
    this.registrations = where.registrations?.(max) ?? new RegistrationWindow(max);
  }

  member(a: SessionKeyParts): Member | undefined {
    return this.members.get(memberKey(a));
  }

  byNick(nick: string): Member | undefined {
    return this.nicks.get(foldCase(nick));
  }

  /** Every member whose connection is lost. */
  away(): Member[] {
    return [...this.members.values()].filter((m) => m.awaySince !== null);
  }

  room(name: string): Room | undefined {
    return this.rooms.get(roomKey(name));
  }

  byKey(key: string): Room | undefined {
    return this.rooms.get(key);
  }

  /** A session after HELLO: known, in no room yet. */
  enter(address: SessionAddress, nick: string, version: number): Member {
    const m: Member = {
      address,
      nick,
      version,
      rooms: [],
      record: null,
      awaySince: null,
      marks: new Map(),
      account: false,
      origin: this.where.origin?.(address) ?? null,
      lapsed: [],
    };
    this.members.set(memberKey(address), m);
    this.nicks.set(foldCase(nick), m);
    return m;
  }

  renamed(m: Member, nick: string): void {
    if (this.nicks.get(foldCase(m.nick)) === m) this.nicks.delete(foldCase(m.nick));
    m.nick = nick;
    this.nicks.set(foldCase(nick), m);
  }

  /**
   * The session resumed on a new connection: the same member, under its new address, in the same rooms; those
   * closed while it was away are joined again, made again if need be, under the usual limits. The names of those
   * that could not be (a limit, a look-alike made meanwhile), and why.
   */
  rekey(m: Member, address: SessionAddress): Array<{ name: string; why: string }> {
    const old = memberKey(m.address);
    this.members.delete(old);
    for (const key of m.rooms) {
      const members = this.rooms.get(key)!.members;
      members.delete(old);
      members.set(memberKey(address), m);
    }
    m.address = address;
    this.members.set(memberKey(address), m);
    m.origin = this.where.origin?.(address) ?? m.origin;
    const lost: Array<{ name: string; why: string }> = [];
    for (const name of m.lapsed.splice(0)) {
      const joined = this.join(m, name);
      if (joined.ok) continue;
      lost.push({ name, why: joined.message });
      m.marks.delete(roomKey(name));
    }
    return lost;
  }

  /** `restoring`: the member was in this room before the store thread restarted; no limit applies. */
  join(m: Member, name: string, restoring = false): JoinResult {
    const key = roomKey(name);
    const existing = this.rooms.get(key);
    if (existing?.members.has(memberKey(m.address))) return { ok: true, room: existing, already: true };
    if (m.rooms.length >= this.limits.maxRoomsPerUser && !restoring) {
      return {
        ok: false,
        code: 'ROOM_LIMIT',
        message: `you are in ${m.rooms.length} rooms, the most one user may be in; /part one first`,
      };
    }
    let room = existing;
    if (!room) {
      if (this.rooms.size >= this.limits.maxRooms && !restoring)
        return {
          ok: false,
          code: 'ROOM_LIMIT',
          message: `the server has ${this.rooms.size} rooms, the most it keeps; join one of them (/rooms)`,
        };
      const holder = key === this.defaultKey() ? null : holderOf(m);
      const made = holder ? (this.owned.get(holder.key) ?? 0) : 0;
      if (holder && !restoring && made >= this.madeLimit(holder.account))
        return { ok: false, code: 'ROOM_LIMIT', message: roomsMadeText(m.nick, m.origin, holder.account, made) };
      const twin = this.lookAlikes.get(lookAlikeKey(name));
      if (twin !== undefined && !restoring)
        return {
          ok: false,
          code: 'ROOM_INVALID',
          message: `${name} looks like ${this.rooms.get(twin)!.name}, which exists: join that one, or choose a name that cannot be mistaken for it`,
        };
      room = { key, name, topic: this.savedTopic(key), members: new Map(), owner: holder?.key ?? null };
      if (holder) this.owned.set(holder.key, made + 1);
      this.rooms.set(key, room);
      this.lookAlikes.set(lookAlikeKey(name), key);
      this.where.counted?.(this.rooms.size);
    } else if (room.members.size >= this.limits.maxMembersPerRoom && !restoring) {
      return {
        ok: false,
        code: 'ROOM_LIMIT',
        message: `${room.name} has ${room.members.size} members, the most a room may have`,
      };
    }
    room.members.set(memberKey(m.address), m);
    m.rooms.push(key);
    return { ok: true, room, already: false };
  }

  /** Takes the member out of one room; the room as it was (null: not a member). */
  part(m: Member, name: string): Room | null {
    const room = this.rooms.get(roomKey(name));
    if (!room || !room.members.delete(memberKey(m.address))) return null;
    m.rooms = m.rooms.filter((k) => k !== room.key);
    m.marks.delete(room.key);
    if (room.members.size === 0) this.forget(room);
    return room;
  }

  /** The session ended: out of every room; the keys of the rooms it was in. */
  leave(m: Member): string[] {
    const was = [...m.rooms];
    for (const key of was) {
      const room = this.rooms.get(key)!;
      room.members.delete(memberKey(m.address));
      if (room.members.size === 0) this.forget(room);
    }
    m.rooms = [];
    this.members.delete(memberKey(m.address));
    if (this.nicks.get(foldCase(m.nick)) === m) this.nicks.delete(foldCase(m.nick));
    return was;
  }

  /** Every member a worker had (it died). */
  ownedBy(worker: number): Member[] {
    return [...this.members.values()].filter((m) => m.address.owner === worker);
  }

  isMember(m: Member, name: string): boolean {
    return this.rooms.get(roomKey(name))?.members.has(memberKey(m.address)) ?? false;
  }

  setTopic(room: Room, topic: string): void {
    room.topic = topic;
  }

  /** Rooms with members, the fullest first. */
  list(): Room[] {
    return [...this.rooms.values()].sort((a, b) => b.members.size - a.members.size || a.key.localeCompare(b.key));
  }

  /**
   * Closes the rooms whose members have all been away for the grace (the last one left at least that long ago): a
   * member away holds no room for good. The members whose rooms were closed (their records change).
   */
  reclaim(now: number): Member[] {
    const touched = new Set<Member>();
    for (const room of [...this.rooms.values()]) {
      let last = -Infinity;
      for (const m of room.members.values()) {
        last = m.awaySince === null ? Infinity : Math.max(last, m.awaySince);
        if (last === Infinity) break;
      }
      if (now - last < this.limits.roomGraceMs) continue;
      for (const m of room.members.values()) {
        m.rooms = m.rooms.filter((k) => k !== room.key);
        m.lapsed.push(room.name);
        touched.add(m);
      }
      room.members.clear();
      this.forget(room);
    }
    return [...touched];
  }

  private defaultKey(): string | null {
    return this.where.defaultRoom !== undefined ? roomKey(this.where.defaultRoom) : null;
  }

  private madeLimit(account: boolean): number {
    return account ? this.limits.maxRoomsPerAccount : this.limits.maxRoomsPerPrefix;
  }

  private forget(room: Room): void {
    this.rooms.delete(room.key);
    this.lookAlikes.delete(lookAlikeKey(room.name));
    this.where.counted?.(this.rooms.size);
    if (room.owner === null) return;
    const n = (this.owned.get(room.owner) ?? 1) - 1;
    if (n > 0) this.owned.set(room.owner, n);
    else this.owned.delete(room.owner);
  }
}
