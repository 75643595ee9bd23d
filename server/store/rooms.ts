/**
 * Who is in which room, as the store thread (the one sequencer) sees it:
 * rooms by key (their case-folded name), their members and topics, and the
 * limits. Pure state, no I/O: the sequencer applies each request in the order
 * it arrived and posts what follows from it, so membership changes take their
 * place in the room's one order. Empty rooms are forgotten, as IRC forgets
 * empty channels; their history and topic stay in the store.
 */
import { lookAlikeKey } from '../../common/unicode/confusables.js';
import { roomKey } from '../../common/unicode/room-rule.js';
import type { SessionAddress } from '../bus/room-bus.js';
import type { SessionRecord } from './sessions.js';
import { foldCase } from '../../common/unicode/text-policy.js';

export interface RoomLimits {
  /** Rooms with members at once, on the whole server. */
  maxRooms: number;
  maxRoomsPerUser: number;
  maxMembersPerRoom: number;
}

export const DEFAULT_ROOM_LIMITS: RoomLimits = { maxRooms: 1000, maxRoomsPerUser: 20, maxMembersPerRoom: 10_000 };

export interface Member {
  address: SessionAddress;
  nick: string;
  /** The protocol version the session speaks (1: the default room only). */
  version: number;
  /** Room keys, in the order joined. */
  rooms: string[];
  /** What is kept of a session that can be resumed (sessions.ts); null: it cannot (version 1, no history). */
  record: SessionRecord | null;
  /** Since when its connection has been lost (ms), or null while connected. */
  awaySince: number | null;
  /** Room key → the room's last id when it joined: a resume replays nothing from before. */
  marks: Map<string, number>;
  /** Its nick is registered and it proved it (the password at login, or it registered it). */
  account: boolean;
}

export interface Room {
  key: string;
  /** As first written. */
  name: string;
  topic: string;
  members: Map<string, Member>;
}

export type JoinResult =
  | { ok: true; room: Room; already: boolean }
  | { ok: false; code: 'ROOM_LIMIT' | 'ROOM_INVALID'; message: string };

/** A session's identity across threads: its slot and that slot's generation. */
export function memberKey(a: { slot: number; generation: number }): string {
  return `${a.slot}:${a.generation}`;
}

export class Rooms {
  private readonly rooms = new Map<string, Room>();
  private readonly members = new Map<string, Member>();
  /** Folded nick → member: direct messages go to the session as the sequencer knows it. */
  private readonly nicks = new Map<string, Member>();
  /** Look-alike skeleton → room key, so a new room cannot pass for an existing one. */
  private readonly lookAlikes = new Map<string, string>();

  constructor(
    private readonly limits: RoomLimits,
    /** Topics kept from before (the store), by room key. */
    private readonly savedTopic: (key: string) => string = () => '',
  ) {}

  member(a: { slot: number; generation: number }): Member | undefined {
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

  /** The session resumed on a new connection: the same member, under its new address, in the same rooms. */
  rekey(m: Member, address: SessionAddress): void {
    const old = memberKey(m.address);
    this.members.delete(old);
    for (const key of m.rooms) {
      const members = this.rooms.get(key)!.members;
      members.delete(old);
      members.set(memberKey(address), m);
    }
    m.address = address;
    this.members.set(memberKey(address), m);
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
      const twin = this.lookAlikes.get(lookAlikeKey(name));
      if (twin !== undefined && !restoring)
        return {
          ok: false,
          code: 'ROOM_INVALID',
          message: `${name} looks like ${this.rooms.get(twin)!.name}, which exists: join that one, or choose a name that cannot be mistaken for it`,
        };
      room = { key, name, topic: this.savedTopic(key), members: new Map() };
      this.rooms.set(key, room);
      this.lookAlikes.set(lookAlikeKey(name), key);
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

  /** Rooms with members, the fullest first. */
  list(): Room[] {
    return [...this.rooms.values()].sort((a, b) => b.members.size - a.members.size || a.key.localeCompare(b.key));
  }

  private forget(room: Room): void {
    this.rooms.delete(room.key);
    this.lookAlikes.delete(lookAlikeKey(room.name));
  }
}
