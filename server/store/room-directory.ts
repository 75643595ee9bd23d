/**
 * The room directory: who is in which room, the limits on making rooms, and
 * look-alike room names (a new room cannot pass for an existing one). The
 * sequencer and the request handlers talk to this interface only; today's
 * implementation is rooms.ts (in memory, in the store thread). It is
 * synchronous because a turn applies each request in the order it arrived and
 * posts what follows from it before the next: a cluster's node keeps a
 * node-local view of every node's members in this shape and writes its own
 * through (replicated-rooms.ts).
 */
import type { SessionAddress } from '../bus/room-bus.js';
import type { SessionKeyParts } from '../bus/node-id.js';
import type { SessionRecord } from './sessions.js';
import type { RegistrationQuota, RoomLimits } from './store-quotas.js';

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
  /** Its address prefix (address-table.ts addressPrefix), null while unknown (brought back from the store, not yet resumed). */
  origin: string | null;
  /** Rooms closed while it was away (reclaim), by name: joined again when it resumes. */
  lapsed: string[];
  /** Another node's session (its record is kept there): the record's id and when it began, for a resume here. */
  elsewhere?: { sid: string; startedTs: number };
}

export interface Room {
  key: string;
  /** As first written. */
  name: string;
  topic: string;
  members: Map<string, Member>;
  /** Whom it counts against while it exists (holderOf), null: nobody (the default room). */
  owner: string | null;
}

export type JoinResult =
  | { ok: true; room: Room; already: boolean }
  | { ok: false; code: 'ROOM_LIMIT' | 'ROOM_INVALID'; message: string };

export interface RoomDirectory {
  readonly limits: Required<RoomLimits>;
  /** Registrations per address prefix (account-requests.ts). */
  readonly registrations: RegistrationQuota;
  /** The member at this address (its slot and generation). */
  member(a: SessionKeyParts): Member | undefined;
  /** The member holding this nick (folded). */
  byNick(nick: string): Member | undefined;
  /** Every member whose connection is lost. */
  away(): Member[];
  /** A room by name (folded to its key). */
  room(name: string): Room | undefined;
  byKey(key: string): Room | undefined;
  /** A session after HELLO: known, in no room yet. */
  enter(address: SessionAddress, nick: string, version: number): Member;
  renamed(m: Member, nick: string): void;
  /** A resumed member at its new address; the lapsed rooms that could not be joined again, and why. */
  rekey(m: Member, address: SessionAddress): Array<{ name: string; why: string }>;
  /** Into a room, made if need be, under the limits and the look-alike rule (`restoring`: no limit applies). */
  join(m: Member, name: string, restoring?: boolean): JoinResult;
  /** Out of one room; the room as it was (null: not a member). */
  part(m: Member, name: string): Room | null;
  /** The session ended: out of every room; the keys of the rooms it was in. */
  leave(m: Member): string[];
  /** Every member a worker had (it died). */
  ownedBy(worker: number): Member[];
  isMember(m: Member, name: string): boolean;
  /** The member's marks changed (a join's, a resume's): its record is written; a replicated directory tells the others. */
  saved?(m: Member): void;
  /** A cluster's: sessions of a dead node ended; each leaves its rooms everywhere. Who they were and where. */
  ended?(keys: string[]): Array<{ nick: string; rooms: string[] }>;
  /** The room's topic, set by a member. */
  setTopic(room: Room, topic: string): void;
  /** Rooms with members, the fullest first. */
  list(): Room[];
  /** Closes the rooms whose members have all been away for the grace; the members whose rooms were closed. */
  reclaim(now: number): Member[];
}
