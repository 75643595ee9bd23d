/**
 * The ticket table's layout (ticket-table.ts): its slots in a SharedArrayBuffer, each slot's fields, the states a
 * slot goes through, and after the slots the ticket secret and the table's lock word; with the reads of one slot
 * every operation of the table shares.
 */
import { issuedBeforeStart } from './ticket-signature.js';

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

export type TicketOp = 'get' | 'post';

/** What writeTicket puts in a slot. */
export interface NewTicket {
  op: TicketOp;
  nameBytes: Buffer;
  nickBytes: Buffer;
  session: number;
  prefix: number;
  ticket: Buffer;
  expiresAt: number;
}

export class TicketSlots {
  readonly i32: Int32Array;
  readonly i64: BigInt64Array;
  readonly u8: Uint8Array;
  readonly capacity: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.i32 = new Int32Array(buffer);
    this.i64 = new BigInt64Array(buffer);
    this.u8 = new Uint8Array(buffer);
    this.capacity = (buffer.byteLength - SECRET_BYTES - LOCK_BYTES - START_BYTES) / SLOT_BYTES;
  }

  get lockWordIndex(): number {
    return (this.capacity * SLOT_BYTES + SECRET_BYTES) / 4;
  }

  /** The ticket secret from the server's SecretSource (process/secret-source.ts), before any worker issues a ticket. */
  useSecret(secret: Buffer): void {
    if (secret.length !== SECRET_BYTES) throw new RangeError(`a ticket secret is ${SECRET_BYTES} bytes`);
    this.u8.set(secret, this.capacity * SLOT_BYTES);
  }

  /** This run's ticket secret (the same in every worker). */
  keySecret(): Buffer {
    const at = this.capacity * SLOT_BYTES;
    return Buffer.from(this.u8.subarray(at, at + SECRET_BYTES));
  }

  /** Whether a ticket of a run before this one was issued for (op, one of names), recently (ticket-signature.ts). */
  issuedBeforeStart(ticketHex: string, op: TicketOp, names: readonly string[], now: number): boolean {
    return issuedBeforeStart(this.keySecret(), tableStartedMs(this.buffer), ticketHex, op, names, now);
  }

  /** Unused, unexpired tickets and running transfers whose `field` (T_SESSION, T_PREFIX) is `value`. */
  protected held(field: number, value: number, now: number): number {
    let n = 0;
    for (let s = 0; s < this.capacity; s++) {
      const state = this.stateAt(s);
      if ((state !== ISSUED && state !== ACTIVE) || Atomics.load(this.i32, this.w32(s, field)) !== value) continue;
      if (state === ACTIVE || Number(Atomics.load(this.i64, this.w64(s, T64_EXPIRES))) >= now) n++;
    }
    return n;
  }

  /**
   * Writes a ticket into a free, used or expired slot (under the table's lock: issue()); false when every slot holds
   * a live ticket. The slot is WRITING meanwhile, so that no consume reads it half-written.
   */
  protected writeTicket(now: number, t: NewTicket): boolean {
    for (let s = 0; s < this.capacity; s++) {
      const state = this.stateAt(s);
      if (state === WRITING || state === ACTIVE) continue;
      const expired = Number(Atomics.load(this.i64, this.w64(s, T64_EXPIRES))) < now;
      if (state !== FREE && !(expired || state === USED)) continue;
      if (Atomics.compareExchange(this.i32, this.w32(s, T_STATE), state, WRITING) !== state) continue;
      Atomics.store(this.i32, this.w32(s, T_SESSION), t.session);
      Atomics.store(this.i32, this.w32(s, T_PREFIX), t.prefix);
      Atomics.store(this.i32, this.w32(s, T_RUNNING), 0);
      this.u8.set(t.ticket, this.at(s, T_TICKET_OFFSET));
      this.u8.set(t.nameBytes, this.at(s, T_NAME_OFFSET));
      this.u8.set(t.nickBytes, this.at(s, T_NICK_OFFSET));
      Atomics.store(this.i32, this.w32(s, T_NAME_LEN), t.nameBytes.length);
      Atomics.store(this.i32, this.w32(s, T_NICK_LEN), t.nickBytes.length);
      Atomics.store(this.i32, this.w32(s, T_OP), t.op === 'post' ? 1 : 0);
      Atomics.store(this.i64, this.w64(s, T64_EXPIRES), BigInt(Math.round(t.expiresAt)));
      Atomics.store(this.i32, this.w32(s, T_STATE), ISSUED);
      return true;
    }
    return false;
  }

  protected w32(slot: number, f: number): number {
    return (slot * SLOT_BYTES) / 4 + f;
  }
  protected w64(slot: number, f: number): number {
    return (slot * SLOT_BYTES) / 8 + f;
  }
  protected at(slot: number, off: number): number {
    return slot * SLOT_BYTES + off;
  }

  /** Whom a slot's ticket counts against: its session (0: none) and its network's key (0: none). */
  ownerOf(slot: number): { session: number; prefix: number } {
    return {
      session: Atomics.load(this.i32, this.w32(slot, T_SESSION)),
      prefix: Atomics.load(this.i32, this.w32(slot, T_PREFIX)),
    };
  }

  /** A slot's ticket, as issued (32 hex digits). */
  ticketAt(slot: number): string {
    const off = this.at(slot, T_TICKET_OFFSET);
    return Buffer.from(this.u8.subarray(off, off + TICKET_BYTES)).toString('hex');
  }

  protected textAt(s: number, offset: number, lengthField: number): string {
    const start = this.at(s, offset);
    return Buffer.from(this.u8.subarray(start, start + Atomics.load(this.i32, this.w32(s, lengthField)))).toString();
  }

  protected opAt(s: number): TicketOp {
    return Atomics.load(this.i32, this.w32(s, T_OP)) === 1 ? 'post' : 'get';
  }

  protected nickAt(s: number): string {
    return this.textAt(s, T_NICK_OFFSET, T_NICK_LEN);
  }

  protected stateAt(s: number): number {
    return Atomics.load(this.i32, this.w32(s, T_STATE));
  }
}
