/**
 * What a ticket counts against beyond the node's own ticket table (shm/ticket-table.ts): on one node nothing more
 * (the table counts each session's and each network's tickets and running transfers across the workers, and
 * FileService has no TicketHolds); on a cluster's node, the cluster's counts (cluster/cluster-tickets.ts), so
 * that a session holds at most TICKETS_PER_SESSION and a network TICKETS_PER_PREFIX however many nodes issue
 * them, serve their transfers, or hold the files. The table still decides whether a ticket works (consume,
 * folders, one upload of a folder at a time); the holds only count.
 */
import { prefixKey, ticketLimitText } from '../shm/ticket-limits.js';
import type { TicketTable } from '../shm/ticket-table.js';

/** Whom a ticket counts against: its session, by a key good across the cluster, and its network (prefixKey, 0: none). */
export interface TicketOwner {
  session: string;
  prefix: number;
}

export interface TicketHolds {
  /** The key this node's session `session` (its sessionId) is counted under. */
  sessionKey(session: number): string;
  /**
   * Counts a ticket just issued by this node's table: 'ok', or which holds its most already (the ticket is then to
   * be cancelled). Rejects when the count cannot be asked (the ticket is then refused too).
   */
  take(ticket: string, owner: TicketOwner): Promise<'ok' | 'limit' | 'prefix'>;
  /** Its transfer runs here now (the ticket was spent): counted as running until ended(). */
  running(ticket: string, owner: TicketOwner): void;
  /** Its transfer ended: armed again for another TICKET_TTL_MS (`again`: a folder's, a cut download's), or no longer counted. */
  ended(ticket: string, owner: TicketOwner, again: boolean): void;
  /**
   * A session of this node went away: the tickets its table gave back, and those it holds for other nodes' files
   * still unused (which stop working), no longer count.
   */
  revoke(session: number, tickets: ReadonlyArray<{ ticket: string; prefix: number }>): void;
}

/** A ticket another node issued for a file here, spent: who asked, and the call for when its transfer ends. */
export type RemoteRedeem = { ok: true; nick: string; ended?: () => void } | { ok: false; reason: string };

/**
 * A ticket the table just issued to this node's `session` (from network `prefix`), counted for the cluster: null,
 * or why it is refused (the session or the network holds its most, or the count cannot be asked); refused, the
 * table's ticket is cancelled.
 */
export async function countHeld(
  holds: TicketHolds,
  table: TicketTable,
  ticket: string,
  session: number,
  prefix: string | null,
): Promise<string | null> {
  const owner = { session: holds.sessionKey(session), prefix: prefix === null ? 0 : prefixKey(prefix) };
  const counted = await holds.take(ticket, owner).catch((err: unknown) => err as Error);
  if (counted === 'ok') return null;
  table.cancel(ticket);
  return counted instanceof Error
    ? `the server cannot count your tickets now (${counted.message}); try again in a moment`
    : ticketLimitText(counted, prefix);
}

/** A ticket of the table's `slot`, spent: counted as running for the cluster; its ended(), called once, ends both. */
export function runningHeld(
  holds: TicketHolds,
  table: TicketTable,
  ticket: string,
  slot: number,
): (cut?: boolean) => void {
  const { session, prefix } = table.ownerOf(slot);
  const owner: TicketOwner = { session: holds.sessionKey(session), prefix };
  holds.running(ticket, owner);
  // Called once: FileService.redeemTicket makes every transfer's end once-only, whichever table counts it.
  return (cut = false) => holds.ended(ticket, owner, table.transferEnded(slot, Date.now(), cut));
}
