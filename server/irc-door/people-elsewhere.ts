/**
 * The IRC door's people on the other nodes of a cluster: what their owners
 * told of them (USER ident and real name, account, AWAY message), kept on
 * this worker so that WHO, WHOIS, a prefix's ident, account-tag and 301 are
 * answered at once, as for this node's people (irc-people.ts). A single node
 * has nobody elsewhere (NOBODY_ELSEWHERE); a cluster's worker keeps them from
 * Redis (cluster-people.ts). IrcPeople does not ask which.
 */
import type { SharedPerson } from '../shm/irc-people-table.js';
import type { SlotRef } from '../shm/slot-layout.js';

/** Someone set an AWAY message (null: came back); `rooms` their rooms' keys (room-rule.ts roomKey). */
export interface AwayChange {
  nick: string;
  message: string | null;
  rooms: string[];
}

export interface PeopleElsewhere {
  /**
   * This node's IRC session at `at` is now `person`, under `nick` (null: it ended), for the other nodes to read;
   * `awayIn`: its AWAY message changed, and the IRC sessions there that share one of these rooms are told.
   */
  tell(at: SlotRef, nick: string, person: SharedPerson | null, awayIn?: string[]): void;
  /** The IRC session holding this nick on another node, as its owner last told (undefined: none known). */
  get(nick: string): SharedPerson | undefined;
  /** AWAY changes of the other nodes' people. */
  onAway(listener: (change: AwayChange) => void): void;
}

/** A single node's: nobody is elsewhere. */
export const NOBODY_ELSEWHERE: PeopleElsewhere = {
  tell: () => undefined,
  get: () => undefined,
  onAway: () => undefined,
};
