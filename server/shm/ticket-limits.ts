/** What one session and one network may hold of the ticket table (ticket-table.ts), and how long a ticket lives. */
import { fnv1a } from './fnv1a.js';

/** A session may hold this many unused tickets and running transfers together. */
export const TICKETS_PER_SESSION = 8;
/**
 * One network (an IPv4 /24, an IPv6 /64) may hold this many unused tickets and running transfers together, all
 * its sessions on every worker: eight sessions' worth. The table's capacity (1,024) is the server's.
 */
export const TICKETS_PER_PREFIX = 64;

export const TICKET_TTL_MS = 60_000;

/** The word an address prefix (address-table.ts addressPrefix) is known by in the table (never 0, which is none). */
export function prefixKey(prefix: string): number {
  return fnv1a(new TextEncoder().encode(prefix)) | 1;
}

/** Why a ticket is refused when its session (`limit`) or its network (`prefix`, the address prefix) holds its most. */
export function ticketLimitText(kind: 'limit' | 'prefix', prefix: string | null): string {
  return kind === 'prefix'
    ? `your network (${prefix}) holds ${TICKETS_PER_PREFIX} unused tickets and running transfers, the most one network may; wait for a transfer to end, or for unused tickets to expire (${TICKET_TTL_MS / 1000} s)`
    : `you already hold ${TICKETS_PER_SESSION} unused tickets and running transfers together, the most one session may; wait for a transfer to end, or for unused tickets to expire (${TICKET_TTL_MS / 1000} s)`;
}
