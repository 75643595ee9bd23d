/**
 * What a cluster's nodes tell each other about the room directory
 * (store/replicated-rooms.ts): each node is the one writer of its own
 * sessions' membership and says it whole after every change, so that a
 * change taken twice, or a snapshot that already held it, does no harm. A
 * topic is the room's, whoever set it last. The cluster bus carries these
 * in the turn that made them (cluster/cluster-bus.ts) and keeps the latest
 * of each in Redis for nodes that start later.
 */
import type { SessionKeyParts } from './node-id.js';

/** A session of another node as the directory needs it: who, and in which rooms since which id. */
export interface MemberState extends SessionKeyParts {
  nick: string;
  /** The protocol version it speaks. */
  version: number;
  /** Its record's id (direct messages are read back by it: direct-parties.ts) and when it began (ms). */
  sid: string;
  started: number;
  /** Its rooms by name as first written, each with the room's last id when it joined (a resume replays after it). */
  rooms: Array<[name: string, mark: number]>;
}

export type DirectoryChange =
  /** A session's membership as it is now; null: it is in no room any more (ended, or moved to another address). */
  { t: 'member'; key: string; state: MemberState | null } | { t: 'topic'; key: string; name: string; topic: string };

/** The cluster's directory as a node finds it when it starts: other nodes' members, and every topic set. */
export interface DirectorySnapshot {
  members: Array<[key: string, state: MemberState]>;
  topics: Map<string, string>;
}

/** Where a node's directory meets the others' (cluster/cluster-bus.ts implements it). */
export interface DirectoryChannel {
  readonly node: string;
  snapshot(): DirectorySnapshot;
  /** This node's change, in the order of the bus posts around it. */
  publish(change: DirectoryChange): void;
  /** Other nodes' changes, in the bus's order, from the snapshot on. */
  subscribe(apply: (change: DirectoryChange) => void): void;
}

/** A member state as kept in Redis and on the bus. */
export function encodeMemberState(s: MemberState): string {
  return JSON.stringify([s.node, s.slot, s.generation, s.nick, s.version, s.rooms, s.sid, s.started]);
}

/** The state, or null when it is not one (a newer format, damage): a reader skips it rather than failing. */
export function decodeMemberState(json: string): MemberState | null {
  try {
    const [node, slot, generation, nick, version, rooms, sid, started] = JSON.parse(json) as [
      string,
      number,
      number,
      string,
      number,
      Array<[string, number]>,
      string,
      number,
    ];
    if (typeof node !== 'string' || typeof nick !== 'string' || !Array.isArray(rooms)) return null;
    if (typeof sid !== 'string' || typeof started !== 'number') return null;
    return { node, slot, generation, nick, version, rooms, sid, started };
  } catch {
    return null;
  }
}
