/**
 * A cluster node's room directory (server/store/replicated-rooms.ts) against
 * an in-memory cluster that does what the bus and the directory's hashes do
 * (cluster-bus.ts, directory-scripts.ts): each node's changes reach the
 * others in order, and the latest state of each is kept for a node that
 * starts later. The Redis side is tested on a real Redis (test/cluster/).
 */
import { describe, expect, it } from 'vitest';
import type { DirectoryChange, DirectoryChannel, MemberState } from '../../server/bus/directory-change.js';
import type { SessionAddress } from '../../server/bus/room-bus.js';
import { ReplicatedRooms } from '../../server/store/replicated-rooms.js';
import { DEFAULT_ROOM_LIMITS, Rooms } from '../../server/store/rooms.js';
import { roomDirectoryContract } from './room-directory-contract.js';

class FakeCluster {
  readonly members = new Map<string, MemberState>();
  readonly topics = new Map<string, string>();
  private readonly subscribers: Array<{ node: string; apply: (c: DirectoryChange) => void }> = [];
  readonly published: DirectoryChange[] = [];

  channel(node: string): DirectoryChannel {
    return {
      node,
      snapshot: () => ({
        members: [...this.members].filter(([, s]) => s.node !== node),
        topics: new Map(this.topics),
      }),
      publish: (change) => {
        this.published.push(change);
        if (change.t === 'topic') this.topics.set(change.key, change.topic);
        else if (change.state) this.members.set(change.key, change.state);
        else this.members.delete(change.key);
        for (const s of this.subscribers) if (s.node !== node) s.apply(change);
      },
      subscribe: (apply) => void this.subscribers.push({ node, apply }),
    };
  }

  node(node: string): ReplicatedRooms {
    let d: ReplicatedRooms | null = null;
    const inner = new Rooms(DEFAULT_ROOM_LIMITS, (key) => d?.topicOf(key) ?? '', { defaultRoom: '#lobby' });
    d = new ReplicatedRooms(inner, this.channel(node));
    return d.start();
  }
}

const at = (node: string, slot: number, generation = 1): SessionAddress => ({ node, slot, generation, owner: 0 });
const names = (d: ReplicatedRooms, room: string) =>
  [...(d.room(room)?.members.values() ?? [])].map((m) => m.nick).sort();

roomDirectoryContract('ReplicatedRooms (one node of a cluster)', (limits, origin) => {
  const inner = new Rooms(limits, () => '', { defaultRoom: '#lobby', origin });
  return new ReplicatedRooms(inner, new FakeCluster().channel('n1')).start();
});

describe('ReplicatedRooms: several nodes, one directory', () => {
  it("each node sees the others' members in its rooms: joins, renames, parts, leaves; counts and /names are the cluster's", () => {
    const cluster = new FakeCluster();
    const [a, b] = [cluster.node('a'), cluster.node('b')];
    const ann = a.enter(at('a', 1), 'ann', 2);
    const bob = b.enter(at('b', 1), 'bob', 2);
    a.join(ann, '#Tea');
    b.join(bob, '#tea');
    expect(names(a, '#tea')).toEqual(['ann', 'bob']);
    expect(names(b, '#TEA')).toEqual(['ann', 'bob']);
    expect(b.room('#tea')?.name).toBe('#Tea'); // the name as first written, on every node
    a.renamed(ann, 'anna');
    expect(names(b, '#tea')).toEqual(['anna', 'bob']);
    expect(b.byNick('anna')?.address.node).toBe('a');
    a.join(ann, '#cake');
    expect(b.list().map((r) => [r.name, r.members.size])).toEqual([
      ['#Tea', 2],
      ['#cake', 1],
    ]);
    a.part(ann, '#cake');
    expect(b.room('#cake')).toBeUndefined();
    a.leave(ann);
    expect(names(b, '#tea')).toEqual(['bob']);
    expect(b.byNick('anna')).toBeUndefined();
    expect(cluster.members.size).toBe(1); // only bob is left in the shared hash
  });

  it('a room limit counts the whole cluster; the look-alike rule sees rooms made on other nodes', () => {
    const cluster = new FakeCluster();
    const [a, b] = [cluster.node('a'), cluster.node('b')];
    const limits = { ...DEFAULT_ROOM_LIMITS, maxMembersPerRoom: 2 };
    const c = new ReplicatedRooms(new Rooms(limits, () => ''), cluster.channel('c')).start();
    a.join(a.enter(at('a', 1), 'ann', 2), '#tea');
    b.join(b.enter(at('b', 1), 'bob', 2), '#tea');
    const refused = c.join(c.enter(at('c', 1), 'cat', 2), '#tea');
    expect(refused).toMatchObject({ ok: false, code: 'ROOM_LIMIT' });
    a.join(a.member(at('a', 1))!, '#paypal');
    expect(b.join(b.member(at('b', 1))!, '#paypa1')).toMatchObject({ ok: false, code: 'ROOM_INVALID' });
  });

  it('topics: set on one node, shown on the others, and kept for a room made again later', () => {
    const cluster = new FakeCluster();
    const [a, b] = [cluster.node('a'), cluster.node('b')];
    const ann = a.enter(at('a', 1), 'ann', 2);
    b.join(b.enter(at('b', 1), 'bob', 2), '#tea');
    a.join(ann, '#tea');
    a.setTopic(a.room('#tea')!, 'oolong');
    expect(b.room('#tea')?.topic).toBe('oolong');
    expect(b.topicOf('#tea')).toBe('oolong');
    const late = cluster.node('c');
    expect(late.topicOf('#tea')).toBe('oolong');
    expect(late.room('#tea')?.topic).toBe('oolong'); // the room its snapshot made has it
  });

  it('a node that starts later finds every member from the snapshot, with their marks', () => {
    const cluster = new FakeCluster();
    const a = cluster.node('a');
    const ann = a.enter(at('a', 1), 'ann', 2);
    a.join(ann, '#tea');
    ann.marks.set('#tea', 41);
    a.saved(ann);
    const c = cluster.node('c');
    expect(names(c, '#tea')).toEqual(['ann']);
    expect(c.member(at('a', 1))?.marks.get('#tea')).toBe(41);
  });

  it("another node's members belong to no worker here, and are never away here", () => {
    const cluster = new FakeCluster();
    const [a, b] = [cluster.node('a'), cluster.node('b')];
    a.join(a.enter(at('a', 1), 'ann', 2), '#tea');
    b.join(b.enter(at('b', 7), 'bob', 2), '#tea');
    expect(b.ownedBy(0).map((m) => m.nick)).toEqual(['bob']);
    expect(b.member(at('a', 1))?.address.owner).toBe(-1);
    expect(b.away()).toEqual([]);
  });

  it("a session resumed on another node is that node's, in the same rooms; the first node's view follows", () => {
    const cluster = new FakeCluster();
    const [a, b] = [cluster.node('a'), cluster.node('b')];
    const ann = a.enter(at('a', 1), 'ann', 2);
    a.join(ann, '#tea');
    a.join(ann, '#cake');
    const there = b.member(at('a', 1))!;
    b.rekey(there, at('b', 3));
    expect(b.ownedBy(0)).toEqual([there]);
    expect(there.rooms).toEqual(['#tea', '#cake']);
    // Node a lets go of it (the registry's 'moved'): out of its rooms there, without removing b's.
    a.leave(ann);
    expect(names(a, '#tea')).toEqual(['ann']);
    expect(a.member(at('b', 3))?.rooms).toEqual(['#tea', '#cake']);
    expect([...cluster.members.keys()]).toEqual(['b/3:1']);
  });

  it("a dead node's ended sessions leave their rooms everywhere, told once by the node that reaped them", () => {
    const cluster = new FakeCluster();
    const [a, b, c] = [cluster.node('a'), cluster.node('b'), cluster.node('c')];
    a.join(a.enter(at('a', 1), 'ann', 2), '#tea');
    c.join(c.enter(at('c', 1), 'cat', 2), '#tea');
    expect(b.ended(['a/1:1', 'a/9:9'])).toEqual([{ nick: 'ann', rooms: ['#tea'] }]);
    expect(names(b, '#tea')).toEqual(['cat']);
    expect(names(c, '#tea')).toEqual(['cat']);
    expect(cluster.members.has('a/1:1')).toBe(false);
  });
});
