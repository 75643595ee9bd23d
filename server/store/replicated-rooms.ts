/**
 * The room directory of a cluster's node (--redis): the node-local view
 * room-directory.ts promises, holding every node's members, written through.
 * This node's sessions are its own to change, as on a single node; each
 * change to one is told whole to the other nodes (directory-change.ts); the
 * other nodes' sessions are kept here as members like any other, from the
 * snapshot the node found at its start and the changes since, so that
 * /names, member counts, topics, the room limits and the look-alike rule
 * see the whole cluster. Another node's member is never away here (its node
 * says when it leaves its rooms) and never this node's to deliver to: the
 * bus delivers by room, on each node to its own sessions.
 *
 * What two nodes do at the same moment is not one decision: two joins that
 * both pass a limit, or two look-alike rooms made at once, both stand.
 */
import { roomKey } from '../../common/unicode/room-rule.js';
import type { SessionAddress } from '../bus/room-bus.js';
import { sessionKey, type SessionKeyParts } from '../bus/node-id.js';
import type { DirectoryChange, DirectoryChannel, MemberState } from '../bus/directory-change.js';
import type { JoinResult, Member, Room, RoomDirectory } from './room-directory.js';
import type { Rooms } from './rooms.js';
import { sessionId } from './direct-parties.js';

export class ReplicatedRooms implements RoomDirectory {
  /** Other nodes' members, by session key. */
  private readonly remote = new Map<string, Member>();
  /** Every topic the cluster has, by room key: what a room made here again starts with. */
  private readonly topics = new Map<string, string>();

  constructor(
    private readonly inner: Rooms,
    private readonly channel: DirectoryChannel,
  ) {}

  /** The cluster's directory as the node found it, then every change: the inner directory's rooms take topicOf. */
  start(): this {
    const snap = this.channel.snapshot();
    for (const [key, topic] of snap.topics) this.topics.set(key, topic);
    for (const [key, state] of snap.members) this.applyMember(key, state);
    this.channel.subscribe((change) => this.apply(change));
    return this;
  }

  get limits() {
    return this.inner.limits;
  }
  get registrations() {
    return this.inner.registrations;
  }

  /** A topic the cluster kept for this room (undefined: none), for the inner directory's new rooms. */
  topicOf(key: string): string | undefined {
    return this.topics.get(key);
  }

  member(a: SessionKeyParts): Member | undefined {
    return this.inner.member(a);
  }
  byNick(nick: string): Member | undefined {
    return this.inner.byNick(nick);
  }
  away(): Member[] {
    return this.inner.away();
  }
  room(name: string): Room | undefined {
    return this.inner.room(name);
  }
  byKey(key: string): Room | undefined {
    return this.inner.byKey(key);
  }
  isMember(m: Member, name: string): boolean {
    return this.inner.isMember(m, name);
  }
  list(): Room[] {
    return this.inner.list();
  }

  enter(address: SessionAddress, nick: string, version: number): Member {
    return this.inner.enter(address, nick, version);
  }

  renamed(m: Member, nick: string): void {
    this.inner.renamed(m, nick);
    this.told(m);
  }

  /** A resume: this node's member at its new address, or another node's taken over here (it resumed on this node). */
  rekey(m: Member, address: SessionAddress): Array<{ name: string; why: string }> {
    const old = sessionKey(m.address);
    this.remote.delete(old);
    const lost = this.inner.rekey(m, address);
    this.channel.publish({ t: 'member', key: old, state: null });
    this.told(m);
    return lost;
  }

  join(m: Member, name: string, restoring?: boolean): JoinResult {
    const r = this.inner.join(m, name, restoring);
    if (r.ok && !r.already) this.told(m);
    return r;
  }

  part(m: Member, name: string): Room | null {
    const room = this.inner.part(m, name);
    if (room) this.told(m);
    return room;
  }

  leave(m: Member): string[] {
    const was = this.inner.leave(m);
    if (this.isMine(m)) this.channel.publish({ t: 'member', key: sessionKey(m.address), state: null });
    return was;
  }

  /** This node's workers only: another node's member never belongs to a worker here. */
  ownedBy(worker: number): Member[] {
    return this.inner.ownedBy(worker).filter((m) => this.isMine(m));
  }

  saved(m: Member): void {
    this.told(m);
  }

  setTopic(room: Room, topic: string): void {
    this.inner.setTopic(room, topic);
    this.topics.set(room.key, topic);
    this.channel.publish({ t: 'topic', key: room.key, name: room.name, topic });
  }

  reclaim(now: number): Member[] {
    const touched = this.inner.reclaim(now);
    for (const m of touched) this.told(m);
    return touched;
  }

  /**
   * Another node is gone and these sessions of it ended there (node-presence.ts reaped them here, once in the
   * cluster): each leaves its rooms, and every node is told. The rooms each was in, for the notices.
   */
  ended(keys: string[]): Array<{ nick: string; rooms: string[] }> {
    const gone: Array<{ nick: string; rooms: string[] }> = [];
    for (const key of keys) {
      const m = this.remote.get(key);
      if (m) {
        this.remote.delete(key);
        gone.push({ nick: m.nick, rooms: this.inner.leave(m) });
      }
      this.channel.publish({ t: 'member', key, state: null });
    }
    return gone;
  }

  /** Another node's change. */
  private apply(change: DirectoryChange): void {
    if (change.t === 'topic') {
      this.topics.set(change.key, change.topic);
      const room = this.inner.byKey(change.key);
      if (room) this.inner.setTopic(room, change.topic);
      return;
    }
    this.applyMember(change.key, change.state);
  }

  /** Another node's member as it says it is now: entered, renamed, in and out of rooms to match. */
  private applyMember(key: string, state: MemberState | null): void {
    if (state?.node === this.channel.node) return;
    let m = this.remote.get(key);
    if (!state || state.rooms.length === 0) {
      if (m) this.inner.leave(m);
      this.remote.delete(key);
      return;
    }
    if (!m) {
      // Owner -1: no worker here holds it, wherever it is connected.
      m = this.inner.enter(
        { node: state.node, slot: state.slot, generation: state.generation, owner: -1 },
        state.nick,
        state.version,
      );
      this.remote.set(key, m);
    } else if (m.nick !== state.nick) {
      this.inner.renamed(m, state.nick);
    }
    m.version = state.version;
    m.elsewhere = { sid: state.sid, startedTs: state.started };
    const want = new Map(state.rooms.map(([name, mark]) => [roomKey(name), { name, mark }]));
    for (const key of [...m.rooms]) if (!want.has(key)) this.inner.part(m, this.inner.byKey(key)!.name);
    for (const [key, { name, mark }] of want) {
      // Its own node checked the limits when it joined: here it only takes its place.
      if (this.inner.join(m, name, true).ok) m.marks.set(key, mark);
    }
  }

  /** Tells the other nodes this node's member as it is now. */
  private told(m: Member): void {
    if (!this.isMine(m)) return;
    const rooms = m.rooms.map((key): [string, number] => [this.inner.byKey(key)!.name, m.marks.get(key) ?? 0]);
    const [sid, started] = [sessionId(m), m.record?.startedTs ?? m.elsewhere?.startedTs ?? 0];
    const state: MemberState = { ...m.address, nick: m.nick, version: m.version, rooms, sid, started };
    this.channel.publish({ t: 'member', key: sessionKey(m.address), state });
  }

  private isMine(m: Member): boolean {
    return m.address.node === this.channel.node;
  }
}
