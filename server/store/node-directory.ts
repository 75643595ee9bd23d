/**
 * The room directory a node's store thread uses: rooms.ts in memory, and on
 * a cluster's node (--redis) that same directory written through to the
 * other nodes (replicated-rooms.ts).
 */
import type { DirectoryChannel } from '../bus/directory-change.js';
import type { SessionTable } from '../shm/session-table.js';
import { addressPrefix } from '../shm/address-table.js';
import type { RoomDirectory } from './room-directory.js';
import { ReplicatedRooms } from './replicated-rooms.js';
import { Rooms, type RoomLimits } from './rooms.js';
import type { RegistrationQuota } from './store-quotas.js';

export interface NodeDirectoryOptions {
  node: string;
  limits: RoomLimits;
  defaultRoom: string;
  /** Topics kept from before (this node's store), by room key. */
  topics: Map<string, string>;
  table: SessionTable | null;
  /** A cluster's: where this node's directory meets the others'. */
  replicate?: DirectoryChannel;
  /** A room was made or closed: how many there are now (every node's, on a cluster's node). */
  counted?: (rooms: number) => void;
  /** A cluster's: registrations per prefix counted for every node (default: this node's, in memory). */
  registrations?: (max: number) => RegistrationQuota;
}

export function nodeDirectory(o: NodeDirectoryOptions): RoomDirectory {
  let replicated: ReplicatedRooms | null = null;
  // A room made here starts with the topic the cluster kept for it, else the one this node's store kept.
  const inner = new Rooms(o.limits, (key) => replicated?.topicOf(key) ?? o.topics.get(key) ?? '', {
    defaultRoom: o.defaultRoom,
    // Where a session connects from, as its slot says now (its own slot and generation, connected).
    origin: (a) => {
      const info = a.node === o.node ? o.table?.info(a.slot) : undefined;
      return info && info.generation === a.generation ? addressPrefix(info.address) : null;
    },
    ...(o.counted ? { counted: o.counted } : {}),
    ...(o.registrations ? { registrations: o.registrations } : {}),
  });
  if (!o.replicate) return inner;
  replicated = new ReplicatedRooms(inner, o.replicate);
  return replicated.start();
}
