/**
 * Counts of the node that no worker keeps by itself, for the IRC door's
 * LUSERS (docs/IRC.md, "Numerics"): the rooms the room directory holds
 * (written by the store thread whenever a room is made or closed, its own
 * node's and, on a cluster's node, every node's: replicated-rooms.ts), and
 * the most sessions the cluster was seen to hold (raised by whoever counts
 * them). Single words, so no lock.
 */
const W_ROOMS = 0;
const W_MOST_ONLINE = 1;
const WORDS = 4;

export class NodeCounts {
  private readonly i32: Int32Array;

  static create(): NodeCounts {
    return new NodeCounts(new SharedArrayBuffer(WORDS * 4));
  }

  constructor(readonly buffer: SharedArrayBuffer) {
    this.i32 = new Int32Array(buffer);
    if (this.i32.length !== WORDS) throw new Error('not a node counts buffer');
  }

  /** Rooms with members, as the room directory has them now. */
  get rooms(): number {
    return Atomics.load(this.i32, W_ROOMS);
  }

  /** The store thread's directory made or closed a room. */
  setRooms(n: number): void {
    Atomics.store(this.i32, W_ROOMS, n);
  }

  /** The most sessions online seen, raised to `seen` if that is more; the most, after. */
  raiseOnline(seen: number): number {
    for (;;) {
      const most = Atomics.load(this.i32, W_MOST_ONLINE);
      if (seen <= most) return most;
      if (Atomics.compareExchange(this.i32, W_MOST_ONLINE, most, seen) === most) return seen;
    }
  }
}
