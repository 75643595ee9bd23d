/** Where each field of a ticket slot sits in the ticket table's SharedArrayBuffer (ticket-table.ts), and its states. */
export const SLOT_BYTES = 440;
export const T_STATE = 0; // i32
export const T_OP = 1; // i32: 0 get, 1 post
export const T_NAME_LEN = 2;
export const T_NICK_LEN = 3;
export const T64_EXPIRES = 2; // i64 at byte 16
export const T_TICKET_OFFSET = 24; // 16 bytes
export const T_NICK_OFFSET = 40; // NICK_MAX_BYTES (128)
export const T_NAME_OFFSET = 168; // 256 bytes (names are at most 255)
export const TICKET_BYTES = 16;
export const T_SESSION = 106; // i32 at byte 424: the chat session the ticket was issued to (0: none)
export const T_HOLDER = 107; // i32 at byte 428: while ACTIVE, the worker running its transfer, + 1
export const T_PREFIX = 108; // i32 at byte 432: the requester's address prefix (prefixKey; 0: none)
export const T_RUNNING = 109; // i32 at byte 436: transfers the spent ticket opened that have not ended yet

export const FREE = 0;
export const ISSUED = 1;
export const USED = 2;
/** Spent, its transfer still running: counts against the session, never reclaimed by expiry. */
export const ACTIVE = 3;
/** Claimed by an issuer that is still writing it: nobody else may take or read the slot. */
export const WRITING = -1;

/**
 * After the slots, the ticket secret's bytes; then the lock word (issue's `exclusive`); last, when this run's table
 * was made (ms: a ticket issued before it is one of an earlier run, TicketTable.issuedBeforeStart).
 */
export const [SECRET_BYTES, LOCK_BYTES, START_BYTES] = [32, 8, 8];

/** Notes in a new table's buffer when it was made. */
export function markTableStart(buffer: SharedArrayBuffer, now = Date.now()): void {
  new BigInt64Array(buffer, buffer.byteLength - START_BYTES, 1)[0] = BigInt(now);
}

/** When the table in `buffer` was made (ms). */
export function tableStartedMs(buffer: SharedArrayBuffer): number {
  return Number(new BigInt64Array(buffer, buffer.byteLength - START_BYTES, 1)[0]);
}
