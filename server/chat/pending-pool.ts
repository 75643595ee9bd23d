/**
 * A worker's places for connections that have not said HELLO yet, TLS
 * handshakes included: at most `capacity` of them (PRE_HELLO_ALLOWANCE). When
 * a newcomer finds them all taken, the oldest connection of the busiest
 * network (its address prefix: an IPv4 /24, an IPv6 /64, address-table.ts)
 * makes room for it, instead of the newcomer being refused. Silent
 * connections from a few networks then cost those networks their own oldest
 * places, not everyone else theirs; an honest client says HELLO at once, so
 * it is hardly ever the oldest of anything.
 */
import { LogBudget } from '../auth-throttle.js';
import { addressPrefix } from '../shm/address-table.js';

export interface PendingPlace {
  readonly address: string;
  /** The network it counts against (the address itself where it has none). */
  readonly prefix: string;
  /** When it was taken, on the pool's clock (ms). */
  readonly since: number;
  /** What making room does to the connection holding it (the socket's until a session's connection takes it over). */
  evict: (reason: string) => void;
}

/** A TCP connection admitted on the chat port (ClientGroup.admitTcp): its place, and whether a ClientConnection holds it yet. */
export interface AdmittedTcp {
  readonly place: PendingPlace;
  connected: boolean;
}

export class PendingPool {
  /** Places per prefix, each set in the order they were taken (oldest first). */
  private readonly byPrefix = new Map<string, Set<PendingPlace>>();
  private count = 0;
  /** Evictions go to the log at most 20 a minute (the next line says how many were left out): an attacker makes them. */
  private readonly logged = new LogBudget();

  constructor(
    readonly capacity: number,
    private readonly now: () => number = () => performance.now(),
    private readonly log: (detail: Record<string, unknown>, text: string) => void = () => undefined,
  ) {}

  get size(): number {
    return this.count;
  }

  /** A place for a connection from address; when all are taken, the next victim() is evicted first. */
  take(address: string, evict: (reason: string) => void): PendingPlace {
    if (this.count >= this.capacity) this.makeRoom();
    const prefix = addressPrefix(address) ?? address;
    const place: PendingPlace = { address, prefix, since: this.now(), evict };
    let set = this.byPrefix.get(prefix);
    if (!set) this.byPrefix.set(prefix, (set = new Set()));
    set.add(place);
    this.count++;
    return place;
  }

  /** Gives a place back; a place already given back (or evicted) is nothing. */
  release(place: PendingPlace): void {
    const set = this.byPrefix.get(place.prefix);
    if (!set?.delete(place)) return;
    this.count--;
    if (set.size === 0) this.byPrefix.delete(place.prefix);
  }

  /** The place room is made from: the oldest of the prefix that holds the most (of equals, the one whose oldest is older). */
  victim(): PendingPlace | null {
    let most = 0;
    let oldest: PendingPlace | null = null;
    for (const set of this.byPrefix.values()) {
      const first = set.values().next().value!;
      if (set.size > most || (set.size === most && first.since < oldest!.since)) {
        most = set.size;
        oldest = first;
      }
    }
    return oldest;
  }

  /** Every place taken now (for a shutdown). */
  places(): PendingPlace[] {
    return [...this.byPrefix.values()].flatMap((set) => [...set]);
  }

  private makeRoom(): void {
    const place = this.victim();
    if (!place) return;
    const held = this.byPrefix.get(place.prefix)!.size;
    this.release(place);
    const logged = this.logged.take(Date.now());
    if (logged)
      this.log(
        { address: place.address, prefix: place.prefix, held, suppressed: logged.suppressed },
        'every place for a connection that has not said HELLO is taken: the oldest of the busiest network made room',
      );
    place.evict(
      `no HELLO after ${Math.round(this.now() - place.since)}ms, and its place was needed: this worker's ${this.capacity} places for connections that have not said HELLO are all taken, ${held} of them from ${place.prefix}, the most of any network`,
    );
  }
}
