/**
 * Which of a worker's sessions are in which room, as the store thread's
 * sequenced membership changes say: the room bus delivers a room's frames to
 * its members here, and a restarted store thread is told again who is where.
 */
import type { RoomRef } from '../bus/room-bus.js';

export class RoomMembers<M> {
  /** Members per room key. */
  private readonly byRoom = new Map<string, Set<M>>();
  /** Each member's rooms: key → name. */
  private readonly byMember = new Map<M, Map<string, string>>();

  set(member: M, room: RoomRef, joined: boolean): void {
    let mine = this.byMember.get(member);
    if (joined) {
      if (!mine) this.byMember.set(member, (mine = new Map<string, string>()));
      mine.set(room.key, room.name);
      let set = this.byRoom.get(room.key);
      if (!set) this.byRoom.set(room.key, (set = new Set()));
      set.add(member);
    } else {
      mine?.delete(room.key);
      this.leave(member, room.key);
    }
  }

  /** The member is gone: out of every room. */
  drop(member: M): void {
    for (const key of this.byMember.get(member)?.keys() ?? []) this.leave(member, key);
    this.byMember.delete(member);
  }

  roomsOf(member: M): RoomRef[] {
    return [...(this.byMember.get(member) ?? [])].map(([key, name]) => ({ key, name }));
  }

  in(room: string): ReadonlySet<M> | undefined {
    return this.byRoom.get(room);
  }

  private leave(member: M, key: string): void {
    const set = this.byRoom.get(key);
    set?.delete(member);
    if (set?.size === 0) this.byRoom.delete(key);
  }
}
