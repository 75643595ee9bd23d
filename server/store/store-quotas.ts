/**
 * What one user may cost the store thread beside the server's own caps
 * (docs/PROTOCOL.md, README.md "Limits"): rooms made per address prefix and
 * per registered nick, how long a room of away members stays, registrations
 * per address prefix in an hour, and an offline nick's inbox. An address
 * prefix is an IPv4 /24 or an IPv6 /64 (server/shm/address-table.ts,
 * addressPrefix): a user with a few addresses usually has them in one.
 */

/** The store thread's limits: rooms, and what accounts may cost (registrations, inboxes). */
export interface RoomLimits {
  /** Rooms with members at once, on the whole server. */
  maxRooms: number;
  maxRoomsPerUser: number;
  maxMembersPerRoom: number;
  /** Rooms that sessions from one address prefix (not identified) have made and that still exist. */
  maxRoomsPerPrefix?: number;
  /** Rooms that one registered nick has made (while identified) and that still exist. */
  maxRoomsPerAccount?: number;
  /** How long a room whose members are all away stays before it is closed (ms). */
  roomGraceMs?: number;
  /** Nicks registered from one address prefix in an hour. */
  maxRegistrationsPerPrefix?: number;
  /** What an offline registered nick's inbox holds at most: conversations, and bytes of message text. */
  maxInboxConversations?: number;
  maxInboxBytes?: number;
}

export const DEFAULT_ROOM_LIMITS: Required<RoomLimits> = {
  maxRooms: 1000,
  maxRoomsPerUser: 20,
  maxMembersPerRoom: 10_000,
  maxRoomsPerPrefix: 50,
  maxRoomsPerAccount: 20,
  roomGraceMs: 60_000,
  maxRegistrationsPerPrefix: 10,
  maxInboxConversations: 100,
  maxInboxBytes: 512 * 1024,
};

/** The window registrations are counted in. */
export const REGISTRATION_WINDOW_MS = 3_600_000;

/** A registration taken from its prefix's allowance, or how long until one is free (ms). */
export type RegistrationTaken = { ok: true; giveBack(): void } | { ok: false; waitMs: number };

/**
 * Registrations per address prefix in the last hour, as the store thread
 * asks (account-requests.ts): asynchronous, as a shared store's answers are.
 * One node keeps them in memory (RegistrationWindow); a cluster's node in
 * its Redis, for every node (redis-registrations.ts). take() checks and
 * counts in one step; a registration that then fails gives its place back.
 */
export interface RegistrationQuota {
  take(prefix: string, now: number): Promise<RegistrationTaken>;
}

/**
 * Registrations per address prefix in the last hour. Kept in memory (the
 * store thread's): a restart forgets them, which costs at most one more
 * window's worth.
 */
export class RegistrationWindow implements RegistrationQuota {
  private readonly times = new Map<string, number[]>();

  constructor(private readonly max: number) {}

  take(prefix: string, now: number): Promise<RegistrationTaken> {
    const waitMs = this.wait(prefix, now);
    if (waitMs > 0) return Promise.resolve({ ok: false, waitMs });
    this.note(prefix, now);
    return Promise.resolve({
      ok: true,
      giveBack: () => {
        const times = this.times.get(prefix);
        const at = times?.lastIndexOf(now) ?? -1;
        if (at >= 0) times!.splice(at, 1);
      },
    });
  }

  /** How long until `prefix` may register again (0: now). */
  wait(prefix: string, now: number): number {
    const recent = this.recent(prefix, now);
    return recent.length < this.max ? 0 : recent[recent.length - this.max]! + REGISTRATION_WINDOW_MS - now;
  }

  /** A nick was registered from `prefix`. */
  note(prefix: string, now: number): void {
    this.times.set(prefix, [...this.recent(prefix, now), now]);
  }

  private recent(prefix: string, now: number): number[] {
    const kept = (this.times.get(prefix) ?? []).filter((t) => t > now - REGISTRATION_WINDOW_MS);
    if (kept.length > 0) this.times.set(prefix, kept);
    else this.times.delete(prefix);
    return kept;
  }
}

/** Why a new room is refused to whoever has made `made` rooms that still exist. */
export function roomsMadeText(nick: string, origin: string | null, account: boolean, made: number): string {
  return account
    ? `${nick} has made ${made} rooms that still exist, the most one registered nick may; join one of them, or wait for one to empty`
    : `your network (${origin}) has made ${made} rooms that still exist, the most one address prefix may; join one that exists (/rooms), or register your nick (rooms made while identified count against it instead)`;
}
